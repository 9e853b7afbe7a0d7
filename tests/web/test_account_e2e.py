"""Signing up, out and in through the studio (issue 14, deliverable 1)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def expect_text(page: Any, text: str | re.Pattern[str]) -> None:
    page.get_by_text(text).first.wait_for()


def test_sign_up_lands_on_an_empty_library_then_log_out_and_back_in(
    page: Any, studio_url: str, shoot: Any
) -> None:
    page.goto(f"{studio_url}/library")
    page.wait_for_url(re.compile(r"/login\?next="))
    shoot("login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_role("heading", name="Create your studio account").wait_for()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()
    # The service's password rule, at the password field; the username is kept.
    page.get_by_text("This password is too short").wait_for()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    assert page.get_by_label("Username").input_value() == "ada"
    shoot("signup-error", widths=("phone",))
    assert not get_user_model().objects.filter(username="ada").exists()

    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/library"))
    page.get_by_role("heading", name="Your library is empty").wait_for()
    expect_text(page, "0 of")
    assert page.get_by_label("Credits:").count() >= 1
    shoot("library-empty")

    page.get_by_role("button", name="Account menu for ada").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto(f"{studio_url}/library")
    page.wait_for_url(re.compile(r"/login\?next="))

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill("wrong-passphrase-here")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/library$"))
    page.get_by_role("heading", name="Element Library").wait_for()
