"""mkdocs hook: a Run button on every Python block pytest runs; Pyodide served by the site.

- ``on_config`` gathers Pyodide, numpy and matplotlib into the cache (browser_run/gather.py,
  every file checked by sha256) or notes why that failed; the site then builds all the same
  and each Run button says why it cannot run.
- ``on_page_content`` finds the page's blocks that pytest runs, with the parser pytest_pages.py
  gives pytest-markdown-docs (so both agree on which blocks run and which continue the one
  before), marks each in the HTML (``data-mynn-block``) and adds the page's list of blocks as
  JSON (``#mynn-run-blocks``) for docs/javascripts/run.js. A block pytest runs that cannot be
  found on the page is a warning, so ``mkdocs build --strict`` fails on it.
- ``on_post_build`` copies the checked files to ``assets/pyodide/<version>/`` and writes
  ``assets/pyodide/mynn-<hash>.zip`` (mynn's source, browser_run/runner.py and the
  repository files pages read, as built), unpacked into site-packages by the worker.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import io
import json
import logging
import re
import shutil
import sys
import zipfile
from pathlib import Path

from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from browser_run import gather, runner  # noqa: E402  (needs ROOT on sys.path)

log = logging.getLogger("mkdocs.hooks.browser_run")

ASSETS = "assets/pyodide/"
TRUE = {"1", "on", "true", "yes"}  # markdown-exec's spellings of a true option
REPOSITORY_FILES = ("benchmarks/results/latest.json",)

_state: dict = {}


def _load_fence_rules():
    """pytest_pages.py, imported as a module: the parser pytest-markdown-docs is given."""
    name = "mynn_pytest_pages"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "pytest_pages.py")
    module = importlib.util.module_from_spec(spec)
    # registered before it runs: its dataclasses look their module up in sys.modules
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _mynn_zip() -> bytes:
    """mynn's package and the block runner, zipped reproducibly (fixed dates, sorted names)."""
    paths = sorted(
        path
        for path in (ROOT / "mynn").rglob("*")
        if path.suffix in (".py", ".npz") and "__pycache__" not in path.parts
    )
    paths += [ROOT / "browser_run" / name for name in ("__init__.py", "runner.py", "playground.py")]
    # repository files that pages read (they search upwards from mynn's folder)
    paths += [ROOT / name for name in REPOSITORY_FILES if (ROOT / name).is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            info = zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def on_config(config):
    _state.clear()
    _state["rules"] = _load_fence_rules()
    _state["docs_prefix"] = Path(config["docs_dir"]).resolve().relative_to(ROOT).as_posix()
    try:
        runtime = gather.gather(log=log.info)
    except gather.GatherError as error:
        first_line = str(error).splitlines()[0].rstrip(":")
        _state["unavailable"] = (
            f"the build could not gather Pyodide {gather.PYODIDE_VERSION} ({first_line}). "
            f"Whoever builds the site can run `python -m browser_run.gather` to see why, "
            f"then build it again."
        )
        log.info(
            "Run buttons will say they cannot run: the build could not gather Pyodide %s: %s",
            gather.PYODIDE_VERSION,
            error,
        )
        return config
    lock = json.loads((runtime / gather.LOCK_NAME).read_bytes())
    packages = lock["packages"]
    _state["runtime"] = runtime
    _state["imports"] = {
        module: name
        for name in gather.package_closure(lock, gather.PACKAGES)
        for module in packages[name].get("imports", [])
    }
    # what loading each package downloads, beyond numpy (loaded with Python): for the status
    first = set(gather.package_closure(lock, ["numpy"]))
    _state["package_bytes"] = {
        name: sum(
            (runtime / packages[other]["file_name"]).stat().st_size
            for other in gather.package_closure(lock, [name])
            if other not in first
        )
        for name in gather.package_closure(lock, gather.PACKAGES)
    }
    archive = _mynn_zip()
    _state["zip"] = archive
    _state["zip_name"] = f"mynn-{hashlib.sha256(archive).hexdigest()[:12]}.zip"
    return config


# --- which blocks pytest runs, and where they are in the HTML -------------------------------


def _option(options: list[str], name: str) -> str | None:
    for option in options:
        if option.startswith(name + "="):
            return option[len(name) + 1 :].strip("\"'")
    return None


def tested_blocks(markdown: str, rules) -> list[dict]:
    """The python fences of a page that pytest runs, in order, as pytest chains them."""
    blocks: list[dict] = []
    for token in rules.make_markdown_parser().parse(markdown):
        if token.type != "fence" or not token.map:
            continue
        lang, options = rules.fence_info(token.info)
        if lang not in rules.PYTHON_LANGS or "notest" in options:
            continue
        line = token.map[0] + 1  # the opening fence, 1-based; the code starts on the next
        continues = "continuation" in options and bool(blocks)
        executed = (_option(options, "exec") or "").lower() in TRUE
        blocks.append(
            {
                "line": line,
                "chain": blocks[-1]["chain"] if continues else line,
                "fixtures": [o.split(":", 1)[1] for o in options if o.startswith("fixture:")],
                "output": "html" if (_option(options, "html") or "").lower() in TRUE else "text",
                # markdown-exec shows the code only when asked (source="above", ...)
                "shown": not executed or bool(_option(options, "source")),
                # the page shows what the block printed when the site was built
                "built": executed and (_option(options, "result") is not None
                                       or (_option(options, "html") or "").lower() in TRUE),
                "code": token.content,
            }
        )
    return blocks


_HIGHLIGHT = re.compile(  # a highlighted block as pymdownx.highlight and markdown-exec write it
    r'<div class="(?:[^"]*\s)?highlight(?:\s[^"]*)?"[^>]*>\s*'
    r'(?:<span class="filename">.*?</span>\s*)?'
    r"<pre[^>]*>(?:<span></span>)?<code[^>]*>(.*?)</code></pre>",
    re.S,
)


def _normalized(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines())


def mark_blocks(content: str, blocks: list[dict], page: str) -> str:
    """Add ``data-mynn-block="i"`` to the highlighted block showing each shown block's code."""
    rendered = [
        (match.start(), _normalized(html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))))
        for match in _HIGHLIGHT.finditer(content)
    ]
    inserts: list[tuple[int, int]] = []
    position = 0
    for index, block in enumerate(blocks):
        if not block["shown"]:
            continue
        wanted = _normalized(block["code"])
        found = next((k for k in range(position, len(rendered)) if rendered[k][1] == wanted), None)
        if found is None:
            log.warning(
                "%s:%d: pytest runs this python block, but the built page does not show its "
                "code as written, so it gets no Run button.",
                page,
                block["line"],
            )
            continue
        position = found + 1
        inserts.append((rendered[found][0] + len("<div"), index))
    for offset, index in reversed(inserts):
        content = f'{content[:offset]} data-mynn-block="{index}"{content[offset:]}'
    return content


