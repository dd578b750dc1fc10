"""Run one Python block of a page the way pytest runs it: in Pyodide, and under CPython in tests.

A page's blocks form chains, as pytest-markdown-docs runs them: a block starts a fresh
namespace, and a ``continuation`` block (which pytest_pages.py adds for each markdown-exec
session) runs in the namespace the block before it left. :func:`run_block` keeps one namespace
per chain and runs one block in it, with the block's code placed at its own line of its page,
so a traceback names ``docs/<page>.md`` and the line the reader sees in the editor.
This module is served with mynn (browser_run/hook.py puts both in one zip) and imported by the
Web Worker (docs/javascripts/run-worker.js); the tests import it to compute what a block prints
under CPython.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

# pytest fixtures a block may ask for (``{.python fixture:NAME}``) that exist in a browser too.
FIXTURES: dict[str, Callable[[], object]] = {
    "tmp_path": lambda: Path(tempfile.mkdtemp(prefix="pytest-")),
}

_namespaces: dict[str, dict] = {}
_pages: dict[str, list[str]] = {}  # filename -> its lines as far as blocks have run


class _Stream(io.TextIOBase):
    """A text stream that hands every write to ``write(name, text)`` as it happens."""

    def __init__(self, write: Callable[[str, str], None], name: str) -> None:
        super().__init__()
        self._write = write
        self._name = name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._write(self._name, str(text))
        return len(text)


def forget(prefix: str = "") -> None:
    """Drop the namespaces whose chain key starts with ``prefix`` (all of them by default)."""
    for key in [key for key in _namespaces if key.startswith(prefix)]:
        del _namespaces[key]


def run_block(
    chain: str,
    fresh: bool,
    code: str,
    filename: str,
    first_line: int,
    fixtures: Sequence[str],
    write: Callable[[str, str], None],
) -> str | None:
    """Run ``code`` in the namespace of ``chain``; return None, or the error with its traceback.

    Args:
        chain: key of the chain's namespace, e.g. ``"docs/tutorials/spiral.md:17"``.
        fresh: start the chain's namespace afresh (the first block of a chain does).
        code: the block's source.
        filename: the page, as shown in tracebacks.
        first_line: the line of the page the code's first line is on (1-based).
        fixtures: pytest fixtures the block asks for; only those in ``FIXTURES`` exist here.
        write: called as ``write("stdout" | "stderr", text)`` for everything the block prints.
    """
    missing = [name for name in fixtures if name not in FIXTURES]
    if missing:
        return (
            f"This block needs files on your own machine ({', '.join(missing)}), so it does "
            "not run in the browser. Paste it into Python on your machine."
        )
    if fresh or chain not in _namespaces:
        _namespaces[chain] = {"__name__": "__main__"}
    namespace = _namespaces[chain]
    for name in fixtures:
        namespace[name] = FIXTURES[name]()
    source = "\n" * (first_line - 1) + code
    if not source.endswith("\n"):
        source += "\n"
    # tracebacks read the lines from here (the page itself is not on this machine): each
    # block's lines at their place, so a frame in a block run earlier shows its line too
    page = _pages.setdefault(filename, [])
    block = code.splitlines(True) or ["\n"]
    page.extend(["\n"] * (first_line - 1 + len(block) - len(page)))
    page[first_line - 1 : first_line - 1 + len(block)] = block
    linecache.cache[filename] = (sum(map(len, page)), None, page, filename)
    stdout, stderr = _Stream(write, "stdout"), _Stream(write, "stderr")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            compiled = compile(source, filename, "exec")
        except SyntaxError as error:
            return "".join(traceback.format_exception_only(type(error), error))
        try:
            exec(compiled, namespace)
        except BaseException as error:  # the reader's code may raise anything, SystemExit too
            if isinstance(error, KeyboardInterrupt):
                raise
            return _traceback(error, filename, first_line, code.count("\n") + 1)
    return None


def _traceback(error: BaseException, filename: str, first_line: int, lines: int) -> str:
    """The error as the reader needs it: the frames of the page's own code, then the message.

    Frames inside mynn, numpy or Python itself are left out (the reader did not write them
    and cannot edit them; the message names what was wrong). Each frame gives the page's
    line and, in this block, the line counted from the block's first line.
    """
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    out = ["Traceback (most recent call last):\n"] if frames else []
    for frame in frames:
        lineno = frame.lineno or 0
        where = (
            f"line {lineno - first_line + 1} of this block"
            if first_line <= lineno < first_line + lines
            else "in a block above"
        )
        out.append(f'  File "{filename}", line {lineno} ({where}), in {frame.name}\n')
        if frame.line:
            out.append(f"    {frame.line.strip()}\n")
    return "".join(out + traceback.format_exception_only(type(error), error))
