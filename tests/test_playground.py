"""The playground page: its Python session under CPython, then the built page in Chromium.

The page (docs/playground.md) is HTML and JavaScript (docs/javascripts/playground.js) with no
Python block for pytest to run, so this file tests it: in Chromium it trains the circles
until the validation accuracy passes 0.9, changes controls and reads the URL, opens a saved URL and
reads the controls back, and runs the page's program under CPython to compare its printed
losses with the page's. It also measures the training and picture rates for the issue's
2-16-16-3 network on spiral points (printed at the end of the run).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from site_browser import IN_CI, REPORT, ROOT, PageProblems, axe_script

from browser_run import playground

PROGRAM = """import numpy as np

from mynn import Adam, CategoricalAccuracy, CategoricalCrossentropy, Dense, Dropout, Model
from mynn import ReLU, Softmax
from mynn.datasets import circles, train_test_split

SEED = 2
DTYPE = np.float64
BATCH_SIZE = 10
EPOCHS = 20

X, y = circles(40, noise=0.1, rng=SEED)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.5, rng=SEED)


def features(X):
    x1 = X[:, 0]
    x2 = X[:, 1]
    return np.column_stack([x1, x2, x1 * x2]).astype(DTYPE)


F_train, F_val = features(X_train), features(X_val)
model = Model([
    Dense(3, 8, rng=SEED + 1, dtype=DTYPE), ReLU(), Dropout(0.1, rng=SEED + 101),
    Dense(8, 2, rng=SEED + 2, dtype=DTYPE), Softmax(),
])
model.set_loss(CategoricalCrossentropy())
model.set_optimizer(Adam(learning_rate=0.03))
model.set_accuracy(CategoricalAccuracy())
order = np.random.default_rng(SEED)

for epoch in range(1, EPOCHS + 1):
    history = model.train(
        F_train, y_train, epochs=1, batch_size=BATCH_SIZE, rng=order, verbose=0,
    )
    val_loss, val_accuracy = model.evaluate(F_val, y_val)
    if epoch % 10 == 0:
        loss = history["loss"][0]
        print(f"epoch {epoch}: loss {loss:.6f}, validation loss {val_loss:.6f}")
