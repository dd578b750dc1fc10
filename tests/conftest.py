"""Fixtures of the tests of the built site (test_site.py, test_site_layout.py).

The site is built once per session with ``mkdocs build --strict``, served on loopback and
opened in Debian's Chromium through Playwright. Without Chromium or Playwright the browser
tests are skipped with the reason, except in CI (``CI=true``), where .ci/run installs both
and a skip would hide a broken set-up: there they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from site_browser import CHROMIUM, CHROMIUM_FLAGS, IN_CI, REPORT, ROOT, free_port


@pytest.fixture(scope="session")
def site_build(tmp_path_factory):
    """``mkdocs build --strict`` into a temporary directory, run once per session."""
    site = tmp_path_factory.mktemp("site")
    # The site is built for the port it is served on, so that instant navigation is
    # active in the browser test (see site_url in mkdocs.yml).
    port = free_port()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MYNN_SITE_URL=f"http://127.0.0.1:{port}/")
    started = time.monotonic()
    # built from another folder than the repository: paths in mkdocs.yml (snippets, hooks,
    # mkdocstrings) must resolve from the repository whatever the working directory
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result, site, time.monotonic() - started, port


@pytest.fixture(scope="session")
def site_dir(site_build) -> Path:
    result, site, _, _ = site_build
    if result.returncode != 0:
        pytest.fail("mkdocs build --strict failed; test_strict_build shows why", pytrace=False)
    return site


@pytest.fixture(scope="session")
def site_url(site_build, site_dir):
    """The built site served on loopback by ``python -m http.server``."""
    port = site_build[3]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=site_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"http.server did not start on port {port}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium (a Playwright ``Browser``); skipped without it, except in CI."""

    def unavailable(reason: str):
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run installs it, so this is an error)")
        pytest.skip(f"{reason}; install Debian's chromium (apt-get install chromium) to run it")

    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright for Python is not installed")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser_context(chromium):
    """A fresh browsing context (own profile, no stored state) with a 1280 x 900 window."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context
    finally:
        context.close()


def pytest_terminal_summary(terminalreporter):
    """The numbers the layout test measured, printed whether it passed or not (and in CI)."""
    if REPORT:
        terminalreporter.section("site layout")
        for line in REPORT:
            terminalreporter.write_line(line)
    # test_notebooks.py's numbers: notebooks, cells compared, seconds of execution
    notebooks = sys.modules.get("test_notebooks")
    lines = notebooks.summary_lines() if notebooks else []
    if lines:
        terminalreporter.section("notebooks")
        for line in lines:
            terminalreporter.write_line(line)
