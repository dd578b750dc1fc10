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
import io
import re
from typing import Any

__all__ = ["svg"]

# How matplotlib writes the colours that svg() replaces.
_BLACK = "#000000"
_WHITE = "#ffffff"
# The page's background where the page defines one (Material for MkDocs does), else white.
_PAGE_BACKGROUND = "var(--md-default-bg-color, #ffffff)"


def svg(fig: Any, *, dpi: float = 200) -> str:
    r"""The figure as an ``<svg>`` element to print into a web page; closes the figure.

    - The background is transparent, so the figure lies on the page's own background.
    - Black becomes ``currentColor``: text, axes, ticks and black lines are drawn in the colour
      of the surrounding text, dark on a light page and light on a dark one.
    - White (a legend's box) becomes the page's background colour.
    - Artists drawn with ``rasterized=True`` (a scatter plot of thousands of points, say) are
      embedded as one PNG image at ``dpi`` instead of one SVG element per point; axes and
      text stay vector.
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
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    try:
        # hashsalt: ids (clip paths, glyphs, markers) from a hash of the content alone. Two
        # figures on one page then share an id only where they share its content.
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
    # fill makes it currentColor as well.
    return text.replace("<svg ", '<svg fill="currentColor" ', 1)


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
