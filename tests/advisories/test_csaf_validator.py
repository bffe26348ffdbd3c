"""Every CSAF document certhub generates passes the reference validator of the PyPI
`csaf` package (schema and mandatory tests of CSAF 2.0), offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.advisories.conftest import V4_CRITICAL, publish
from tests.factories import World

pytestmark = pytest.mark.django_db

CASES = {
    "sample": {},
    "amber-strict": {"tlp": "AMBER+STRICT", "audience_kind": "cii"},
    "no-cves": {"cves": []},
    "v4-only": {
        "cves": [{"cve": "CVE-2026-22222", "title": "v4 only", "cvss_v4_vector": V4_CRITICAL}]
    },
}


def csaf_validate(path: Path) -> subprocess.CompletedProcess[str]:
    csaf = Path(sys.executable).with_name("csaf")
    return subprocess.run(
        [str(csaf), "validate", "--spec-version", "v20", "--no-network", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_csaf_passes_the_reference_validator(
    world: World, tmp_path: Path, case: str
) -> None:
    advisory = publish(world, **CASES[case])
    revision = advisory.revisions.order_by("-number").first()
    document = tmp_path / f"{case}.json"
    document.write_text(revision.csaf_document, encoding="utf-8")
    result = csaf_validate(document)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_validator_would_catch_a_broken_document(world: World, tmp_path: Path) -> None:
    """The check above means something: the same validator refuses a damaged copy."""
    import json

    advisory = publish(world)
    document = json.loads(advisory.revisions.order_by("-number").first().csaf_document)
    del document["document"]["tracking"]["current_release_date"]
    document["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"] = 2.0
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    assert csaf_validate(broken).returncode != 0
