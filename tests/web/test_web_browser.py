"""The dashboard in a real headless browser: Debian's chromium driven by selenium through
chromium-driver (``make chromium`` installs both).

Sign in with the password, watch the numbers change after writes, change a setting in the
form and read it back with CONFIG GET, see a validation error. A screenshot is saved under
``$PIKADB_TEST_ARTIFACTS`` (default: a temporary directory) and its path printed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from tests.web.conftest import PASSWORD, WebServer


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "run `make chromium` (apt: chromium chromium-driver)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1700",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(options=opts, service=Service(driver_path))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def wait_for(driver: WebDriver, cond: Callable[[WebDriver], Any], what: str, t: float = 10) -> Any:
    return WebDriverWait(driver, t, poll_frequency=0.1).until(cond, message=what)


def number(driver: WebDriver, element_id: str) -> int:
    text = driver.find_element(By.ID, element_id).text.replace(",", "")
    return int(text) if text.isdigit() else -1


def artifact_dir() -> Path:
    base = os.environ.get("PIKADB_TEST_ARTIFACTS") or os.path.join(
        tempfile.gettempdir(), "pikadb-test-artifacts"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_dashboard_in_browser(browser: WebDriver, auth_server: WebServer) -> None:
    d = browser
    base = f"http://127.0.0.1:{auth_server.dashboard}"
    r = auth_server.client(password=PASSWORD, decode_responses=True)
    r.delete(*[f"web:{i}" for i in range(40)])

    # 1. the dashboard asks for the password, then shows the node
    d.get(base + "/")
    wait_for(d, lambda d: d.current_url.endswith("/login"), "redirect to /login")
    d.find_element(By.ID, "password").send_keys("wrong")
    d.find_element(By.ID, "signin").click()
    wait_for(d, lambda d: d.find_element(By.ID, "failed").is_displayed(), "wrong password shown")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.ID, "signin").click()
    wait_for(d, lambda d: number(d, "keys-total") >= 0, "overview loaded")
    assert d.find_element(By.ID, "role").text == "master"
    assert d.find_element(By.ID, "version").text == r.info("server")["pikadb_version"]
    assert d.find_element(By.ID, "port").text == str(auth_server.port)

    # 2. numbers follow writes
    keys0 = number(d, "keys-total")
    cmds0 = number(d, "total-commands")
    assert keys0 == r.dbsize()
    for round_ in range(4):  # a few seconds of load, so ops/s is seen above zero
        pipe = r.pipeline(transaction=False)
        for i in range(10):
            pipe.set(f"web:{round_ * 10 + i}", "x" * 20)
        pipe.execute()
        time.sleep(0.3)
    wait_for(d, lambda d: number(d, "keys-total") == keys0 + 40, "keys +40")
    wait_for(d, lambda d: number(d, "total-commands") > cmds0, "commands counted")
    wait_for(d, lambda d: number(d, "ops") > 0, "ops/s above zero", t=6)
    db0 = d.find_element(By.CSS_SELECTOR, "#keyspace tr td.num").text.replace(",", "")
    assert int(db0) == r.dbsize()

    # 3. a setting changed in the form is what CONFIG GET returns
    filt = d.find_element(By.ID, "cfg-filter")
    filt.send_keys("slowlog-max-len")
    row = wait_for(
        d,
        lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-name="slowlog-max-len"]'),
        "config row",
    )
    field = row.find_element(By.CSS_SELECTOR, ".cfg-value")
    assert field.get_attribute("value") == r.config_get("slowlog-max-len")["slowlog-max-len"]
    field.clear()
    field.send_keys("321")
    row.find_element(By.CSS_SELECTOR, ".cfg-save").click()
    msg = row.find_element(By.CSS_SELECTOR, ".msg")
    wait_for(d, lambda d: "saved" in msg.text, "saved message")
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "321"}

    # 4. a bad value shows CONFIG SET's error and changes nothing
    field.clear()
    field.send_keys("lots")
    row.find_element(By.CSS_SELECTOR, ".cfg-save").click()
    wait_for(d, lambda d: "parsed into an integer" in msg.text, "validation error shown")
    assert "err" in (msg.get_attribute("class") or "")
    assert msg.text.startswith("ERR CONFIG SET failed (possibly related to argument")
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "321"}

    # 5. screenshot (the charts have a few seconds of data by now)
    filt.clear()
    d.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.3)
    shot = artifact_dir() / "dashboard.png"
    assert d.save_screenshot(str(shot))
    print(f"\ndashboard screenshot: {shot}")
    r.delete(*[f"web:{i}" for i in range(40)])
