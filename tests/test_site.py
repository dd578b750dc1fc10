"""The documentation site: strict build, browser check, API coverage, outline, fences.

The built site and the browser are fixtures of tests/conftest.py; what every page looks like at
two widths in both colour schemes is measured by test_site_layout.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import zlib
from pathlib import Path

import pytest
import yaml
from site_browser import PageProblems

ROOT = Path(__file__).resolve().parents[1]


# --- the built site (tests/conftest.py builds it) -----------------------------------------


def test_strict_build(site_build):
    result, site, seconds, _ = site_build
    assert result.returncode == 0, (
        f"mkdocs build --strict exited {result.returncode} after {seconds:.1f} s\n"
        f"--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout}"
    )
    assert (site / "index.html").is_file()
    assert (site / "objects.inv").is_file()


# --- API reference --------------------------------------------------------------------


def read_inventory(path: Path) -> dict[str, str]:
    """Names in a Sphinx objects.inv (version 2) mapped to their role, e.g. ``py:class``."""
    raw = path.read_bytes()
    offset = 0
    for _ in range(4):  # four plain-text header lines, then zlib-compressed entries
        offset = raw.index(b"\n", offset) + 1
    entries = {}
    for line in zlib.decompress(raw[offset:]).decode("utf-8").splitlines():
        match = re.match(r"(.+?)\s+(\w+:\w+)\s+-?\d+\s", line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def documented_path(package, name: str, submodules: list) -> str:
    """The dotted path under which the API pages document ``package.<name>``."""
    obj = getattr(package, name)
    if inspect.ismodule(obj):
        return obj.__name__
    for module in submodules:
        if name in getattr(module, "__all__", ()):
            return f"{module.__name__}.{name}"
    module_name = getattr(obj, "__module__", None)
    if isinstance(module_name, str) and module_name.startswith(package.__name__):
        return f"{module_name}.{getattr(obj, '__qualname__', name)}"
    return f"{package.__name__}.{name}"


def test_every_figure_has_a_text_alternative(site_dir):
    """Each figure drawn by mynn.figures.svg names itself for a screen reader (role, label,
    title), with words read from the figure: a legend's entries appear in its label."""
    figures = 0
    for page in sorted(site_dir.rglob("index.html")):
        for match in re.finditer(r"<svg fill=\"currentColor\"[^>]*>(<title>[^<]*</title>)?",
                                 page.read_text(encoding="utf-8")):
            figures += 1
            where = page.parent.relative_to(site_dir).as_posix()
            label = re.search(r'role="img" aria-label="([^"]+)"', match[0])
            assert label and match[1], f"/{where}: a figure without a text alternative"
            assert label[1].startswith("A figure"), (where, label[1])
    assert figures >= 14, figures


def test_api_reference_complete(site_dir):
    mynn = importlib.import_module("mynn")
    public = list(getattr(mynn, "__all__", []))
    assert public, "mynn.__all__ is missing or empty"
    module_names = [
        f"mynn.{info.name}"
        for info in pkgutil.iter_modules(mynn.__path__)
        if not info.name.startswith("_")
    ]
    # mynn.bridge cannot be imported without torch; its page is read from the source anyway.
    submodules = [
        importlib.import_module(name)
        for name in module_names
        if name != "mynn.bridge" or importlib.util.find_spec("torch") is not None
    ]
    inventory = read_inventory(site_dir / "objects.inv")
    wanted = {name: documented_path(mynn, name, submodules) for name in public}
    missing = {name: path for name, path in wanted.items() if path not in inventory}
    assert not missing, (
        f"names in mynn.__all__ without an entry in the API reference (objects.inv): {missing}. "
        "Give them a docstring and make sure their module has a page under docs/api/."
    )
    for name in module_names:
        assert name in inventory, f"module {name} has no API page"


# --- navigation follows the seed's outline --------------------------------------------


