"""Browser tests: Playwright (sync API) drives Debian's Chromium against pytest-django's ``live_server``.

Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a thread with a
running loop (``SynchronousOnlyOperation``) although nothing here is asynchronous. Allowing it is Django's
documented way out for such tests; it is set before Django's first query of the session.

Without ``/usr/bin/chromium`` (or axe-core in node_modules) the tests are skipped; ``make browser-deps`` installs
both. Under ``CI=true`` (``.ci/run``, which installs them) a missing prerequisite fails instead.
On failure, a screenshot and the page's HTML go to ``test-artifacts/browser/<test name>/``.

Every page a test opens runs under the portal's Content-Security-Policy, and a test fails if any of them reports
a violation (``securitypolicyviolation`` or Chromium's console message): a blocked script, style or redirect.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def missing_prerequisite(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where ``.ci/run`` installs everything and a silently
    skipped browser suite would be a defect."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One Chromium for the whole session; each test gets its own context (cookies, storage)
    from ``new_page``.

    Playwright gives every ``launch`` a fresh temporary profile (user-data-dir), removed on close.
    """
    if not CHROMIUM.exists():
        missing_prerequisite(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's failures
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Runs before any script of each document (Playwright's init scripts are not subject to the page's policy).
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${blocked} on ${event.documentURI}`);
});"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text


@pytest.fixture
def new_page(browser, live_server):
    """``new_page(viewport=LAPTOP, user=None) -> Page`` on the live server, signed in as ``user`` when given.

    At the end of the test, no page of it may have reported a Content-Security-Policy violation."""
    contexts = []
    csp_violations: list[str] = []

    def _new_page(viewport: dict[str, int] = LAPTOP, user=None):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", lambda message: csp_violations.append(message.text)
                   if is_csp_violation(message.text) else None)
        contexts.append(context)
        if user is not None:
            django_client = Client()
            django_client.force_login(user)
            name = settings.SESSION_COOKIE_NAME
            context.add_cookies([{"name": name, "value": django_client.cookies[name].value, "url": live_server.url}])
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()
    assert csp_violations == [], "a page broke the Content-Security-Policy:\n" + "\n".join(csp_violations)


@pytest.fixture
def page(new_page):
    """A laptop-sized page, signed out. Tests that need another size or a user call ``new_page``."""
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """On a failure, save what every open page of the test showed (its pages are still open here)."""
    report = yield
    if report.failed and call.when == "call" and "new_page" in getattr(item, "funcargs", {}):
        _save_artifacts(item)
    return report


def _save_artifacts(item: pytest.Item) -> None:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.name).strip("_")
    pages = [p for context in item.funcargs["browser"].contexts for p in context.pages]
    for number, open_page in enumerate(pages, start=1):
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / ("page" if len(pages) == 1 else f"page-{number}")
        try:
            open_page.screenshot(path=f"{stem}.png", full_page=True)
            stem.with_suffix(".html").write_text(open_page.content(), encoding="utf-8")
        except Exception as error:  # a crashed page must not hide the test's own failure
            stem.with_suffix(".txt").write_text(f"Could not save the page: {error}\n", encoding="utf-8")

