"""The advisory lifecycle: draft -> review -> published -> updated / withdrawn, the
two-person rule, tracking ids, and revisions kept as they were published."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from certhub.advisories import services
from certhub.advisories.choices import AdvisoryStatus
from certhub.advisories.models import Advisory, AdvisoryRevision, ImmutableRevision
from certhub.audit.models import AuditEntry
from certhub.core.errors import Conflict, Forbidden, Invalid
from tests.advisories.conftest import draft, publish, sample
from tests.advisories.csaf_checks import check_csaf
from tests.factories import World

pytestmark = pytest.mark.django_db


def test_a_national_analyst_drafts_an_advisory_with_a_tracking_id(world: World) -> None:
    advisory = draft(world)
    assert re.fullmatch(r"CERT-SA-\d{4}-0001", advisory.tracking_id)
    assert advisory.status == AdvisoryStatus.DRAFT
    assert advisory.team == world.teams["national"]
    assert advisory.author == world.users["national.analyst"]
    assert [p.product for p in advisory.products.all()] == ["Example HTTP Server", "Example Proxy"]
    cve = advisory.cves.get(cve="CVE-2026-12345")
    assert float(cve.cvss_v3_score) == 9.8
    assert cve.cvss_v3_severity == "Critical"
    assert float(cve.cvss_v4_score) == 9.3
    assert AuditEntry.objects.filter(action="advisory.create", object_id=str(advisory.pk)).exists()


def test_tracking_ids_are_never_reused_even_after_a_draft_is_deleted(
    world: World, settings: Any
) -> None:
    settings.CERTHUB_REFERENCE_PREFIX = "PKCERT"
    first = draft(world)
    first_id = first.tracking_id
    first.delete()
    second = draft(world)
    assert first_id.endswith("-0001")
    assert first_id.startswith("PKCERT-SA-")
    assert second.tracking_id.endswith("-0002")


@pytest.mark.parametrize("who", ["banking.viewer", "city-bank.reporter", "council", "nobody"])
def test_viewers_reporters_and_outsiders_cannot_author(world: World, who: str) -> None:
    with pytest.raises(Forbidden):
        draft(world, author=who)


def test_a_banking_analyst_cannot_write_for_the_telecom_cert(world: World) -> None:
    with pytest.raises(Forbidden):
        services.create_advisory(
            actor=world.users["banking.analyst"], team=world.teams["telecom"], data=sample()
        )


def test_an_incomplete_draft_cannot_go_to_review(world: World) -> None:
    advisory = draft(world, products=[])
    with pytest.raises(Invalid, match="affected product"):
        services.submit_advisory(actor=world.users["national.analyst"], advisory=advisory)


def test_the_author_cannot_publish_their_own_advisory(world: World) -> None:
    advisory = draft(world, author="national.coordinator")
    coordinator = world.users["national.coordinator"]
    services.submit_advisory(actor=coordinator, advisory=advisory)
    with pytest.raises(Forbidden, match="Two-person"):
        services.publish_advisory(actor=coordinator, advisory=advisory)
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.REVIEW
    assert advisory.latest_revision is None


def test_without_the_two_person_rule_a_coordinator_may_publish_alone(
    world: World, settings: Any
) -> None:
    settings.CERTHUB_ADVISORY_TWO_PERSON = False
    advisory = draft(world, author="national.coordinator")
    coordinator = world.users["national.coordinator"]
    services.submit_advisory(actor=coordinator, advisory=advisory)
    services.publish_advisory(actor=coordinator, advisory=advisory)
    assert Advisory.objects.get(pk=advisory.pk).status == AdvisoryStatus.PUBLISHED


def test_an_analyst_cannot_publish(world: World) -> None:
    advisory = draft(world)
    services.submit_advisory(actor=world.users["national.analyst"], advisory=advisory)
    with pytest.raises(Forbidden):
        services.publish_advisory(actor=world.users["banking.analyst"], advisory=advisory)
    with pytest.raises(Forbidden):
        services.publish_advisory(actor=world.users["government.coordinator"], advisory=advisory)


def test_a_draft_cannot_be_published_before_review(world: World) -> None:
    advisory = draft(world)
    with pytest.raises(Conflict):
        services.publish_advisory(actor=world.users["national.coordinator"], advisory=advisory)


def test_a_coordinator_above_the_authoring_cert_publishes_its_advisory(world: World) -> None:
    advisory = publish(world, author="banking.analyst", reviewer="national.coordinator")
    assert advisory.status == AdvisoryStatus.PUBLISHED
    revision = advisory.latest_revision
    assert revision is not None
    assert revision.number == 1
    assert revision.published_by == world.users["national.coordinator"]
    assert revision.change_summary == "Initial release"
    check_csaf(json.loads(revision.csaf_document))
    assert AuditEntry.objects.filter(action="advisory.publish").count() == 1


def test_an_update_is_a_new_revision_and_readers_keep_the_old_one_until_it_is_published(
    world: World,
) -> None:
    advisory = publish(world)
    first = advisory.latest_revision
    assert first is not None
    first_bytes, first_hash = first.csaf_document, first.csaf_sha256

    analyst = world.users["national.analyst"]
    services.update_advisory(
        actor=analyst, advisory=advisory, data={"title": "RCE in Example HTTP Server (updated)"}
    )
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.DRAFT
    assert advisory.latest_revision_id == first.pk  # readers still get revision 1

    services.submit_advisory(actor=analyst, advisory=advisory)
    services.publish_advisory(
        actor=world.users["national.coordinator"],
        advisory=advisory,
        change_summary="Clarified the title",
    )
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.UPDATED
    second = advisory.latest_revision
    assert second is not None
    assert second.number == 2
    document = json.loads(second.csaf_document)
    check_csaf(document)
    tracking = document["document"]["tracking"]
    assert tracking["version"] == "2"
    assert [(e["number"], e["summary"]) for e in tracking["revision_history"]] == [
        ("1", "Initial release"),
        ("2", "Clarified the title"),
    ]
    assert document["document"]["title"] == "RCE in Example HTTP Server (updated)"
    # The first revision is exactly as published, bytes and hash.
    first = AdvisoryRevision.objects.get(pk=first.pk)
    assert first.csaf_document == first_bytes
    assert first.csaf_sha256 == first_hash
    assert first.content["title"] == "Remote code execution in Example HTTP Server"
    # Same file in the provider: the path comes from the initial release.
    assert first.csaf_path == second.csaf_path


def test_published_revisions_cannot_be_changed_or_deleted(world: World) -> None:
    advisory = publish(world)
    revision = AdvisoryRevision.objects.get(pk=advisory.latest_revision_id)
    revision.change_summary = "rewritten history"
    with pytest.raises(ImmutableRevision):
        revision.save()
    with pytest.raises(ImmutableRevision):
        revision.delete()
    with pytest.raises(ImmutableRevision):
        AdvisoryRevision.objects.filter(pk=revision.pk).update(change_summary="x")
    with pytest.raises(ImmutableRevision):
        AdvisoryRevision.objects.filter(pk=revision.pk).delete()
    assert AdvisoryRevision.objects.get(pk=revision.pk).change_summary == "Initial release"


def test_a_coordinator_withdraws_a_published_advisory_with_a_reason(world: World) -> None:
    advisory = publish(world)
    with pytest.raises(Forbidden):
        services.withdraw_advisory(
            actor=world.users["national.analyst"], advisory=advisory, reason="x"
        )
    with pytest.raises(Invalid):
        services.withdraw_advisory(
            actor=world.users["national.coordinator"], advisory=advisory, reason="  "
        )
    services.withdraw_advisory(
        actor=world.users["national.coordinator"],
        advisory=advisory,
        reason="The vendor retracted the vulnerability report.",
    )
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.WITHDRAWN
    revision = advisory.latest_revision
    assert revision is not None
    assert revision.number == 2
    assert revision.withdrawn
    document = json.loads(revision.csaf_document)
    check_csaf(document)
    withdrawn = [n for n in document["document"]["notes"] if n["title"] == "Withdrawn"]
    assert "vendor retracted" in withdrawn[0]["text"]
    with pytest.raises(Conflict):
        services.update_advisory(
            actor=world.users["national.analyst"], advisory=advisory, data={"title": "again"}
        )
    with pytest.raises(Conflict):
        services.withdraw_advisory(
            actor=world.users["national.coordinator"], advisory=advisory, reason="twice"
        )
    assert AuditEntry.objects.filter(action="advisory.withdraw").count() == 1


def test_an_unpublished_draft_cannot_be_withdrawn(world: World) -> None:
    with pytest.raises(Conflict):
        services.withdraw_advisory(
            actor=world.users["national.coordinator"], advisory=draft(world), reason="no"
        )


def test_editing_during_review_sends_the_advisory_back_to_draft(world: World) -> None:
    advisory = draft(world)
    analyst = world.users["national.analyst"]
    services.submit_advisory(actor=analyst, advisory=advisory)
    services.update_advisory(actor=analyst, advisory=advisory, data={"severity": "high"})
    advisory.refresh_from_db()
    assert advisory.status == AdvisoryStatus.DRAFT
    entry = AuditEntry.objects.filter(action="advisory.update").get()
    assert entry.changes["severity"] == ["critical", "high"]
    assert entry.changes["status"] == ["review", "draft"]


def test_details_markdown_is_rendered_without_scripts(world: World) -> None:
    advisory = draft(
        world,
        details="**Patch** <script>alert(1)</script> [x](javascript:alert(1)) "
        "[vendor](https://vendor.example)",
    )
    html = advisory.details_html
    assert "<strong>Patch</strong>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert 'href="https://vendor.example"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cves", [{"cve": "CVE-26-1"}], "not a CVE id"),
        ("cves", [{"cve": "CVE-2026-1111"}, {"cve": "cve-2026-1111"}], "twice"),
        ("products", [{"vendor": "V", "product": "P", "fixed_version": "< 2.0"}], "not a range"),
        ("products", [{"vendor": "", "product": "P"}], "vendor"),
        ("references", [{"url": "javascript:alert(1)"}], "http"),
        ("tlp", "PURPLE", "tlp must be one of"),
        ("audience_team_kinds", ["martian"], "audience_team_kinds"),
        ("audience_sectors", ["no-such-sector"], "unknown"),
        ("title", "bad\x00title", "NUL"),
    ],
)
def test_bad_input_is_refused_in_the_authors_terms(
    world: World, field: str, value: Any, message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        draft(world, **{field: value})
