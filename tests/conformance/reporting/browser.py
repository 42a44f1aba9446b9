"""A real headless browser for the report tests: Debian's Chromium, its DOM and its screenshots.

Screenshots of what a reader sees (report.html, summary.md as GitHub renders it, the Allure site)
are written to `.ci/artifacts/screenshots/` when `CI` is set, where `.ci/run` lists them and a CI
server keeps them as artifacts; elsewhere they stay in the test's temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / ".ci" / "artifacts" / "screenshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed


def dump_dom(page: Path | str, tmp_path: Path, fragment: str = "") -> str:
    """The DOM after the page's scripts ran, as headless Chromium serialises it."""
    address = page.resolve().as_uri() if isinstance(page, Path) else page
    return _chromium(tmp_path, "--dump-dom", address + fragment).stdout


def screenshot(page: Path | str, tmp_path: Path, name: str, *, width: int = 1280, height: int = 1000) -> Path:
    """A PNG of the page's first `height` pixels (what a reader sees on opening it), kept as a CI
    artifact when `CI` is set. Waits on Chromium's virtual clock, not on the wall clock, for the
    page's scripts (Allure's site renders from JSON it fetches)."""
    address = page.resolve().as_uri() if isinstance(page, Path) else page
    shot = tmp_path / f"{name}.png"
    _chromium(
        tmp_path,
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        "--virtual-time-budget=15000",
        f"--screenshot={shot}",
        address,
    )
    assert shot.read_bytes()[:8] == PNG_MAGIC, f"{shot} is not a PNG"
    if os.environ.get("CI"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, ARTIFACTS / shot.name)
    return shot


@contextlib.contextmanager
def served(directory: Path) -> Iterator[str]:
    """`directory` over HTTP on a loopback port (a site that fetches its data cannot open from file://)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


GITHUB_LIKE_STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; max-width: 980px;
       margin: 24px auto; padding: 0 32px; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; font-size: 1.5em; }
h3 { font-size: 1.25em; }
table { border-collapse: collapse; margin: 12px 0; } th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; }
code { background: #eff1f3; padding: .2em .4em; border-radius: 6px; font: 85% ui-monospace, monospace; }
pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; }
blockquote { color: #59636e; border-left: .25em solid #d1d9e0; margin: 0; padding: 0 1em; }
details { margin: 8px 0; } summary { cursor: pointer; }
"""


def markdown_page(rendered: str, directory: Path) -> Path:
    """A page showing rendered Markdown with GitHub's look (each failure folded, as GitHub shows it)."""
    page = directory / "summary-md.html"
    opened = rendered
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{GITHUB_LIKE_STYLE}</style></head>'
        f"<body>{opened}</body></html>",
        encoding="utf-8",
    )
    return page
