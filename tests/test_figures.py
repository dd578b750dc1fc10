"""mynn.figures: a matplotlib figure as SVG that follows the page's colours."""

from __future__ import annotations

import re

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="mynn.figures draws with matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mynn.figures import svg  # noqa: E402


def _line_plot():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4], label="curve")
    ax.axvline(1.0, color="black")
    ax.set(title="title", xlabel="x")
    ax.legend()
    return fig


def test_svg_element_without_xml_header():
    text = svg(_line_plot())
    assert text.startswith("<svg ") and text.rstrip().endswith("</svg>"), text[:60]
    assert "<?xml" not in text and "<!DOCTYPE" not in text


def test_background_transparent_and_ink_follows_the_page():
    text = svg(_line_plot())
    # the figure and axes backgrounds are not painted
    colours = set(re.findall(r"(?:fill|stroke): ([^;\"]+)", text))
    assert "#ffffff" not in colours and "#000000" not in colours, colours
    # text (matplotlib leaves black text unfilled) and black strokes take the text colour
    assert re.match(r'<svg fill="currentColor" ', text), text[:60]
    assert "stroke: currentColor" in text
    # the legend's box takes the page's background; data colours are kept
    assert "fill: var(--md-default-bg-color, #ffffff)" in text
    assert "#1f77b4" in text  # C0, the line


def test_closes_the_figure():
    fig = _line_plot()
    number = fig.number
    svg(fig)
    assert not plt.fignum_exists(number)


def test_same_figure_same_text():
    # ids come from the content, not from a random salt: rebuilding gives the same page
    assert svg(_line_plot()) == svg(_line_plot())


def test_rasterized_points_are_one_image():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(3000, 2))

    def scatter(rasterized):
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.scatter(points[:, 0], points[:, 1], s=4, rasterized=rasterized)
        return svg(fig)

    vector, raster = scatter(False), scatter(True)
    assert raster.count("<image") == 1 and "<image" not in vector
    assert vector.count("<use ") >= 3000  # one element per point
    assert raster.count("<use ") < 100  # only the tick marks and text glyphs
    assert len(raster) < len(vector) / 2, (len(raster), len(vector))


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"fig must be a matplotlib Figure\. Received: fig='x'"):
        svg("x")
    fig = _line_plot()
    with pytest.raises(ValueError, match=r"dpi must be positive\. Received: dpi=0"):
        svg(fig, dpi=0)
    plt.close(fig)