"""

LINE = re.compile(r"epoch (\d+): loss (\S+), validation loss (\S+)")


def _printed(output: str) -> dict[int, tuple[float, float]]:
    return {int(m[1]): (float(m[2]), float(m[3])) for m in LINE.finditer(output)}


# --- the session under CPython -------------------------------------------------------------


def test_the_session_trains_like_the_programs_loop(capsys):
    exec(compile(PROGRAM, "<program>", "exec"), {"__name__": "__main__"})
    printed = _printed(capsys.readouterr().out)
    assert sorted(printed) == [10, 20], printed
    session = playground.Session(PROGRAM)
    frames = [session.advance(budget_ms=0, max_epochs=1) for _ in range(20)]
    assert session.epoch == 20 and [f["epoch"] for f in frames] == list(range(1, 21))
    for epoch, (loss, val_loss) in printed.items():  # the same calls on the same machine
        assert f"{session.history['loss'][epoch - 1]:.6f}" == f"{loss:.6f}"
        assert f"{session.history['val_loss'][epoch - 1]:.6f}" == f"{val_loss:.6f}"


def test_a_frame_holds_the_regions_the_unit_maps_and_the_new_losses():
    session = playground.Session(PROGRAM)
    frame = session.frame()
    assert frame["epoch"] == 0 and frame["loss"] == []
    grid = playground.GRID**2
    assert frame["classes"].shape == (grid,) and frame["classes"].dtype == np.uint8
    assert set(np.unique(frame["classes"])) <= {0, 1}
    assert frame["confidence"].min() >= 0.5 - 1e-6 and frame["confidence"].max() <= 1
    # one hidden layer (the ReLU's outputs), 8 units, each on the coarse grid, within [-1, 1]
    assert len(frame["units"]) == 1 and len(frame["units"][0]) == 8
    unit = frame["units"][0][0]
    assert unit.shape == (playground.UNIT_GRID**2,) and np.abs(unit).max() <= 1
    frame = session.advance(budget_ms=1e6, max_epochs=3)
    assert frame["since"] == 0 and frame["epoch"] == 3 and len(frame["val_loss"]) == 3
    # the plane's top row first: the grid's first point is at the top left
    assert session.grid[0].tolist() == [-session.extent, session.extent]


def test_diagnose_links_each_signal_to_a_section_of_the_guide():
    session = playground.Session(PROGRAM)
    signals = session.diagnose()
    names = {s["name"] for s in signals}
    assert {"dead_relu", "update_ratio", "gradient_norm", "initial_loss"} <= names, names
    guide = (ROOT / "docs" / "guides" / "training-goes-wrong.md").read_text(encoding="utf-8")
    headings = {
        re.sub(r"[^\w\- ]", "", line[3:].lower()).replace(" ", "-")
        for line in guide.splitlines()
        if line.startswith("## ")
    }
    assert set(playground.GUIDE.values()) <= headings, headings
    assert all(s["section"] in headings for s in signals), signals


def _circles(hidden: str, optimizer: str, data: str = "circles(100, noise=0.1, rng=1)") -> str:
    """A program as the page writes it: two hidden layers of 8 ``hidden`` units."""
    return (
        "import numpy as np\n"
        "from mynn import SGD, CategoricalAccuracy, CategoricalCrossentropy, Dense, Model\n"
        f"from mynn import Softmax, {hidden}\n"
        "from mynn.datasets import blobs, circles, train_test_split\n"
        "BATCH_SIZE = 10\n"
        f"X, y = {data}\n"
        "X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.5, rng=1)\n"
        "def features(X):\n"
        "    return X.astype(np.float64)\n"
        "F_train, F_val = features(X_train), features(X_val)\n"
        f"model = Model([Dense(2, 8, rng=2), {hidden}(), Dense(8, 8, rng=3), {hidden}(),\n"
        f"               Dense(8, {3 if 'blobs' in data else 2}, rng=4), Softmax()])\n"
        "model.set_loss(CategoricalCrossentropy())\n"
        f"model.set_optimizer({optimizer})\n"
        "model.set_accuracy(CategoricalAccuracy())\n"
        "order = np.random.default_rng(1)\n"
        "for epoch in range(1, 3):\n"
        "    pass\n"
    )


def _problems(session, epochs: int) -> list[dict]:
    session.advance(budget_ms=1e9, max_epochs=epochs - session.epoch)
    assert session.epoch == epochs and session.error is None
    return [s for s in session.diagnose() if not s["ok"]]


def test_during_training_a_small_step_is_not_blamed_on_the_learning_rate_by_default():
    # SGD at 10: healthy before training; after 5 epochs the Tanh units saturate and the
    # first two layers' steps are tiny. mynn alone calls that "the learning rate is too low".
    session = playground.Session(_circles("Tanh", "SGD(learning_rate=10.0)"))
    assert all(s["ok"] for s in session.initial_signals), session.initial_signals
    problems = _problems(session, 5)
    small = [s for s in problems if s["name"] == "update_ratio" and s["value"] < 1e-5]
    assert [s["where"] for s in small] == ["hidden layer 1, its weights",
                                           "hidden layer 2, its weights"], problems
    for s in small:
        assert "too low" not in s["message"], s
        assert s["section"] == "1-the-learning-rate-is-too-high", s
    # the initial loss is a reading for the untrained network only
    assert "initial_loss" in {s["name"] for s in session.initial_signals}
    assert "initial_loss" not in {s["name"] for s in session.diagnose()}
    saturated = [s for s in problems if s["name"] == "saturation"]
    assert [s["where"] for s in saturated] == ["hidden layer 1, its Tanh",
                                               "hidden layer 2, its Tanh"], problems
    for s in saturated:
        assert s["message"].endswith("(0% before training)"), s
        assert "initial weights" not in s["message"] and s["section"] == "", s

    # a finished run: the loss fell far, so the small steps are not the rate's fault
    done = playground.Session(
        _circles("Tanh", "SGD(learning_rate=0.1, momentum=0.9)", "blobs(100, 3, spread=0.1, rng=1)")
    )
    small = [s for s in _problems(done, 200) if s["name"] == "update_ratio"]
    assert small and all("fell from" in s["message"] and not s["section"] for s in small), small

    # a rate too small, with nothing else wrong: the readings say what can cause it, no more
    slow = playground.Session(_circles("Tanh", "SGD(learning_rate=0.0001)"))
    small = [s for s in _problems(slow, 20) if s["name"] == "update_ratio"]
    assert len(small) == 3 and all(
        not s["section"] and "a small learning rate" in s["message"] for s in small
    ), small
    fades = ["gradient that fades" in s["message"] for s in small]  # not for the output layer
    assert fades == [True, True, False], small


def test_a_small_step_with_no_clear_cause_names_none():
    # logistic regression on the circles: at its minimum (whole training part a step), with
    # mini-batches near it, and with a learning rate too small, the step is small in all three
    # and the readings alike (the referees found each named cause wrong in some of them)
    program = _circles("Tanh", "SGD(learning_rate=1.0)")
    program = program.replace(
        "model = Model([Dense(2, 8, rng=2), Tanh(), Dense(8, 8, rng=3), Tanh(),\n"
        "               Dense(8, 2, rng=4), Softmax()])",
        "model = Model([Dense(2, 2, rng=2), Softmax()])",
    )
    assert "Dense(2, 2, rng=2)" in program
    cases = {
        "minimum": (program.replace("BATCH_SIZE = 10", "BATCH_SIZE = 100"), 600),
        "mini-batches": (program.replace("learning_rate=1.0", "learning_rate=0.01"), 800),
        "rate too small": (program.replace("learning_rate=1.0", "learning_rate=1e-5"), 30),
    }
    for case, (code, epochs) in cases.items():
        session = playground.Session(code)
        small = [s for s in _problems(session, epochs) if s["name"] == "update_ratio"]
        assert small, case
        for s in small:
            assert not s["section"], (case, s)
            # one layer: no gradient fades on its way to it
            assert s["message"].endswith(
                "a small learning rate or a minimum of the loss can each make it so"), (case, s)


def test_units_after_the_output_layer_are_not_blamed_for_its_small_step():
    # 3 blobs, SGD at 1 with momentum: the loss falls far; the output layer's small step comes
    # from predictions that are right, not from units between it and the loss (there are none)
    done = playground.Session(_circles(
        "Tanh", "SGD(learning_rate=1.0, momentum=0.9)", "blobs(100, 3, spread=0.1, rng=1)"))
    small = [s for s in _problems(done, 200) if s["name"] == "update_ratio"]
    assert done.history["loss"][-1] < done.history["loss"][0] / 100, done.history["loss"]
    assert [s["where"] for s in small][-1] == "output layer, its weights", small
    for s in small:  # the loss fell far: read first, before any unit is blamed
        assert "hold back" not in s["message"] and "as near a minimum" in s["message"], s


def test_the_limits_are_mynns():
    from mynn import diagnostics

    assert playground.UPDATE_RATIO_LOW == diagnostics.UPDATE_RATIO_RANGE[0]
    assert playground.DEAD_RELU_LIMIT == diagnostics.DEAD_RELU_LIMIT


def test_layer_names_are_the_pages():
    model = playground.Session(PROGRAM).model  # Dense, ReLU, Dropout, Dense, Softmax
    assert playground.layer_names(model) == [
        "hidden layer 1, its weights",
        "hidden layer 1, its ReLU",
        "hidden layer 1, its Dropout",
        "output layer, its weights",
        "output layer, its Softmax",
    ]


def test_a_diverging_run_stops_and_names_the_runs_epoch():
    program = (
        "import numpy as np\n"
        "from mynn import SGD, Dense, Linear, MeanSquaredError, Model\n"
        "from mynn.datasets import curve, train_test_split\n"
        "BATCH_SIZE = 10\n"
        "X, y = curve(50, rng=0)\n"
        "X_train, X_val, y_train, y_val = train_test_split(X, y, rng=0)\n"
        "def features(X):\n"
        "    return X[:, :1]\n"
        "F_train, F_val = features(X_train), features(X_val)\n"
        "model = Model([Dense(1, 8, rng=1), Linear(), Dense(8, 1, rng=2), Linear()])\n"
        "model.set_loss(MeanSquaredError())\n"
        "model.set_optimizer(SGD(learning_rate=10.0, momentum=0.9))\n"
        "order = np.random.default_rng(0)\n"
        "for epoch in range(1, 3):\n"
        "    pass\n"
    )
    session = playground.Session(program)
    for _ in range(5):
        frame = session.advance(budget_ms=0, max_epochs=1)
        if frame["error"]:
            break
    assert frame["error"] and f"epoch {session.epoch + 1}" in frame["error"], frame["error"]


def test_a_program_without_a_training_loop_is_refused():
    with pytest.raises(ValueError, match="no line starting with 'for epoch in range\\('"):
        playground.setup_code("x = 1\n")


# --- the page in Chromium ------------------------------------------------------------------

READY = (
    "() => { const r = document.getElementById('mynn-playground');"
    " return r && r.playground && r.playground.epoch >= 1; }"
)
STATE = """() => { const s = document.getElementById('mynn-playground').playground;
  return {epoch: s.epoch, history: s.history, frames: s.frames.slice(),
          program: document.querySelector('.mynn-pg__code code').textContent,
          query: location.search}; }"""
LOAD_TIMEOUT = 180_000  # ms: Pyodide (17 MB) starts in 15 s here, more on a loaded machine


@pytest.fixture(scope="module")
def tab(browser_context, site_url, site_dir):
    if not (site_dir / "assets" / "pyodide").is_dir():
        reason = "the build has no Pyodide files (python -m browser_run.gather)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    page = browser_context.new_page()
    page.problems = PageProblems(page)
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    page.close()


def _open(tab, site_url: str, query: str) -> None:
    """Load the playground with ``query``, start Python with One epoch and wait for it."""
    tab.goto(site_url + "playground/" + query, wait_until="load")
    tab.click("#pg-step")
    tab.wait_for_function(READY, timeout=LOAD_TIMEOUT)


def test_nothing_heavy_loads_before_play_or_one_epoch(tab, site_url):
    before = len(tab.requests)
    tab.goto(site_url + "playground/?data=circles", wait_until="networkidle")
    heavy = [url for url in tab.requests[before:] if "/assets/pyodide/" in url]
    assert not heavy, heavy
    assert "Play or One epoch starts Python" in tab.inner_text(".mynn-pg__status")


def _play_until(tab, condition: str, timeout: float) -> dict:
    tab.click("#pg-play")
    tab.wait_for_function(
        "() => { const s = document.getElementById('mynn-playground').playground;"
        f" const h = s.history; return {condition}; }}",
        timeout=timeout,
    )
    tab.click("#pg-play")  # pause
    tab.wait_for_timeout(300)  # a frame on its way arrives
    return tab.evaluate(STATE)


def test_the_circles_pass_0_9_validation_accuracy_within_seconds(tab, site_url):
    started = time.monotonic()
    _open(tab, site_url, "?data=circles")
    loaded = time.monotonic() - started
    started = time.monotonic()
    state = _play_until(tab, "h.val_accuracy.length && h.val_accuracy.at(-1) > 0.9", 30_000)
    seconds = time.monotonic() - started
    assert state["history"]["val_accuracy"][-1] > 0.9
    assert int(tab.get_attribute(".mynn-pg__numbers", "data-epoch")) >= state["epoch"] - 1
    REPORT.append(
        f"playground: Pyodide and mynn ready in {loaded:.1f} s; the circles passed 0.9 validation "
        f"accuracy after {seconds:.1f} s of play (epoch {state['epoch']})"
    )
    # every request stayed on the site
    assert all(url.startswith(site_url) for url in tab.requests), tab.requests


def test_a_changed_control_changes_the_url(tab, site_url):
    _open(tab, site_url, "?data=circles")
    tab.select_option("#pg-data", "xor")
    tab.wait_for_function("() => location.search.includes('data=xor')")
    tab.fill("#pg-lr", "0.01")
    tab.dispatch_event("#pg-lr", "change")
    tab.wait_for_function("() => location.search.includes('lr=0.01')")
    tab.click("text=Add a hidden layer")
    query = parse_qs(urlsplit(tab.url).query)
    assert query["layers"] == ["8-Tanh,8-Tanh,8-ReLU"], query
    assert query["data"] == ["xor"] and query["lr"] == ["0.01"]


SAVED = (
    "?data=spiral&noise=0.15&n=40&val=0.4&seed=3&layers=12-ReLU-0.1,6-Tanh-0-0.0001-0.001"
    "&f=x1,x2,x1x2,sinx1&opt=sgd&lr=0.2&momentum=0.5&batch=16&pts=0.5:0.5:2;-0.3:0.1:1"
)


def test_a_saved_url_brings_the_settings_back(tab, site_url):
    _open(tab, site_url, SAVED)
    values = tab.evaluate(
        """() => ['pg-data', 'pg-noise', 'pg-n', 'pg-val', 'pg-seed', 'pg-units-0',
                  'pg-act-0', 'pg-drop-0', 'pg-units-1', 'pg-act-1', 'pg-l1-1', 'pg-l2-1',
                  'pg-l2-0', 'pg-opt', 'pg-lr', 'pg-momentum', 'pg-batch', 'pg-dtype']
                 .map((id) => document.getElementById(id).value)"""
    )
    assert values == [
        "spiral",
        "0.15",
        "40",
        "0.4",
        "3",
        "12",
        "ReLU",
        "0.1",
        "6",
        "Tanh",
        "0.0001",
        "0.001",
        "0",
        "sgd",
        "0.2",
        "0.5",
        "16",
        "float64",
    ], values
    checked = tab.evaluate(
        "() => [...document.querySelectorAll('.mynn-pg__features input')]"
        ".filter((b) => b.checked).map((b) => b.id)"
    )
    assert checked == ["pg-f-x1", "pg-f-x2", "pg-f-x1x2", "pg-f-sinx1"], checked
    program = tab.inner_text(".mynn-pg__code")
    assert (
        "Dense(12, 6, rng=SEED + 2, dtype=DTYPE, weight_regularizer_l1=0.0001, "
        "weight_regularizer_l2=0.001)" in program
    ), program
    assert "Dense(4, 12, rng=SEED + 1, dtype=DTYPE)," in program, program
    # the settings read from the URL make the same URL again
    query = tab.evaluate("() => document.getElementById('mynn-playground').playground.query()")
    assert query == SAVED, query
    # the two added points are in the data: 3 x 40 generated, 2 added, 40% for validation
    state = tab.evaluate(
        "() => { const d = document.getElementById('mynn-playground').playground.data;"
        " return [d.y_train.length, d.y_val.length]; }"
    )
    assert state == [73, 49], state
    # the held-out part is called what it is used for; an old link's test= still works
    assert tab.inner_text("label[for=pg-val]") == "Validation share"
    assert "X_train, X_val, y_train, y_val = train_test_split(" in program
    assert "test loss" not in program and "validation loss" in program
    tab.goto(site_url + "playground/?data=xor&test=0.3", wait_until="networkidle")
    assert tab.input_value("#pg-val") == "0.3"
    assert "val=0.3" in tab.evaluate(
        "() => document.getElementById('mynn-playground').playground.query()"
    )


def test_points_added_by_a_click_and_by_csv_join_the_data_and_the_program(tab, site_url):
    _open(tab, site_url, "?data=circles&n=20")
    tab.select_option("#pg-class", "1")
    tab.click(".mynn-pg__plot", position={"x": 20, "y": 20})  # near the top left corner
    tab.wait_for_function("() => location.search.includes('pts=')")
    tab.wait_for_function("() => document.getElementById('mynn-playground').playground.data")
    tab.click("text=Add points as CSV")
    tab.fill("#pg-csv", "0.25, -0.5, 0\n0.5; 0.5; 1\nnot a point")
    tab.click("text=Add these")
    tab.wait_for_function(
        "() => document.getElementById('mynn-playground').playground.data &&"
        " document.getElementById('mynn-playground').playground.settings.points.length === 3"
    )
    points = tab.evaluate(
        "() => document.getElementById('mynn-playground').playground.settings.points"
    )
    x, y, label = points[0]
    assert x < -0.8 and y > 0.8 and label == 1, points  # the click, in the plot's units
    assert points[1:] == [[0.25, -0.5, 0], [0.5, 0.5, 1]], points
    program = tab.inner_text(".mynn-pg__code")
    assert "    [0.25, -0.5]," in program and "y = np.concatenate([y, [1, 0, 1]])" in program
    tab.wait_for_function(
        "() => { const d = document.getElementById('mynn-playground').playground.data;"
        " return d && d.y_train.length + d.y_val.length === 43; }"
    )


PG = "document.getElementById('mynn-playground').playground"


def test_clicks_add_points_before_python_starts_and_csv_keeps_the_data_sets_classes(
    tab, site_url
):
    before = len(tab.requests)
    tab.goto(site_url + "playground/?data=custom", wait_until="networkidle")
    for x, y in [(40, 40), (300, 40), (40, 300), (300, 300)]:
        tab.click(".mynn-pg__plot", position={"x": x, "y": y})
    assert tab.evaluate(f"() => {PG}.settings.points.length") == 4
    assert tab.inner_text(".mynn-pg__numbers") == ""  # no longer asks for points
    assert "pts=" in tab.url
    assert not [url for url in tab.requests[before:] if "/assets/pyodide/" in url]
    tab.goto(site_url + "playground/?data=custom&pts=0.5:0.5:1", wait_until="networkidle")
    assert tab.inner_text(".mynn-pg__numbers").endswith(": 1 so far.")
    # two classes: a point of class 4 is not one of circles' points
    tab.goto(site_url + "playground/?data=circles", wait_until="networkidle")
    tab.click("text=Add points as CSV (x1, x2, class 0 to 1)")
    tab.fill("#pg-csv", "0.1, 0.1, 4\n0.3, 0.3, 0.6\n0.2, 0.2, 1")  # 0.6 is no class either
    tab.click("text=Add these")
    assert tab.evaluate(f"() => {PG}.settings.points") == [[0.2, 0.2, 1]]
    tab.goto(site_url + "playground/?data=circles&pts=0.5:0.5:0.6;0.4:0.4:1",
             wait_until="networkidle")
    assert tab.evaluate(f"() => {PG}.settings.points") == [[0.4, 0.4, 1]]
    # the class chosen for clicks stays chosen after a click
    tab.select_option("#pg-class", "1")
    tab.click(".mynn-pg__plot", position={"x": 40, "y": 40})
    tab.click(".mynn-pg__plot", position={"x": 60, "y": 40})
    assert tab.input_value("#pg-class") == "1"
    assert [v[2] for v in tab.evaluate(f"() => {PG}.settings.points")] == [1, 1, 1]
    # a point of class 2 does not survive a change to a data set of two classes
    tab.goto(site_url + "playground/?data=blobs&pts=0.1:0.1:2;0.2:0.2:1", wait_until="networkidle")
    tab.select_option("#pg-data", "circles")
    assert tab.evaluate(f"() => {PG}.settings.points") == [[0.2, 0.2, 1]]


def test_the_regression_view_has_its_own_captions_and_no_accuracy_or_class(tab, site_url):
    _open(tab, site_url, "?data=curve&layers=8-Tanh-0.2-0-0.01")
    assert tab.evaluate(
        "() => getComputedStyle(document.querySelector('[aria-label=\"Accuracy per epoch\"]'))"
        ".display"
    ) == "none"
    assert not tab.is_visible("#pg-class") and not tab.is_visible(".mynn-pg__csv")
    text = tab.inner_text(".mynn-pg")
    assert "Each unit's output against x" in text and "over the plane" not in text
    caption = tab.inner_text("#pg-curves + canvas + p")
    assert caption.endswith(
        "Solid: training, over the epoch's samples, batch by batch while the weights change, "
        "with Dropout on, plus the L1/L2 penalty. Dashed: validation, the model at the epoch's "
        "end, Dropout off, no penalty."
    ), caption


def test_the_diagnostics_of_a_rate_far_too_high_name_the_pages_layers(tab, site_url):
    _open(tab, site_url, "?data=circles&opt=sgd&lr=10&momentum=0")
    tab.click("#pg-play")
    tab.wait_for_function(
        "() => document.querySelector('.mynn-pg__diagnosis').textContent.includes('saturat')",
        timeout=60_000,
    )
    tab.click("#pg-play")  # pause
    text = tab.inner_text(".mynn-pg__diagnosis")
    assert re.match(r"Measured after epoch [1-9]\d*:", text), text
    assert "saturation (hidden layer 1, its Tanh)" in text, text
    assert "too low" not in text and "initial_loss" not in text, text
    assert "(layer " not in text, text


def test_a_diverging_run_stops_with_a_link_to_the_guide(tab, site_url):
    _open(tab, site_url, "?data=curve&opt=sgd&lr=10&momentum=0.9&layers=8-Linear")
    tab.click("#pg-play")
    tab.wait_for_function("() => document.getElementById('pg-play').textContent === 'Play'")
    text = tab.inner_text(".mynn-pg__diagnosis")
    assert text.startswith("Training stopped: the loss became"), text
    link = tab.get_attribute(".mynn-pg__diagnosis a", "href")
    assert link == "../guides/training-goes-wrong/#1-the-learning-rate-is-too-high", link


def test_a_chapters_link_opens_the_playground_with_its_settings(tab, site_url):
    # through Material's instant navigation, as a reader follows it
    tab.goto(site_url + "concepts/activation-functions/", wait_until="load")
    tab.click("a[href*='playground/?data=circles&layers=8-Linear,8-Linear']")
    tab.wait_for_function("() => document.getElementById('pg-act-1')", timeout=LOAD_TIMEOUT)
    values = tab.evaluate(
        "() => ['pg-data', 'pg-act-0', 'pg-act-1'].map((id) => document.getElementById(id).value)"
    )
    assert values == ["circles", "Linear", "Linear"], values
    assert "EPOCHS" in tab.inner_text(".mynn-pg__code")


def _compare_with_cpython(tab, site_url, query: str, epochs: int) -> float:
    _open(tab, site_url, query)
    state = _play_until(tab, f"h.loss.length >= {epochs}", 90_000)
    program = state["program"]
    assert f"EPOCHS = {10 * -(-state['epoch'] // 10)}" in program, program[:400]
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = _printed(done.stdout)
    history = state["history"]
    compared = [e for e in sorted(printed) if e <= len(history["loss"])]
    assert len(compared) >= epochs // 10, (sorted(printed), len(history["loss"]))
    largest = 0.0
    for epoch in compared:
        page = (history["loss"][epoch - 1], history["val_loss"][epoch - 1])
        for ours, theirs in zip(page, printed[epoch]):
            largest = max(largest, abs(ours - theirs))
    return largest


def test_the_programs_losses_under_cpython_are_the_pages(tab, site_url):
    # The program prints 6 decimals, so a printed loss is within 5e-7 of the exact one.
    # Pyodide's numpy is another build, without BLAS: its sums and products may round
    # differently in the last bits (about 1e-16 relative in float64, 1e-7 in float32), and
    # training carries such differences on. Measured here after 30 epochs: at most 4.9e-7
    # in float64 and 4.7e-7 in float32, within the printing's rounding. The tolerances, 1e-5 in
    # float64 and 1e-3 in float32 (whose roundings are 1e9 times larger and can grow over
    # longer runs), are far below what a changed setting does to the losses: the second
    # decimal or more.
    float64 = _compare_with_cpython(tab, site_url, SAVED, 30)
    assert float64 <= 1e-5, float64
    float32 = _compare_with_cpython(tab, site_url, "?data=xor&n=60&dtype=float32&batch=20", 30)
    assert float32 <= 1e-3, float32
    REPORT.append(
        f"playground: the program under CPython against the page, largest loss difference "
        f"{float64:.1e} (float64, 30 epochs), {float32:.1e} (float32, 30 epochs)"
    )


def test_training_and_picture_rates_for_2_16_16_3_on_spiral_points(tab, site_url):
    # the measure: 2-16-16-3 on 300 spiral points (the training part), batch 10
    _open(tab, site_url, "?data=spiral&n=125&val=0.2&layers=16-ReLU,16-ReLU&f=x1,x2&batch=10")
    tab.focus("#pg-play")  # with the keyboard alone
    tab.keyboard.press("Enter")
    tab.wait_for_timeout(1000)  # the first frames
    before = tab.evaluate(STATE)
    # the page stays responsive: the longest gap between two animation frames in 2 s
    longest_gap = tab.evaluate(
        """() => new Promise((resolve) => {
             let last = performance.now(), longest = 0;
             const started = last;
             const tick = (now) => {
               longest = Math.max(longest, now - last); last = now;
               if (now - started < 2000) requestAnimationFrame(tick); else resolve(longest);
             };
             requestAnimationFrame(tick);
           })"""
    )
    tab.wait_for_timeout(3000)
    after = tab.evaluate(STATE)
    tab.keyboard.press("Enter")  # the focus stayed on the button: pause
    tab.wait_for_function("() => document.getElementById('pg-play').textContent === 'Play'")
    seconds = (after["frames"][-1] - before["frames"][-1]) / 1000
    frames = sum(1 for t in after["frames"] if t > before["frames"][-1])
    epochs = after["epoch"] - before["epoch"]
    assert len(after["history"]["loss"]) == after["epoch"]
    REPORT.append(
        f"playground: 2-16-16-3 on 300 spiral training points, batch 10: {epochs / seconds:.1f} "
        f"epochs/s, {frames / seconds:.1f} picture updates/s, longest pause of the page "
        f"{longest_gap:.0f} ms (headless Chromium, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f})"
    )
    assert longest_gap < 500, longest_gap
    assert frames / seconds >= 5, (frames, seconds)  # the goal is 10: see the report line


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_reads_at_1280_and_390_px_in_both_schemes(tab, site_url, width):
    axe, missing = axe_script()
    tab.set_viewport_size({"width": width, "height": 900})
    _open(tab, site_url, "?data=circles")
    problems = []
    for scheme, toggle in (("default", None), ("slate", "__palette_1"), ("default", None)):
        if toggle:  # the header's toggle, as a reader switches (the layout test does the same)
            tab.click(f"label[for='{toggle}']")
            tab.wait_for_function(
                f"() => document.body.getAttribute('data-md-color-scheme') === '{scheme}'"
                " && document.getAnimations().every((a) => a.playState !== 'running')"
            )
        elif scheme != tab.evaluate("() => document.body.getAttribute('data-md-color-scheme')"):
            tab.click("label[for='__palette_0']")  # back to light for the next view
            tab.wait_for_function(
                "() => document.body.getAttribute('data-md-color-scheme') === 'default'"
            )
            continue
        sideways = tab.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert sideways <= 0, (width, scheme, sideways)
        if axe:
            if not tab.evaluate("() => typeof axe !== 'undefined'"):
                tab.add_script_tag(path=str(axe))
            found = tab.evaluate(
                """async () => (await axe.run(document, {runOnly: {type: 'tag',
                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
                   .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                   .map((v) => v.id + ': ' + v.nodes[0].target.join(' '))"""
            )
            problems += [f"{width} px, {scheme}: {item}" for item in found]
    tab.set_viewport_size({"width": 1280, "height": 900})
    assert not problems, "\n".join(problems)
    if not axe:
        pytest.skip(f"the layout was checked, accessibility not: {missing}")


def test_no_console_error_on_the_page(tab):
    assert not tab.problems.items, "\n".join(tab.problems.items)
