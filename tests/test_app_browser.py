"""The web app end to end in headless chromium: upload, colorize, download, a bad file."""

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio", reason="the web app's extra is not installed "
                    "(pip install -e '.[app]'; .ci/run does it)")
pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from conftest import free_port, wait_for_file  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from colorkeras import app, images  # noqa: E402
from colorkeras.data import SAMPLE_DIR  # noqa: E402

TIMEOUT = 180


@pytest.fixture
def served(tmp_path):
    page = app.build_app("pix2pix", out_dir=tmp_path / "outputs")
    port = free_port()
    app.launch(page, port=port, block=False)
    yield f"http://127.0.0.1:{port}"
    page.close()


def gray_16bit_photo(path):
    """A sample photo turned gray and saved as a 16-bit PNG: no colour to copy."""
    rgb = images.read_image(images.list_images(SAMPLE_DIR)[5])[..., :3].astype(np.float64)
    luma = rgb @ [0.299, 0.587, 0.114]
    Image.fromarray(np.round(luma * 257).astype(np.uint16)).save(path)
    return luma.shape


def upload(browser, path):
    """Clear the photo box if it holds one, then give its file input ``path``."""
    clear = browser.find_elements(By.CSS_SELECTOR, "#photo button[aria-label='Clear']")
    if clear:
        clear[0].click()
    field = WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#photo input[type=file]")))
    field.send_keys(str(path))


def colorize_and_download(browser, stem):
    for old in browser.downloads.iterdir():
        old.unlink()
    browser.find_element(By.ID, "colorize").click()
    button = WebDriverWait(browser, TIMEOUT).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "#download")))
    WebDriverWait(browser, TIMEOUT).until(
        ec.text_to_be_present_in_element((By.ID, "status"), f"Colorized {stem} with pix2pix"))
    button.click()
    return wait_for_file(browser.downloads / f"{stem}_colorized.png", timeout=30)


def test_upload_colorize_download_then_a_bad_file_then_a_good_one(browser, served, tmp_path):
    photo = tmp_path / "grandma.png"
    shape = gray_16bit_photo(photo)
    browser.get(served)
    WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "colorize")))

    upload(browser, photo)
    downloaded = colorize_and_download(browser, "grandma")
    assert downloaded is not None, list(browser.downloads.iterdir())
    rgb = np.asarray(Image.open(downloaded).convert("RGB")).astype(int)
    assert rgb.shape == (*shape, 3)  # full resolution, not the render size
    chroma = np.abs(rgb - rgb.mean(axis=-1, keepdims=True)).mean()
    assert chroma > 1.0, f"the download is gray (mean |channel - mean| {chroma:.2f})"
    browser.save_screenshot(str(tmp_path / "page.png"))

    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    upload(browser, broken)
    browser.find_element(By.ID, "colorize").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda driver: "Could not read" in driver.find_element(By.TAG_NAME, "body").text)
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text

    again = tmp_path / "again.png"
    gray_16bit_photo(again)
    upload(browser, again)
    assert colorize_and_download(browser, "again") is not None


# --- colour hints -----------------------------------------------------------------------


def choose(browser, elem_id, value):
    """Pick ``value`` in the Gradio dropdown ``#elem_id``."""
    browser.find_element(By.CSS_SELECTOR, f"#{elem_id} input").click()
    WebDriverWait(browser, 30).until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, f"[role=option][aria-label='{value}']"))).click()


def wait_text(browser, elem_id, text, timeout=TIMEOUT):
    WebDriverWait(browser, timeout).until(
        ec.text_to_be_present_in_element((By.ID, elem_id), text))


def click_canvas(browser, x, y):
    """Click the hint canvas at its image's pixel (x, y), as Gradio maps a click back."""
    from selenium.webdriver.common.action_chains import ActionChains

    def loaded(driver):  # the canvas's latest image, in view and decoded
        return driver.execute_script(
            "const img = document.querySelector('#hint-canvas img');"
            "if (!img || !img.complete || !img.naturalWidth) return null;"
            "img.scrollIntoView({block: 'center'});"
            "const r = img.getBoundingClientRect();"
            "return [img, r.left, r.top, r.width, r.height, img.naturalWidth, "
            "img.naturalHeight];")

    img, left, top, width, height, natural_w, natural_h = WebDriverWait(browser, 60).until(
        loaded)
    ratio = min(width / natural_w, height / natural_h, 1)
    client_x = left + (width - natural_w * ratio) / 2 + x * ratio
    client_y = top + (height - natural_h * ratio) / 2 + y * ratio
    offset = round(client_x - left - width / 2), round(client_y - top - height / 2)
    ActionChains(browser).move_to_element_with_offset(img, *offset).click().perform()


def download(browser, elem_id, name):
    for old in browser.downloads.iterdir():
        old.unlink()
    WebDriverWait(browser, TIMEOUT).until(
        ec.element_to_be_clickable((By.ID, elem_id))).click()
    path = wait_for_file(browser.downloads / name, timeout=30)
    assert path is not None, list(browser.downloads.iterdir())
    return path


