"""Helpers to use the board as a person does: the board as a subprocess, headless Chromium.

Chromium and chromedriver are Debian's (`make browser` installs them); Selenium is given the
driver's path, so Selenium Manager never downloads a browser or a driver. Every Selenium call
blocks, so each method here runs it in a thread: the Temporal worker shares the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from factory_agents.settings import Settings
from tests.conftest import free_port

from .helpers import board_health, eventually, platform_env

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
"""Screenshots land here (gitignored), to look at what the test saw."""
WINDOW = (1400, 2000)
"""Width and height of the browser window, so screenshots are comparable run to run."""
BOARD_START_SECONDS = 45
BOARD_STOP_SECONDS = 10


def keyed(key: str) -> str:
    """CSS selector of the element Streamlit made for the widget with this key."""
    return "." + "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def board_environment(settings: Settings, port: int, user: str) -> dict[str, str]:
    """The board's environment: the platform under test, its port and the signed-in user."""
    return platform_env(settings) | {"FACTORY_BOARD_PORT": str(port), "FACTORY_USER": user}


def log_tail(log: Path, lines: int = 40) -> str:
    """The last lines of a log file, to put into a failure message."""
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.asynccontextmanager
async def running_board(settings: Settings, *, user: str, log: Path) -> AsyncIterator[str]:
    """`factory-agents board` against the platform under test; yields its base URL."""
    port = free_port()
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "factory_agents", "board",
            env=board_environment(settings, port, user), stdout=out, stderr=out,
        )  # fmt: skip
    try:

        def healthy() -> bool:
            if process.returncode is not None:
                raise AssertionError(
                    f"the board exited with {process.returncode}:\n{log_tail(log)}"
                )
            return board_health(port)

        await eventually(healthy, within=BOARD_START_SECONDS, what="the board's health check")
        yield f"http://127.0.0.1:{port}"
    except BaseException:
        print(f"board log {log}, last lines:\n{log_tail(log)}")
        raise
    finally:
        await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the process by its PID, then kill it if it has not exited in time."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=BOARD_STOP_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), timeout=BOARD_STOP_SECONDS)


def chromium_options(profile: Path) -> Options:
    """Headless Debian Chromium in a fresh profile, quiet on the network, fixed window."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    return options


def start_chromium(profile: Path) -> WebDriver:
    """Headless Chromium driven through the system chromedriver (fails saying what to install)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} missing: run `make browser` (Debian's chromium and "
            "chromium-driver) before the browser test"
        )
    profile.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=chromium_options(profile))
    driver.set_page_load_timeout(30)
    return driver


