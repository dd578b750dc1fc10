"""mkdocs hook: a Jupyter notebook of every page that teaches, and a link to it on the page.

A page outside ``api/`` with at least one python block that pytest runs gets
``notebooks/<page>.ipynb`` in the built site, and a "Download" link under its title. The
notebook is the page from top to bottom: each block pytest runs is a code cell, in page order,
and the text between them Markdown cells. jupytext turns the Markdown into the notebook; what
it does not know about the site is done here first (``page_to_jupytext``):

- admonitions (``!!! note``, ``??? success "Solution"``) are flattened: a Markdown cell names
  the box (and says it is collapsed on the page), then its text and code follow as cells;
- a block that shows library source with a snippet line (``--8<-- "mynn/layers.py:dense"``)
  is expanded by pymdownx.snippets itself, with the site's settings, and kept as Markdown: the
  page shows that source and pytest does not run it (the library's tests do);
- a figure block's ``print(svg(fig))`` becomes ``display(SVG(svg(fig)))``, so Jupyter shows
  an image instead of the SVG's text;
- a library object the page shows with mkdocstrings (``::: mynn.model.Model.forward`` and its
  options) becomes its source, docstring included, in a Markdown cell, with a link to its
  entry in the API reference;
- links point to the site: ``[Dense][mynn.layers.Dense]`` through the site's ``objects.inv``,
  relative ``.md`` links and ``#anchors`` to their page's address under ``site_url``;
- the first cell says which packages the code imports beyond mynn and numpy, and which
  files the page reads that a download does not bring.

Notebooks are written unexecuted (no outputs), so they cannot disagree with the page.
tests/test_notebooks.py runs each one on a fresh kernel and compares what every cell prints
with what pytest's run of the page printed.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
from pathlib import Path

import markdown as python_markdown
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = "notebooks/"  # where the site keeps them
LINK_CLASS = "mynn-notebook"

# Packages a page may import that neither mynn nor a plain Jupyter install brings.
OPTIONAL_IMPORTS = {"matplotlib": "matplotlib", "torch": "torch"}
# Files of the repository that a page reads (browser_run/hook.py puts the ones the Run
# buttons need into the site's zip); a notebook downloaded alone does not have them.
REPOSITORY_FILES = ("benchmarks/results/latest.json", "docs/tutorials/mnist-results.json")

_state: dict = {}


def _fence_rules():
    """pytest_pages.py's parser and rules, as browser_run/hook.py loads them."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from browser_run.hook import _load_fence_rules

    return _load_fence_rules()


def teaches(src_uri: str, markdown: str, rules) -> bool:
    """Whether a page gets a notebook: not the API reference, and code that pytest runs."""
    if src_uri.startswith("api/"):
        return False
    return any(code_blocks(markdown, rules))


def code_blocks(markdown: str, rules):
    """(line, code, fixtures) of each python fence pytest runs on the page, in order."""
    for token in rules.make_markdown_parser().parse(markdown):
        if token.type != "fence" or not token.map:
            continue
        lang, options = rules.fence_info(token.info)
        if lang in rules.PYTHON_LANGS and "notest" not in options:
            yield token.map[0] + 1, token.content, options


def notebook_path(src_uri: str) -> str:
    """The notebook's path in the site: ``notebooks/concepts/neuron.ipynb``."""
    return NOTEBOOKS + posixpath.splitext(src_uri)[0] + ".ipynb"


# --- from a page to jupytext's Markdown --------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_FIGURE = re.compile(r"^(?P<indent>[ \t]*)print\(svg\((?P<fig>[^()]*)\)\)[ \t]*$", re.M)
_TITLE = re.compile(r'^\s*(?P<tag>[\w-]+)(?:\s+"(?P<title>[^"]*)")?')
_REF_LINK = re.compile(r"\[(?P<label>(?:[^\[\]]|\[[^\[\]]*\])*)\]\[(?P<id>[^\[\]]*)\]")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_INLINE_LINK = re.compile(r"\]\((?P<target>[^()\s]+)\)")
_AUTODOC = re.compile(r"^(?P<indent>[ \t]*):::[ \t]+(?P<name>[\w.]+)[ \t]*$")


