"""What the tests of the built site share: Debian's Chromium and what a page reports.

The fixtures that build, serve and open the site are in tests/conftest.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
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


# axe-core, the accessibility checker the layout test runs in every page (WCAG 2.1 A and AA).
# It is fetched once with npm into .cache/ and checked against this hash of its script.
AXE_SPEC = "axe-core@4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe.min.js
AXE_PATH = ROOT / ".cache" / "axe-core-4.14.1" / "axe.min.js"


def axe_script() -> tuple[Path | None, str]:
    """The path of axe-core's checked script, fetching it with npm if need be; or None and why."""
    if AXE_PATH.is_file() and hashlib.sha256(AXE_PATH.read_bytes()).hexdigest() == AXE_SHA256:
        return AXE_PATH, ""
    if shutil.which("npm") is None:
        return None, f"{AXE_SPEC} is not in {AXE_PATH.parent} and npm is not installed"
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            ["npm", "pack", AXE_SPEC, "--pack-destination", folder, "--ignore-scripts",
             "--silent"],
            capture_output=True, text=True, timeout=300, check=False,
        )
        packed = list(Path(folder).glob("axe-core-*.tgz"))
        if done.returncode or not packed:
            return None, f"npm pack {AXE_SPEC} failed: {(done.stderr or done.stdout)[-300:]}"
        with tarfile.open(packed[0]) as archive:
            member = archive.extractfile("package/axe.min.js")
            data = member.read() if member else b""
    found = hashlib.sha256(data).hexdigest()
    if found != AXE_SHA256:
        return None, f"{AXE_SPEC}'s axe.min.js has sha256 {found}, not the pinned {AXE_SHA256}"
    AXE_PATH.parent.mkdir(parents=True, exist_ok=True)
    partial = AXE_PATH.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(AXE_PATH)
    return AXE_PATH, ""