class Browser:
    """One headless Chromium; every method runs its blocking Selenium calls in a thread."""

    def __init__(self, driver: WebDriver, name: str) -> None:
        self.driver, self.name = driver, name

    async def open(self, url: str) -> None:
        """Load a page and wait until Streamlit has rendered its app (not only its loader)."""
        await asyncio.to_thread(self.driver.get, url)
        await self.wait_until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stMainBlockContainer"]'),
            within=30,
            what=f"the Streamlit app at {url}",
        )

    async def wait_until(
        self, condition: Callable[[WebDriver], T | None], *, within: float, what: str
    ) -> T:
        """Poll the DOM until `condition` is truthy, or fail saying what did not appear."""

        def poll() -> T:
            wait = WebDriverWait(
                self.driver,
                within,
                poll_frequency=0.25,
                ignored_exceptions=(
                    StaleElementReferenceException,
                    ElementClickInterceptedException,
                ),
            )
            try:
                result = wait.until(condition)
            except TimeoutException:
                raise AssertionError(
                    f"{what} did not appear within {within:g} s; the page shows:\n"
                    f"{self.driver.find_element(By.TAG_NAME, 'body').text[:3000]}"
                ) from None
            assert result is not None  # until() returns only a truthy result
            return result

        return await asyncio.to_thread(poll)

    async def wait_for_text(self, text: str, *, within: float, what: str) -> None:
        """Wait until the page's visible text contains `text`."""
        await self.wait_until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text, within=within, what=what
        )

    async def type_into(self, css: str, text: str, *, what: str) -> None:
        """Type `text` into the input matching `css` once it can be used, as a person would."""

        def typed(driver: WebDriver) -> bool:
            field = driver.find_element(By.CSS_SELECTOR, css)
            if not (field.is_displayed() and field.is_enabled()):
                return False
            if field.get_attribute("value") != text:
                field.click()
                field.send_keys(Keys.CONTROL, "a")
                field.send_keys(Keys.DELETE, text)
            return field.get_attribute("value") == text

        await self.wait_until(typed, within=20, what=f"{what} holding {text!r}")

    async def click(self, css: str, *, what: str) -> None:
        """Click the element matching `css` once it can be clicked, scrolled into view first."""

        def clicked(driver: WebDriver) -> bool:
            element = driver.find_element(By.CSS_SELECTOR, css)
            if not (element.is_displayed() and element.is_enabled()):
                return False
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            element.click()
            return True

        await self.wait_until(clicked, within=20, what=what)

    async def wait_for_value(self, css: str, value: str, *, within: float, what: str) -> None:
        """Wait until the input matching `css` holds `value`."""
        await self.wait_until(
            lambda d: d.find_element(By.CSS_SELECTOR, css).get_attribute("value") == value,
            within=within,
            what=f"{what} holding {value!r}",
        )

    async def log_in(self, user: str, password: str) -> None:
        """Type a user id and password on the login page and press Log in."""
        await self.wait_for_text("Log in to factory-agents", within=30, what="the login page")
        await self.type_into(f"{keyed('login_user')} input", user, what="the user id field")
        await self.type_into(
            f"{keyed('login_password')} input", password, what="the password field"
        )
        await self.click(f"{keyed('login_submit')} button", what="the Log in button")
        await self.wait_for_text(f"({user})", within=30, what=f"{user} signed in (sidebar)")
        await self.wait_until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]'),
            within=20,
            what="the navigation menu",
        )

    async def menu(self) -> list[str]:
        """The page titles the sidebar's navigation offers now (none when there is one page)."""

        def titles() -> list[str]:
            links = self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]')
            return [menu_title(link.text) for link in links]

        return await asyncio.to_thread(titles)

    async def go_to(self, title: str) -> None:
        """Open a page from the sidebar's navigation, as a person clicks it (same session)."""

        def clicked(driver: WebDriver) -> bool:
            for link in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNavLink"]'):
                if menu_title(link.text) == title:
                    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
                    link.click()
                    return True
            return False

        await self.wait_until(clicked, within=20, what=f"the menu entry {title!r}")
        await self.wait_until(
            lambda d: any(
                h.text.strip() == title
                for h in d.find_elements(By.CSS_SELECTOR, '[data-testid="stMainBlockContainer"] h1')
            ),
            within=30,
            what=f"the {title} page",
        )

    async def screenshot(self, name: str) -> Path:
        """Save what the window shows into test-artifacts/NAME.png; returns the path."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        saved = await asyncio.to_thread(self.driver.save_screenshot, str(path))
        assert saved, f"could not save a screenshot to {path}"
        print(f"screenshot: {path}")
        return path


def menu_title(text: str) -> str:
    """A menu entry's title from its text (the icon's ligature name comes first, on its line)."""
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


def read_metrics(driver: WebDriver) -> dict[str, str]:
    """Label to value of every st.metric tile on the page."""
    shown: dict[str, str] = {}
    for tile in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        label = tile.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text
        value = tile.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text
        shown[label.strip()] = value.strip()
    return shown


@contextlib.asynccontextmanager
async def headless_chromium(profile: Path, *, name: str) -> AsyncIterator[Browser]:
    """A Browser on a fresh profile whose screenshots are named NAME-*; quit afterwards.

    When the body fails, what the window showed is saved as NAME-failure.png first."""
    driver = await asyncio.to_thread(start_chromium, profile)
    browser = Browser(driver, name)
    try:
        yield browser
    except BaseException:
        with contextlib.suppress(Exception):
            await browser.screenshot(f"{name}-failure")
            html = ARTIFACTS / f"{name}-failure.html"
            html.write_text(await asyncio.to_thread(lambda: driver.page_source))
            print(f"page source: {html}")
        raise
    finally:
        await asyncio.to_thread(driver.quit)
