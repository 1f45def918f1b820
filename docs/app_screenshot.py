"""Take the README's screenshot of the web app: python docs/app_screenshot.py docs/app.png

Serves the app on a free port, drops a gray version of an embedded sample
photo on it in headless chromium, colorizes it and saves the page.
"""

import os
import socket
import sys
import tempfile

import numpy as np
from PIL import Image


def main(out):
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
    page = app.launch(app.build_app("pix2pix"), port=port, block=False)
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
        driver.find_element(By.ID, "colorize").click()
        WebDriverWait(driver, 180).until(
            ec.text_to_be_present_in_element((By.ID, "status"), "Colorized"))
        driver.save_screenshot(out)
    finally:
        driver.quit()
        page.close()
    print(f"Wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/app.png")
