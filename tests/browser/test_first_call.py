"""A newcomer's first API call, in a real browser: sign up, verify the address with the mailed link, make an
application and a live key, call the API with the key read from the show-once page, then revoke the key through
the dashboard. And the short way: sign up, one button, paste the snippet."""

from __future__ import annotations

import json
import re
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-much-longer-passphrase-42"


def test_sign_up_make_a_key_call_the_api_and_revoke_it(page, live_server) -> None:
    hello = f"{live_server.url}/api/v1/hello"

    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Full name (optional)").fill("Ada Lovelace")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))  # the overview itself, its banner says what to do
    expect(page.locator(".verify-banner")).to_contain_text("Verify your email address.")

    # The link of the verification mail: open it, confirm, and live keys are allowed.
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    page.goto("/" + link.split("/", 3)[3])
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("#getting-started-progress")).to_have_text("0 of 3 done")

    page.get_by_role("link", name="Make an application").click()
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_role("button", name="Create application").click()
    expect(page.get_by_role("heading", name="Billing sync")).to_be_visible()

    page.get_by_role("link", name="New API key").click()
    page.get_by_label("Name").fill("first key")
    expect(page.get_by_role("radio", name="Test")).to_be_checked()  # the form starts on test
    page.get_by_role("radio", name="Live").check()
    page.get_by_role("button", name="Create key").click()
    expect(page).to_have_url(re.compile(r"/keys/created/$"))
    key_field = page.get_by_label("API key")
    expect(key_field).to_have_attribute("readonly", "")
    key = key_field.input_value()
    assert re.fullmatch(r"dp_live_[0-9A-Za-z]{40,}", key), key
    expect(page.locator("#snippet-curl")).to_contain_text(key)

    response = requests.get(hello, params={"name": "Test"}, headers={"X-API-Key": key}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"message": "Hello Test!"}

    shown_again = page.reload()
    assert shown_again.status == 410
    expect(page.get_by_role("heading", name="This key was already shown")).to_be_visible()
    assert key not in page.content()

    page.get_by_role("link", name="Back to applications").click()
    page.get_by_role("link", name="Billing sync").click()
    page.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke first key?")).to_be_visible()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_contain_text("has been revoked")
    expect(page.locator("tbody .badge")).to_have_text("Revoked")

    response = requests.get(hello, headers={"X-API-Key": key}, timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_FAILED"


def test_first_call_in_two_actions_sign_up_one_button_and_paste_the_curl(page, live_server, settings) -> None:
    """Sign up, press the overview's one button, run the show-once page's curl snippet as it stands: 200. The
    actions are counted from the sign-up form on, and every page the browser lands on is recorded: the form's
    answer is the overview itself (with the verification banner), the button's is the show-once page, nothing
    in between."""
    settings.DEBUG = True  # as in the quick start: snippets name the address the page was opened at
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    landed: list[str] = []
    page.on("framenavigated", lambda frame: landed.append(frame.url) if frame == page.main_frame else None)
    actions = []
    started = time.perf_counter()

    actions.append("submit the sign-up form")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator(".verify-banner")).to_contain_text("Verify your email address.")
    expect(page.locator(".verify-banner").get_by_role("button", name="Send the link again")).to_be_visible()
    actions.append("press the one button")
    page.get_by_role("button", name="Make a test key and try it").click()

    expect(page).to_have_url(re.compile(r"/keys/created/$"))
    paths = [urlsplit(url).path for url in landed]
    assert len(paths) == 2 and paths[0] == "/dashboard/" and re.fullmatch(r"/orgs/[^/]+/keys/created/", paths[1]), \
        f"a page in between: {landed}"
    key = page.get_by_label("API key").input_value()
    assert re.fullmatch(r"dp_test_[0-9A-Za-z]{40,}", key), key
    curl = page.locator("#snippet-curl").inner_text()
    assert curl.startswith(f'curl "{live_server.url}/api/v1/hello?name=Test"') and key in curl

    actions.append("paste the curl snippet")
    result = subprocess.run(["bash", "-c", curl + " --silent --show-error --fail-with-body"],  # noqa: S603, S607
                            capture_output=True, text=True, timeout=30, check=False)
    elapsed = time.perf_counter() - started

    assert result.returncode == 0, result.stderr + result.stdout
    assert json.loads(result.stdout) == {"message": "Hello Test!"}
    assert len(actions) == 3, actions  # the sign-up form, one button, the paste
    print(f"\nsign-up to the first 200 of GET /api/v1/hello: {elapsed:.2f} s, {len(actions)} actions: {actions}")
