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


def _ids_and_references(text):
    ids = re.findall(r'\sid="([^"]+)"', text)
    references = re.findall(r'(?:\shref="#|\sxlink:href="#|url\(#)([^")]+)', text)
    return ids, references


def test_two_figures_share_no_id_and_every_reference_stays_inside_its_figure():
    # The same glyph under one name in two figures is what garbled a page's legend when the
    # reader's browser (another matplotlib) drew a figure beside it: the first definition of
    # an id wins for the whole page.
    first, second = svg(_line_plot()), svg(_line_plot_with("other words"))
    first_ids, first_references = _ids_and_references(first)
    second_ids, second_references = _ids_and_references(second)
    assert len(set(first_ids)) == len(first_ids) > 20
    assert not set(first_ids) & set(second_ids)
    assert first_references and set(first_references) <= set(first_ids)
    assert second_references and set(second_references) <= set(second_ids)
    # glyphs are among them (the case that collided), each under its figure's prefix
    glyphs = [name for name in first_ids if "DejaVuSans" in name]
    assert glyphs and {name.split("-")[0] for name in first_ids} == {glyphs[0].split("-")[0]}


def test_an_id_renamed_everywhere_it_is_used():
    # matplotlib writes references as xlink:href="#..." and url(#...); a fragment that names
    # no id of the figure is left alone
    text = svg(_line_plot())
    assert 'xlink:href="#f' in text and "url(#f" in text
    assert not re.search(r'(?:href="#|url\(#)(?!f[0-9a-f]{8}-)', text)


def _line_plot_with(label):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4], label=label)
    ax.set(title="title", xlabel="x")
    ax.legend()
    return fig


def test_the_figure_carries_a_text_alternative_read_from_its_artists():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1], [0, 1], label='say "a"')
    left.plot([0, 1], [1, 0], label="b")
    left.legend()
    left.set(title="loss", xlabel="epoch", ylabel="$C$")
    right.scatter([0, 1, 2], [1, 2, 3])
    right.hlines(1.0, 0, 2)
    right.bar([0, 1], [2, 3])
    text = svg(fig, alt="Both panels from one run.")
    expected = (
        "Both panels from one run. A figure of 2 panels: loss: 2 lines (say &quot;a&quot;, b), "
        "C against epoch; 1 set of points, 1 group of line segments, 2 bars."
    )
    assert text.startswith(f'<svg fill="currentColor" role="img" aria-label="{expected}" '), (
        text[:300]
    )
    assert f"<title>{expected}</title>" in text[:1000]


def test_a_legend_that_names_some_of_the_lines_is_described_as_the_legend():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    ax.axhline(0.5)  # a reference line the legend leaves out
    ax.legend()
    text = svg(fig)
    assert 'aria-label="A figure: 3 lines (in the legend: a, b)."' in text, text[:300]


def test_a_grid_of_images_is_described_by_its_titles():
    from mynn.figures import describe

    fig, axes = plt.subplots(2, 3)
    for index, ax in enumerate(axes.flat):
        ax.imshow(np.zeros((8, 8)))
        ax.set_title(f"{index} as {index + 1}")
    assert describe(fig) == "A figure of 6 images, titled 0 as 1, 1 as 2, 2 as 3, 3 as 4, " \
        "4 as 5, 5 as 6."
    plt.close(fig)
    with pytest.raises(TypeError, match=r"alt must be a str or None\. Received: alt=3"):
        svg(_line_plot(), alt=3)


def test_the_smallest_font_size_is_recorded_for_the_page_tests():
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="a")
    ax.legend(fontsize=6.5)
    ax.set_title("title", fontsize=12)
    assert ' data-smallest-font-pt="6.5" ' in svg(fig)[:400]
    fig, ax = plt.subplots()
    ax.set_axis_off()  # no text at all: nothing recorded
    assert "data-smallest-font-pt" not in svg(fig)[:400]
