"""`python -m conformance ...` as its own process, without paying for the same imports each time.

The tests run the suite's CLI a few hundred times (the fault corpus alone 89 times), and a third of
each short run's CPU time went to importing the same libraries (Schemathesis, Hypothesis, pytest,
requests, rich: about 0.9 s). Here each run is a fresh process forked from a server process that
has imported them once and done nothing else (multiprocessing's "forkserver"): a new pid, its own
working directory, environment, argv, stdout and stderr (files, as pipes would be), `__main__` run
as `python -m conformance` runs it, exit handlers run at the end, and the exit code Python would
give. Only the imports are shared; no state of the tests' own process reaches the run.

Where a fork server cannot exist (no `fork`), the command runs as a plain subprocess.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from multiprocessing.context import ForkServerContext
from pathlib import Path

# What a run imports anyway, before its pytest session or during it (the suite runs pytest with
# --assert=plain, so nothing imported here would have been rewritten). Test modules of the suite
# (conformance.suite) are left to pytest, which imports them from their files.
PRELOAD = (
    "conformance.cli",
    "conformance.runner.cli_run",
    "conformance.reporting",
    "schemathesis",
    "schemathesis.pytest",
    "hypothesis",
    "_pytest",
    "pytest",
    "allure_commons",
    "allure_pytest",
    "requests",
    "rich",
    "pygments",
    "httpx",
    "jsonschema",
    "yaml",
    "jwt",
    "prometheus_client",
)


def run_cli(
    arguments: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m conformance ARGUMENTS` in `cwd` with exactly `env`; its exit code, stdout and stderr."""
    context = _fork_server()
    if context is None:
        command = [sys.executable, "-m", "conformance", *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=dict(env), cwd=cwd)
    with tempfile.TemporaryDirectory(prefix="suite-process-") as scratch:
        stdout_path, stderr_path = Path(scratch) / "stdout", Path(scratch) / "stderr"
        process = context.Process(
            target=_run_module,
            args=(list(arguments), str(cwd), dict(env), str(stdout_path), str(stderr_path)),
            name="phase2-conformance",
        )
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(["python", "-m", "conformance", *arguments], timeout)
        return subprocess.CompletedProcess(
            ["python", "-m", "conformance", *arguments],
            process.exitcode,
            _read(stdout_path),
            _read(stderr_path),
        )


@functools.cache
def _fork_server() -> ForkServerContext | None:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _read(path: Path) -> str:
    # As subprocess.run(text=True) decodes a pipe: the locale's encoding, universal newlines.
    with path.open(encoding=None, errors="strict", newline=None) as stream:
        return stream.read()


def _run_module(arguments: list[str], cwd: str, env: dict[str, str], stdout: str, stderr: str) -> None:
    """In the forked child: become `python -m conformance ARGUMENTS`, then exit as it would."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, stdout), (2, stderr)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = [sys.executable, *arguments]  # runpy puts the module's path first, as `-m` does
    code = 0
    try:
        runpy.run_module("conformance", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        # What the interpreter does on its way out: wait for non-daemon threads, run exit handlers.
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        # A multiprocessing child skips them otherwise; they flush logs and remove temporary files.
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """What the interpreter makes of `SystemExit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
