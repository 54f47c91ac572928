"""The browser tests' driver: Debian's chromium through Debian's chromedriver and python3-selenium, and the
helpers every scenario uses (waiting on a data-testid, clicking, typing, signing in, the viewport, screenshots,
the console's errors).

Only Debian's files are used (Service('/usr/bin/chromedriver'), binary_location '/usr/bin/chromium'), so Selenium
Manager never downloads a driver or a browser. Every wait is a WebDriverWait on a condition; nothing sleeps.
Elements are found only by data-testid (or accessible names), the contract the UI keeps for its tests.
"""
import os
import shutil
import subprocess
import tempfile

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1366, 900)
PHONE = (390, 844)
# A wait's default bound: far above what a step takes on a loaded 2-core machine, so a timeout means broken.
DEFAULT_WAIT = float(os.environ.get("MULTIDB_BROWSER_WAIT", "15"))


class ScenarioFailure(AssertionError):
    """A scenario's check that did not hold; its message is the TAP line's reason."""


class Skip(Exception):
    """A screen or step the UI does not have yet (screenshots only: a scenario never skips)."""


def testid(name):
    """The CSS selector of a data-testid."""
    return '[data-testid="%s"]' % name


class Browser:
    """One headless chromium for a whole run, with a fresh profile that is removed when it closes."""

    def __init__(self, size=DESKTOP):
        self.profile = tempfile.mkdtemp(prefix="multidb-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        options.add_argument("--headless=new")
        if os.geteuid() == 0:  # chromium's sandbox refuses root
            options.add_argument("--no-sandbox")
        # Containers often give /dev/shm 64 MB: chromium's renderer crashes when it fills up.
        options.add_argument("--disable-dev-shm-usage")
        # A fresh profile per run: a reused one leaves DevToolsActivePort behind and the next start fails.
        options.add_argument("--user-data-dir=" + self.profile)
        options.add_argument("--window-size=%d,%d" % size)
        options.add_argument("--no-first-run")
        options.add_argument("--disable-extensions")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.set_viewport(*size)

    def set_viewport(self, width, height):
        """The page's viewport itself (the window's size would include no chrome in headless mode, but the device
        metrics make it exact, and a narrow width a phone: touch, mobile layout)."""
        self.driver.set_window_size(width, height)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.viewport = (width, height)

    def console_errors(self):
        """The console's errors since the last call: uncaught exceptions, console.error, CSP violations. A failed
        request (source "network", an expected 401 of a wrong password, say) is the API's answer, not an error of
        the page's code, and the UI shows it itself."""
        try:
            entries = self.driver.get_log("browser")
        except WebDriverException:
            return []
        return [e["message"] for e in entries if e.get("level") == "SEVERE" and e.get("source") != "network"]

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


class Context:
    """What a scenario gets: the driver, the base URL, the fixture (roles, passwords, connections, groups), the
    screenshot directory, and the helpers below. Each helper fails the scenario with a message saying what it
    waited for."""

    def __init__(self, browser, base_url, fixture, screenshot_dir, name=""):
        self.browser = browser
        self.driver = browser.driver
        self.base_url = base_url.rstrip("/")
        self.fixture = fixture
        self.screenshot_dir = screenshot_dir
        self.name = name

    # ---- fixture --------------------------------------------------------------------------------------------
    def role(self, index=0):
        """(name, password) of the fixture's first (index 0) or second (1) role."""
        entry = self.fixture["roles"][index]
        return entry["name"], entry["password"]

    def sql(self, where, query):
        """Runs query with psql as the superuser on the coordinator (where="coordinator") or on a remote database
        ("production", "backup"), to check what happened underneath the page; returns psql -At's output."""
        conninfo = self.fixture["coordinator"] if where == "coordinator" else self.fixture["databases"][where]
        done = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", query],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise ScenarioFailure("psql on %s failed: %s" % (where, done.stderr.strip()))
        return done.stdout.strip()

    # ---- navigation and state -------------------------------------------------------------------------------
    def open(self, path="/"):
        self.driver.get(self.base_url + path)

    def fresh_page(self):
        """A scenario starts signed out, at the desktop size, on a fresh load of the page."""
        self.browser.set_viewport(*DESKTOP)
        self.open("/")
        self.driver.delete_all_cookies()
        self.driver.execute_script("window.localStorage.clear(); window.sessionStorage.clear();")
        self.open("/")

    def set_viewport(self, width, height):
        self.browser.set_viewport(width, height)

    # ---- waiting --------------------------------------------------------------------------------------------
    def wait(self, condition, what, timeout=None):
        """condition(driver) until it returns something true (returned); else the scenario fails saying what."""
        try:
            return WebDriverWait(self.driver, timeout or DEFAULT_WAIT,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)) \
                .until(condition)
        except TimeoutException:
            raise ScenarioFailure("timed out after %.0f s waiting for %s" % (timeout or DEFAULT_WAIT, what)) from None

    def find(self, name, within=None):
        """The elements with data-testid=name now (no wait), in document order."""
        return (within or self.driver).find_elements(By.CSS_SELECTOR, testid(name))

    def wait_testid(self, name, visible=True, timeout=None, within=None):
        """The first element with data-testid=name, once it is there (and displayed, unless visible=False)."""
        def present(_driver):
            for element in self.find(name, within):
                if not visible or element.is_displayed():
                    return element
            return None
        return self.wait(present, 'data-testid="%s"%s' % (name, " to be visible" if visible else ""), timeout)

    def wait_gone(self, name, timeout=None):
        """Until no displayed element has data-testid=name."""
        self.wait(lambda d: not any(e.is_displayed() for e in self.find(name)), 'data-testid="%s" to go away' % name,
                  timeout)

    def wait_attr(self, name, attribute, expected, timeout=None, within=None):
        """The first element with data-testid=name whose attribute equals expected (or, if expected is callable,
        for which expected(value) is true)."""
        check = expected if callable(expected) else (lambda value: value == expected)

        def matching(_driver):
            for element in self.find(name, within):
                if check(element.get_attribute(attribute)):
                    return element
            return None
        what = 'data-testid="%s" with %s %s' % (name, attribute,
                                                "matching" if callable(expected) else "= %r" % expected)
        return self.wait(matching, what, timeout)

    def wait_text(self, name, text, timeout=None):
        """The first element with data-testid=name whose visible text contains text."""
        return self.wait(lambda d: next((e for e in self.find(name) if text in e.text), None),
                         'data-testid="%s" containing %r' % (name, text), timeout)

    def wait_count(self, name, count, timeout=None):
        """Until exactly count elements have data-testid=name; returns them."""
        return self.wait(lambda d: (lambda found: found if len(found) == count else None)(self.find(name)),
                         '%d elements with data-testid="%s"' % (count, name), timeout)

    # ---- acting ---------------------------------------------------------------------------------------------
    def click(self, name, timeout=None):
        """Clicks the first displayed, enabled element with data-testid=name."""
        element = self.wait(lambda d: next((e for e in self.find(name) if e.is_displayed() and e.is_enabled()), None),
                            'data-testid="%s" to be clickable' % name, timeout)
        element.click()
        return element

    def type(self, name, text, clear=True, enter=False):
        """Types text into the element with data-testid=name (cleared first unless clear=False); enter presses
        Enter after it."""
        element = self.wait_testid(name)
        if clear:
            element.clear()
        element.send_keys(text + (Keys.ENTER if enter else ""))
        return element

    def select(self, name, value):
        """Picks the option of the <select> with data-testid=name whose value (else visible text) is value, once
        that option is there (the options may come from the API after the select renders)."""
        def option_there(_driver):
            element = next((e for e in self.find(name) if e.is_displayed()), None)
            if element is None:
                return None
            for option in Select(element).options:
                if option.get_attribute("value") == value or option.text.strip() == value:
                    return (element, option.get_attribute("value"))
            return None
        element, option_value = self.wait(option_there, 'data-testid="%s" to offer %r' % (name, value))
        Select(element).select_by_value(option_value)
        return element

    def sign_in(self, role=None, password=None, expect_success=True):
        """Signs in through the form; by default as the fixture's first role, waiting until whoami names it."""
        if role is None:
            role, default_password = self.role(0)
            password = default_password if password is None else password
        elif password is None:
            password = next(r["password"] for r in self.fixture["roles"] if r["name"] == role)
        self.wait_testid("signin-form")
        self.type("signin-user", role)
        self.type("signin-password", password)
        self.click("signin-submit")
        if expect_success:
            self.wait(lambda d: next((e for e in self.find("whoami") if e.text.strip() == role), None),
                      'data-testid="whoami" to read %r' % role)

    def sign_out(self):
        self.click("signout")
        self.wait_testid("signin-form")

    def check(self, condition, message):
        """Fails the scenario with message unless condition holds."""
        if not condition:
            raise ScenarioFailure(message)

    def screenshot(self, filename):
        """Saves a PNG of the page into the screenshot directory; returns its path."""
        os.makedirs(self.screenshot_dir, exist_ok=True)
        path = os.path.join(self.screenshot_dir, filename)
        self.driver.save_screenshot(path)
        return path

    def horizontal_overflow(self):
        """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll)."""
        return self.driver.execute_script(
            "const e = document.documentElement; return Math.max(0, e.scrollWidth - e.clientWidth);")
