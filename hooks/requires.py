"""mkdocs hook: a page that needs an optional package still builds without it.

A page lists the packages its code needs in its YAML front matter::

    ---
    requires: [torch]
    ---

When one of them cannot be imported at build time, the page's executed fences
(``exec="on"``, run by markdown-exec) would fail the strict build. They are shown as plain,
unexecuted code instead, and a note under the page's title says so and names what was
missing. With every package present the page is left as it is. pytest reads the same list
(pytest_pages.py) and skips the page's blocks, or fails them under CI=true.
"""

from __future__ import annotations

import importlib.util
import re

# The opening line of a fence that markdown-exec runs: ```python exec="on" ... or the brace form.
_EXEC_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*\{?[ \t]*\.?(?P<lang>[\w-]+)\b[^\n]*"
    r"\bexec=[\"']?(?!off\b|no\b|false\b|0\b)[^\n]*$",
    re.MULTILINE,
)
_TITLE = re.compile(r"^# .*$", re.MULTILINE)


def missing(requires: list[str]) -> list[str]:
    """The names in ``requires`` that cannot be imported here."""
    return [name for name in requires if importlib.util.find_spec(name) is None]


def without_execution(markdown: str, absent: list[str]) -> str:
    """``markdown`` with its executed fences made plain and a note that names ``absent``."""
    plain = _EXEC_FENCE.sub(lambda m: f"{m['indent']}{m['fence']}{m['lang']}", markdown)
    names = ", ".join(f"`{name}`" for name in absent)
    note = (
        f'!!! warning "Built without {names}"\n'
        f"    This copy of the site was built on a machine without {names}, so the code "
        "below is shown without its output. Install it as this page says and run the "
        "blocks yourself, or rebuild the site.\n"
    )
    title = _TITLE.search(plain)
    at = title.end() + 1 if title else 0
    return f"{plain[:at]}\n{note}\n{plain[at:]}"


def on_page_markdown(markdown: str, *, page, **kwargs) -> str:
    requires = page.meta.get("requires") or []
    absent = missing(requires)
    return without_execution(markdown, absent) if absent else markdown
