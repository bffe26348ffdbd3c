"""CVSS v3.1 and v4.0 vectors: scored by the cvss library, refused with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certhub.advisories.scoring import parse_cvss_v3, parse_cvss_v4
from certhub.core.errors import Invalid
from tests.advisories.conftest import V3_CRITICAL, V4_CRITICAL, draft
from tests.factories import World


def test_a_cvss_v31_vector_gets_its_base_score_and_severity() -> None:
    score = parse_cvss_v3(V3_CRITICAL, cve="CVE-2026-1")
    assert score.version == "3.1"
    assert score.base_score == Decimal("9.8")
    assert score.severity == "Critical"
    assert score.as_csaf()["baseSeverity"] == "CRITICAL"


def test_a_cvss_v30_vector_is_accepted_as_v3() -> None:
    score = parse_cvss_v3("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N")
    assert score.version == "3.0"
    assert score.base_score == Decimal("5.5")


def test_a_cvss_v40_vector_gets_its_base_score_and_severity() -> None:
    score = parse_cvss_v4(V4_CRITICAL, cve="CVE-2026-1")
    assert score.version == "4.0"
    assert score.base_score == Decimal("9.3")
    assert score.severity == "Critical"


def test_a_low_cvss_v40_vector() -> None:
    score = parse_cvss_v4("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N")
    assert score.base_score < Decimal("4.0")
    assert score.severity == "Low"


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", 'Missing mandatory metrics "A"'),
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 'Unknown value "X"'),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "must start with CVSS:3.1/"),
        (V4_CRITICAL, "must start with CVSS:3.1/"),
    ],
)
def test_an_invalid_cvss_v3_vector_is_refused_with_the_reason(vector: str, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_cvss_v3(vector, cve="CVE-2026-7")
    assert "CVE-2026-7" in caught.value.message
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("CVSS:4.0/AV:N/AC:L", "Missing mandatory metrics"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:Q", "Invalid metric value"),
        (V3_CRITICAL, "must start with CVSS:4.0/"),
    ],
)
def test_an_invalid_cvss_v4_vector_is_refused_with_the_reason(vector: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        parse_cvss_v4(vector, cve="CVE-2026-7")


@pytest.mark.django_db
def test_a_draft_with_a_broken_vector_is_refused_naming_the_cve(world: World) -> None:
    with pytest.raises(Invalid, match=r"CVE-2026-4242.*not valid"):
        draft(
            world,
            cves=[{"cve": "CVE-2026-4242", "cvss_v4_vector": "CVSS:4.0/AV:N/AC:L/AT:N"}],
        )
