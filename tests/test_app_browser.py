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