def object_source(name: str) -> str:
    """The source of the object at dotted path ``name`` (a module's, a class's or a
    function's, docstring included), dedented."""
    import importlib
    import inspect
    import textwrap

    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return textwrap.dedent(inspect.getsource(target)).rstrip("\n")
    raise ImportError(f"no module in {name!r}")


def autodoc_as_markdown(name: str, linked: bool) -> list[str]:
    """What a notebook shows for ``::: name``: its name, linked to its API entry if it has one
    (the link is rewritten with the page's other links), then its source."""
    source = object_source(name).split("\n")
    longest = max((len(run) for run in re.findall(r"`{3,}", "\n".join(source))), default=2)
    marker = "`" * (longest + 1)
    title = f"[`{name}`][{name}]" if linked else f"`{name}`"
    return [f"The source of {title}, docstring included (the page shows it rendered):", "",
            f"{marker}python", *source, marker]


def figure_as_image(code: str) -> str:
    """``print(svg(fig))`` shown as an image by Jupyter, with the import it needs."""
    if not _FIGURE.search(code):
        return code
    shown = _FIGURE.sub(r"\g<indent>display(SVG(svg(\g<fig>)))", code)
    return "from IPython.display import SVG, display\n" + shown


class Links:
    """Rewrites a page's links to absolute addresses on the published site."""

    def __init__(self, site_url: str, page_url: str, src_uri: str, urls: dict, inventory: dict):
        self.site_url = site_url if site_url.endswith("/") else site_url + "/"
        self.page_url = page_url
        self.src_dir = posixpath.dirname(src_uri)
        self.urls = urls  # src_uri of every page -> its url
        self.inventory = inventory  # identifier -> url relative to the site

    def _target(self, target: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return target
        path, _, anchor = target.partition("#")
        if not path:
            url = self.page_url
        else:
            resolved = posixpath.normpath(posixpath.join(self.src_dir, path))
            url = self.urls.get(resolved, resolved)
        return self.site_url + url + (f"#{anchor}" if anchor else "")

    def _reference(self, match: re.Match) -> str:
        label, identifier = match["label"], match["id"]
        url = self.inventory.get(identifier or label.strip("`"))
        if url is None:
            return match.group(0)
        return f"[{label}]({self.site_url}{url})"

    def rewrite(self, text: str) -> str:
        text = _REF_LINK.sub(self._reference, text)
        return _INLINE_LINK.sub(lambda m: f"]({self._target(m['target'])})", text)

    def __call__(self, text: str) -> str:
        """``text`` with the links of its prose rewritten; fenced code is left as it is."""
        chunks: list[tuple[bool, list[str]]] = [(False, [])]  # (in a fence, lines)
        fence = None
        for line in text.split("\n"):
            match = _FENCE.match(line)
            if fence is None and match:
                fence = match.group(1)
                chunks.append((True, [line]))
            elif fence is not None:
                chunks[-1][1].append(line)
                if match and match.group(1).startswith(fence) and line.strip() == match.group(1):
                    fence = None
                    chunks.append((False, []))
            else:
                chunks[-1][1].append(line)
        return "\n".join(
            "\n".join(lines) if code else self.rewrite("\n".join(lines))
            for code, lines in chunks
            if lines
        )


def _dedent(line: str, width: int) -> str:
    stripped = len(line) - len(line.lstrip(" "))
    return line[min(width, stripped):]


def page_to_jupytext(markdown: str, rules, links, snippets) -> str:
    """The page in jupytext's Markdown: a region per Markdown cell, a fence per code cell.

    ``links`` rewrites the links of Markdown text; ``snippets`` expands a list of lines
    holding ``--8<--`` directives.
    """
    front = _FRONT_MATTER.match(markdown)
    if front:  # blank lines keep the line numbers the parser reports
        markdown = "\n" * front.group(0).count("\n") + markdown[front.end():]
    text = rules.keep_admonitions_open(markdown)
    lines = text.split("\n")
    starts: dict[int, tuple[str, object]] = {}  # first line -> what begins there
    for token in rules.make_markdown_parser().parse(markdown):
        if not token.map:
            continue
        if token.type == "admonition_open":
            starts[token.map[0]] = ("box", token)
        elif token.type == "fence":
            lang, options = rules.fence_info(token.info)
            raw_lang = rules.fence_info(lines[token.map[0]].strip().lstrip("`~"))[0]
            if lang in rules.PYTHON_LANGS and "notest" not in options:
                starts[token.map[0]] = ("code", token)
            elif raw_lang in rules.PYTHON_LANGS and "--8<--" in token.content:
                starts[token.map[0]] = ("snippet", token)

    out: list[str] = []
    prose: list[str] = []
    boxes: list[tuple[int, int]] = []  # (end line, body indentation) of each open box

    def flush() -> None:
        body = "\n".join(prose).strip("\n")
        prose.clear()
        if body.strip():
            out.append(f"<!-- #region -->\n{links(body)}\n<!-- #endregion -->\n")

    i = 0
    while i < len(lines):
        while boxes and i >= boxes[-1][0]:
            boxes.pop()
            flush()
        indent = boxes[-1][1] if boxes else 0
        kind, token = starts.get(i, (None, None))
        if kind == "box":
            flush()
            match = _TITLE.match(token.info)
            title = match["title"] if match["title"] is not None else match["tag"].title()
            where = ("a box on the page, collapsed until opened" if token.markup == "???"
                     else "a box on the page")
            prose.append(f"**{title}** ({where})")
            flush()
            boxes.append((token.map[1], len(lines[i]) - len(lines[i].lstrip(" ")) + 4))
            i += 1
            continue
        if kind == "code":
            flush()
            line = i + 1
            out.append(f"```python mynn_line={line}\n{figure_as_image(token.content)}```\n")
            i = token.map[1]
            continue
        autodoc = _AUTODOC.match(lines[i])
        if autodoc and kind is None:
            depth = len(autodoc["indent"])
            i += 1
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > depth):
                i += 1  # the directive's options, indented under it
            linked = autodoc["name"] in getattr(links, "inventory", {})
            prose.extend(autodoc_as_markdown(autodoc["name"], linked))
            prose.append("")
            continue
        if kind == "snippet":
            fence = [_dedent(lines[k], indent) for k in range(i, token.map[1])]
            fence[0] = "```python"
            source = snippets(fence)[1:-1]
            longest = max((len(run) for run in re.findall(r"`{3,}", "\n".join(source))),
                          default=2)
            marker = "`" * (longest + 1)
            prose.extend([f"{marker}python", *source, marker])
            i = token.map[1]
            continue
        prose.append(_dedent(lines[i], indent))
        i += 1
    flush()
    return "\n".join(out)


