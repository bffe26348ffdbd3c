"""Importing a vendor's CSAF 2.0 document as a draft advisory (``certhub advisories
import-csaf``), and the round trip through certhub's own CSAF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from certhub.advisories.choices import AdvisoryStatus
from certhub.advisories.models import Advisory
from certhub.audit.models import AuditEntry
from tests.advisories.conftest import publish
from tests.factories import World

pytestmark = pytest.mark.django_db

# A vendor advisory as a PSIRT would publish it: one vendor, a product family with two
# affected version ranges and a fixed version, two CVEs, one with a v4.0 score (CSAF 2.1
# style), and a TLP:WHITE distribution.
VENDOR_CSAF: dict[str, Any] = {
    "document": {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "title": "Multiple vulnerabilities in Acme Gateway",
        "lang": "en",
        "publisher": {
            "category": "vendor",
            "name": "Acme PSIRT",
            "namespace": "https://psirt.acme.example",
        },
        "distribution": {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}},
        "aggregate_severity": {"text": "High"},
        "notes": [
            {"category": "summary", "title": "Summary", "text": "Two flaws in the web UI."},
            {"category": "details", "title": "Details", "text": "The login form is affected."},
            {"category": "legal_disclaimer", "text": "Provided as is."},
        ],
        "references": [
            {
                "category": "self",
                "summary": "This advisory",
                "url": "https://psirt.acme.example/csaf/acme-sa-2026-017.json",
            },
            {"category": "external", "summary": "Release notes", "url": "https://acme.example/rn"},
        ],
        "tracking": {
            "id": "ACME-SA-2026-017",
            "status": "final",
            "version": "2",
            "initial_release_date": "2026-03-01T08:00:00.000Z",
            "current_release_date": "2026-03-04T08:00:00.000Z",
            "revision_history": [
                {"date": "2026-03-01T08:00:00.000Z", "number": "1", "summary": "Initial"},
                {"date": "2026-03-04T08:00:00.000Z", "number": "2", "summary": "Fix named"},
            ],
        },
    },
    "product_tree": {
        "branches": [
            {
                "category": "vendor",
                "name": "Acme",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "Gateway",
                        "branches": [
                            {
                                "category": "product_version_range",
                                "name": "vers:semver/<7.4.2",
                                "product": {"name": "Acme Gateway < 7.4.2", "product_id": "GW-OLD"},
                            },
                            {
                                "category": "product_version",
                                "name": "7.4.2",
                                "product": {"name": "Acme Gateway 7.4.2", "product_id": "GW-FIX"},
                            },
                        ],
                    },
                    {
                        "category": "product_name",
                        "name": "Gateway Manager",
                        "branches": [
                            {
                                "category": "product_version",
                                "name": "3.1",
                                "product": {"name": "Acme Gateway Manager 3.1", "product_id": "GM-31"},  # noqa: E501
                            }
                        ],
                    },
                ],
            }
        ]
    },
    "vulnerabilities": [
        {
            "cve": "CVE-2026-20001",
            "title": "Authentication bypass",
            "notes": [{"category": "description", "text": "Bypass in login."}],
            "product_status": {"known_affected": ["GW-OLD", "GM-31"], "fixed": ["GW-FIX"]},
            "scores": [
                {
                    "products": ["GW-OLD", "GM-31"],
                    "cvss_v3": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
                        "baseScore": 9.1,
                        "baseSeverity": "CRITICAL",
                    },
                }
            ],
            "remediations": [
                {"category": "vendor_fix", "details": "Upgrade to 7.4.2.", "product_ids": ["GW-OLD"]},  # noqa: E501
                {"category": "workaround", "details": "Restrict the UI to the management VLAN.",
                 "product_ids": ["GW-OLD", "GM-31"]},
            ],
            "threats": [{"category": "exploit_status", "details": "Proof of concept published."}],
        },
        {
            "cve": "CVE-2026-20002",
            "title": "Reflected XSS",
            "notes": [{"category": "description", "text": "XSS in search."}],
            "product_status": {"known_affected": ["GW-OLD"]},
            "scores": [
                {
                    "products": ["GW-OLD"],
                    "cvss_v4": {
                        "version": "4.0",
                        "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",  # noqa: E501
                        "baseScore": 5.1,
                        "baseSeverity": "MEDIUM",
                    },
                }
            ],
        },
    ],
}  # fmt: skip


def write(tmp_path: Path, document: Any, name: str = "vendor.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_a_vendor_csaf_document_becomes_a_draft_with_products_and_cves(
    world: World, tmp_path: Path, capsys: Any
) -> None:
    call_command("advisories", "import-csaf", write(tmp_path, VENDOR_CSAF),
                 "--actor", "banking.analyst")  # fmt: skip
    advisory = Advisory.objects.get()
    assert advisory.status == AdvisoryStatus.DRAFT
    assert advisory.team == world.teams["banking"]
    assert advisory.author == world.users["banking.analyst"]
    assert advisory.title == "Multiple vulnerabilities in Acme Gateway"
    assert advisory.summary == "Two flaws in the web UI."
    assert advisory.details == "The login form is affected."
    assert (advisory.tlp, advisory.severity, advisory.exploitation) == (
        "CLEAR", "high", "proof_of_concept"
    )  # fmt: skip
    assert advisory.remediation == "Upgrade to 7.4.2."
    assert advisory.workarounds == "Restrict the UI to the management VLAN."
    products = [(p.vendor, p.product, p.versions, p.fixed_version) for p in advisory.products.all()]
    assert products == [
        ("Acme", "Gateway", "vers:semver/<7.4.2", "7.4.2"),
        ("Acme", "Gateway Manager", "3.1", ""),
    ]
    first, second = advisory.cves.all()
    assert (first.cve, first.cvss_v3_vector, float(first.cvss_v3_score)) == (
        "CVE-2026-20001", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", 9.1
    )  # fmt: skip
    assert second.cve == "CVE-2026-20002"
    assert second.cvss_v4_vector.startswith("CVSS:4.0/")
    assert advisory.references[0] == {
        "url": "https://psirt.acme.example/csaf/acme-sa-2026-017.json",
        "summary": "Acme PSIRT advisory ACME-SA-2026-017",
    }
    assert advisory.tracking_id in capsys.readouterr().out
    entry = AuditEntry.objects.get(action="advisory.import")
    assert entry.changes["source"] == [None, "Acme PSIRT ACME-SA-2026-017"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not JSON"),
        ("[]", "JSON object"),
        ({"document": {"csaf_version": "1.2"}}, "Only CSAF 2.0"),
        ({**VENDOR_CSAF, "document": {**VENDOR_CSAF["document"], "title": ""}}, "title"),
        (
            {**VENDOR_CSAF, "vulnerabilities": [{"cve": "CVE-2026-1", "product_status": {}}]},
            "not a CVE id",
        ),
        (
            {**VENDOR_CSAF, "vulnerabilities": [{"product_status": {"known_affected": ["NOPE"]}}]},
            "NOPE, which product_tree lacks",
        ),
        (
            {**VENDOR_CSAF, "vulnerabilities": [{"cve": "CVE-2026-20009", "product_status": {},
              "scores": [{"cvss_v3": {"vectorString": "CVSS:3.1/AV:N"}}]}]},
            "CVSS v3 vector of CVE-2026-20009 is not valid",
        ),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_naming_the_problem(
    world: World, tmp_path: Path, content: Any, problem: str
) -> None:
    with pytest.raises(CommandError, match=problem):
        call_command("advisories", "import-csaf", write(tmp_path, content), "--team", "banking")
    assert not Advisory.objects.exists()


def test_the_command_needs_a_team_or_an_actor(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, VENDOR_CSAF)
    with pytest.raises(CommandError, match="--actor or --team"):
        call_command("advisories", "import-csaf", path)
    with pytest.raises(CommandError, match="no user"):
        call_command("advisories", "import-csaf", path, "--actor", "ghost")
    with pytest.raises(CommandError, match=r"No such file|not found|directory"):
        call_command(
            "advisories", "import-csaf", str(tmp_path / "missing.json"), "--team", "banking"
        )
    with pytest.raises(CommandError, match="analysts and coordinators"):
        call_command("advisories", "import-csaf", path, "--actor", "city-bank.reporter",
                     "--team", "banking")  # fmt: skip


def test_our_own_csaf_round_trips_through_the_import(world: World, tmp_path: Path) -> None:
    original = publish(world)
    assert original.latest_revision is not None
    path = write(tmp_path, original.latest_revision.csaf_document, "ours.json")
    call_command("advisories", "import-csaf", path, "--actor", "telecom.analyst")
    copy = Advisory.objects.exclude(pk=original.pk).get()

    def products(advisory: Advisory) -> list[tuple[str, ...]]:
        return [(p.vendor, p.product, p.versions, p.fixed_version) for p in advisory.products.all()]

    def cves(advisory: Advisory) -> list[tuple[Any, ...]]:
        return [(c.cve, c.title, c.cvss_v3_vector, c.cvss_v3_score, c.cvss_v4_vector,
                 c.cvss_v4_score) for c in advisory.cves.all()]  # fmt: skip

    assert products(copy) == products(original)
    assert cves(copy) == cves(original)
    for field in ("title", "summary", "details", "severity", "exploitation", "tlp",
                  "remediation", "workarounds"):  # fmt: skip
        assert getattr(copy, field) == getattr(original, field), field
    assert copy.references[1:] == original.references
