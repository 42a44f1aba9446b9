"""`python -m phase2_reference serve ...`."""

from __future__ import annotations

import sys

from phase2_reference.cli import main

sys.exit(main())
