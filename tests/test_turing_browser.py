"""The Turing test page in a real headless browser (Debian's chromium via selenium).

`.ci/run` installs chromium and chromium-driver; without them the test is
skipped with the reason, never silently passed.
"""

import json

import numpy as np
import pytest

from colorkeras import turing

pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')"
)
from conftest import wait_for_file  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def _pairs(count):
    """Distinct tiny images: real ones warm, colorized ones cold, two models."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(count):
        real = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        fake = real.copy()
        fake[..., 0] //= 2
        pairs.append((f"photo{i}.jpg", "unet" if i % 2 else "pix2pix", real, fake))
    return pairs


def test_clicking_through_reports_the_fooling_rate_and_the_answers(browser, tmp_path):
    pairs = _pairs(6)
    page = turing.write_page(str(tmp_path / "turing.html"), pairs, seed=3)
    browser.get((tmp_path / "turing.html").as_uri())
    assert page.endswith("turing.html")

    key = browser.execute_script("return window.turing.trials.map(t => t.real)")
    assert len(key) == 6 and set(key) <= {"left", "right"}
    assert len(set(key)) == 2  # seed 3 puts the real photo on both sides
    # The embedded images really decode in the browser.
    assert browser.execute_script(
        "return document.getElementById('image-left').naturalWidth") == 16

    # Be fooled on pairs 2 and 5 (pick the colorized side), right on the rest.
    fooled_on = {1, 4}
    chosen = []
    for index, real_side in enumerate(key):
        assert browser.find_element(By.ID, "progress").text == f"Pair {index + 1} of 6"
        other = "right" if real_side == "left" else "left"
        side = other if index in fooled_on else real_side
        browser.find_element(By.ID, f"choice-{side}").click()
        chosen.append(side)

    assert not browser.find_element(By.ID, "trial-screen").is_displayed()
    assert browser.find_element(By.ID, "fooling-rate").text == "Fooling rate: 33.3%"
    answers = json.loads(browser.execute_script("return window.turing.answersJSON()"))
    assert answers["pairs"] == 6 and answers["fooled"] == 2
    assert answers["fooling_rate"] == pytest.approx(2 / 6)
    assert answers["seed"] == 3
    assert [a["chosen"] for a in answers["answers"]] == chosen
    assert [a["real_side"] for a in answers["answers"]] == key
    assert [a["fooled"] for a in answers["answers"]] == [i in fooled_on for i in range(6)]
    trials = browser.execute_script(
        "return window.turing.trials.map(t => [t.image, t.model])")
    per_model = {}
    for (image, model), answer in zip(trials, answers["answers"]):
        assert answer["image"] == image and answer["model"] == model
        counts = per_model.setdefault(model, [0, 0])
        counts[0] += answer["fooled"]
        counts[1] += 1
    assert {m: [v["fooled"], v["pairs"]] for m, v in answers["per_model"].items()} == per_model
    # Clicking on after the end changes nothing.
    browser.execute_script("document.getElementById('choice-left').click()")
    assert json.loads(browser.execute_script("return window.turing.answersJSON()"))["pairs"] == 6

    browser.find_element(By.ID, "download").click()
    downloaded = wait_for_file(browser.downloads / "turing_answers.json")
    assert downloaded is not None, (
        f"the download button saved no turing_answers.json: {list(browser.downloads.iterdir())}")
    saved = json.loads(downloaded.read_text())
    assert saved["fooled"] == 2 and saved["answers"] == answers["answers"]


def test_page_needs_no_network(browser, tmp_path):
    """Every resource is inline: the page loads no URL besides its own file."""
    turing.write_page(str(tmp_path / "t.html"), _pairs(2), seed=0)
    browser.get((tmp_path / "t.html").as_uri())
    urls = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in urls if not u.startswith("data:")] == []
    assert browser.find_element(By.ID, "choice-right").is_displayed()
