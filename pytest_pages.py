"""A pytest plugin: how the code blocks of the pages (docs/**/*.md) and docstrings are run.

The root conftest.py loads it (``pytest_plugins``) for every file pytest collects.
pytest-markdown-docs collects every ```python fence and runs it. Out of the box it parses
Markdown as plain CommonMark, which differs from what mkdocs renders in three ways that
matter here. This plugin closes the gaps:

1. Admonitions (``!!! note``, ``??? success "Solution"``, ``???+ tip``) are parsed
   as containers, so the fences inside them are collected and run. Without this
   they are indented code to CommonMark and are silently skipped.
2. markdown-exec ``session="NAME"`` fences share state at build time. A python fence
   whose session equals the previous python fence's session (same file) is run
   by pytest as a ``continuation`` of it, so both tools see the same state. A
   session that picks up again after a fence of another (or no) session cannot
   be chained by pytest and is a collection error.
3. A python fence that is still indented code after (1), in practice one inside
   a content tab (``=== "Tab"``), can never be collected: it is a collection
   error instead of an untested block.
4. A python fence holding only pymdownx.snippets lines (``--8<-- "mynn/layers.py:dense"``)
   shows library source, which mkdocs pastes in at build time; pytest would run
   the directive itself, so such a fence is not collected (the source is tested
   where it lives). Snippet lines mixed with code are a collection error.
5. A page whose YAML front matter lists ``requires: [torch]`` needs that package: without it,
   each of its blocks is skipped with the reason, and under ``CI=true`` (where .ci/run installs
   every optional package) it fails instead. The site build reads the same list
   (hooks/requires.py). A test marked ``@pytest.mark.requires("torch")`` is treated the same.

Also, what a block prints is captured instead of flooding the terminal (a figure
block prints a whole SVG); a failing block shows it, shortened, as "Captured
stdout call". And a continuation block runs once, in the namespace the block
before it left, instead of re-running the whole chain (see _BlockRunner). The
namespace a block leaves behind is kept as ``item.block_namespace``, so that a
fixture named in the fence (```` ```{.python fixture:name} ````) can check, in its
teardown, a result the block computed without the block showing any test code.

All of it goes through the plugin's documented hook (``pytest_markdown_docs_markdown_it``)
plus a wrapper around each item's runner (``item.runner``, set in the item's setup); nothing
in the installed plugin is patched. What it relies on beyond that hook (the item class, its
``runner``, the runner's ``runtest(test, args)`` and the ``source``, ``source_path``,
``fixture_names`` and ``runner_name`` of a test) is pytest-markdown-docs 0.9's, the version
pyproject.toml pins.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import io
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.admon import admon_plugin
from pytest_markdown_docs.plugin import MarkdownInlinePythonItem, parse_superfences_block_info

ROOT = Path(__file__).resolve().parent

PYTHON_LANGS = ("python", "py", "python3")  # the languages pytest-markdown-docs runs
_SESSION = re.compile(r"""session=(["']?)([^"'\s}]+)\1""")
_INDENTED_PYTHON_FENCE = re.compile(
    r"^[ \t]*(`{3,}|~{3,})[ \t]*\{?[ \t]*\.?(" + "|".join(PYTHON_LANGS) + r")\b", re.MULTILINE
)


class FenceRuleError(Exception):
    """A python fence that pytest could not run the way mkdocs renders it."""


def fence_info(info: str) -> tuple[str | None, list[str]]:
    """Split a fence's info string the way pytest-markdown-docs does (superfences syntax)."""
    parts = parse_superfences_block_info(info)
    return (parts[0] if parts else None), parts[1:]


def fence_session(options: list[str]) -> str | None:
    """The markdown-exec session named among a fence's options, if any."""
    for option in options:
        match = _SESSION.match(option)
        if match:
            return match.group(2)
    return None


def _add_option(info: str, option: str) -> str:
    info = info.rstrip()
    if info.endswith("}"):  # brace form: {.python session="x"}
        return f"{info[:-1].rstrip()} {option}}}"
    return f"{info} {option}"


def _mynn_fence_rules(state) -> None:
    """markdown-it core rule: sessions become continuations; untestable fences raise."""
    previous_session: str | None = None
    seen_sessions: set[str] = set()
    for token in state.tokens:
        line = token.map[0] + 1 if token.map else "?"
        if token.type == "code_block":
            match = _INDENTED_PYTHON_FENCE.search(token.content)
            if match:
                raise FenceRuleError(
                    f"line {line}: a ```{match.group(2)} fence in an indented block (a content "
                    f'tab `=== "..."` or other container pytest cannot parse) would never be '
                    f"tested. Move it out of the tab, or into an admonition (!!! / ???)."
                )
            continue
        if token.type != "fence":
            continue
        lang, options = fence_info(token.info)
        if lang not in PYTHON_LANGS or "notest" in options:
            continue  # pytest-markdown-docs skips these without touching its chain
        code_lines = [text for text in token.content.splitlines() if text.strip()]
        snippet_lines = [text for text in code_lines if text.lstrip().startswith("--8<--")]
        if snippet_lines:
            if len(snippet_lines) != len(code_lines):
                raise FenceRuleError(
                    f"line {line}: a python fence mixes --8<-- snippet lines with code; "
                    f"show the included source in a fence of its own."
                )
            # Source shown from mynn/ (tested there), not code to run: keep it out.
            token.info = "text"
            continue
        session = fence_session(options)
        if session is not None:
            if session == previous_session:
                if "continuation" not in options:
                    token.info = _add_option(token.info, "continuation")
            elif session in seen_sessions:
                raise FenceRuleError(
                    f'line {line}: session="{session}" resumes after a python fence of '
                    f"another session (or none). pytest can only continue the fence just "
                    f"before, so keep the fences of one session together or use a new name."
                )
            seen_sessions.add(session)
        previous_session = session


_ADMONITION = re.compile(r"^( *)(?:!!!|\?\?\?\+?)[ \t]")


def keep_admonitions_open(text: str) -> str:
    """Give the blank lines inside admonitions their indentation (the line count is kept).

    mdit-py-plugins closes an admonition at two blank lines in a row; Python-Markdown keeps
    it open while the next line is indented under it. A solution block with two blank lines
    (PEP 8 around a def) was cut there for pytest while the site showed it whole. A
    whitespace-only line is still a blank line to both, but no longer closes the container.
    """
    lines = text.split("\n")
    next_indent = [None] * len(lines)  # indentation of the next non-blank line
    following = None
    for i in range(len(lines) - 1, -1, -1):
        next_indent[i] = following
        if lines[i].strip():
            following = len(lines[i]) - len(lines[i].lstrip(" "))
    bodies: list[int] = []  # body indentation of each open admonition
    for i, line in enumerate(lines):
        if line.strip():
            indent = len(line) - len(line.lstrip(" "))
            while bodies and indent < bodies[-1]:
                bodies.pop()
            match = _ADMONITION.match(line)
            if match:
                bodies.append(len(match.group(1)) + 4)
        elif bodies and next_indent[i] is not None and next_indent[i] >= bodies[-1]:
            lines[i] = " " * bodies[-1]
    return "\n".join(lines)


class _PageParser(MarkdownIt):
    def parse(self, src: str, env=None):
        return super().parse(keep_admonitions_open(src), env)


def make_markdown_parser() -> MarkdownIt:
    """The parser pytest-markdown-docs uses here (and the tests use to count fences)."""
    parser = _PageParser("commonmark").use(admon_plugin)
    parser.core.ruler.push("mynn_fence_rules", _mynn_fence_rules)
    return parser


@pytest.hookimpl(tryfirst=True)
def pytest_markdown_docs_markdown_it() -> MarkdownIt:
    return make_markdown_parser()


# --- running the blocks: output and continuation chains -----------------------------

_MAX_SHOWN = 2000  # characters of a block's output shown when it fails


def _shorten(text: str) -> str:
    if len(text) <= _MAX_SHOWN:
        return text
    half = _MAX_SHOWN // 2
    return f"{text[:half]}\n... {len(text) - _MAX_SHOWN} characters left out ...\n{text[-half:]}"


@dataclasses.dataclass
class _Chain:
    """The last block that passed, in this pytest run: its file, full source and namespace."""

    last_passed: tuple[Path, str, dict] | None = None


_CHAIN = pytest.StashKey[_Chain]()


class _BlockRunner:
    """Wraps the pytest-markdown-docs runner of one item.

    Output: the plugin lifts pytest's capturing while a block runs, so prints
    would reach the terminal. They go to buffers here instead, and the item shows
    them (shortened) as report sections when the block fails.

    Chains: for a ``continuation`` block the plugin's source is the whole chain
    so far (every earlier block, then this one), which it re-runs from scratch:
    block k of a chain runs blocks 1..k, so a page with one long session costs
    quadratic time and repeats every training run. When the block just before
    in the same file passed, only the new block is run here, in the namespace
    that block left behind, which is also how markdown-exec runs a session.
    Its code is padded with newlines, so tracebacks keep the file's line numbers.
    In every other case (first block, a failure before, a block that uses
    fixtures or a custom runner, tests deselected or reordered) the plugin's full
    chain runs as usual.
    """

    def __init__(self, runner, sink: list[tuple[str, str]], chain: _Chain) -> None:
        self._runner = runner
        self._sink = sink
        self._chain = chain
        self.namespace: dict | None = None  # what the block left behind, pass or fail

    def runtest(self, test, args, **kwargs):
        previous, self._chain.last_passed = self._chain.last_passed, None
        to_run, namespace = test, args
        if (
            previous is not None
            and previous[0] == test.source_path
            and not test.fixture_names
            and test.runner_name is None
            and len(test.source) > len(previous[1])
            and test.source.startswith(previous[1])
        ):
            _, done, namespace = previous
            namespace.update(args)
            rest = "\n" * done.count("\n") + test.source[len(done) :]
            to_run = dataclasses.replace(test, source=rest)
        out, err = io.StringIO(), io.StringIO()
        self.namespace = namespace
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                result = self._runner.runtest(to_run, namespace, **kwargs)
        finally:
            self._sink.extend([("stdout", out.getvalue()), ("stderr", err.getvalue())])
            record_output(test.source_path, test.start_line, out.getvalue())
        self._chain.last_passed = (test.source_path, test.source, namespace)
        return result

    def repr_failure(self, test, excinfo, style=None):
        return self._runner.repr_failure(test, excinfo, style)


# --- what each block printed, for the notebooks' test ----------------------------------

# (page relative to the repository, line of the opening fence) -> what the block printed,
# for every block of a page that ran in this session, pass or fail.
BLOCK_OUTPUTS: dict[tuple[str, int], str] = {}
# With this variable set to a file name, the outputs are written there as JSON at the end.
OUTPUTS_ENV = "MYNN_BLOCK_OUTPUTS"
# Tests marked so run after every block of the pages (tests/test_notebooks.py compares
# the notebooks with what the blocks printed in the same session).
AFTER_PAGES = "after_pages"


def record_output(source_path, line: int, printed: str) -> None:
    path = Path(source_path).resolve()
    if path.suffix == ".md" and path.is_relative_to(ROOT):
        BLOCK_OUTPUTS[(path.relative_to(ROOT).as_posix(), line)] = printed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker(AFTER_PAGES) is not None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(OUTPUTS_ENV)
    if target:
        rows = [{"page": page, "line": line, "stdout": printed}
                for (page, line), printed in sorted(BLOCK_OUTPUTS.items())]
        Path(target).write_text(json.dumps(rows), encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not isinstance(item, MarkdownInlinePythonItem):
        return (yield)
    sink: list[tuple[str, str]] = []
    chain = item.config.stash.setdefault(_CHAIN, _Chain())
    item.runner = runner = _BlockRunner(item.runner, sink, chain)
    try:
        return (yield)
    finally:
        item.block_namespace = runner.namespace
        for name in ("stdout", "stderr"):
            text = "".join(chunk for stream, chunk in sink if stream == name)
            if text:
                item.add_report_section("call", name, _shorten(text))


# --- fixtures for the site tests ------------------------------------------------------

@pytest.fixture(scope="session")
def docs_python_fences() -> list[dict]:
    """Every python fence in docs/**/*.md as pytest sees it, tested or ``notest``.

    Each entry: ``path`` (relative to the repository), ``line`` (of the opening
    fence, 1-based), ``options``, ``session`` (markdown-exec's, or None) and
    ``line_before`` (the source line just above the fence, stripped).
    """
    root = ROOT
    parser = make_markdown_parser()
    fences = []
    for path in sorted((root / "docs").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for token in parser.parse(text):
            if token.type != "fence" or not token.map:
                continue
            lang, options = fence_info(token.info)
            if lang in PYTHON_LANGS:
                start = token.map[0]
                fences.append(
                    {
                        "path": path.relative_to(root).as_posix(),
                        "line": start + 1,
                        "options": options,
                        "session": fence_session(options),
                        "line_before": lines[start - 1].strip() if start else "",
                    }
                )
    return fences


# --- optional packages: pages and tests that need them ------------------------------------

IN_CI = os.environ.get("CI", "").lower() == "true"

# How to install each optional package, for the skip reasons.
INSTALL_HINTS = {
    "torch": (
        "install a CPU build: `pip install torch --index-url "
        "https://download.pytorch.org/whl/cpu` (a plain `pip install torch` on Linux is a "
        "CUDA build of several GB), or `pip install torch==2.13.0` where the package index "
        "serves the CPU build, as on mynn's CI machines"
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{AFTER_PAGES}: run the test after every code block of the pages (the order is "
        "otherwise kept)",
    )
    config.addinivalue_line(
        "markers",
        "requires(*packages): the test needs these optional packages; it is skipped without "
        "them, and fails under CI=true",
    )


def require_packages(names) -> None:
    """Skip the running test if an optional package in ``names`` is not installed.

    Under ``CI=true`` a missing package is a failure instead: .ci/run installs every optional
    package, so a skip there would hide tests that never ran.
    """
    for name in names:
        if importlib.util.find_spec(name) is None:
            hint = INSTALL_HINTS.get(name, f"install it with `pip install {name}`")
            reason = f"{name} is not installed; {hint}"
            if IN_CI:
                reason += " (CI=true: .ci/run installs it, so this is an error)"
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)


@functools.cache
def page_requires(path: Path) -> tuple[str, ...]:
    """The packages a page's YAML front matter lists under ``requires`` (none without it)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return ()
    end = text.find("\n---\n", 4)
    meta = yaml.safe_load(text[4:end]) if end > 0 else None
    requires = meta.get("requires", []) if isinstance(meta, dict) else []
    return (requires,) if isinstance(requires, str) else tuple(requires)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if isinstance(item, MarkdownInlinePythonItem) and item.path.suffix == ".md":
        require_packages(page_requires(item.path))
    marker = item.get_closest_marker("requires")
    if marker is not None:
        require_packages(marker.args)
