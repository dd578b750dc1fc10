"""Run it here: the files the Run buttons need, the block runner, which blocks get a button,
and Chromium clicking Run, editing and running again (browser_run/README.md).

The gathering is tested offline with stand-ins for the npm and PyPI downloads; the runner
under CPython; the buttons against the blocks pytest itself collects; the browser on the site
that tests/conftest.py builds and serves once per session.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from site_browser import IN_CI, ROOT, PageProblems

from browser_run import gather, hook, runner


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- gathering: every file checked, a missing or differing one named --------------------


class Stub(gather.Source):
    """A stand-in for the npm or PyPI download: a dict of files, and the names asked for."""

    def __init__(self, files: dict[str, bytes], description: str) -> None:
        self.files = files
        self.description = description
        self.asked: list[str] = []

    def get(self, name: str) -> bytes | None:
        self.asked.append(name)
        return self.files.get(name)


class Refuse(gather.Source):
    description = "a source that must not be asked"

    def get(self, name: str) -> bytes | None:
        raise AssertionError(f"asked for {name}")


@pytest.fixture
def pins(monkeypatch):
    """A small lock and interpreter, pinned in gather's place: (npm files, bundle files)."""
    wheels = {"numpy-1.whl": b"numpy", "six-1.whl": b"six", "mpl-1.whl": b"matplotlib"}
    lock = {
        "info": {"version": "test"},
        "packages": {
            "numpy": {"file_name": "numpy-1.whl", "sha256": sha(b"numpy"), "depends": []},
            "six": {"file_name": "six-1.whl", "sha256": sha(b"six"), "depends": []},
            "matplotlib": {
                "file_name": "mpl-1.whl", "sha256": sha(b"matplotlib"), "depends": ["numpy", "six"]
            },
            "scipy": {"file_name": "scipy-1.whl", "sha256": "0" * 64, "depends": []},
        },
    }
    lock_bytes = json.dumps(lock).encode()
    core = {name: name.encode() for name in gather.CORE_SHA256}
    monkeypatch.setattr(gather, "LOCK_SHA256", sha(lock_bytes))
    monkeypatch.setattr(gather, "CORE_SHA256", {name: sha(data) for name, data in core.items()})
    monkeypatch.setattr(gather, "PACKAGES", ("numpy", "matplotlib"))
    return {gather.LOCK_NAME: lock_bytes, **core}, wheels


def test_gather_keeps_every_checked_file_and_only_those(pins, tmp_path):
    npm_files, wheels = pins
    logs: list[str] = []
    folder = gather.gather(
        tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"), log=logs.append
    )
    assert folder == gather.runtime_dir(tmp_path)
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == sorted([*npm_files, *wheels, "SOURCES.json"]), kept  # no scipy
    for name, data in {**npm_files, **wheels}.items():
        assert (folder / name).read_bytes() == data, name
    sources = json.loads((folder / "SOURCES.json").read_text())["files"]
    assert sources["mpl-1.whl"] == "bundle" and sources["pyodide.asm.wasm"] == "npm", sources
    assert gather.verify(folder)["six-1.whl"] == 3
    assert len(logs) == 1 and "gathered" in logs[0], logs
    assert [p.name for p in tmp_path.iterdir()] == [folder.name], "a temporary folder was left"