def first_cell(code: str, meta: dict, page_address: str) -> str:
    """What the notebook needs beyond mynn and numpy, and where its page is."""
    needs = [name for module, name in OPTIONAL_IMPORTS.items()
             if re.search(rf"^\s*(?:import|from)\s+{module}\b", code, re.M)]
    for name in meta.get("requires") or []:
        if name not in needs:
            needs.append(name)
    files = [name for name in REPOSITORY_FILES if name in code]
    lines = [f"This notebook is the page {page_address} with its code as cells."]
    packages = ", ".join(["mynn"] + needs)
    lines.append(f"Its code needs these packages: {packages}. It was made with the version of "
                 "mynn that this site documents; until that version is released on PyPI (as "
                 "`mynn-numpy`), install mynn from a clone of its repository "
                 "(`pip install -e .` in the clone).")
    if files:
        listed = ", ".join(f"`{name}`" for name in files)
        lines.append(f"It reads files of mynn's repository ({listed}): run it from a "
                     "clone of the repository, or the cells that read them fail.")
    if re.search(r"\bload_(?:fashion_)?mnist\(", code):
        lines.append("Its training cells load MNIST and Fashion-MNIST: the first load "
                     "downloads a set unless it is already on this machine (the page says "
                     "where the loaders look).")
    return "<!-- #region -->\n" + "\n".join(lines) + "\n<!-- #endregion -->\n"


