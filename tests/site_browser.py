"""What the tests of the built site share: Debian's Chromium and what a page reports.

The fixtures that build, serve and open the site are in tests/conftest.py.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Debian's Chromium quiet and offline (see shared/DOCS-TOOLCHAIN.md);
# Playwright adds --headless and a fresh profile itself.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
REPORT: list[str] = []
"""Lines the browser tests want printed at the end of the run (tests/conftest.py does)."""


def free_port() -> int:
    """A loopback port nobody listens on now (the system picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PageProblems:
    """Console errors, uncaught exceptions and failed or 4xx/5xx requests of a page."""

    def __init__(self, page) -> None:
        self.items: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda r: self.items.append(f"failed: {r.url} {r.failure}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.items.append(f"console {message.type}: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.items.append(f"HTTP {response.status}: {response.url}")
