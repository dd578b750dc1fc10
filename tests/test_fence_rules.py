"""The rules pytest_pages.py gives pytest-markdown-docs, each shown on a small page.

One pytest run in a subprocess collects a throwaway directory holding a copy of the
repository's conftest.py and of the plugin it loads, pytest_pages.py, and one Markdown page per
case; each test reads its page's outcome from that run's report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = "`" * 3  # pages below write ~~~ for it, so this file holds no fence of its own

INI = """\
[pytest]
addopts = --markdown-docs --markdown-docs-syntax=superfences -p no:cacheprovider
filterwarnings = error
"""

PAGES = {
    "admonitions": """
        # Page

        !!! note
            ~~~python
            assert 1 + 1 == 3, "note block ran"
            ~~~

        ??? success "Solution"
            ~~~python
            assert 2 + 2 == 5, "details block ran"
            ~~~

        ???+ tip
            ~~~python
            assert True
            ~~~
        """,
    "admonition_blank_lines": """
        ??? success "Solution"
            ~~~python
            x = 1


            assert x == 2, "code after two blank lines ran"
            ~~~
        """,
    "sessions": """
        ~~~python exec="on" session="one"
        x = 41
        ~~~

        ~~~python exec="on" session="one" result="text"
        x += 1
        assert x == 42, x
        ~~~

        ~~~python exec="on" session="two"
        assert "x" not in globals(), "session two saw session one's state"
        y = 1
        ~~~

        ~~~python
        assert "y" not in globals(), "a block without session saw session two's state"
        ~~~
        """,
    "continuation_runs_once": """
        ~~~python
        import sys

        sys.first_block_runs = getattr(sys, "first_block_runs", 0) + 1
        ~~~

        ~~~{.python continuation}
        second = True
        ~~~

        ~~~{.python continuation}
        assert second and sys.first_block_runs == 1, f"ran {sys.first_block_runs} times"
        ~~~
        """,
    "continuation_line_numbers": """
        ~~~python
        a = 1
        ~~~

        Some prose.

        ~~~{.python continuation}
        b = a + 1
        assert b == 3, "wrong on purpose"
        ~~~
        """,
    "session_resumed": """
        ~~~python exec="on" session="one"
        x = 1
        ~~~

        ~~~python
        z = 0
        ~~~

        ~~~python exec="on" session="one"
        assert x == 1
        ~~~
        """,
    "tab": """
        === "numpy"

            ~~~python
            assert False, "never collected"
            ~~~

        === "mynn"

            Nothing here.
        """,
    "tab_other_language": """
        === "pip"

            ~~~bash
            pip install mynn
            ~~~

        ~~~python
        assert True
        ~~~
        """,
    "snippet": """
        ~~~python
        --8<-- "mynn/layers.py:dense"
        ~~~

        ~~~python
        assert True
        ~~~
        """,
    "snippet_mixed": """
        ~~~python
        --8<-- "mynn/layers.py:dense"
        layer = Dense(2, 3)
        ~~~
        """,
    "prints_pass": """
        ~~~python
        print("<svg>" + "PASSMARK " * 5000 + "</svg>")
        ~~~
        """,
    "prints_fail": """
        ~~~python
        print("<svg>" + "FAILMARK " * 5000 + "</svg>")
        assert False, "the block failed"
        ~~~
        """,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Run pytest once over every page; return (stdout, {page: [outcome lines]})."""
    directory = tmp_path_factory.mktemp("fence-rules")
    (directory / "pytest.ini").write_text(INI)
    for name in ("conftest.py", "pytest_pages.py"):
        shutil.copy(ROOT / name, directory / name)
    for name, markdown in PAGES.items():
        text = textwrap.dedent(markdown).replace("~~~", FENCE)
        (directory / f"{name}.md").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rfEp", "--continue-on-collection-errors"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcomes: dict[str, list[str]] = {name: [] for name in PAGES}
    for match in re.finditer(r"^(PASSED|FAILED|ERROR) (\w+)\.md\b", result.stdout, re.MULTILINE):
        outcomes[match.group(2)].append(match.group(1))
    return result.stdout + result.stderr, outcomes


def test_fences_inside_admonitions_and_details_run(run):
    output, outcomes = run
    assert sorted(outcomes["admonitions"]) == ["FAILED", "FAILED", "PASSED"], output
    assert "note block ran" in output and "details block ran" in output


def test_a_fence_in_an_admonition_runs_past_two_blank_lines(run):
    """mdit-py-plugins closes an admonition at two blank lines; mkdocs shows the block whole."""
    output, outcomes = run
    assert outcomes["admonition_blank_lines"] == ["FAILED"], output
    assert "code after two blank lines ran" in output


def test_same_session_continues_and_other_sessions_start_fresh(run):
    output, outcomes = run
    assert outcomes["sessions"] == ["PASSED"] * 4, output


def test_a_continuation_runs_each_earlier_block_once(run):
    output, outcomes = run
    assert outcomes["continuation_runs_once"] == ["PASSED"] * 3, output


def test_a_failing_continuation_reports_its_line_in_the_page(run):
    output, outcomes = run
    assert sorted(outcomes["continuation_line_numbers"]) == ["FAILED", "PASSED"], output
    assert re.search(r'continuation_line_numbers\.md", line 10\b', output), output


def test_session_resumed_after_another_fence_is_a_collection_error(run):
    output, outcomes = run
    assert outcomes["session_resumed"] == ["ERROR"], output
    assert 'session="one" resumes' in output


def test_python_fence_inside_a_content_tab_is_a_collection_error(run):
    output, outcomes = run
    assert outcomes["tab"] == ["ERROR"], output
    assert "FenceRuleError" in output and "content tab" in output


def test_other_fences_inside_a_content_tab_are_allowed(run):
    output, outcomes = run
    assert outcomes["tab_other_language"] == ["PASSED"], output


def test_a_fence_of_snippet_lines_is_not_run_and_mixing_is_an_error(run):
    output, outcomes = run
    assert outcomes["snippet"] == ["PASSED"], output
    assert outcomes["snippet_mixed"] == ["ERROR"], output
    assert "mixes --8<-- snippet lines with code" in output


def test_prints_are_captured_and_shown_shortened_on_failure(run):
    output, outcomes = run
    assert outcomes["prints_pass"] == ["PASSED"] and outcomes["prints_fail"] == ["FAILED"], output
    assert "PASSMARK" not in output, "a passing block flooded the log"
    assert "Captured stdout call" in output and "characters left out" in output
    assert 0 < output.count("FAILMARK") < 400, "a failing block's output was not shortened"