class _TolerantLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, taking tags such as !!python/name: or !relative as plain None."""


_TolerantLoader.add_multi_constructor("", lambda loader, suffix, node: None)

# (nav section, the seed's heading, page)
SEED_OUTLINE = [
    ("Concepts", "Neuron", "concepts/neuron.md"),
    ("Concepts", "Layer", "concepts/layer.md"),
    ("Concepts", "Activation Functions", "concepts/activation-functions.md"),
    ("Concepts", "Feed forward", "concepts/feed-forward.md"),
    ("Concepts", "Loss Functions", "concepts/loss-functions.md"),
    ("Optimization", "Gradient Descent", "optimization/gradient-descent.md"),
    ("Optimization", "Chain Rule", "optimization/chain-rule.md"),
    ("Optimization", "Partial Derivatives", "optimization/partial-derivatives.md"),
    ("Optimization", "Vanilla SGD", "optimization/sgd.md"),
    ("Implementation", "Metrics", "implementation/metrics.md"),
    ("Implementation", "Feed Forward", "implementation/feed-forward.md"),
    ("Implementation", "Feed Backward", "implementation/feed-backward.md"),
    ("Implementation", "Model", "implementation/model.md"),
    ("Implementation", "Prediction", "implementation/prediction.md"),
    ("Implementation", "Evaluation", "implementation/evaluation.md"),
]


def _nav_sections(nav: list) -> dict[str, list[tuple[str, str]]]:
    sections = {}
    for entry in nav:
        for title, value in entry.items() if isinstance(entry, dict) else ():
            if isinstance(value, list):
                sections[title] = [
                    (t, v) for item in value if isinstance(item, dict) for t, v in item.items()
                ]
    return sections


def test_seed_outline():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_TolerantLoader)
    sections = _nav_sections(config["nav"])
    assert list(sections)[:3] == ["Concepts", "Optimization", "Implementation"], list(sections)
    for section in ("Concepts", "Optimization", "Implementation"):
        expected = [(heading, page) for s, heading, page in SEED_OUTLINE if s == section]
        actual = [(title, page) for title, page in sections[section]]
        assert len(actual) == len(expected), (section, actual)
        for (heading, page), (title, nav_page) in zip(expected, actual):
            assert title.lower().startswith(heading.lower()) and nav_page == page, (
                f"{section}: the seed's {heading!r} should be {page!r} in the nav, "
                f"found {title!r}: {nav_page!r}"
            )
            assert (ROOT / "docs" / page).is_file(), f"{page} is in the nav but does not exist"


# --- fences in docs/ ------------------------------------------------------------------

_NOTEST_REASON = re.compile(r"^<!--\s*notest:\s*\S.*-->$")


def test_notest_fences_are_rare_and_explained(docs_python_fences):
    untested = [f for f in docs_python_fences if "notest" in f["options"]]
    unexplained = [
        f"{f['path']}:{f['line']}" for f in untested if not _NOTEST_REASON.match(f["line_before"])
    ]
    assert not unexplained, (
        "notest fences need a reason on the line just above them, "
        f"like <!-- notest: draws a random picture -->: {unexplained}"
    )
    share = len(untested) / max(len(docs_python_fences), 1)
    assert share <= 0.05, (
        f"{len(untested)} of {len(docs_python_fences)} python fences in docs/ are notest "
        f"({share:.0%}, at most 5% allowed): {[f['path'] + ':' + str(f['line']) for f in untested]}"
    )


def test_each_markdown_exec_session_belongs_to_one_page(docs_python_fences):
    """markdown-exec keeps a session's state across pages; pytest knows one page at a time."""
    pages: dict[str, set[str]] = {}
    for fence in docs_python_fences:
        if fence["session"] is not None:
            pages.setdefault(fence["session"], set()).add(fence["path"])
    shared = {name: sorted(paths) for name, paths in pages.items() if len(paths) > 1}
    assert not shared, f"session names used on more than one page (make them unique): {shared}"


# --- in a browser -----------------------------------------------------------------------


def _math_state(page) -> tuple[int, int]:
    """(formulas on the page, formulas KaTeX has typeset)."""
    return page.evaluate(
        """() => [document.querySelectorAll('article .arithmatex').length,
                  document.querySelectorAll('article .arithmatex .katex').length]"""
    )


