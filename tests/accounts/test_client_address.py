"""The address login throttling counts under, directly and behind reverse proxies."""

from __future__ import annotations

from django.test import RequestFactory

from certhub.accounts.selectors import client_address


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_forwarded_header_is_ignored(settings) -> None:
    settings.CERTHUB_TRUSTED_PROXIES = 0
    assert client_address(_request("192.0.2.10", "203.0.113.5")) == "192.0.2.10"


def test_behind_one_proxy_the_address_it_saw_is_used(settings) -> None:
    settings.CERTHUB_TRUSTED_PROXIES = 1
    # The client forged the first entry; the proxy appended the real address.
    request = _request("10.0.0.2", "198.51.100.66, 203.0.113.5")
    assert client_address(request) == "203.0.113.5"


def test_behind_two_proxies_counting_from_the_right(settings) -> None:
    settings.CERTHUB_TRUSTED_PROXIES = 2
    assert client_address(_request("10.0.0.2", "1.2.3.4, 203.0.113.5, 10.0.0.9")) == "203.0.113.5"


def test_garbage_gives_no_address(settings) -> None:
    settings.CERTHUB_TRUSTED_PROXIES = 1
    assert client_address(_request("10.0.0.2", "not-an-address")) is None
