"""Indicators pasted by reporters, defanged or not, come out typed and normalised."""

from __future__ import annotations

import pytest

from certhub.core.errors import Invalid
from certhub.incidents.observables import Indicator, extract, normalise, refang

EXTRACTION_CASES = [
    ("hxxp://evil[.]com/login", [("url", "http://evil.com/login")]),
    ("hXXps://Evil[.]COM:8443/a?b=1", [("url", "https://evil.com:8443/a?b=1")]),
    ("visit hxxp[:]//bad(.)example/x.", [("url", "http://bad.example/x")]),
    ("1.2.3[.]4", [("ipv4", "1.2.3.4")]),
    ("198[.]51[.]100[.]7 and 198.51.100.7", [("ipv4", "198.51.100.7")]),
    ("foo(at)bar[.]com", [("email", "foo@bar.com")]),
    ("Alerts[@]Bank[dot]example", [("email", "alerts@bank.example")]),
    ("net 192.0.2.77/24", [("cidr", "192.0.2.0/24")]),
    ("v6 2001:DB8::1 in 2001:db8::/32", [("ipv6", "2001:db8::1"), ("cidr", "2001:db8::/32")]),
    ("evil[.]example.", [("domain", "evil.example")]),
    ("sub.Domain.example and sub.domain.example", [("domain", "sub.domain.example")]),
    ("md5 D41D8CD98F00B204E9800998ECF8427E", [("md5", "d41d8cd98f00b204e9800998ecf8427e")]),
    (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        [("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709")],
    ),
    (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        [("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")],
    ),
    ("exploited cve-2024-3400 today", [("cve", "CVE-2024-3400")]),
    ("AS64500, ASN 13335", [("asn", "AS64500"), ("asn", "AS13335")]),
    ("dropper invoice.pdf.exe", [("filename", "invoice.pdf.exe")]),
    ("nothing here, just prose as 5 people said at 12:30.", []),
    ("999.1.1.1 is no address", []),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACTION_CASES)
def test_pasted_indicators_are_extracted_normalised(text: str, expected: list) -> None:
    assert extract(text) == [Indicator(kind, value) for kind, value in expected]


def test_a_url_is_not_reported_again_as_its_domain_or_address() -> None:
    found = extract("C2 at hxxp://203.0.113[.]9/gate.php and hxxp://c2[.]example/")
    assert [i.kind for i in found] == ["url", "url"]


def test_indicators_keep_the_order_they_were_given_in() -> None:
    found = extract("first evil.example then 192.0.2.1 then CVE-2023-1234")
    assert [i.value for i in found] == ["evil.example", "192.0.2.1", "CVE-2023-1234"]


def test_extraction_stops_at_the_limit() -> None:
    text = " ".join(f"192.0.2.{n}" for n in range(1, 200))
    assert len(extract(text, limit=10)) == 10


def test_refang_undoes_the_usual_forms() -> None:
    assert refang("hxxps://a[.]b(.)c{.}d[dot]e/ x(at)y[@]z") == "https://a.b.c.d.e/ x@y@z"


NORMALISE_CASES = [
    ("ipv4", "010.1.1.1", None),
    ("ipv4", "192.0.2[.]1", "192.0.2.1"),
    ("ipv6", "2001:0DB8:0000::0001", "2001:db8::1"),
    ("cidr", "10.1.2.3/8", "10.0.0.0/8"),
    ("domain", "EXAMPLE.org.", "example.org"),
    ("domain", "bücher.example", "xn--bcher-kva.example"),
    ("domain", "not a domain", None),
    ("url", "javascript:alert(1)", None),
    ("url", "hxxp://Host.Example", "http://host.example/"),
    ("email", "no-at-sign", None),
    ("md5", "xyz", None),
    ("sha256", "A" * 64, "a" * 64),
    ("asn", "as64500", "AS64500"),
    ("asn", "AS0", None),
    ("cve", "cve-2021-44228", "CVE-2021-44228"),
    ("filename", r"C:\Users\x\payload.exe", "payload.exe"),
    ("filename", "bad\x01name", None),
]


@pytest.mark.parametrize(("kind", "raw", "expected"), NORMALISE_CASES)
def test_typed_values_are_normalised_or_refused_in_words(
    kind: str, raw: str, expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(Invalid) as refused:
            normalise(kind, raw)
        assert "is not a valid" in refused.value.message
    else:
        assert normalise(kind, raw).value == expected


def test_an_ipv6_value_with_a_prefix_becomes_a_network() -> None:
    assert normalise("ipv6", "2001:db8::5/64") == Indicator("cidr", "2001:db8::/64")


def test_unknown_kinds_and_oversized_values_are_refused() -> None:
    with pytest.raises(Invalid):
        normalise("bitcoin", "1abc")
    with pytest.raises(Invalid):
        normalise("url", "http://a.example/" + "x" * 3000)
    with pytest.raises(Invalid):
        normalise("domain", "evil\x00.example")
