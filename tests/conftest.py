"""Shared fixtures: a headless chromium for the page tests.

`.ci/run` installs Debian's chromium and chromium-driver; without them the
browser tests are skipped with the reason, never silently passed.
"""

import os
import shutil
import time

import pytest

os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager's usage pings: offline
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path):
    """A headless chromium whose downloads land in ``browser.downloads``."""
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')"
    )
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed "
                    "(apt-get install chromium chromium-driver; .ci/run does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for_file(path, timeout=10.0):
    """Chromium writes a temporary file first and renames it when done."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.is_file():
            return path
        time.sleep(0.1)
    return None