def test_a_complete_cache_is_used_as_it_is(pins, tmp_path):
    npm_files, wheels = pins
    gather.gather(tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"))
    assert gather.gather(tmp_path, npm=Refuse(), bundle=Refuse()) == gather.runtime_dir(tmp_path)


def test_a_missing_file_stops_the_gathering_and_is_named(pins, tmp_path):
    npm_files, wheels = pins
    del wheels["six-1.whl"]
    with pytest.raises(gather.GatherError, match=r"six-1\.whl is missing: it is in none of bundle"):
        gather.gather(tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"))
    assert not gather.runtime_dir(tmp_path).exists()


def test_a_differing_file_stops_the_gathering_with_both_hashes(pins, tmp_path):
    npm_files, wheels = pins
    wheels["numpy-1.whl"] = b"not numpy"
    with pytest.raises(gather.GatherError) as error:
        gather.gather(tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"))
    message = str(error.value)
    assert "numpy-1.whl from bundle differs from the file pyodide-lock.json lists" in message
    assert sha(b"not numpy") in message and sha(b"numpy") in message, message
    assert not gather.runtime_dir(tmp_path).exists()


def test_a_lock_or_interpreter_file_that_differs_from_its_pin_is_refused(pins, tmp_path):
    npm_files, wheels = pins
    for name in (gather.LOCK_NAME, "pyodide.asm.wasm"):
        changed = dict(npm_files, **{name: b"changed"})
        with pytest.raises(gather.GatherError, match=re.escape(f"{name} from npm differs")):
            gather.gather(tmp_path, npm=Stub(changed, "npm"), bundle=Stub(wheels, "bundle"))


def test_a_changed_file_in_the_cache_is_gathered_again(pins, tmp_path):
    npm_files, wheels = pins
    folder = gather.gather(tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"))
    (folder / "mpl-1.whl").write_bytes(b"tampered")
    with pytest.raises(gather.GatherError, match="mpl-1.whl"):
        gather.verify(folder)
    logs: list[str] = []
    gather.gather(tmp_path, npm=Stub(npm_files, "npm"), bundle=Stub(wheels, "bundle"),
                  log=logs.append)
    assert (folder / "mpl-1.whl").read_bytes() == b"matplotlib"
    assert "not complete" in logs[0], logs


def test_files_in_a_from_folder_are_taken_first_and_checked_the_same_way(pins, tmp_path):
    npm_files, wheels = pins
    release = tmp_path / "release"
    release.mkdir()
    for name, data in {**npm_files, **wheels}.items():
        (release / name).write_bytes(data)
    folder = gather.gather(tmp_path / "cache", [release], npm=Refuse(), bundle=Refuse())
    assert gather.verify(folder)
    (release / "six-1.whl").write_bytes(b"seven")
    with pytest.raises(gather.GatherError, match=r"six-1\.whl from the folder .* differs"):
        gather.gather(tmp_path / "other", [release], npm=Refuse(), bundle=Refuse())


def test_the_command_says_what_is_missing(tmp_path, capsys):
    assert gather.main(["--cache", str(tmp_path), "--check"]) == 1
    missing = gather.runtime_dir(tmp_path) / gather.LOCK_NAME
    assert f"{missing} is missing" in capsys.readouterr().err


def test_without_npm_the_gathering_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(gather.shutil, "which", lambda name: None)
    with pytest.raises(gather.GatherError, match="npm is not installed"):
        gather.NpmSource(tmp_path).get(gather.LOCK_NAME)


def test_the_closure_follows_the_lock_and_names_an_unknown_package(pins):
    lock = json.loads(pins[0][gather.LOCK_NAME])
    assert gather.package_closure(lock, ["matplotlib"]) == ["numpy", "six", "matplotlib"]
    lock["packages"]["six"]["depends"] = ["nothere"]
    with pytest.raises(gather.GatherError, match="no package 'nothere' .needed by six"):
        gather.package_closure(lock, ["matplotlib"])


# --- the runner, under CPython ----------------------------------------------------------


def run(chain, fresh, code, first_line=1, fixtures=(), filename="docs/page.md"):
    """Run a block with the runner; return (error or None, what it printed)."""
    printed: list[tuple[str, str]] = []
    error = runner.run_block(
        f"test:{chain}", fresh, code, filename, first_line, list(fixtures),
        lambda stream, text: printed.append((stream, text)),
    )
    return error, printed


def text(printed, stream="stdout") -> str:
    return "".join(chunk for name, chunk in printed if name == stream)


def test_blocks_of_a_chain_share_a_namespace_and_a_fresh_block_starts_one():
    assert run("a", True, "x = 41") == (None, [])
    error, printed = run("a", False, "x += 1\nprint(x)")
    assert error is None and text(printed) == "42\n", (error, printed)
    error, _ = run("a", True, "print(x)")
    assert error.rstrip().endswith("NameError: name 'x' is not defined"), error
    runner.forget("test:")
    assert not [key for key in runner._namespaces if key.startswith("test:")]


def test_a_traceback_names_the_page_and_the_line_and_shows_it():
    error, printed = run("b", True, 'print("before")\n\nraise ValueError("bad rate")', 40)
    assert text(printed) == "before\n", printed
    assert error.startswith("Traceback (most recent call last):\n"), error
    assert 'File "docs/page.md", line 42 (line 3 of this block), in <module>' in error, error
    assert 'raise ValueError("bad rate")' in error and error.endswith("ValueError: bad rate\n")
    assert "runner.py" not in error, error


def test_an_error_inside_mynn_shows_the_readers_frames_and_the_message_only():
    # a function defined by a block above, called here, then refused by mynn's own checks
    assert run("e", True, "from mynn.layers import Dense\n\ndef layer(n):\n    return Dense(n, 2)",
               10) == (None, [])
    error, _ = run("e", False, "print('x')\nlayer(0)", 20)
    assert error.splitlines() == [
        "Traceback (most recent call last):",
        '  File "docs/page.md", line 21 (line 2 of this block), in <module>',
        "    layer(0)",
        '  File "docs/page.md", line 13 (in a block above), in layer',
        "    return Dense(n, 2)",
        error.splitlines()[-1],
    ], error
    assert error.splitlines()[-1].startswith("ValueError: ") and "n_inputs" in error, error
    assert "mynn/" not in error and "mynn\\" not in error, error


def test_a_syntax_error_names_its_line_and_what_is_printed_to_stderr_is_kept_apart():
    error, _ = run("c", True, "x = (1,\n", 7)
    assert 'File "docs/page.md", line 7' in error and "SyntaxError" in error, error
    error, printed = run("c", True, "import sys\nprint('oops', file=sys.stderr)")
    assert error is None and text(printed, "stderr") == "oops\n" and not text(printed), printed


def test_tmp_path_is_given_and_a_fixture_the_browser_lacks_is_refused_with_its_name():
    error, printed = run("d", True, "print(tmp_path.is_dir(), list(tmp_path.iterdir()))",
                         fixtures=["tmp_path"])
    assert error is None and text(printed) == "True []\n", (error, printed)
    error, printed = run("d", True, "print('ran')", fixtures=["mnist_data"])
    assert "needs files on your own machine (mnist_data)" in error and printed == [], error


# --- which blocks get a Run button ------------------------------------------------------


@pytest.fixture(scope="module")
def rules():
    return hook._load_fence_rules()


@pytest.fixture(scope="module")
def hook_blocks(rules) -> dict[str, list[dict]]:
    """The hook's blocks for every page of docs/, by path."""
    pages = {}
    for path in sorted((ROOT / "docs").rglob("*.md")):
        blocks = hook.tested_blocks(path.read_text(encoding="utf-8"), rules)
        if blocks:
            pages[path.relative_to(ROOT).as_posix()] = blocks
    return pages


def test_the_blocks_the_site_runs_are_the_blocks_pytest_collects(hook_blocks, docs_python_fences):
    ours = {(path, block["line"]) for path, blocks in hook_blocks.items() for block in blocks}
    fixture = {(f["path"], f["line"]) for f in docs_python_fences if "notest" not in f["options"]}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "docs"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    collected = {
        (match.group(1), int(match.group(2)))
        for match in re.finditer(r"^(docs/\S+\.md)::\[CodeFence#\d+\]\[line:(\d+)\]",
                                 result.stdout, re.MULTILINE)
    }
    assert collected, result.stdout + result.stderr
    assert ours == collected, {"only here": ours - collected, "only pytest": collected - ours}
    assert fixture == collected, {"fixture": fixture - collected, "pytest": collected - fixture}
    # a block continues the one before exactly where pytest chains them
    starts = {(f["path"], f["line"]) for f in docs_python_fences
              if "notest" not in f["options"] and "continuation" not in f["options"]}
    ours_starts = {(path, b["line"]) for path, blocks in hook_blocks.items() for b in blocks
                   if b["chain"] == b["line"]}
    assert ours_starts == starts, ours_starts ^ starts


def test_no_block_counts_with_bincount(hook_blocks):
    # numpy in the browser is a 32-bit build: np.bincount refuses mynn's int64 labels there
    # ("Cannot cast array data from int64 to int32"), so a page counts with np.unique
    offenders = [(path, b["line"]) for path, blocks in hook_blocks.items() for b in blocks
                 if "np.bincount(" in b["code"]]
    assert not offenders, f"use np.unique(y, return_counts=True) instead: {offenders}"


def test_only_blocks_that_hide_their_code_are_left_without_a_button(hook_blocks):
    hidden = [(path, b["line"]) for path, blocks in hook_blocks.items() for b in blocks
              if not b["shown"]]
    # the table of public names on the API index and the MNIST page's results table:
    # markdown-exec prints them, the code (which reads repository files) is hidden
    assert hidden == [
        ("docs/api/index.md", _block_line("docs/api/index.md", "__all__")),
        ("docs/tutorials/mnist.md", _block_line("docs/tutorials/mnist.md", "mnist-results.json")),
    ], hidden


def test_printouts_compare_numbers_to_their_last_printed_digit():
    assert_same_printout("loss 0.1235, acc 97.1%\n", "loss 0.1234, acc 97.1%\n")
    assert_same_printout("err 1.3e-05", "err 1.2e-05")
    assert_same_printout("gradient error 9.6e-11", "gradient error 1.1e-10")  # round-off
    assert_same_printout("epoch 1  loss 0.5  3.6s\n", "epoch 1  loss 0.5  0.8s\n")
    assert_same_printout("one step: 2.05 ms, 3.7 times slower",
                         "one step: 0.63 ms, 1.1 times slower")
    for browser, cpython in [("loss 0.1236", "loss 0.1234"), ("loss 0.1234 ", "loss 0.1234"),
                             ("3 epochs", "2 epochs"), ("err 1.2e-05", "err 1.2e-04"),
                             ("3.7 times the floor", "1.1 times the floor")]:
        with pytest.raises(AssertionError):
            assert_same_printout(browser, cpython)


def test_mark_blocks_marks_the_block_showing_the_code_and_warns_otherwise(caplog):
    code = '<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>\n'
    content = (
        '<div class="highlight"><pre><span></span><code>x = 2\n</code></pre></div>'  # an output
        f'<div class="language-python highlight"><pre><span></span><code>{code}</code></pre></div>'
    )
    blocks = [{"line": 3, "shown": True, "code": "x = 1\n\n"},
              {"line": 9, "shown": True, "code": "y = 2\n"}]
    marked = hook.mark_blocks(content, blocks, "docs/page.md")
    assert marked.count("data-mynn-block") == 1
    assert '<div data-mynn-block="0" class="language-python highlight">' in marked, marked
    assert "docs/page.md:9: pytest runs this python block, but the built page" in caplog.text


def _page(src_uri: str, url: str) -> SimpleNamespace:
    """The parts of an mkdocs Page the hook reads."""
    path = ROOT / "docs" / src_uri
    return SimpleNamespace(url=url, file=SimpleNamespace(abs_src_path=str(path), src_uri=src_uri))


def test_when_the_files_cannot_be_gathered_the_site_builds_and_says_why(monkeypatch):
    def fail(**kwargs):
        raise gather.GatherError("npm is not installed.")

    monkeypatch.setattr(gather, "gather", fail)
    hook.on_config({"docs_dir": str(ROOT / "docs")})
    content = hook.on_page_content("<p>no code shown</p>", _page("index.md", ""), {}, None)
    manifest = json.loads(html.unescape(re.search(r'data-blocks="([^"]*)"', content).group(1)))
    assert manifest["runtime"] is None and manifest["mynn"] is None, manifest
    assert "could not gather Pyodide 0.27.7 (npm is not installed.)" in manifest["unavailable"]
    assert "python -m browser_run.gather" in manifest["unavailable"]
    hook.on_post_build({"site_dir": "/nonexistent"})  # nothing to copy, nothing written


def test_the_zip_holds_mynn_the_runner_and_the_files_pages_read_and_is_reproducible():
    archive = hook._mynn_zip()
    assert archive == hook._mynn_zip()
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    for name in ("mynn/__init__.py", "mynn/layers.py", "browser_run/runner.py",
                 "benchmarks/results/latest.json"):
        assert name in names, name
    assert any(name.startswith("mynn/data/") and name.endswith(".npz") for name in names)
    assert not [name for name in names if "__pycache__" in name or name.endswith("hook.py")]


# --- in the browser ---------------------------------------------------------------------


def _manifest(site: Path, page: str) -> dict:
    text = (site / page / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<div id="mynn-run-blocks" hidden data-blocks="([^"]*)">', text)
    assert match, f"/{page}: no list of blocks"
    return json.loads(html.unescape(match.group(1)))


def _page_of(path: str) -> str:
    """docs/concepts/neuron.md -> concepts/neuron (the folder of its index.html)."""
    page = path.removeprefix("docs/").removesuffix(".md")
    return "" if page == "index" else page.removesuffix("/index")


# The spiral tutorial (880 KB, a scatter plot of 3,000 points) took 28 s to parse in headless
# Chromium on this 2-core machine while other jobs loaded it (load average 13).
PAGE_TIMEOUT = 120_000  # ms


def _go(tab, site_url: str, path: str) -> None:
    """Show the page of ``path`` through Material's instant navigation (no reload)."""
    page = _page_of(path)
    tab.evaluate("url => location$.next(new URL(url))", site_url + (page + "/" if page else ""))
    tab.wait_for_function(
        "page => { const d = document.querySelector('#mynn-run-blocks');"
        "          return d !== null && JSON.parse(d.dataset.blocks).page === page; }",
        arg=path,
        timeout=PAGE_TIMEOUT,
    )


def test_every_block_pytest_runs_has_a_run_button(browser_context, site_url, site_dir,
                                                   hook_blocks):
    tab = browser_context.new_page()
    problems = PageProblems(tab)
    requests: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    try:
        counted = 0
        tab.goto(site_url, wait_until="networkidle")
        for path, blocks in hook_blocks.items():
            page = _page_of(path)
            manifest = _manifest(site_dir, page)
            assert [b["line"] for b in manifest["blocks"]] == [b["line"] for b in blocks], path
            shown = sum(block["shown"] for block in blocks)
            _go(tab, site_url, path)
            tab.wait_for_function(
                "n => document.querySelectorAll('.mynn-run__button').length === n",
                arg=shown,
                timeout=PAGE_TIMEOUT,
            )
            lines = tab.eval_on_selector_all(
                "[data-mynn-block]", "els => els.map(e => Number(e.dataset.mynnBlock))"
            )
            assert [manifest["blocks"][i]["line"] for i in lines] == [
                b["line"] for b in blocks if b["shown"]], path
            counted += shown
        assert counted == sum(b["shown"] for blocks in hook_blocks.values() for b in blocks)
        heavy = [url for url in requests if "/assets/pyodide/" in url or "run-worker" in url]
        assert not heavy, f"loaded before any Run: {heavy}"
        assert not problems.items, "\n".join(problems.items)
    finally:
        tab.close()


@pytest.fixture(scope="module")
def runtime(site_dir):
    """The site's Pyodide files; without them this test fails in CI and is skipped elsewhere."""
    manifest = _manifest(site_dir, "concepts/neuron")
    if manifest["unavailable"]:
        reason = f"Run is unavailable in this build: {manifest['unavailable']}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run gathers the files, so this is an error)")
        pytest.skip(reason)
    return site_dir / hook.ASSETS / gather.PYODIDE_VERSION


class Network:
    """Every request of a tab (its workers' too): URLs, and the body bytes that came over the
    network (none for a response from the browser's cache: these tests share one browser, and
    the first to load Pyodide is test_run_edit_and_run_again_in_the_browser)."""

    def __init__(self, tab) -> None:
        self.urls: list[str] = []
        self.sizes: list[int] = []
        tab.on("request", lambda request: self.urls.append(request.url))
        tab.on("requestfinished", self._finished)

    def _finished(self, request) -> None:
        self.sizes.append(max(request.sizes()["responseBodySize"], 0))

    def mark(self) -> tuple[int, float]:
        return len(self.sizes), time.monotonic()

    def since(self, mark: tuple[int, float]) -> tuple[int, float]:
        return sum(self.sizes[mark[0]:]), time.monotonic() - mark[1]


def cpython_output(page: str, line: int, edits: dict[int, tuple[str, str]] | None = None):
    """What the block at ``line`` of ``page`` prints under CPython, after the blocks of its
    chain before it (as a Run from a fresh page does), with ``edits`` {line: (old, new)}."""
    blocks = hook.tested_blocks((ROOT / page).read_text(encoding="utf-8"), hook._load_fence_rules())
    target = next(block for block in blocks if block["line"] == line)
    chain = [block for block in blocks
             if block["chain"] == target["chain"] and block["line"] <= line]
    key = f"cpython:{page}:{target['chain']}"
    for k, block in enumerate(chain):
        code = block["code"]
        if edits and block["line"] in edits:
            old, new = edits[block["line"]]
            assert code.count(old) == 1, (old, code)
            code = code.replace(old, new)
        printed: list[tuple[str, str]] = []
        error = runner.run_block(key, k == 0, code, page, block["line"] + 1, block["fixtures"],
                                 lambda stream, chunk, out=printed: out.append((stream, chunk)))
    runner.forget(key)
    return text(printed), error


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
# how long something took (0.1s, 12ms, 2.05 ms), and how many times longer (3.7 times slower)
_DURATION = re.compile(r"\b\d+(?:\.\d+)?(?=(?: ?m?s| times slower)\b)")
ROUND_OFF = 1e-6


def assert_same_printout(browser: str, cpython: str) -> None:
    """The browser printed what CPython printed, each number up to its last printed digit.

    numpy in the browser computes products with its own loops compiled to WebAssembly;
    CPython's numpy uses OpenBLAS, whose kernels depend on the CPU. Results may differ in
    their last bits, which can move a number printed with k decimals by one unit of its last
    digit. Two numbers both below ROUND_OFF are the same: such numbers on the pages are the
    relative errors of gradient checks (about 1e-10), made of round-off alone, whose digits
    depend on the order of the sums. Durations, and their ratios ("3.7 times slower"), are not
    compared. Everything else (text,
    integers, how many numbers, where) must be the same.
    """
    browser, cpython = _DURATION.sub("<t>", browser), _DURATION.sub("<t>", cpython)
    assert _NUMBER.split(browser) == _NUMBER.split(cpython), (browser, cpython)
    for ours, theirs in zip(_NUMBER.findall(browser), _NUMBER.findall(cpython)):
        if theirs.isdigit() or theirs.lstrip("+-").isdigit():  # a count, not a rounded float
            assert ours == theirs, (ours, theirs, browser, cpython)
            continue
        if abs(float(ours)) < ROUND_OFF and abs(float(theirs)) < ROUND_OFF:
            continue
        mantissa, _, exponent = theirs.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        unit = 10.0 ** (int(exponent or 0) - decimals)
        assert abs(float(ours) - float(theirs)) <= 1.001 * unit, (ours, theirs, browser, cpython)


def _index(manifest: dict, line: int) -> int:
    return next(i for i, block in enumerate(manifest["blocks"]) if block["line"] == line)


def _block_line(page: str, needle: str) -> int:
    """The opening line of the one block pytest runs on ``page`` whose code holds ``needle``
    (found by content, so that editing a page above the block does not break the test)."""
    blocks = hook.tested_blocks((ROOT / page).read_text(encoding="utf-8"), hook._load_fence_rules())
    found = [block["line"] for block in blocks if needle in block["code"]]
    assert len(found) == 1, (page, needle, found)
    return found[0]


def _file_line(page: str, needle: str) -> int:
    """The 1-based line of ``page`` that holds ``needle`` (once)."""
    text_lines = (ROOT / page).read_text().splitlines()
    lines = [n for n, text in enumerate(text_lines, 1) if needle in text]
    assert len(lines) == 1, (page, needle, lines)
    return lines[0]


def _click_run(tab, index: int) -> None:
    tab.locator(f'[data-mynn-block="{index}"] + .mynn-run .mynn-run__button').click()


def _wait_done(tab, index: int, timeout: float = 300_000) -> str:
    """Wait until the block's Run has ended; return its status line."""
    status = f'[data-mynn-block="{index}"] + .mynn-run .mynn-run__status'
    tab.wait_for_function(
        "s => /^(Ran|Failed|Not run|Cannot|Stopped)/.test(document.querySelector(s).textContent)",
        arg=status, timeout=timeout,
    )
    return tab.locator(status).text_content()


def _output(index: int) -> str:
    """CSS selector of the output area of block ``index``."""
    return f'[data-mynn-block="{index}"] + .mynn-run + .mynn-run__output'


def _stdout(tab, index: int) -> str:
    """What the block printed to stdout in the browser (stderr is shown apart, in spans)."""
    return tab.evaluate(
        """i => { const pre = document.querySelector(`[data-mynn-block="${i}"] + .mynn-run` +
                    " + .mynn-run__output pre:not(.mynn-run__error):not(.mynn-run__quiet)");
                  return pre ? Array.from(pre.childNodes).filter(n => n.nodeType === 3)
                                     .map(n => n.textContent).join("") : ""; }""",
        index,
    )


def _error(tab, index: int) -> str:
    return tab.evaluate(
        """i => { const output = document.querySelector(`[data-mynn-block="${i}"]`)
                      .nextElementSibling.nextElementSibling;
                  const pre = output.querySelector(".mynn-run__error");
                  return pre ? pre.textContent : ""; }""",
        index,
    )


def _first_output(tab, index: int, timeout: float = 300_000) -> None:
    tab.wait_for_function(
        """i => { const output = document.querySelector(`[data-mynn-block="${i}"]`)
                      .nextElementSibling.nextElementSibling;
                  return output.textContent.length > 0; }""",
        arg=index, timeout=timeout,
    )


def _edit(tab, index: int, old: str, new: str) -> None:
    """Select ``old`` (one highlighted token) in the block's code and type ``new`` over it."""
    found = tab.evaluate(
        """([i, old]) => {
             const code = document.querySelector(`[data-mynn-block="${i}"] code`);
             const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               const at = node.textContent.indexOf(old);
               if (at < 0) continue;
               code.focus();
               const range = document.createRange();
               range.setStart(node, at);
               range.setEnd(node, at + old.length);
               getSelection().removeAllRanges();
               getSelection().addRange(range);
               return true;
             }
             return false; }""",
        [index, old],
    )
    assert found, f"{old!r} is not one token of block {index}"
    tab.keyboard.type(new)


def _navigate(tab, page: str) -> None:
    """Follow the navigation's link to ``page`` (Material swaps the page, no reload)."""
    tab.click(f"nav.md-nav--primary a[href$='{page}/']" if page else "a.md-header__button.md-logo")
    tab.wait_for_url(f"**/{page}/" if page else "**/")
    assert tab.evaluate("() => window.__sameDocument === true"), f"/{page}: the link reloaded"


def test_run_edit_and_run_again_in_the_browser(browser_context, site_url, site_dir, runtime,
                                               capsys):
    """A concept page, a tutorial that trains a network and draws, an edited block: the
    browser prints what CPython prints, from files on 127.0.0.1 only, with no console error."""
    tab = browser_context.new_page()
    problems = PageProblems(tab)
    network = Network(tab)
    figures: list[str] = []
    try:
        # 1. a concept page: nothing heavy loads before the first Run
        tab.goto(site_url + "concepts/neuron/", wait_until="networkidle")
        tab.evaluate("() => { window.__sameDocument = true; }")
        assert not [url for url in network.urls if "/assets/pyodide/" in url], network.urls
        manifest = _manifest(site_dir, "concepts/neuron")
        shown = [i for i, block in enumerate(manifest["blocks"]) if block["shown"]]
        first, second = shown[0], shown[1]
        first_line, second_line = (manifest["blocks"][i]["line"] for i in (first, second))
        mark = network.mark()
        _click_run(tab, first)
        _first_output(tab, first)
        first_bytes, first_seconds = network.since(mark)
        assert _wait_done(tab, first).startswith("Ran in"), _error(tab, first)
        expected = cpython_output("docs/concepts/neuron.md", first_line)[0]
        assert_same_printout(_stdout(tab, first), expected)
        mark = network.mark()
        _click_run(tab, second)
        _first_output(tab, second)
        second_bytes, second_seconds = network.since(mark)
        assert _wait_done(tab, second).startswith("Ran in"), _error(tab, second)
        assert_same_printout(_stdout(tab, second),
                             cpython_output("docs/concepts/neuron.md", second_line)[0])
        figures.append(f"first output {first_seconds:.1f} s, {first_bytes / 1e6:.1f} MB; "
                       f"second block {second_seconds:.2f} s, {second_bytes / 1e3:.0f} KB")

        # 1b. the keyboard alone: Tab passes through the code to its Run button, Enter runs
        # the block and the focus stays on the button; Enter in the code starts editing,
        # where Tab indents, and Escape stops editing so that Tab moves on again
        code = f'[data-mynn-block="{second}"] code'
        button = f'[data-mynn-block="{second}"] + .mynn-run .mynn-run__button'
        name = tab.locator(button).get_attribute("aria-label")
        assert re.fullmatch(r"Run block \d+: \S.*", name or ""), name
        shown_code = tab.locator(code).text_content()
        tab.focus(code)
        tab.keyboard.press("Tab")
        assert tab.evaluate("s => document.activeElement === document.querySelector(s)",
                            button), "Tab in the code did not move on to its Run button"
        assert tab.locator(code).text_content() == shown_code, "Tab edited the code"
        tab.keyboard.press("Enter")
        assert _wait_done(tab, second).startswith("Ran in"), _error(tab, second)
        assert tab.evaluate("s => document.activeElement === document.querySelector(s)",
                            button), "the focus left the Run button after the run"
        tab.focus(code)
        tab.keyboard.press("Enter")  # start editing
        tab.keyboard.press("Tab")
        assert tab.locator(code).text_content() != shown_code, "Tab did not indent while editing"
        tab.keyboard.press("Escape")
        tab.keyboard.press("Tab")
        assert tab.evaluate("s => document.activeElement === document.querySelector(s)",
                            button), "after Escape, Tab did not move on"
        tab.locator(f'[data-mynn-block="{second}"] + .mynn-run .mynn-run__undo').click()
        assert tab.locator(code).text_content() == shown_code

        # 2. a tutorial that draws its data and trains a network, reached by a link
        _navigate(tab, "tutorials/digits")
        tab.evaluate("""() => { window.__statuses = [];
            new MutationObserver(changes => changes.forEach(change => {
                const status = change.target.closest && change.target.closest(".mynn-run__status")
                    || change.target.parentElement?.closest(".mynn-run__status");
                if (status) window.__statuses.push(status.textContent); }))
            .observe(document.documentElement,  // not the article: the page swap replaces it
                     {subtree: true, childList: true, characterData: true}); }""")
        manifest = _manifest(site_dir, "tutorials/digits")
        digits = "docs/tutorials/digits.md"
        train_line = _block_line(digits, "history = model.train(")
        train = _index(manifest, train_line)
        figure = next(i for i, block in enumerate(manifest["blocks"]) if block["output"] == "html")
        chain = manifest["blocks"][train]["chain"]
        before = sum(1 for block in manifest["blocks"][:train] if block["chain"] == chain)
        mark = network.mark()
        _click_run(tab, train)  # runs the blocks before it first, the figure among them
        status = _wait_done(tab, train)
        train_bytes, train_seconds = network.since(mark)
        assert status.startswith("Ran in") and f"{before} blocks before it" in status, (
            status, _error(tab, train))
        assert_same_printout(_stdout(tab, train), cpython_output(digits, train_line)[0])
        svg = tab.locator(f"{_output(figure)} svg").first
        assert svg.bounding_box()["width"] > 200, "the digits figure was not drawn"
        statuses = tab.evaluate("() => window.__statuses")
        assert any(re.fullmatch(r"Loading matplotlib \(about \d+ MB, once\)…", text)
                   for text in statuses), statuses
        figures.append(f"digits tutorial to its training block: {train_seconds:.1f} s, "
                       f"{train_bytes / 1e6:.1f} MB (matplotlib)")

        # 2b. a figure drawn in the browser (by Pyodide's matplotlib, another version) leaves
        # the page's own figures as they were: their glyphs are not replaced by its glyphs
        _navigate(tab, "concepts/activation-functions")
        manifest = _manifest(site_dir, "concepts/activation-functions")
        figure = next(i for i, block in enumerate(manifest["blocks"]) if block["output"] == "html")
        # What the reader sees in each of the page's figures is what its own definitions
        # say: every glyph, marker and clip path it uses resolves, in the whole document,
        # to an element inside that figure (the first element with an id wins a lookup).
        borrowed = """() => Array.from(document.querySelectorAll("article svg"))
            .filter(svg => !svg.closest(".mynn-run__output"))
            .flatMap(svg => Array.from(svg.querySelectorAll("use")).map(use => {
                const ref = (use.getAttribute("xlink:href") || use.getAttribute("href") || "");
                const target = document.getElementById(ref.slice(1));
                return target && target.closest("svg") === svg ? null : ref; }))
            .filter(ref => ref !== null)"""
        assert tab.locator("article svg").count() >= 1, "the page's figure is missing"
        assert not tab.evaluate(borrowed), "the page's figures use elements from elsewhere"
        _click_run(tab, figure)
        assert _wait_done(tab, figure).startswith("Ran in"), _error(tab, figure)
        drawn = tab.locator(f"{_output(figure)} svg").first
        assert drawn.bounding_box()["width"] > 200, "the activation figure was not drawn"
        refs = tab.evaluate(borrowed)
        label = tab.locator(f"{_output(figure)} + .mynn-run__built-label")
        assert label.count() == 1 and "when the page was built" in label.text_content(), \
            "the page's own figure is not marked as the built one after the Run"
        assert not refs, f"after a Run the page's figures draw {len(refs)} glyphs or markers " \
            f"of the figure drawn in the browser, e.g. {refs[:3]}"

        # 2c. an exercise's answer cell: not answered yet, then a wrong answer (the checker
        # says what differs), then a right one, each shown as such
        relu_cell = _block_line("docs/concepts/activation-functions.md",
                                "def relu(x):\n    raise NotImplementedError")
        cell = _index(manifest, relu_cell)
        _click_run(tab, cell)
        assert _wait_done(tab, cell).startswith("Ran in"), _error(tab, cell)
        assert _stdout(tab, cell).startswith("relu: not answered yet"), _stdout(tab, cell)
        answers = {"wrong": "    return np.abs(x)", "right": "    return np.maximum(x, 0)"}
        for kind, answer in answers.items():
            tab.evaluate(
                """([i, answer]) => {
                     const code = document.querySelector(`[data-mynn-block="${i}"] code`);
                     code.textContent = code.textContent.replace(
                         /^ *raise NotImplementedError.*$|^ *return .*$/m, answer);
                     code.dispatchEvent(new Event("input")); }""",
                [cell, answer],
            )
            _click_run(tab, cell)
            status = _wait_done(tab, cell)
            if kind == "wrong":
                assert status.startswith("Failed"), (status, _stdout(tab, cell))
                shown = _error(tab, cell)
                assert "ExerciseError: relu, trial" in shown and "differ" in shown, shown
                assert tab.locator(f"{_output(cell)}.mynn-run__output--failed").count() == 1
            else:
                assert status.startswith("Ran in"), (status, _error(tab, cell))
                assert _stdout(tab, cell) == "relu: correct on 5 random inputs\n", \
                    _stdout(tab, cell)
                assert tab.locator(f"{_output(cell)}.mynn-run__output--failed").count() == 0

        # 3. the home page: run, edit a number and run again, then an edit that fails
        _navigate(tab, "")
        manifest = _manifest(site_dir, "")
        home = "docs/index.md"
        line = _block_line(home, "epochs=200")
        rate_line = _file_line(home, "learning_rate=0.01)")  # the line an error will name
        block = _index(manifest, line)
        _click_run(tab, block)
        assert _wait_done(tab, block).startswith("Ran in"), _error(tab, block)
        assert_same_printout(_stdout(tab, block), cpython_output(home, line)[0])
        _edit(tab, block, "200", "300")
        _click_run(tab, block)
        assert _wait_done(tab, block).startswith("Ran in"), _error(tab, block)
        edited, _ = cpython_output(home, line, {line: ("epochs=200", "epochs=300")})
        assert edited.startswith("300 epochs"), edited
        assert_same_printout(_stdout(tab, block), edited)
        _edit(tab, block, "0.01", "-0.01")
        _click_run(tab, block)
        assert _wait_done(tab, block).startswith("Failed"), _stdout(tab, block)
        _, expected = cpython_output(home, line, {line: ("0.01)", "-0.01)")})
        shown = _error(tab, block)
        assert shown.splitlines()[-1] == expected.splitlines()[-1], (shown, expected)
        assert f'File "docs/index.md", line {rate_line} (line ' in shown, shown
        assert "mynn/" not in shown, f"mynn's own frames are shown: {shown}"
        assert "Received: learning_rate=-0.01" in shown, shown
        _edit(tab, block, "-0.01", "(")  # code that does not parse
        _click_run(tab, block)
        assert _wait_done(tab, block).startswith("Failed"), _stdout(tab, block)
        shown = _error(tab, block)
        assert f'File "docs/index.md", line {rate_line}' in shown and "SyntaxError" in shown, shown

        # 4. a run that takes too long is stopped, and the next Run starts Python again
        tab.locator(f'[data-mynn-block="{block}"] + .mynn-run .mynn-run__undo').click()
        _edit(tab, block, "200", "2000000")
        _click_run(tab, block)
        stop = tab.locator(f'[data-mynn-block="{block}"] + .mynn-run .mynn-run__stop')
        stop.wait_for(state="visible")
        tab.wait_for_timeout(1500)
        stop.click()
        assert _wait_done(tab, block).startswith("Stopped"), _stdout(tab, block)
        assert "Python was ended" in _error(tab, block), _error(tab, block)
        assert stop.is_hidden()
        tab.locator(f'[data-mynn-block="{block}"] + .mynn-run .mynn-run__undo').click()
        _click_run(tab, block)
        status = _wait_done(tab, block)
        assert status.startswith("Ran in") and "after starting Python" in status, status
        assert_same_printout(_stdout(tab, block), cpython_output(home, line)[0])

        tab.wait_for_timeout(200)  # late console messages
        assert not problems.items, "\n".join(problems.items)
        elsewhere = [url for url in network.urls
                     if not url.startswith(site_url) and not url.startswith(("data:", "blob:"))]
        assert not elsewhere, f"requests that left 127.0.0.1: {elsewhere}"
        with capsys.disabled():
            print("\n[browser run] " + "; ".join(figures)
                  + f"; {len(network.urls)} requests, all to 127.0.0.1")
    finally:
        tab.close()


def cpython_chain(page: str, blocks: list[dict]) -> dict[int, tuple[str, str | None]]:
    """Each block of one chain run under CPython in order: {line: (stdout, error)}."""
    key = f"cpython:{page}:{blocks[0]['chain']}"
    results = {}
    for k, block in enumerate(blocks):
        printed: list[tuple[str, str]] = []
        error = runner.run_block(key, k == 0, block["code"], page, block["line"] + 1,
                                 block["fixtures"], lambda s, c, out=printed: out.append((s, c)))
        results[block["line"]] = (text(printed), error)
        if error:
            break
    runner.forget(key)
    return results


ALL_PAGES = IN_CI or bool(os.environ.get("MYNN_BROWSER_RUN_ALL"))


@pytest.mark.skipif(not ALL_PAGES, reason="runs every block of the site in Chromium (2 to 6 "
                    "minutes): in CI, or with MYNN_BROWSER_RUN_ALL=1")
def test_every_block_runs_in_the_browser_as_under_cpython(browser_context, site_url, site_dir,
                                                          runtime, hook_blocks, capsys):
    """Every chain of every page, run from its last block: each block prints what it prints
    under CPython; a block that needs a fixture the browser lacks says so."""
    tab = browser_context.new_page()
    problems = PageProblems(tab)
    network = Network(tab)
    started = time.monotonic()
    failures: list[str] = []
    try:
        tab.goto(site_url, wait_until="networkidle")
        for path, blocks in hook_blocks.items():
            page = _page_of(path)
            if not any(block["shown"] for block in blocks):
                continue
            _go(tab, site_url, path)  # the worker, and Python in it, carry over
            manifest = _manifest(site_dir, page)
            chains: dict[int, list[int]] = {}
            for index, block in enumerate(blocks):
                chains.setdefault(block["chain"], []).append(index)
            for indices in chains.values():
                last = max((i for i in indices if blocks[i]["shown"]), default=None)
                if last is None:
                    continue
                tab.locator(f'[data-mynn-block="{last}"] + .mynn-run .mynn-run__button') \
                   .evaluate("button => button.click()")  # some sit in closed <details>
                status = _wait_done(tab, last, timeout=600_000)
                chain = [blocks[i] for i in indices if i <= last]
                missing = [f for b in chain for f in b["fixtures"] if f not in manifest["fixtures"]]
                # a page that needs a package Pyodide lacks (front matter `requires:`)
                refused = any(manifest["blocks"][i].get("refuse") for i in indices if i <= last)
                if missing or refused:
                    if status != "Cannot run here":
                        failures.append(f"{path}:{blocks[last]['line']}: {status}")
                    continue
                expected = cpython_chain(path, chain)
                for i in (i for i in indices if i <= last):
                    where = f"{path}:{blocks[i]['line']}"
                    cpython, error = expected[blocks[i]["line"]]
                    if error or _error(tab, i):
                        failures.append(f"{where}: CPython {error!r}, browser {_error(tab, i)!r}")
                    elif blocks[i]["output"] == "html":
                        if not tab.locator(f"{_output(i)} svg").count():
                            failures.append(f"{where}: no figure")
                    else:
                        try:
                            assert_same_printout(_stdout(tab, i), cpython)
                        except AssertionError as difference:
                            failures.append(f"{where}: {difference}")
        assert not failures, "\n".join(failures)
        assert not problems.items, "\n".join(problems.items)
        elsewhere = [url for url in network.urls
                     if not url.startswith(site_url) and not url.startswith(("data:", "blob:"))]
        assert not elsewhere, f"requests that left 127.0.0.1: {elsewhere}"
        with capsys.disabled():
            print(f"\n[browser run] every block of {len(hook_blocks)} pages in "
                  f"{time.monotonic() - started:.0f} s")
    finally:
        tab.close()
