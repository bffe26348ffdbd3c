"""Builders for advisory tests: a realistic sample advisory and the steps to publish it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from certhub.advisories import services
from certhub.advisories.models import Advisory
from tests.factories import World

V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V3_MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"
V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"

SAMPLE: dict[str, Any] = {
    "title": "Remote code execution in Example HTTP Server",
    "summary": "A heap overflow in request parsing lets an unauthenticated attacker run code.",
    "details": "## Impact\n\nAttackers send a crafted request. **Patch now.**",
    "severity": "critical",
    "exploitation": "active",
    "remediation_category": "vendor_fix",
    "remediation": "Update Example HTTP Server to 2.4.58 and Example Proxy to 1.9.3.",
    "workarounds": "Disable the mod_example module.",
    "references": [
        {"url": "https://vendor.example/security/ESA-2026-01", "summary": "Vendor advisory"}
    ],
    "products": [
        {
            "vendor": "Example Software",
            "product": "Example HTTP Server",
            "versions": "vers:generic/>=2.4.0|<2.4.58",
            "fixed_version": "2.4.58",
        },
        {
            "vendor": "Example Software",
            "product": "Example Proxy",
            "versions": "< 1.9.3",
            "fixed_version": "1.9.3",
        },
    ],
    "cves": [
        {
            "cve": "CVE-2026-12345",
            "title": "Heap overflow in request parsing",
            "cvss_v3_vector": V3_CRITICAL,
            "cvss_v4_vector": V4_CRITICAL,
        },
        {
            "cve": "CVE-2026-12346",
            "title": "Open redirect in the login page",
            "cvss_v3_vector": V3_MEDIUM,
        },
    ],
    "tlp": "CLEAR",
    "audience_kind": "everyone",
}


def sample(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data.update(overrides)
    return data


def draft(world: World, author: str = "national.analyst", **overrides: Any) -> Advisory:
    return services.create_advisory(actor=world.users[author], team=None, data=sample(**overrides))


def publish(
    world: World,
    author: str = "national.analyst",
    reviewer: str = "national.coordinator",
    **overrides: Any,
) -> Advisory:
    """Write, submit and publish an advisory the way two CERT staff would."""
    advisory = draft(world, author, **overrides)
    services.submit_advisory(actor=world.users[author], advisory=advisory)
    return services.publish_advisory(actor=world.users[reviewer], advisory=advisory)


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    # Each test gets its own platform key, in its own data folder.
    settings.DATA_DIR = tmp_path
    settings.CERTHUB_CSAF_BASE_URL = "https://cert.example"
    settings.CERTHUB_CSAF_PUBLISHER_NAME = "Example National CERT"
    settings.CERTHUB_CSAF_PUBLISHER_NAMESPACE = "https://cert.example"
    settings.CERTHUB_REQUIRE_MFA = False


def add_contacts(world: World) -> None:
    """Every organization and CERT of the world gets a security mailbox that receives
    advisories, and every organization a NOC mailbox that receives incidents only."""
    from certhub.tenancy.models import Contact

    for slug, org in world.orgs.items():
        Contact.objects.create(
            organization=org, name="SOC", email=f"soc@{slug}.example", notifications=["advisories"]
        )
        Contact.objects.create(
            organization=org, name="NOC", email=f"noc@{slug}.example", notifications=["incidents"]
        )
    for slug, team in world.teams.items():
        Contact.objects.create(
            team=team, name="Duty desk", email=f"cert@{slug}.example", notifications=["advisories"]
        )


def distribute(advisory: Advisory) -> int:
    """What the worker does after a publication: deliver the latest revision."""
    advisory.refresh_from_db()
    assert advisory.latest_revision is not None
    return services.distribute_revision(
        advisory_id=advisory.pk, revision_number=advisory.latest_revision.number
    )


def for_banks(**overrides: Any) -> dict[str, Any]:
    """An AMBER advisory for the banking sector."""
    return {
        "tlp": "AMBER",
        "audience_kind": "sectors",
        "audience_sectors": ["banking"],
        **overrides,
    }
