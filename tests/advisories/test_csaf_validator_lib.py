"""Every CSAF document certhub generates passes the BSI's reference validator library
`@secvisogram/csaf-validator-lib` (strict schema test and all mandatory tests), run
offline by tools/csaf-validator/validate.mjs under Node.js."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.advisories.conftest import V4_CRITICAL, publish
from tests.factories import World

pytestmark = pytest.mark.django_db

TOOL = Path(__file__).resolve().parents[2] / "tools" / "csaf-validator"
INSTALL = "npm ci --prefix tools/csaf-validator"
CASES: dict[str, dict[str, Any]] = {
    "sample": {},
    "amber-strict-cii": {"tlp": "AMBER+STRICT", "audience_kind": "cii"},
    "green-no-cves": {"tlp": "GREEN", "cves": []},
    "v4-only": {
        "cves": [{"cve": "CVE-2026-22222", "title": "v4 only", "cvss_v4_vector": V4_CRITICAL}]
    },
    "no-fix": {
        "remediation_category": "none_available",
        "remediation": "",
        "products": [{"vendor": "Acme", "product": "Router OS", "versions": ""}],
    },
}


def validator() -> list[str]:
    """The command to run, or a skip (outside CI) / failure (in CI) saying what is missing."""
    node = shutil.which("node")
    problem = ""
    if node is None:
        problem = "needs Node.js (apt-get install nodejs npm)"
    elif not (TOOL / "node_modules" / "@secvisogram" / "csaf-validator-lib").is_dir():
        problem = f"needs the validator library: {INSTALL}"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; .ci/run installs it")
        pytest.skip(problem)
    assert node is not None
    return [node, str(TOOL / "validate.mjs")]


def run(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*validator(), *map(str, files)], capture_output=True, text=True, timeout=120
    )


def test_generated_documents_pass_the_bsi_validator(world: World, tmp_path: Path) -> None:
    """Sample advisories, and the revisions of one that was updated and then withdrawn
    (one run of the validator for all: loading the library takes seconds)."""
    from certhub.advisories import services

    validator()
    files = []
    for name, overrides in sorted(CASES.items()):
        advisory = publish(world, title=f"Case {name}", **overrides)
        document = tmp_path / f"{name}.json"
        document.write_text(advisory.revisions.get().csaf_document, encoding="utf-8")
        files.append(document)
    advisory = publish(world)
    analyst, coordinator = world.users["national.analyst"], world.users["national.coordinator"]
    services.update_advisory(actor=analyst, advisory=advisory, data={"severity": "high"})
    services.submit_advisory(actor=analyst, advisory=advisory)
    services.publish_advisory(actor=coordinator, advisory=advisory, change_summary="Severity")
    services.withdraw_advisory(actor=coordinator, advisory=advisory, reason="Duplicate")
    for revision in advisory.revisions.order_by("number"):
        document = tmp_path / f"revision-{revision.number}.json"
        document.write_text(revision.csaf_document, encoding="utf-8")
        files.append(document)
    result = run(files)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert result.stdout.count(": ok (") == len(CASES) + 3


def test_the_validator_refuses_a_broken_document(world: World, tmp_path: Path) -> None:
    """The checks above mean something: the same validator refuses a damaged copy."""
    validator()
    document = json.loads(publish(world).revisions.get().csaf_document)
    document["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-9999")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    result = run([broken])
    assert result.returncode == 1
    assert "mandatoryTest_6_1_1" in result.stdout  # a product id the tree does not define
