"""Daily digests: each organization's contacts that asked for feed digests get one
e-mail per day with the day's events as CSV and a TLP label; the responsible teams get
a summary, the national CERT with the unrouted count."""

from __future__ import annotations

import csv
import datetime as dt
import io
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from certhub.feeds import services
from certhub.feeds.digests import CSV_COLUMNS, send_digests
from certhub.feeds.tasks import send_digests as send_digests_task
from certhub.notify.models import OutboundMail
from certhub.tenancy.models import Contact
from tests.feeds.conftest import DATA

DAY = dt.date(2026, 11, 27)


def load_all() -> None:
    for path in sorted(DATA.glob("2026-11-27-*-pk-geo.csv")):
        services.ingest_file(path=path)


def add_contacts(world: Any) -> None:
    bank = world.orgs["national-bank"]
    Contact.objects.create(
        organization=bank,
        name="SOC",
        email="soc@nationalbank.example",
        notifications=["feed_digests"],
    )
    Contact.objects.create(
        organization=bank,
        name="Press",
        email="press@nationalbank.example",
        notifications=["advisories"],
    )
    Contact.objects.create(
        organization=world.orgs["telco"],
        name="NOC",
        email="noc@telco.example",
        notifications=["feed_digests"],
    )
    Contact.objects.create(
        team=world.teams["national"],
        name="Duty",
        email="duty@national.example",
        notifications=["feed_digests"],
    )
    Contact.objects.create(
        team=world.teams["banking"],
        name="Banking CERT",
        email="cert@banking.example",
        notifications=["feed_digests"],
    )


def run_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)


def to(smtp: Any, address: str) -> list[Any]:
    return [m.message for m in smtp.messages if address in m.rcpt_tos]


@pytest.mark.django_db(transaction=True)
def test_bank_digest_arrives_once_with_csv_and_tlp(world: Any, smtp_server: Any) -> None:
    load_all()
    add_contacts(world)

    send_digests_task.enqueue(DAY.isoformat())
    run_worker()
    call_command("feeds", "digest", "--day", DAY.isoformat(), verbosity=0)  # again: nothing
    run_worker()

    (message,) = to(smtp_server, "soc@nationalbank.example")
    assert message["Subject"].startswith("[TLP:AMBER]")
    assert message["X-Certhub-TLP"] == "AMBER"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "TLP:AMBER" in body
    assert "192.0.2.10" in body  # among the most reported addresses
    assert "malicious-code / infected-system" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "certhub-events-national-bank-2026-11-27.csv"
    rows = list(csv.reader(io.StringIO(attachment.get_content())))
    assert tuple(rows[0]) == CSV_COLUMNS
    ips = {row[CSV_COLUMNS.index("source_ip")] for row in rows[1:]}
    assert ips == {"192.0.2.10", "192.0.2.53", "192.0.2.66", "192.0.2.77", "100.64.5.5"}
    assert {row[CSV_COLUMNS.index("organization")] for row in rows[1:]} == {"national-bank"}
    # Only contacts that asked for digests; the bank's addresses never reach Telco.
    assert to(smtp_server, "press@nationalbank.example") == []
    (telco,) = to(smtp_server, "noc@telco.example")
    assert "192.0.2.10" not in telco.as_string()


@pytest.mark.django_db(transaction=True)
def test_team_summaries_count_per_organization_and_unrouted(world: Any, smtp_server: Any) -> None:
    load_all()
    add_contacts(world)
    send_digests(day=DAY)
    run_worker()

    (banking,) = to(smtp_server, "cert@banking.example")
    text = banking.get_body(preferencelist=("plain",)).get_content()
    assert "National-Bank" in text
    assert "unrouted" not in text
    (national,) = to(smtp_server, "duty@national.example")
    assert "(unrouted): 1" in national.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db
def test_digest_tlp_follows_the_setting(world: Any, settings: Any) -> None:
    settings.CERTHUB_FEEDS_DIGEST_TLP = "AMBER+STRICT"
    load_all()
    add_contacts(world)
    outcome = send_digests(day=DAY)
    assert outcome.organizations == 2
    mail = OutboundMail.objects.get(recipients=["soc@nationalbank.example"])
    assert mail.tlp == "AMBER+STRICT"
    assert mail.subject.startswith("[TLP:AMBER+STRICT]")


@pytest.mark.django_db
def test_no_digest_on_a_day_without_events(world: Any) -> None:
    load_all()
    add_contacts(world)
    outcome = send_digests(day=DAY + dt.timedelta(days=1))
    assert (outcome.organizations, outcome.teams) == (0, 0)
    assert OutboundMail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_daily_worker_task_opens_rule_incidents_then_sends_digests(
    world: Any, smtp_server: Any, monkeypatch: Any
) -> None:
    from certhub.feeds import digests
    from certhub.feeds.tasks import daily_outputs
    from certhub.incidents.models import Incident
    from tests.factories import make_asset

    monkeypatch.setattr(digests, "default_day", lambda: DAY)  # "yesterday"
    # The default rule of the data migration (flushed by earlier transactional tests).
    import_module("certhub.feeds.migrations.0003_default_rule").create_default_rule(
        django_apps, None
    )
    make_asset(world.orgs["city-bank"], "cidr", "192.0.2.64/26")  # CII: 192.0.2.66 infected
    Contact.objects.create(
        organization=world.orgs["city-bank"],
        name="SOC",
        email="soc@citybank.example",
        notifications=["feed_digests"],
    )
    load_all()

    daily_outputs.enqueue(reschedule=False)
    run_worker()

    assert Incident.objects.filter(affected_orgs=world.orgs["city-bank"]).count() == 1
    (message,) = to(smtp_server, "soc@citybank.example")
    assert "192.0.2.66" in message.as_string()
