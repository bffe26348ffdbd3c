"""What every browser story does first: a fresh context for one person, signed in
through the real login form, with the console's errors kept for the CSP checks."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD


def sign_in(browser: Any, base: str, username: str, path: str, **context: Any) -> Any:
    """A page for ``username`` on ``path``, signed in on the way (the login form sends
    the person back to ``path``). ``context``: Playwright context options."""
    browser_context = browser.new_context(viewport={"width": 1360, "height": 900}, **context)
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.csp_errors = errors
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{path}")
    return page


def csp_errors(page: Any) -> list[str]:
    """The Content Security Policy refusals the page's console reported."""
    return [text for text in page.csp_errors if "Content Security Policy" in text]
