"""The OpenAPI document describes the real server: every path lives under /api/v1/,
every operation says how to authenticate, and every documented GET answers an
authenticated caller without a server error. The interactive docs load with no
external asset."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# The only operations open to callers without an account (the citizens' report form).
PUBLIC_PREFIX = "/api/v1/public/"

# Path parameters filled in from the `world` fixture, by the collection they follow.
EXAMPLE_SLUGS = {
    "teams": "banking",
    "organizations": "national-bank",
    "sectors": "banking",
}


@pytest.fixture(autouse=True)
def _no_mfa_enrolment(settings: Any) -> None:
    # The callers here are CERT staff without a second factor; the MFA rule for the API
    # is tested with the accounts.
    settings.CERTHUB_REQUIRE_MFA = False


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get(OPENAPI_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def fill_path(path: str) -> str:
    """``/api/v1/teams/{slug}`` -> ``/api/v1/teams/banking``."""
    segments = path.split("/")
    filled = []
    for i, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            collection = segments[i - 1] if i else ""
            filled.append(EXAMPLE_SLUGS.get(collection, "example"))
        else:
            filled.append(segment)
    return "/".join(filled)


def test_the_document_is_openapi_json_with_operations(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    assert operations(schema)


def test_every_path_is_under_api_v1(schema: dict[str, Any]) -> None:
    outside = [path for path in schema["paths"] if not path.startswith("/api/v1/")]
    assert outside == []


def test_every_operation_declares_how_to_authenticate(schema: dict[str, Any]) -> None:
    schemes = set(schema["components"]["securitySchemes"])
    assert schemes
    for path, method, operation in operations(schema):
        security = operation.get("security")
        if path.startswith(PUBLIC_PREFIX):
            assert not security, f"{method.upper()} {path} is public but asks for a login"
            continue
        assert security, f"{method.upper()} {path} declares no security requirement"
        for requirement in security:
            assert set(requirement) <= schemes, f"{method.upper()} {path}: unknown scheme"


def test_every_operation_has_a_unique_id_and_a_summary(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _path, _method, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(schema):
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_the_constituency_endpoints_are_documented(schema: dict[str, Any]) -> None:
    documented = {path for path, method, _op in operations(schema) if method == "get"}
    assert {
        "/api/v1/me",
        "/api/v1/sectors",
        "/api/v1/teams",
        "/api/v1/teams/{slug}",
        "/api/v1/organizations",
        "/api/v1/organizations/{slug}",
        "/api/v1/lookup",
    } <= documented


@pytest.mark.parametrize("who", ["national.analyst", "admin", "city-bank.reporter", "council"])
def test_every_documented_get_answers_without_a_server_error(
    world: World, schema: dict[str, Any], who: str
) -> None:
    client = bearer_client(world.users[who])
    client.raise_request_exception = False
    for path, method, _operation in operations(schema):
        if method != "get":
            continue
        url = fill_path(path)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} as {who}: {response.status_code}"
        assert response.status_code != 401, f"GET {url} as {who} was not authenticated"
        assert response["Content-Type"].startswith("application/json"), url


def test_every_documented_get_refuses_an_anonymous_caller(schema: dict[str, Any]) -> None:
    client = Client()
    for path, method, _operation in operations(schema):
        if method == "get" and not path.startswith(PUBLIC_PREFIX):
            assert client.get(fill_path(path)).status_code == 401, path


def test_the_docs_page_loads_with_no_external_asset(client: Client) -> None:
    response = client.get(DOCS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert references
    assert [ref for ref in references if "//" in ref] == []
    assert all(ref.startswith("/static/") for ref in references), references


def test_the_docs_page_fits_the_content_security_policy(client: Client) -> None:
    response = client.get(DOCS_URL)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    # Scripts come from our own origin; the only inline <script> is a JSON data block,
    # which a browser never executes, and there is no inline style to block.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert 'src="/static/' in attributes or (
            'type="application/json"' in attributes and body.strip()
        ), attributes
    assert "<style" not in html
    assert " style=" not in html


@pytest.mark.browser
def test_the_docs_render_in_a_browser_under_the_csp(
    live_server: Any, transactional_db: Any
) -> None:
    """Swagger UI builds the page with JavaScript: check that, under our strict policy,
    it renders the operations, logs no policy violation and asks no other origin."""

    from playwright.sync_api import sync_playwright

    from tests.conftest import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            errors: list[str] = []
            requested: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{live_server.url}{DOCS_URL}")
            page.wait_for_selector(".opblock", timeout=15_000)
            page.locator(".opblock-summary").first.click()
            page.wait_for_selector(".opblock-body")
            assert page.locator(".opblock").count() >= 7
        finally:
            browser.close()
    assert [e for e in errors if "Content Security Policy" in e] == []
    assert [url for url in requested if not url.startswith(live_server.url)] == []


def test_the_document_has_no_duplicate_keys(client: Client) -> None:
    """Swagger UI reads the document with a YAML parser, which refuses a key given twice
    (Python's json module would silently keep the last one)."""

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    json.loads(client.get(OPENAPI_URL).content, object_pairs_hook=refuse_duplicates)
