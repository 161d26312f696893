"""The step-through page in a real browser: headless Chromium driven by Selenium.

One browser for the whole module (starting Chromium costs seconds). The expected text of every
step is computed from `backward_steps`, not read from the page's own plan. Skips, saying why,
where Chromium or its driver is not installed (`.ci/run` installs the Debian packages).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import viz
from autograd import Tensor, backward_steps, softmax_cross_entropy
from autograd.explain import context_for, step_captions
from autograd.text import chain_rule, grad_name
from viz.book import apple_orange
from viz.dot import GRAD

from .test_steps import two_layer_loss

pytest.importorskip("pygraphviz")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no headless browser: install Chromium and its driver "
    "(Debian: apt-get install chromium chromium-driver)",
)
VISIBLE_RED = f"""
return Array.from(document.querySelectorAll('g[id^="sg_"] text[fill="{GRAD}"]'))
  .filter(function (t) {{ return getComputedStyle(t).visibility !== "hidden"; }})
  .map(function (t) {{ return t.textContent; }});
"""
NEW_RED = f"""
return Array.from(document.querySelectorAll('g[id^="sg_"] text[fill="{GRAD}"].sg-new'))
  .map(function (t) {{ return t.textContent; }});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="scratchgrad-chromium-")
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser, page: viz.Steps, tmp_path: Path, name: str) -> None:
    path = page.save(tmp_path / f"{name}.html")
    browser.get_log("performance")  # start each page's request log empty
    browser.get(path.resolve().as_uri())


def _press(browser, key: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.TAG_NAME, "body").send_keys(key)


def _state(browser) -> tuple[str, str, list[str]]:
    from selenium.webdriver.common.by import By

    counter = browser.find_element(By.ID, "counter").text
    caption = browser.find_element(By.ID, "caption").get_attribute("textContent")
    return counter, caption, sorted(browser.execute_script(VISIBLE_RED))


def _expected_red(root: Tensor, upto: int) -> list[str]:
    """The red labels after `upto` steps, from backward_steps: the seed, then each edge's
    chain rule (scalar graphs without branches: one label per edge)."""
    recorded = backward_steps(root)
    context = context_for([root], recorded)
    labels = ["1"] if upto else []
    for step in recorded[:upto]:
        for sent in step.sent:
            lhs = grad_name(context.loss, context.names, sent.input)
            labels.append(chain_rule(lhs, [(step.upstream, sent.local)], sent.gradient))
    return sorted(labels)