def lab_of(path):
    from colorkeras import color

    rgb = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    return color.rgb_to_lab(rgb[None]).numpy()[0]


def test_a_red_hint_colours_the_place_clicked_and_downloads_as_json(browser, served, tmp_path):
    from colorkeras import app_hints, hints, inference

    if app_hints.HINT_MODEL not in inference.available_models():
        pytest.skip(f"{app_hints.HINT_MODEL} is not in exported_models/")
    photo = tmp_path / "grandma.png"
    height, width = gray_16bit_photo(photo)
    browser.get(served)
    wait_text(browser, "hint-note", "pix2pix takes none")  # no hint controls for pix2pix
    assert not browser.find_elements(By.CSS_SELECTOR, "#hint-canvas")
    choose(browser, "model", app_hints.HINT_MODEL)
    WebDriverWait(browser, TIMEOUT).until(
        ec.visibility_of_element_located((By.ID, "hint-canvas")))
    upload(browser, photo)
    browser.find_element(By.ID, "colorize").click()
    wait_text(browser, "hint-status", "Click on the photo")
    automatic = lab_of(download(browser, "download", "grandma_colorized.png"))

    # One strong red point (the picker's default) where the photo is mid-gray.
    x, y = width // 2, height // 2
    click_canvas(browser, x, y)
    wait_text(browser, "hint-status", "1 colour hint;")
    wait_text(browser, "status", "and 1 colour hint")
    hinted = lab_of(download(browser, "download", "grandma_colorized.png"))
    assert hinted.shape == automatic.shape == (height, width, 3)
    yy, xx = np.mgrid[:height, :width]
    distance = np.hypot(yy - y, xx - x)
    near, far = distance <= 10, distance > min(height, width) / 2
    a_near, a_before = hinted[near, 1].mean(), automatic[near, 1].mean()
    a_far = hinted[far, 1].mean()
    assert a_near > a_before + 8 and a_near > a_far + 8, (a_near, a_before, a_far)
    far_change = np.abs(hinted[far, 1:] - automatic[far, 1:]).mean()
    assert far_change < 3, f"the hint moved the far side's a*b* by {far_change:.2f} on average"

    saved = hints.read_hints_file(download(browser, "hint-download", "grandma_hints.json"))
    assert len(saved) == 1 and saved[0]["colour"] == app_hints.DEFAULT_COLOUR, saved
    assert abs(saved[0]["x"] - x) <= 2 and abs(saved[0]["y"] - y) <= 2, saved
    assert saved[0]["radius"] == pytest.approx(min(height, width) / 100, abs=0.1)

    # A second hint, undo, clear; the JSON button goes with the last hint.
    click_canvas(browser, width // 5, height // 5)
    wait_text(browser, "hint-status", "2 colour hints;")
    browser.find_element(By.ID, "hint-undo").click()
    wait_text(browser, "hint-status", "1 colour hint;")
    browser.find_element(By.ID, "hint-clear").click()
    wait_text(browser, "hint-status", "0 colour hints;")
    WebDriverWait(browser, 30).until(
        ec.invisibility_of_element_located((By.ID, "hint-download")))

    # Hints belong to the photo: a new upload starts with none.
    click_canvas(browser, x, y)
    wait_text(browser, "hint-status", "1 colour hint;")
    other = tmp_path / "grandpa.png"
    gray_16bit_photo(other)
    upload(browser, other)
    WebDriverWait(browser, 60).until(
        lambda driver: "colour hint" not in driver.find_element(By.ID, "hint-status").text)
    WebDriverWait(browser, 30).until(
        ec.invisibility_of_element_located((By.ID, "hint-download")))
    browser.save_screenshot(str(tmp_path / "hints.png"))


class SlowToAnswerPage:
    """A page whose server, like Gradio's on a busy machine, misses its first checks."""

    def __init__(self, failures, message="When localhost is not accessible, a shareable link"):
        self.failures, self.message, self.launches, self.closes = failures, message, 0, 0

    def queue(self):
        return self

    def launch(self, **kwargs):
        self.launches += 1
        if self.launches <= self.failures:
            raise ValueError(self.message)

    def close(self):
        self.closes += 1


def test_launch_tries_again_when_the_server_answers_late():
    page = SlowToAnswerPage(failures=app.LAUNCH_ATTEMPTS - 1)
    assert app.launch(page, port=free_port(), block=False) is page
    assert (page.launches, page.closes) == (app.LAUNCH_ATTEMPTS, app.LAUNCH_ATTEMPTS - 1)
    with pytest.raises(ValueError, match="localhost"):  # but not for ever
        app.launch(SlowToAnswerPage(failures=app.LAUNCH_ATTEMPTS), block=False)
    other = SlowToAnswerPage(failures=1, message="some other fault")
    with pytest.raises(ValueError, match="other fault"):  # and only for that
        app.launch(other, block=False)
    assert other.launches == 1
