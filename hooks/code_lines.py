"""mkdocs hook: a long line of code or output that wraps hangs below its own start.

On a screen with room for them, long lines of code and output wrap instead of scrolling out
of sight (docs/stylesheets/extra.css). A wrapped row must not read as a new line, least of
all in Python, where indentation is syntax: it is indented four columns deeper than the
line it continues. For that the stylesheet needs each long line as an element of its own and
its indentation, so this hook wraps every line longer than ``LONG`` characters in
``<span class="long-line" style="--indent:N">`` (N leading spaces), newline included. Shorter
lines fit the narrowest column that wraps (about 75 characters), so they are left as they are
and cost nothing; numbered source (a table of line numbers beside the code) never wraps and is
left alone too.
"""

from __future__ import annotations

import html
import re

LONG = 60
"""Lines up to this many characters are never wrapped by the stylesheet, so need no span."""

# A highlighted block's code, unless it is the code cell of a numbered table.
_BLOCK = re.compile(
    r'(?<!<td class="code"><div>)(<pre>(?:<span></span>)?<code>)(.*?)(</code></pre>)', re.S
)
_TAG = re.compile(r"<[^>]+>")


def _hang(line: str, end: str) -> str:
    """The line and its ``end`` (newline or nothing), in a span if the line is long."""
    text = html.unescape(_TAG.sub("", line))
    if len(text) <= LONG:
        return line + end
    indent = len(text) - len(text.lstrip(" "))
    return f'<span class="long-line" style="--indent:{indent}">{line}{end}</span>'


def mark_long_lines(page_html: str) -> str:
    """``page_html`` with every long line of its code and output blocks in a span."""

    def block(match: re.Match) -> str:
        *lines, last = match[2].split("\n")  # highlighted code ends with a newline: last == ""
        marked = "".join(_hang(line, "\n") for line in lines) + _hang(last, "")
        return match[1] + marked + match[3]

    return _BLOCK.sub(block, page_html)


def on_page_content(html: str, **kwargs) -> str:
    return mark_long_lines(html)
