"""A field-by-field check of a CSAF 2.0 ``csaf_security_advisory`` document: the schema's
required fields, enumerations and patterns, and the mandatory tests of CSAF 2.0 section
6.1 that apply to what certhub writes. It stands in for the official JSON schema and
validators, which are not available offline (see docs/advisories.md)."""

from __future__ import annotations

import re
from typing import Any

from cvss import CVSS3

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
VERSION = re.compile(r"^(0|[1-9][0-9]*)$")  # integer versioning, as certhub numbers revisions
CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
URI = re.compile(r"^https?://[^\s]+$")
NOTE_CATEGORIES = {"description", "details", "faq", "general", "legal_disclaimer", "other",
                   "summary"}  # fmt: skip
BRANCH_CATEGORIES = {"architecture", "host_name", "language", "legacy", "patch_level",
                     "product_family", "product_name", "product_version",
                     "product_version_range", "service_pack", "specification",
                     "vendor"}  # fmt: skip
REMEDIATION_CATEGORIES = {"mitigation", "no_fix_planned", "none_available", "vendor_fix",
                          "workaround"}  # fmt: skip
PUBLISHER_CATEGORIES = {"coordinator", "discoverer", "other", "translator", "user", "vendor"}
PRODUCT_STATUSES = {"first_affected", "first_fixed", "fixed", "known_affected",
                    "known_not_affected", "last_affected", "recommended",
                    "under_investigation"}  # fmt: skip
RANGE_WORDS = re.compile(r"[<>=]|\b(after|all|before|earlier|later|prior|versions)\b", re.I)


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 1


def _branches(branches: list[dict[str, Any]], defined: list[str]) -> None:
    assert isinstance(branches, list)
    assert branches
    for branch in branches:
        # A branch has exactly category, name and either branches or product.
        assert len(branch) == 3, branch
        assert branch["category"] in BRANCH_CATEGORIES
        assert _text(branch["name"])
        if "branches" in branch:
            _branches(branch["branches"], defined)
        else:
            product = branch["product"]
            assert _text(product["name"])
            assert _text(product["product_id"])
            defined.append(product["product_id"])
            if branch["category"] == "product_version":  # 6.1.31
                assert not RANGE_WORDS.search(branch["name"]), branch["name"]


def check_csaf(doc: dict[str, Any]) -> None:
    document = doc["document"]
    assert document["category"] == "csaf_security_advisory"
    assert document["csaf_version"] == "2.0"
    assert _text(document["title"])
    assert re.match(r"^[a-zA-Z]{2,3}(-.+)?$", document["lang"])
    publisher = document["publisher"]
    assert publisher["category"] in PUBLISHER_CATEGORIES
    assert _text(publisher["name"])
    assert URI.match(publisher["namespace"])
    tlp = document["distribution"]["tlp"]
    assert tlp["label"] in {"WHITE", "GREEN", "AMBER", "RED"}
    assert URI.match(tlp["url"])
    for note in document["notes"]:
        assert note["category"] in NOTE_CATEGORIES
        assert _text(note["text"])
    # 6.1.27.1-like: a summary or description note exists.
    assert {n["category"] for n in document["notes"]} & {"summary", "description", "details"}
    for ref in document["references"]:
        assert ref.get("category", "external") in {"external", "self"}
        assert _text(ref["summary"])
        assert URI.match(ref["url"])

    tracking = document["tracking"]
    assert _text(tracking["id"])
    assert tracking["id"] == tracking["id"].strip()
    assert tracking["status"] in {"draft", "final", "interim"}
    assert VERSION.match(tracking["version"])
    for key in ("initial_release_date", "current_release_date"):
        assert DATE.match(tracking[key]), tracking[key]
    assert _text(tracking["generator"]["engine"]["name"])
    assert DATE.match(tracking["generator"]["date"])
    history = tracking["revision_history"]
    numbers = [int(entry["number"]) for entry in history]
    for entry in history:
        assert DATE.match(entry["date"])
        assert _text(entry["summary"])
    assert numbers == list(range(1, len(history) + 1))  # 6.1.14, 6.1.21, 6.1.22
    assert tracking["version"] == history[-1]["number"]  # 6.1.16
    assert tracking["initial_release_date"] == history[0]["date"]
    assert tracking["current_release_date"] == history[-1]["date"]
    if tracking["status"] == "final":
        assert "0" not in [entry["number"] for entry in history]  # 6.1.18

    # Profile "Security Advisory" (6.1.27.3-6): product tree, vulnerabilities with notes
    # and product status.
    defined: list[str] = []
    _branches(doc["product_tree"]["branches"], defined)
    assert len(defined) == len(set(defined))  # 6.1.2
    vulnerabilities = doc["vulnerabilities"]
    assert vulnerabilities
    cves = [v["cve"] for v in vulnerabilities if "cve" in v]
    assert len(cves) == len(set(cves))  # 6.1.23
    for vulnerability in vulnerabilities:
        if "cve" in vulnerability:
            assert CVE.match(vulnerability["cve"])
        assert vulnerability["notes"]
        for note in vulnerability["notes"]:
            assert note["category"] in NOTE_CATEGORIES
            assert _text(note["text"])
        status = vulnerability["product_status"]
        assert status
        assert set(status) <= PRODUCT_STATUSES
        referenced = [pid for ids in status.values() for pid in ids]
        for score in vulnerability.get("scores", []):
            assert set(score) <= {"cvss_v2", "cvss_v3", "products"}
            assert score["products"]
            referenced += score["products"]
            v3 = score["cvss_v3"]
            assert v3["version"] in {"3.0", "3.1"}
            assert v3["vectorString"].startswith(f"CVSS:{v3['version']}/")
            computed = CVSS3(v3["vectorString"])  # 6.1.8-6.1.10: consistent with the vector
            assert v3["baseScore"] == computed.scores()[0]
            assert v3["baseSeverity"] == computed.severities()[0].upper()
        for remediation in vulnerability.get("remediations", []):
            assert remediation["category"] in REMEDIATION_CATEGORIES
            assert _text(remediation["details"])
            assert remediation["product_ids"]  # 6.1.29
            referenced += remediation["product_ids"]
        for threat in vulnerability.get("threats", []):
            assert threat["category"] in {"exploit_status", "impact", "target_set"}
            assert _text(threat["details"])
        assert set(referenced) <= set(defined)  # 6.1.1