PLAYGROUND = '<div id="mynn-playground"'


def playground_attributes(content: str, page_url: str) -> str:
    """Give the playground's element (docs/playground.md) the addresses of Pyodide and mynn.

    docs/javascripts/playground.js starts its own worker with them; without the gathered
    files, the element says why instead (``data-unavailable``).
    """
    if PLAYGROUND not in content:
        return content
    if "runtime" in _state:
        runtime = get_relative_url(f"{ASSETS}{gather.PYODIDE_VERSION}/", page_url)
        mynn = get_relative_url(ASSETS + _state["zip_name"], page_url)
        extra = f' data-runtime="{html.escape(runtime)}" data-mynn="{html.escape(mynn)}"'
    else:
        extra = f' data-unavailable="{html.escape(_state.get("unavailable") or "")}"'
    return content.replace(PLAYGROUND, PLAYGROUND + extra, 1)


def on_page_content(content, page, config, files):
    source = page.file.abs_src_path
    if not source or not source.endswith(".md"):
        return content
    content = playground_attributes(content, page.url)
    rules = _state["rules"]
    path = f"{_state['docs_prefix']}/{page.file.src_uri}"
    try:
        blocks = tested_blocks(Path(source).read_text(encoding="utf-8"), rules)
    except rules.FenceRuleError as error:
        log.warning("%s: %s (no Run buttons on this page)", path, error)
        return content
    if not blocks:
        return content
    content = mark_blocks(content, blocks, path)
    # A page that needs an optional package (front matter `requires: [torch]`, see
    # hooks/requires.py) cannot run in the browser: Pyodide has no such package.
    requires = (getattr(page, "meta", None) or {}).get("requires") or []
    requires = [requires] if isinstance(requires, str) else list(requires)
    if requires:
        reason = (
            f"This page needs {', '.join(requires)}, which does not run in the browser. "
            "Paste its blocks into Python on a machine where it is installed."
        )
        for block in blocks:
            block["refuse"] = reason
    available = "runtime" in _state
    manifest = {
        "page": path,
        "runtime": get_relative_url(f"{ASSETS}{gather.PYODIDE_VERSION}/", page.url)
        if available else None,
        "mynn": get_relative_url(ASSETS + _state["zip_name"], page.url) if available else None,
        "imports": _state.get("imports", {}),
        "packageBytes": _state.get("package_bytes", {}),
        "unavailable": _state.get("unavailable"),
        "fixtures": sorted(runner.FIXTURES),
        "blocks": [
            {key: value for key, value in block.items() if key != "code" or not block["shown"]}
            for block in blocks
        ],
    }
    # an attribute, not a <script type="application/json">: Material's instant navigation
    # runs every script of the new page as JavaScript
    payload = html.escape(json.dumps(manifest, separators=(",", ":")), quote=True)
    return f'{content}\n<div id="mynn-run-blocks" hidden data-blocks="{payload}"></div>\n'


def on_post_build(config):
    if "runtime" not in _state:
        return
    target = Path(config["site_dir"]) / ASSETS
    runtime = target / gather.PYODIDE_VERSION
    runtime.mkdir(parents=True, exist_ok=True)
    for path in sorted(_state["runtime"].iterdir()):
        if path.is_file():
            shutil.copyfile(path, runtime / path.name)
    (target / _state["zip_name"]).write_bytes(_state["zip"])