def _assert_math_typeset(page, name: str) -> None:
    total, typeset = _math_state(page)
    assert total > 0, f"{name}: expected math on this page, found no .arithmatex element"
    assert typeset == total, f"{name}: KaTeX typeset {typeset} of {total} formulas"


@pytest.mark.parametrize(
    "path, has_math, has_figure",
    [
        ("", False, False),
        ("concepts/neuron/", True, False),
        ("concepts/activation-functions/", True, True),
        ("pytorch/", True, False),
    ],
)
def test_browser(browser_context, site_url, path, has_math, has_figure):
    page = browser_context.new_page()
    problems = PageProblems(page)
    try:
        page.goto(site_url + path, wait_until="networkidle")
        assert page.title(), f"/{path} has no title"
        if has_math:
            page.wait_for_selector("article .arithmatex .katex", timeout=10_000)
            _assert_math_typeset(page, f"/{path}")
        else:
            total, typeset = _math_state(page)
            assert typeset == total, f"/{path}: KaTeX typeset {typeset} of {total} formulas"
        if has_figure:
            widths = page.eval_on_selector_all(
                "article svg", "els => els.map(e => e.getBoundingClientRect().width)"
            )
            assert widths and max(widths) > 200, f"/{path}: no SVG figure in the page: {widths}"
        page.wait_for_timeout(200)  # let late console messages arrive
        assert not problems.items, f"/{path}: " + "\n".join(problems.items)
    finally:
        page.close()


def test_browser_instant_navigation_typesets_math(browser_context, site_url):
    """A click swaps the page without a reload (navigation.instant); math must follow."""
    page = browser_context.new_page()
    problems = PageProblems(page)
    try:
        page.goto(site_url, wait_until="networkidle")
        page.evaluate("() => { window.__sameDocument = true; }")
        page.click("nav a[href$='concepts/activation-functions/']")
        page.wait_for_url("**/concepts/activation-functions/")
        page.wait_for_selector("article .arithmatex .katex", timeout=10_000)
        assert page.evaluate("() => window.__sameDocument === true"), "the click reloaded the page"
        _assert_math_typeset(page, "/concepts/activation-functions/ after instant navigation")
        page.wait_for_timeout(200)
        assert not problems.items, "\n".join(problems.items)
    finally:
        page.close()


# --- pages that need an optional package (hooks/requires.py) ------------------------------


def _requires_hook():
    spec = importlib.util.spec_from_file_location("requires_hook", ROOT / "hooks" / "requires.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_needing_a_missing_package_builds_unexecuted():
    from mkdocs.utils.meta import get_data

    hook = _requires_hook()
    # mkdocs hands the hook the page without its front matter, and the front matter as meta
    page, meta = get_data((ROOT / "docs" / "pytorch.md").read_text(encoding="utf-8"))
    assert meta["requires"] == ["torch"]
    assert page.count('exec="on"') >= 10, "docs/pytorch.md should show its outputs when it can"
    fake_page = type("Page", (), {"meta": {"requires": ["numpy", "no_such_package_here"]}})()
    rendered = hook.on_page_markdown(page, page=fake_page, config=None, files=None)
    assert "exec=" not in rendered and "session=" not in rendered
    assert rendered.count("```python\n") == page.count("```python exec=")
    title = rendered.index("# From mynn to PyTorch")
    note = rendered.index('!!! warning "Built without `no_such_package_here`"')
    assert title < note < rendered.index("## Installing PyTorch")
    present = type("Page", (), {"meta": {"requires": ["numpy"]}})()
    assert hook.on_page_markdown(page, page=present, config=None, files=None) == page


def test_page_front_matter_is_what_pytest_reads(pytestconfig):
    pages = pytestconfig.pluginmanager.get_plugin("pytest_pages")  # as the root conftest loaded it
    assert Path(pages.__file__) == ROOT / "pytest_pages.py"
    assert pages.page_requires(ROOT / "docs" / "pytorch.md") == ("torch",)
    assert pages.page_requires(ROOT / "docs" / "index.md") == ()