def test_arrow_keys_walk_every_step_as_backward_steps_says(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    price, _ = apple_orange()
    recorded = backward_steps(price)
    captions = step_captions(recorded, context_for([price], recorded))
    _open(browser, viz.steps(price), tmp_path, "apple_orange")
    n = len(recorded)
    counter, caption, red = _state(browser)
    assert counter == f"step 0 of {n}" and caption.startswith(f"Step 0 of {n}")
    assert red == []  # forward values only
    for k in range(1, n + 1):
        _press(browser, Keys.ARROW_RIGHT)
        counter, caption, red = _state(browser)
        assert counter == f"step {k} of {n}"
        assert caption == captions[k - 1]
        assert red == _expected_red(price, k)
        new = browser.execute_script(NEW_RED)
        lines = [line.strip() for line in captions[k - 1].splitlines()[2:]]
        assert sorted(new) == sorted(lines + (["1"] if k == 1 else []))  # this step's, marked
    _press(browser, Keys.ARROW_RIGHT)  # past the end: stays
    assert _state(browser)[0] == f"step {n} of {n}"
    assert "∂price/∂apple = 1.1 × 2 = 2.2" in _state(browser)[2]


def test_left_arrow_undoes_a_step_and_the_buttons_work(browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    price, _ = apple_orange()
    _open(browser, viz.steps(price), tmp_path, "undo")
    before = _state(browser)
    _press(browser, Keys.ARROW_RIGHT)
    _press(browser, Keys.ARROW_RIGHT)
    two = _state(browser)
    _press(browser, Keys.ARROW_RIGHT)
    _press(browser, Keys.ARROW_LEFT)
    assert _state(browser) == two
    _press(browser, Keys.ARROW_LEFT)
    _press(browser, Keys.ARROW_LEFT)
    assert _state(browser) == before
    assert browser.find_element(By.ID, "prev").get_attribute("disabled")
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    assert _state(browser) == two
    browser.find_element(By.ID, "prev").click()
    assert _state(browser)[0] == "step 1 of 4"
    browser.find_element(By.ID, "reset").click()
    assert _state(browser) == before
    current = browser.execute_script(
        "return document.querySelectorAll('.sg-current, .sg-active, .sg-new').length"
    )
    assert current == 0  # step 0 highlights nothing


def test_the_page_makes_no_network_request(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    price, _ = apple_orange()
    _open(browser, viz.steps(price), tmp_path, "offline")
    for _ in range(5):
        _press(browser, Keys.ARROW_RIGHT)
    requested = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert requested and all(url.startswith("file://") for url in requested), requested
    assert len(requested) == 1  # the page itself, nothing else
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.mark.parametrize("collapse", [False, True], ids=["two_layer", "two_layer_collapsed"])
def test_tensor_pages_end_as_the_finished_drawing(browser, tmp_path, collapse) -> None:
    from selenium.webdriver.common.keys import Keys

    loss = two_layer_loss()
    page = viz.steps(loss, collapse=collapse)
    _open(browser, page, tmp_path, f"two_layer_{collapse}")
    for _ in range(len(page)):
        _press(browser, Keys.ARROW_RIGHT)
    counter, _, red = _state(browser)
    assert counter == f"step {len(page)} of {len(page)}"
    loss.backward()
    finished = viz.draw(loss, collapse=collapse).svg()
    legend = {"red: ∂L/∂· (gradient)"}
    want = [t for t in re.findall(rf'<text[^>]*fill="{GRAD}"[^>]*>(.*?)</text>', finished)]
    want = sorted(_unescape(t) for t in want if _unescape(t) not in legend)
    assert red == want
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_softmax_loss_page_shows_y_minus_t_at_the_end(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    a = Tensor([[0.3, 2.9, 4.0], [1.0, 0.5, -1.0]], requires_grad=True, name="a")
    t = Tensor(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), requires_grad=False, name="t")
    L = softmax_cross_entropy(a, t)
    L.name = "L"
    _open(browser, viz.steps(L), tmp_path, "softmax")
    assert _state(browser)[2] == []
    _press(browser, Keys.ARROW_RIGHT)
    red = _state(browser)[2]
    assert "∂L/∂a = (y − t) / 2" in red


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


VISIBLE_VALUES = """
return Array.from(document.querySelectorAll('g[id^="sg_"].node text:not([fill])'))
  .filter(function (t) { return getComputedStyle(t).visibility !== "hidden"; })
  .map(function (t) { return t.textContent; });
"""


def test_forward_then_backward_as_fig_5_1_then_5_6(browser, tmp_path) -> None:
    from selenium.webdriver.common.keys import Keys

    price, _ = apple_orange()
    _open(browser, viz.steps(price, forward=True), tmp_path, "forward")
    leaves = {"100", "2", "150", "3", "1.1"}
    names = {"apple", "num", "orange", "orange_num", "tax", "price", "×", "+"}

    def values() -> set[str]:
        return set(browser.execute_script(VISIBLE_VALUES)) - names

    assert values() == leaves and _state(browser)[2] == []
    seen = [values()]
    for _ in range(4):
        _press(browser, Keys.ARROW_RIGHT)
        seen.append(values())
    assert seen[1] == leaves | {"200"}
    assert seen[3] == leaves | {"200", "450", "v1 = 650"}
    assert seen[4] == seen[3] | {"715"} and _state(browser)[2] == []  # no gradient yet
    _press(browser, Keys.ARROW_RIGHT)
    counter, caption, red = _state(browser)
    assert counter == "step 5 of 8" and caption.startswith("Backward step 1 of 4")
    assert red == sorted(["1", "∂price/∂v1 = 1 × 1.1 = 1.1", "∂price/∂tax = 1 × 650 = 650"])
    _press(browser, Keys.ARROW_LEFT)
    assert _state(browser)[2] == [] and values() == seen[4]


def test_the_notebook_frame_runs_the_page(browser, tmp_path) -> None:
    """`_repr_html_` (what Jupyter shows): the page inside a sandboxed frame still steps."""
    from selenium.webdriver.common.by import By

    price, _ = apple_orange()
    host = tmp_path / "notebook_cell.html"
    host.write_text(f"<!DOCTYPE html><body>{viz.steps(price)._repr_html_()}</body>", "utf-8")
    browser.get(host.resolve().as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert _state(browser)[0] == "step 0 of 4"
        browser.find_element(By.ID, "next").click()
        counter, _, red = _state(browser)
        assert counter == "step 1 of 4" and "∂price/∂tax = 1 × 650 = 650" in red
    finally:
        browser.switch_to.default_content()


OUT_OF_SIGHT = """
var figure = document.getElementById("figure").getBoundingClientRect();
var left = Math.max(figure.left, 0), right = Math.min(figure.right, innerWidth);
function box(e) { return e.getBoundingClientRect(); }
function width(boxes) {
  return Math.max.apply(null, boxes.map(function (b) { return b.right; }))
    - Math.min.apply(null, boxes.map(function (b) { return b.left; }));
}
var labels = Array.from(document.querySelectorAll("#figure .sg-new"));
var nodes = arguments[0].map(function (id) { return document.getElementById(id); });
var wide = width(labels.map(box)) > right - left;  // then their left ends must show
var shown = width(labels.concat(nodes).map(box)) <= right - left ? labels.concat(nodes) : labels;
return shown.filter(function (e) {
  var b = box(e);
  var across = wide ? b.left < left - 1 && b.right > left
    : b.left < left - 1 || b.right > right + 1;
  return across || b.top < -1 || b.bottom > innerHeight + 1;
}).map(function (e) { return e.textContent.trim() || e.id; });
"""


@pytest.mark.parametrize("size", [(500, 800), (1280, 700)])
def test_a_figure_wider_or_taller_than_the_window_scrolls_to_what_each_step_writes(
    browser, tmp_path, size
) -> None:
    # the figure scrolled the node that runs to the centre of a narrow window, cutting off
    # the left half of the labels it had just written ("…apple = 1.1 × 2 = 2.2"), and only as
    # far down as the node itself, leaving the new labels under it below the window
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(*size)
    try:
        for name, root in (("apple", apple_orange()[0]), ("tall", two_layer_loss())):
            page = viz.steps(root)
            _open(browser, page, tmp_path, f"sight_{name}_{size[0]}")
            for k in range(1, len(page) + 1):
                _press(browser, Keys.ARROW_RIGHT)
                current = list(page.frames[k].current)
                assert browser.execute_script(OUT_OF_SIGHT, current) == [], (name, k)
    finally:
        browser.set_window_size(1280, 900)
