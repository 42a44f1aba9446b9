"""The proof tests run the scripts of benchmarks/ at CI size: the same code, fewer clients, seconds not minutes."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# The scripts import their neighbours by bare name (`from servers import Reference`), as when run directly.
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
