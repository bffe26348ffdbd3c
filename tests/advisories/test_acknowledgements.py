"""Organizations acknowledge the advisories addressed to them (received, applied, not
affected, need help); the coordinating CERT follows the rate per sector and organization;
organizations that stay silent on a critical advisory are reminded once."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from certhub.advisories import services
from certhub.advisories.models import Acknowledgement, Advisory, AdvisoryDelivery
from certhub.audit.models import AuditEntry
from certhub.notify.models import OutboundMail
from tests.advisories.conftest import add_contacts, distribute, publish
from tests.factories import World, bearer_client

pytestmark = pytest.mark.django_db

JSON = "application/json"


def published_for_banks_and_cii(world: World, **overrides: Any) -> Advisory:
    advisory = publish(
        world,
        tlp="AMBER",
        audience_kind="organizations",
        audience_organizations=["national-bank", "city-bank", "grid"],
        **overrides,
    )
    distribute(advisory)
    return advisory


def test_a_bank_acknowledges_and_the_coordinator_sees_the_rate(world: World) -> None:
    advisory = published_for_banks_and_cii(world)
    url = f"/api/v1/advisories/{advisory.tracking_id}/acknowledgements"
    answer = bearer_client(world.users["national-bank.reporter"]).post(
        url, {"state": "applied"}, content_type=JSON
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["organization"] == "national-bank"
    assert answer.json()["by"] == "national-bank.reporter"

    overview = bearer_client(world.users["national.coordinator"]).get(url)
    assert overview.status_code == 200, overview.content
    body = overview.json()
    assert (body["acknowledged"], body["total"], body["deadline_hours"]) == (1, 3, 48)
    assert {s["sector"]: (s["acknowledged"], s["total"]) for s in body["sectors"]} == {
        "banking": (1, 2),
        "power": (0, 1),
    }
    rows = {row["organization"]: row for row in body["organizations"]}
    assert rows["national-bank"]["acknowledgement"]["state"] == "applied"
    assert rows["city-bank"]["acknowledgement"] is None
    assert AuditEntry.objects.filter(action="advisory.acknowledge").count() == 1


def test_the_history_of_answers_is_kept_and_the_latest_counts(world: World) -> None:
    advisory = published_for_banks_and_cii(world)
    reporter = world.users["city-bank.reporter"]
    services.acknowledge_advisory(actor=reporter, advisory=advisory, state="received")
    services.acknowledge_advisory(actor=reporter, advisory=advisory, state="not_affected")
    assert list(
        Acknowledgement.objects.filter(advisory=advisory).values_list("state", flat=True)
    ) == ["not_affected", "received"]
    overview = bearer_client(world.users["national.analyst"]).get(
        f"/api/v1/advisories/{advisory.tracking_id}/acknowledgements"
    )
    rows = {row["organization"]: row for row in overview.json()["organizations"]}
    assert rows["city-bank"]["acknowledgement"]["state"] == "not_affected"
    assert overview.json()["acknowledged"] == 1


def test_asking_for_help_needs_a_comment_and_tells_the_cert(world: World) -> None:
    add_contacts(world)
    advisory = published_for_banks_and_cii(world)
    url = f"/api/v1/advisories/{advisory.tracking_id}/acknowledgements"
    client = bearer_client(world.users["grid.org_admin"])
    refused = client.post(url, {"state": "need_help"}, content_type=JSON)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Say what you need help with."
    asked = client.post(
        url,
        {"state": "need_help", "comment": "Our SCADA vendor has no patch yet."},
        content_type=JSON,
    )
    assert asked.status_code == 201, asked.content
    help_mail = OutboundMail.objects.get(subject__contains="Grid needs help")
    assert "cert@cii.example" in help_mail.recipients  # the CERT responsible for the grid
    assert "national.analyst@example.org" in help_mail.recipients  # the authoring CERT
    assert "Our SCADA vendor has no patch yet." in help_mail.body
    assert help_mail.subject.startswith("[TLP:AMBER]")
    assert client.post(url, {"state": "maybe"}, content_type=JSON).status_code == 400


def test_another_branch_cannot_see_acknowledge_or_read_the_rates(world: World) -> None:
    advisory = published_for_banks_and_cii(world)
    url = f"/api/v1/advisories/{advisory.tracking_id}/acknowledgements"
    telco = bearer_client(world.users["telco.reporter"])
    assert telco.post(url, {"state": "applied"}, content_type=JSON).status_code == 404
    assert telco.get(url).status_code == 404
    # Readers of the advisory do not see who else answered: the authoring CERTs do.
    assert bearer_client(world.users["national-bank.reporter"]).get(url).status_code == 404
    assert bearer_client(world.users["banking.coordinator"]).get(url).status_code == 404
    # A CERT analyst can read it but answers for no organization.
    refused = bearer_client(world.users["banking.analyst"]).post(
        url, {"state": "applied"}, content_type=JSON
    )
    assert refused.status_code == 403
    assert not Acknowledgement.objects.exists()


def test_a_withdrawn_advisory_is_not_acknowledged(world: World) -> None:
    advisory = published_for_banks_and_cii(world)
    services.withdraw_advisory(
        actor=world.users["national.coordinator"], advisory=advisory, reason="Vendor retracted"
    )
    answer = bearer_client(world.users["national-bank.reporter"]).post(
        f"/api/v1/advisories/{advisory.tracking_id}/acknowledgements",
        {"state": "received"},
        content_type=JSON,
    )
    assert answer.status_code == 409


def test_silent_organizations_are_reminded_once_after_the_deadline(world: World) -> None:
    add_contacts(world)
    advisory = published_for_banks_and_cii(world)  # critical: 48 hours
    services.acknowledge_advisory(
        actor=world.users["national-bank.reporter"], advisory=advisory, state="applied"
    )
    delivered = AdvisoryDelivery.objects.get(organization__slug="city-bank").delivered_at
    assert services.send_ack_reminders(now=delivered + dt.timedelta(hours=47)) == 0
    later = delivered + dt.timedelta(hours=49)
    assert services.send_ack_reminders(now=later) == 2  # city-bank and grid
    assert services.send_ack_reminders(now=later + dt.timedelta(days=3)) == 0
    reminders = OutboundMail.objects.filter(dedup_key__startswith="advisory-ack-reminder:")
    assert reminders.count() == 2
    sent_to = {address for mail in reminders for address in mail.recipients}
    assert "soc@city-bank.example" in sent_to
    assert "soc@grid.example" in sent_to
    assert not any("national-bank" in address for address in sent_to)
    assert all(mail.subject.startswith("[TLP:AMBER]") for mail in reminders)
    assert AdvisoryDelivery.objects.filter(reminded_at__isnull=False).count() == 2


def test_an_advisory_without_deadline_sends_no_reminder_and_its_own_deadline_counts(
    world: World,
) -> None:
    medium = published_for_banks_and_cii(world, severity="medium", title="Medium")
    quick = published_for_banks_and_cii(world, severity="medium", ack_within_hours=2)
    assert medium.ack_hours is None
    assert quick.ack_hours == 2
    assert services.send_ack_reminders(now=timezone.now() + dt.timedelta(hours=3)) == 3
    assert not AdvisoryDelivery.objects.filter(advisory=medium, reminded_at__isnull=False)


def test_the_remind_command_runs_the_reminders(world: World) -> None:
    published_for_banks_and_cii(world, ack_within_hours=1)
    AdvisoryDelivery.objects.update(delivered_at=timezone.now() - dt.timedelta(hours=2))
    out = StringIO()
    call_command("advisories", "remind", stdout=out)
    assert out.getvalue().strip() == "3 organization(s) reminded to acknowledge"
