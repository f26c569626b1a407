"""Both HTML pages in a real browser (headless Chromium): no console errors, every image and drawing
renders, and clicking a column header reorders the table. Screenshots land in the test's tmp folder.

Needs Debian's chromium and chromium-driver (``.ci/run`` installs them) and selenium (the test extra).
"""
from __future__ import annotations

import shutil

import pytest

CHROMIUM, DRIVER = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium and chromedriver are not installed "
                                       "(apt-get install chromium chromium-driver; .ci/run does)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
         "--window-size=1280,900"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)  # the system driver: no downloads
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path):
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    driver.execute_script("return document.fonts ? document.fonts.ready : null")
    severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert not severe, severe


def check_images(driver, min_images=0, min_drawings=0):
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
    broken = [image for image in images if not (image[1] and image[2] > 0 and image[3] > 0)]
    assert not broken, broken
    drawings = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg')).map(s => {"
        " const r = s.getBoundingClientRect(); return [s.getAttribute('aria-label'), r.width, r.height,"
        " s.querySelectorAll('path, text, ellipse').length]; })")
    empty = [d for d in drawings if not (d[1] > 0 and d[2] > 0 and d[3] > 0)]
    assert not empty, empty
    assert len(images) >= min_images and len(drawings) >= min_drawings, (len(images), len(drawings))


def screenshot(driver, path):
    for _ in range(2):  # the whole page: window height = page height + the window's own frame
        height, frame = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]")
        driver.set_window_size(1280, min(max(height, 900) + frame, 8000))
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def column(driver, index):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#candidates tbody tr'))"
        ".map(r => r.cells[arguments[0]].textContent.trim())", index)


def header(driver, label):
    from selenium.webdriver.common.by import By

    for th in driver.find_elements(By.CSS_SELECTOR, "#candidates thead th"):
        if th.text.strip().rstrip("▲▼↕ ").strip() == label:
            return th
    raise AssertionError(f"no column {label!r}")


def test_hits_page_in_a_browser(browser, html_pages, tmp_path):
    open_page(browser, html_pages["hits"])
    check_images(browser, min_drawings=1)
    ranks = column(browser, 0)
    assert ranks == [str(i) for i in range(1, len(ranks) + 1)] and len(ranks) >= 2
    header(browser, "rank").click()  # ranked ascending at first: the first click reverses
    assert column(browser, 0) == ranks[::-1]
    names_before = [cell.splitlines()[0] for cell in column(browser, 2)]
    header(browser, "name").click()
    names = column(browser, 2)
    assert names != names_before or names_before == sorted(names_before, key=str.lower)
    keys = browser.execute_script(
        "return Array.from(document.querySelectorAll('#candidates tbody tr')).map(r => r.cells[2].dataset.value)")
    assert keys == sorted(keys, key=str.lower)
    header(browser, "log p").click()
    logps = [float(x) for x in column(browser, 3)]
    assert logps == sorted(logps)
    screenshot(browser, tmp_path / "hits.png")


def test_report_page_in_a_browser(browser, html_pages, tmp_path):
    open_page(browser, html_pages["report"])
    check_images(browser, min_images=8, min_drawings=1)
    screenshot(browser, tmp_path / "report.png")
