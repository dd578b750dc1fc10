"""Figures for web pages: a matplotlib figure as SVG that follows the page's colours.

The documentation site draws its figures when it is built and puts the SVG text straight
into the page. [svg][mynn.figures.svg] writes it so that it reads on a light and on a dark
page alike: the background is transparent, and what matplotlib draws in black (text, axes,
ticks, lines drawn with ``color="black"``) takes the colour of the text around it
(``currentColor``). Data colours are kept as drawn, so choose ones that read on both. Of the
default ``C0``... ``C9`` cycle, only C0, C2, C3, C4 and C7 keep a contrast of 3:1 (the
minimum WCAG 2.1 asks for the parts of a graphic) on the white page and on the dark one;
C1, C6, C8 and C9 fall below it on white, C5 on dark (see the example).

matplotlib is not a dependency of mynn: importing this module does not import it, and
[svg][mynn.figures.svg] imports it only when it is given a figure (the documentation extra,
``pip install -e ".[docs]"``, installs matplotlib).

Examples:
    The contrast of each default colour with the white page and with the dark one, whose
    background is Material's ``hsla(225, 15%, 14%)``, ``#1e2129``:

    >>> from matplotlib.colors import to_rgb
    >>> def luminance(colour):
    ...     r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    ...                for c in to_rgb(colour))
    ...     return 0.2126 * r + 0.7152 * g + 0.0722 * b
    >>> def contrast(colour, background):
    ...     high, low = sorted([luminance(colour), luminance(background)])[::-1]
    ...     return (high + 0.05) / (low + 0.05)
    >>> [f"C{i}" for i in range(10)
    ...  if min(contrast(f"C{i}", "#ffffff"), contrast(f"C{i}", "#1e2129")) >= 3]
    ['C0', 'C2', 'C3', 'C4', 'C7']
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from typing import Any

__all__ = ["describe", "svg"]

# How matplotlib writes the colours that svg() replaces.
_BLACK = "#000000"
_WHITE = "#ffffff"
# The page's background where the page defines one (Material for MkDocs does), else white.
_PAGE_BACKGROUND = "var(--md-default-bg-color, #ffffff)"


def svg(fig: Any, *, dpi: float = 200, alt: str | None = None) -> str:
    r"""The figure as an ``<svg>`` element to print into a web page; closes the figure.

    - The background is transparent, so the figure lies on the page's own background.
    - Black becomes ``currentColor``: text, axes, ticks and black lines are drawn in the colour
      of the surrounding text, dark on a light page and light on a dark one.
    - White (a legend's box) becomes the page's background colour.
    - Artists drawn with ``rasterized=True`` (a scatter plot of thousands of points, say) are
      embedded as one PNG image at ``dpi`` instead of one SVG element per point; axes and
      text stay vector.
    - The root names the smallest font size of its text (``data-smallest-font-pt``), for a
      page's tests to measure how small that text is drawn.
    - It carries a text alternative for readers who do not see it (``role="img"``, an
      ``aria-label`` and a ``<title>``): ``alt`` if given, then what the figure holds, read
      from its own artists (see [describe][mynn.figures.describe]), so it cannot drift from
      the picture.
    - Every element id starts with a prefix taken from a hash of the figure's content, so
      the same figure gives the same text at every build, and two different figures on one
      page share no id. Without it they would: matplotlib names the glyph of a letter after
      the font and a number (``DejaVuSans-52``), and that number is the character code in
      some versions and the glyph's index in others, so a figure drawn by another version
      (in the reader's browser, say) would lend its glyphs to the page's figures, and their
      text would change.

    Args:
        fig: a matplotlib ``Figure``.
        dpi: resolution of the rasterized artists, in dots per inch (200 stays sharp on
            high-density screens).
        alt: a sentence saying what the figure shows, put before the generated description.

    Returns:
        The SVG text, from ``<svg`` to ``</svg>`` (no XML header, which is not allowed
        inside an HTML page).

    Raises:
        TypeError: if ``fig`` is not a matplotlib figure.
        ValueError: if ``dpi`` is not positive.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from mynn.figures import svg
        >>> fig, ax = plt.subplots(figsize=(3, 2))
        >>> _ = ax.plot([0, 1, 2], [0, 1, 4], color="C0")
        >>> text = svg(fig)
        >>> text[:24], text.rstrip()[-6:]
        ('<svg fill="currentColor"', '</svg>')
        >>> "#000000" in text, "stroke: #1f77b4" in text, plt.fignum_exists(fig.number)
        (False, True, False)
        >>> import re
        >>> prefixes = {name.split("-")[0] for name in re.findall(r' id="([^"]+)"', text)}
        >>> len(prefixes), re.fullmatch(r"f[0-9a-f]{8}", prefixes.pop()) is not None
        (1, True)
    """
    if not (hasattr(fig, "savefig") and hasattr(fig, "get_axes")):
        raise TypeError(f"fig must be a matplotlib Figure. Received: fig={fig!r}")
    if not dpi > 0:
        raise ValueError(f"dpi must be positive. Received: dpi={dpi!r}")
    if alt is not None and not isinstance(alt, str):
        raise TypeError(f"alt must be a str or None. Received: alt={alt!r}")
    label = " ".join(part for part in (alt, describe(fig)) if part)
    smallest = _smallest_font(fig)
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    try:
        # hashsalt: matplotlib's ids (clip paths, markers) from a hash of the content alone,
        # so a rebuild writes the same text; _unique_ids then prefixes every id with a hash
        # of the whole figure, so that no two figures on a page share one.
        with matplotlib.rc_context({"svg.hashsalt": "mynn.figures"}):
            fig.savefig(
                buffer,
                format="svg",
                bbox_inches="tight",
                transparent=True,
                dpi=dpi,
                metadata={"Date": None},
            )
    finally:
        plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = text.replace(_BLACK, "currentColor").replace(_WHITE, _PAGE_BACKGROUND)
    text = _unique_ids(text)
    # matplotlib leaves the fill of black text unset (black is SVG's default): the root's
    # fill makes it currentColor as well. The text alternative: the root's name, and a title.
    escaped = html.escape(label, quote=True)
    font = f' data-smallest-font-pt="{smallest:g}"' if smallest else ""
    text = text.replace(
        "<svg ", f'<svg fill="currentColor" role="img" aria-label="{escaped}"{font} ', 1
    )
    start = text.index(">", text.index("<svg")) + 1
    return text[:start] + f"<title>{escaped}</title>" + text[start:]


def describe(fig: Any) -> str:
    """What a matplotlib figure holds, in words: its panels, their titles, axes and contents.

    Read from the figure's artists (titles, axis labels, legend entries, the number of lines,
    point sets, bars and images), so it says what is drawn, not what was meant to be.

    Examples:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from mynn.figures import describe
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([0, 1], [0, 1], label="train")
        >>> _ = ax.plot([0, 1], [1, 0], label="test")
        >>> _ = ax.set(title="loss", xlabel="epoch")
        >>> _ = ax.legend()
        >>> describe(fig)
        'A figure: loss: 2 lines (train, test), against epoch.'
        >>> plt.close(fig)
    """
    axes = [ax for ax in fig.get_axes() if ax.get_visible()]
    panels = [_describe_axes(ax) for ax in axes]
    panels = [panel for panel in panels if panel]
    title = _plain(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    head = f"A figure{' titled ' + repr(title) if title else ''}"
    if not panels:
        return head + "."
    images = [panel for panel in panels if panel == "1 image" or panel.endswith(": 1 image")]
    if len(panels) > 1 and len(images) == len(panels):  # a grid of images
        titles = ", ".join(panel[: -len(": 1 image")] for panel in images if panel != "1 image")
        titles = titles if len(titles) <= 200 else titles[:200].rsplit(", ", 1)[0] + ", ..."
        return f"{head} of {len(panels)} images" + (f", titled {titles}." if titles else ".")
    if len(panels) == 1:
        return f"{head}: {panels[0]}."
    if len(panels) > 6:  # a grid of small images, say: the first ones stand for the rest
        shown = "; ".join(panels[:3])
        return f"{head} of {len(panels)} panels: {shown}; and {len(panels) - 3} more."
    return f"{head} of {len(panels)} panels: " + "; ".join(panels) + "."


def _describe_axes(ax: Any) -> str:
    """One panel in words ("" for an empty one)."""
    lines = [line for line in ax.get_lines() if line.get_visible()]
    labels = [text.get_text() for text in (ax.get_legend().get_texts() if ax.get_legend() else [])]
    contents = []
    if lines:
        contents.append(f"{len(lines)} line{'s' if len(lines) != 1 else ''}")
    from matplotlib.collections import LineCollection, PathCollection

    collections = [c for c in ax.collections if c.get_visible()]
    points = [c for c in collections if isinstance(c, PathCollection)]
    if points:
        contents.append(f"{len(points)} set{'s' if len(points) != 1 else ''} of points")
    marks = [c for c in collections if isinstance(c, LineCollection)]
    if marks:
        contents.append(f"{len(marks)} group{'s' if len(marks) != 1 else ''} of line segments")
    areas = [c for c in collections if c not in points and c not in marks]
    if areas:
        contents.append(f"{len(areas)} shaded area{'s' if len(areas) != 1 else ''}")
    # a histogram's empty bins are patches of height 0: not drawn, not counted
    bars = [p for p in ax.patches if p.get_visible() and getattr(p, "get_height", lambda: 1)()]
    if bars:
        contents.append(f"{len(bars)} bar{'s' if len(bars) != 1 else ''}")
    if ax.images:
        contents.append(f"{len(ax.images)} image{'s' if len(ax.images) != 1 else ''}")
    title = " ".join(
        _plain(t) for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t
    )
    if not contents and not title:
        return ""
    words = f"{title}: " if title else ""
    words += ", ".join(contents) if contents else "empty"
    if labels:
        named = ", ".join(_plain(label) for label in labels)
        # one name a line, or the legend's names apart (a line left out of it, bars in it)
        only_lines = len(labels) == len(lines) and len(contents) == 1
        words += f" ({named})" if only_lines else f" (in the legend: {named})"
    xlabel, ylabel = _plain(ax.get_xlabel()), _plain(ax.get_ylabel())
    if ylabel:
        words += f", {ylabel}"
    if xlabel:
        words += f" against {xlabel}" if ylabel else f", against {xlabel}"
    return words


# An id attribute, and the two ways an SVG refers to one: href="#id" (xlink: or not) and
# url(#id) in a style or attribute.
_ID = re.compile(r'(\sid=")([^"]+)(")')
_REFERENCE = re.compile(r'((?:\shref|\sxlink:href)="#|url\(#)([^")]+)')


def _unique_ids(text: str) -> str:
    """``text`` with every id, and every reference to one, prefixed by a hash of ``text``."""
    prefix = "f" + hashlib.sha256(text.encode()).hexdigest()[:8] + "-"
    ids = {match[2] for match in _ID.finditer(text)}
    text = _ID.sub(lambda m: m[1] + prefix + m[2] + m[3], text)
    return _REFERENCE.sub(lambda m: m[1] + (prefix + m[2] if m[2] in ids else m[2]), text)


def _smallest_font(fig: Any) -> float | None:
    """The smallest font size, in points, of the figure's visible text (None without text).

    The page's tests turn it into pixels at each screen width: a figure shrunk to fit a phone
    shrinks its text too."""
    from matplotlib.text import Text

    sizes = [
        float(text.get_fontsize())
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return min(sizes) if sizes else None


def _plain(text: str) -> str:
    """matplotlib's math text as words a screen reader can say: ``$x_2$`` -> ``x_2``."""
    return text.replace("$", "").replace("\\", "")