def make_notebook(markdown: str, meta: dict, rules, links, snippets, page_address: str):
    """The page as an nbformat notebook (unexecuted)."""
    import jupytext

    code = "\n".join(block for _, block, _ in code_blocks(markdown, rules))
    text = first_cell(code, meta, page_address) + "\n" + page_to_jupytext(
        markdown, rules, links, snippets)
    notebook = jupytext.reads(text, fmt="md:markdown")
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return notebook


def snippet_expander(config):
    """Expands ``--8<--`` lines with pymdownx.snippets and the site's own settings."""
    settings = dict(config["mdx_configs"].get("pymdownx.snippets", {}))
    settings["base_path"] = [str(Path(config.config_file_path).parent / path)
                             for path in settings.get("base_path", ["."])]
    md = python_markdown.Markdown(extensions=["pymdownx.snippets"],
                                  extension_configs={"pymdownx.snippets": settings})
    preprocessor = md.preprocessors["snippet"]
    return lambda lines: preprocessor.run(list(lines))


def read_inventory(path: Path) -> dict[str, str]:
    """Identifier -> url (relative to the site) of every object in a Sphinx objects.inv."""
    from mkdocstrings import Inventory

    if not path.is_file():
        return {}
    with path.open("rb") as file:
        inventory = Inventory.parse_sphinx(file)
    return {name: item.uri for name, item in inventory.items()}


# --- mkdocs events ---------------------------------------------------------------------------


def on_config(config):
    _state.clear()
    _state["rules"] = _fence_rules()
    _state["pages"] = {}
    return config


def on_files(files, config):
    _state["urls"] = {file.src_uri: file.url for file in files}
    return files


def on_page_content(content, page, config, files):
    source = page.file.abs_src_path
    if not source or not source.endswith(".md"):
        return content
    markdown = Path(source).read_text(encoding="utf-8")
    try:
        if not teaches(page.file.src_uri, markdown, _state["rules"]):
            return content
    except _state["rules"].FenceRuleError:
        return content  # browser_run/hook.py warns about it
    _state["pages"][page.file.src_uri] = (markdown, dict(page.meta or {}), page.url)
    href = html.escape(get_relative_url(notebook_path(page.file.src_uri), page.url), quote=True)
    link = (f'<p class="{LINK_CLASS}"><a href="{href}" download>Download this page as a '
            f"Jupyter notebook</a></p>")
    end = content.find("</h1>")
    if end < 0:
        return f"{link}\n{content}"
    end += len("</h1>")
    return f"{content[:end]}\n{link}{content[end:]}"


def on_post_build(config):
    site = Path(config["site_dir"])
    site_url = config.site_url or "/"
    inventory = read_inventory(site / "objects.inv")
    urls = _state["urls"]  # src_uri -> url of every page
    snippets = snippet_expander(config)
    import nbformat

    for src_uri, (markdown, meta, url) in sorted(_state["pages"].items()):
        links = Links(site_url, url, src_uri, urls, inventory)
        address = (site_url if site_url.endswith("/") else site_url + "/") + url
        notebook = make_notebook(markdown, meta, _state["rules"], links, snippets, address)
        target = site / notebook_path(src_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(notebook), encoding="utf-8")

