"""The console in a real browser for the e2e tests: Debian's chromium through chromedriver,
headless, driven by Selenium; and the console itself as a `balagh console` process.

Selenium Manager never runs: the driver and browser paths are given, and SE_OFFLINE
forbids it any download.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from balagh.config import Settings

from .conftest import app_environment, balagh, stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ConsoleProcess:
    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        # Plain HTTP on loopback in the tests: cookies without the Secure flag.
        env = {**app_environment(self.settings), "BALAGH_CONSOLE_SECURE_COOKIES": "false"}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "balagh", "--log-json", "--log-level", "info", "console",
             "--port", str(self.port)], stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"balagh console exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/login", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"balagh console did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def add_user(settings: Settings, name: str, password: str, role: str,
             supervisor: str | None = None) -> None:
    args = ["users", "add", name, "--role", role, "--password-stdin"]
    if supervisor:
        args += ["--supervisor", supervisor]
    added = balagh(settings, *args, input=password + "\n")
    assert added.returncode == 0, added.stdout + added.stderr


def http_login(url: str, name: str, password: str) -> tuple[httpx.Client, str]:
    """A logged-in HTTP client (as a browser would be) and its session's CSRF token."""
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=10)
    page = client.get("/login")
    token = form_token(page.text)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": password})
    assert answer.status_code == 303, answer.text
    return client, page_token(client.get("/").text)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def page_token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def new_browser() -> Any:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1600,1200", "--disable-gpu", "--lang=en-US",
                     "--font-render-hinting=none"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def poll(condition: Callable[[], T | None], timeout: float, what: str,
         every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # an element replaced while read: try again
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(every)


def browser_login(driver: Any, url: str, name: str, password: str, lang: str = "en") -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login?lang={lang}")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "submit").click()
    poll(lambda: driver.find_elements(By.ID, "logout"), 10, "the page after logging in")
