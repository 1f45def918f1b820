"""Take the README's screenshot of the web app: python docs/app_screenshot.py docs/app.png

Serves the app on a free port, drops a gray version of an embedded sample
photo on it in headless chromium, colorizes it and saves the page.

    python docs/app_screenshot.py docs/app-hints.png --hint 0.5,0.6 --hint 0.2,0.3

colorizes with unet-hints at render size 512 instead, clicks the colour hint
panel at each (x, y) given as fractions of the photo's width and height (in
the picker's default red), and saves the hint panel.
"""

import os
import socket
import tempfile

import numpy as np
from PIL import Image


def click_canvas(driver, fx, fy):
    """Click the hint canvas at (fx, fy), fractions of its image, once it shows one."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    img, width, height = WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "const img = document.querySelector('#hint-canvas img');"
        "if (!img || !img.complete || !img.naturalWidth) return null;"
        "img.scrollIntoView({block: 'center'}); const r = img.getBoundingClientRect();"
        "const k = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight, 1);"
        "return [img, img.naturalWidth * k, img.naturalHeight * k];"))
    ActionChains(driver).move_to_element_with_offset(
        img, round((fx - 0.5) * width), round((fy - 0.5) * height)).click().perform()


def main(out, hints=()):
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager's usage pings
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from colorkeras import app, images
    from colorkeras.data import SAMPLE_DIR

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page = app.launch(app.build_app("unet-hints" if hints else "pix2pix"), port=port,
                      block=False)
    folder = tempfile.mkdtemp()
    rgb = images.read_image(images.list_images(SAMPLE_DIR)[33])[..., :3].astype(float)
    photo = f"{folder}/old_photo.jpg"
    Image.fromarray(np.round(rgb @ [0.299, 0.587, 0.114]).astype(np.uint8)).save(photo)
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}")
        WebDriverWait(driver, 60).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "#photo input[type=file]"))
        ).send_keys(photo)
        if hints:
            driver.find_element(By.CSS_SELECTOR, "#render-size input").click()
            WebDriverWait(driver, 30).until(ec.element_to_be_clickable(
                (By.CSS_SELECTOR, "[role=option][aria-label='512']"))).click()
        driver.find_element(By.ID, "colorize").click()
        WebDriverWait(driver, 180).until(
            ec.text_to_be_present_in_element((By.ID, "status"), "Colorized"))
        for count, (fx, fy) in enumerate(hints, 1):
            click_canvas(driver, fx, fy)
            WebDriverWait(driver, 180).until(ec.text_to_be_present_in_element(
                (By.ID, "hint-status"), f"{count} colour hint"))
        if hints:
            driver.execute_script("document.querySelector('#hint-panel').scrollIntoView()")
        driver.save_screenshot(out)
    finally:
        driver.quit()
        page.close()
    print(f"Wrote {out}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/app.png")
    parser.add_argument("--hint", action="append", default=[], metavar="FX,FY",
                        type=lambda text: tuple(float(v) for v in text.split(",")),
                        help="click a colour hint there (fractions of the photo's size)")
    args = parser.parse_args()
    main(args.out, args.hint)
