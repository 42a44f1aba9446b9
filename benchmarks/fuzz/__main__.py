"""`python -m benchmarks.fuzz`."""

import sys

from benchmarks.fuzz.cli import main

sys.exit(main())
