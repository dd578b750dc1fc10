"""The notebooks the site offers for download (hooks/notebooks.py).

Each notebook of the built site is executed top to bottom with nbclient on a fresh kernel,
from the repository root, and what each code cell prints (its stdout, and the SVG of a
figure it displays) is compared with what pytest's run of the same block printed: numbers
up to their last printed digit and durations not at all, as the Run buttons' test compares
them (tests/test_browser_run.py). The outputs of pytest's run come from this session when
the page's blocks ran before (they run first: ``after_pages``), else from a run of pytest on
that page alone. A cell whose block pytest skipped (a missing optional package, data that
cannot be read without a download) is left out of the run, and the test says how many; a
notebook none of whose blocks ran is skipped. The numbers of notebooks, cells and seconds
are printed at the end of the run.

The hook's own rules (admonitions, snippets, figures, links) are tested on a small page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from site_browser import ROOT
from test_browser_run import assert_same_printout

import pytest_pages

sys.path.insert(0, str(ROOT / "hooks"))
import notebooks  # noqa: E402  (hooks/ is not a package)

REPORT: list[str] = []
_TOTALS = {"notebooks": 0, "executed": 0, "cells": 0, "left out": 0, "seconds": 0.0}

# The pages with a notebook: every page outside api/ with a block pytest runs.
_RULES = notebooks._fence_rules()
PAGES = sorted(
    path.relative_to(ROOT / "docs").as_posix()
    for path in (ROOT / "docs").rglob("*.md")
    if notebooks.teaches(path.relative_to(ROOT / "docs").as_posix(),
                         path.read_text(encoding="utf-8"), _RULES)
)


def summary_lines() -> list[str]:
    """What tests/conftest.py prints at the end of the run."""
    t = _TOTALS
    if not t["notebooks"]:
        return []
    return REPORT + [
        f"{t['notebooks']} notebooks checked, {t['executed']} executed with nbclient: "
        f"{t['cells']} code cells compared with pytest's output, {t['left out']} left out "
        f"(pytest skipped their blocks), {t['seconds']:.0f} s of execution"
    ]


def _outputs_of(page: str) -> dict[int, str]:
    """line -> what pytest printed for each block of ``docs/<page>`` that ran."""
    path = f"docs/{page}"
    found = {line: text for (name, line), text in pytest_pages.BLOCK_OUTPUTS.items()
             if name == path}
    if found:
        return found
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "outputs.json"
        env = dict(os.environ, **{pytest_pages.OUTPUTS_ENV: str(target)})
        subprocess.run([sys.executable, "-m", "pytest", "-q", path],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
        rows = json.loads(target.read_text(encoding="utf-8")) if target.exists() else []
    return {row["line"]: row["stdout"] for row in rows if row["page"] == path}


_SVG = re.compile(r"<svg\b.*?</svg>\n*", re.S)


def _printed(cell) -> tuple[str, list[str]]:
    """What a code cell printed (its stdout) and the SVG of each figure it displayed."""
    text, figures = [], []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output["name"] == "stdout":
            text.append(output["text"])
        elif output["output_type"] == "display_data" and "image/svg+xml" in output["data"]:
            figures.append(output["data"]["image/svg+xml"])
    return "".join(text), figures


def _as_displayed(printed: str) -> tuple[str, list[str]]:
    """pytest's output of a block split as Jupyter receives it: text, and figures as IPython's
    SVG re-serializes them (``print(svg(fig))`` prints ``<svg ...</svg>`` and newlines)."""
    from IPython.display import SVG

    figures = [SVG(data=match.group(0)).data for match in _SVG.finditer(printed)]
    return _SVG.sub("", printed), figures


@pytest.mark.after_pages
@pytest.mark.parametrize("page", PAGES)
def test_notebook_runs_and_prints_what_the_page_printed(page, site_dir):
    import nbclient
    import nbformat

    path = site_dir / notebooks.notebook_path(page)
    assert path.is_file(), f"the site has no notebook for docs/{page}"
    notebook = nbformat.read(path, as_version=4)
    _TOTALS["notebooks"] += 1
    markdown = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = [line for line, _, _ in notebooks.code_blocks(markdown, _RULES)]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.metadata.get("mynn_line") for cell in code] == blocks, (
        "the notebook's code cells are not the page's blocks, in order")

    expected = _outputs_of(page)
    kept = [cell for cell in code if cell.metadata["mynn_line"] in expected]
    left_out = len(code) - len(kept)
    _TOTALS["left out"] += left_out
    if not kept:
        pytest.skip(f"pytest ran none of the blocks of docs/{page}")
    notebook.cells = [cell for cell in notebook.cells
                      if cell.cell_type != "code" or cell in kept]
    client = nbclient.NotebookClient(notebook, timeout=1800, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    started = time.monotonic()
    client.execute()
    seconds = time.monotonic() - started
    _TOTALS["executed"] += 1
    _TOTALS["seconds"] += seconds
    _TOTALS["cells"] += len(kept)
    REPORT.append(f"  {page}: {len(kept)} cells in {seconds:.1f} s"
                  + (f", {left_out} left out" if left_out else ""))
    for cell in kept:
        line = cell.metadata["mynn_line"]
        text, figures = _printed(cell)
        wanted_text, wanted_figures = _as_displayed(expected[line])
        try:
            assert_same_printout(text, wanted_text)
        except AssertionError:
            pytest.fail(f"docs/{page}:{line}: the notebook's cell printed\n{text!r}\nwhere "
                        f"pytest printed\n{wanted_text!r}"[:4000], pytrace=False)
        # the same matplotlib draws both: the figures are the same text
        assert figures == wanted_figures, f"docs/{page}:{line}: the figures differ"


def test_every_page_with_a_notebook_links_it_and_no_other_page_has_one(site_dir):
    linked = {}
    for path in sorted(site_dir.rglob("index.html")):
        page = path.read_text(encoding="utf-8")
        match = re.search(rf'<p class="{notebooks.LINK_CLASS}"><a href="([^"]+)" download>', page)
        if match:
            target = (path.parent / match.group(1)).resolve()
            assert target.is_file(), (path, match.group(1))
            linked[target.relative_to(site_dir.resolve()).as_posix()] = path
    assert sorted(linked) == sorted(notebooks.notebook_path(page) for page in PAGES)
    on_site = sorted(p.relative_to(site_dir).as_posix()
                     for p in (site_dir / notebooks.NOTEBOOKS).rglob("*.ipynb"))
    assert on_site == sorted(linked), on_site


PAGE = '''---
requires: [torch]
---
# A page

Text with [Dense][mynn.layers.Dense], [`Model`][mynn.model.Model], [a page](other.md#part),
[here](#below) and [outside](https://example.org/x.md).

```python
import matplotlib
x = {"a": {"b": 1}}["a"]["b"]  # [not][a link]
```

??? success "Solution"
    In the box, [again](other.md).

    ```{.python continuation}
    print(svg(fig))
    ```


    Still in the box after two blank lines.

After the box.

```python
--8<-- "mynn/__init__.py:1:3"
```

::: mynn.layers.Dense.forward
    options:
      show_source: true

::: mynn.model.Model._train_epoch

```text
[Dense][mynn.layers.Dense] in printed output is left alone
```
'''


def test_a_page_becomes_cells_with_boxes_snippets_figures_and_links_rewritten():
    urls = {"dir/other.md": "dir/other/", "dir/page.md": "dir/page/"}
    inventory = {"mynn.layers.Dense": "api/layers/#mynn.layers.Dense",
                 "mynn.layers.Dense.forward": "api/layers/#mynn.layers.Dense.forward",
                 "mynn.model.Model": "api/model/#mynn.model.Model"}
    links = notebooks.Links("https://example.net/site/", "dir/page/", "dir/page.md", urls,
                            inventory)
    snippets = notebooks.snippet_expander(_ConfigForSnippets())
    book = notebooks.make_notebook(PAGE, {"requires": ["torch"]}, _RULES, links, snippets,
                                   "https://example.net/site/dir/page/")
    cells = [(cell.cell_type, cell.source) for cell in book.cells]
    kinds = [kind for kind, _ in cells]
    assert kinds == ["markdown", "markdown", "code", "markdown", "markdown", "code",
                     "markdown", "markdown"], cells
    first, text = cells[0][1], cells[1][1]
    assert "Its code needs these packages: mynn, matplotlib, torch." in first, first
    site = "https://example.net/site/"
    assert f"[Dense]({site}api/layers/#mynn.layers.Dense)" in text, text
    assert f"[`Model`]({site}api/model/#mynn.model.Model)" in text, text
    assert f"[a page]({site}dir/other/#part)" in text and f"[here]({site}dir/page/#below)" in text
    assert "[outside](https://example.org/x.md)" in text, text
    assert cells[2][1].endswith('["a"]["b"]  # [not][a link]'), cells[2]
    assert cells[3][1] == "**Solution** (a box on the page, collapsed until opened)", cells[3]
    assert cells[4][1] == f"In the box, [again]({site}dir/other/).", cells[4]
    assert cells[5][1] == ("from IPython.display import SVG, display\n"
                           "display(SVG(svg(fig)))"), cells[5]
    assert cells[6][1] == "Still in the box after two blank lines.", cells[6]
    after, snippet = cells[7][1], (ROOT / "mynn/__init__.py").read_text().splitlines()[:3]
    assert after.startswith("After the box.\n\n```python\n" + "\n".join(snippet)), after
    assert "```text\n[Dense][mynn.layers.Dense] in printed" in after, after
    # mkdocstrings' directives: the object's source, linked to its API entry when it has one
    import inspect
    import textwrap

    from mynn.layers import Dense
    from mynn.model import Model

    dense = textwrap.dedent(inspect.getsource(Dense.forward)).rstrip("\n")
    assert (f"The source of [`mynn.layers.Dense.forward`]({site}api/layers/"
            f"#mynn.layers.Dense.forward), docstring included") in after, after
    assert f"```python\n{dense}\n```" in after and "options:" not in after, after
    assert "The source of `mynn.model.Model._train_epoch`, docstring" in after, after
    assert textwrap.dedent(inspect.getsource(Model._train_epoch)).rstrip("\n") in after
    assert ":::" not in after, after
    assert book.metadata["kernelspec"]["name"] == "python3"
    assert [cell.metadata.get("mynn_line") for cell in book.cells if cell.cell_type == "code"] \
        == [9, 17]


class _ConfigForSnippets(dict):
    """What snippet_expander reads of mkdocs' config: the site's snippets settings."""

    config_file_path = str(ROOT / "mkdocs.yml")

    def __init__(self):
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
        extensions = {}
        for entry in config["markdown_extensions"]:
            if isinstance(entry, dict):
                extensions.update(entry)
        super().__init__(mdx_configs={"pymdownx.snippets": extensions["pymdownx.snippets"]})
