"""Runs many `phase2-conformance` command lines in one process and measures each: the hostile-input table's engine.

`python -m tests.security.input_driver CELLS.json RESULTS.json`: CELLS is a list of
`{"id", "argv", "cwd"}`; each command line goes through `conformance.cli.main` as the console
script would, its streams captured. RESULTS holds, per cell, the exit code, stdout, stderr, whether
anything escaped as a traceback, the CPU seconds it took (this process's own clock, so a busy
machine does not inflate it) and the process's peak RSS once it ended. One process per batch keeps
a table of dozens of command lines cheap; a cell that hangs makes the parent's timeout fire.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import traceback
from pathlib import Path


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_cell(argv: list[str], cwd: str) -> dict[str, object]:
    from conformance.cli import main

    os.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    started = _cpu_seconds()
    escaped = False
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: object = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except BaseException:  # what the CLI let through: the table fails it
            escaped = True
            code = None
            err.write(traceback.format_exc())
    return {
        "exit_code": code,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "traceback": escaped or "Traceback" in err.getvalue(),
        "cpu_seconds": _cpu_seconds() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(cells_path: str, results_path: str) -> None:
    cells = json.loads(Path(cells_path).read_text(encoding="utf-8"))
    results = {}
    for cell in cells:
        results[cell["id"]] = run_cell(cell["argv"], cell["cwd"])
        # Written after each cell: a later cell that hangs still leaves the earlier ones' results.
        Path(results_path).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
