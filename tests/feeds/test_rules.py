"""Feed rules open incidents: the default rule opens one incident for a CII
organization's infected host, none for an organization that is not CII, and a rule fires
once per organization and day."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from certhub.feeds import services
from certhub.feeds.models import FeedRule, RuleFiring
from certhub.feeds.rules import apply_rules
from certhub.incidents.models import Incident
from tests.factories import make_asset
from tests.feeds.conftest import DATA

DAY = dt.date(2026, 11, 27)
default_rule_migration = import_module("certhub.feeds.migrations.0003_default_rule")


@pytest.fixture(autouse=True)
def default_rule(db: Any) -> FeedRule:
    """The rule the data migration creates (again: a transactional test elsewhere may
    have flushed the tables since the migrations ran)."""
    default_rule_migration.create_default_rule(django_apps, None)
    return FeedRule.objects.get(name=default_rule_migration.NAME)


def ingest(*names: str) -> None:
    for name in names:
        services.ingest_file(path=DATA / f"2026-11-27-{name}-pk-geo.csv")


@pytest.fixture
def cii_bank_network(world: Any) -> Any:
    """City Bank (a CII organization) owns part of the banks' network: 192.0.2.66, an
    andromeda-infected host in the sinkhole report, is routed to it."""
    make_asset(world.orgs["city-bank"], "cidr", "192.0.2.64/26")
    return world.orgs["city-bank"]


@pytest.mark.django_db
def test_the_default_rule_is_infected_or_compromised_in_cii(default_rule: FeedRule) -> None:
    rule = FeedRule.objects.get()
    assert rule.enabled
    assert rule.cii_only
    assert rule.min_events == 1
    assert {"infected-system", "system-compromise"} <= set(rule.types)


@pytest.mark.django_db
def test_infected_host_in_cii_bank_opens_one_incident_for_the_banking_cert(
    world: Any, cii_bank_network: Any
) -> None:
    ingest("event4_sinkhole_http", "event4_sinkhole", "compromised_website")

    outcome = apply_rules(day=DAY)

    incident = Incident.objects.get()
    assert [f.incident for f in outcome.fired] == [incident]
    # Opened for City Bank's responsible team; the incidents' own escalation rule for
    # CII organizations then moves it up to the National CERT.
    reported = incident.timeline.get(action="reported")
    assert reported.changes["handling_team"] == "banking"
    assert incident.handling_team == world.teams["national"]
    assert list(incident.affected_orgs.all()) == [world.orgs["city-bank"]]
    assert incident.reported_by is None
    assert (incident.category, incident.type) == ("malicious-code", "infected-system")
    assert set(incident.observables.values_list("kind", "value")) == {("ipv4", "192.0.2.66")}
    attachment = incident.attachments.get()
    assert attachment.filename == "feed-events-city-bank-2026-11-27.csv"
    firing = RuleFiring.objects.get()
    assert (firing.organization, firing.day, firing.events) == (world.orgs["city-bank"], DAY, 1)
    # Telco's conficker-infected 2001:db8::66 and National Bank's compromised site are
    # not CII: no incident for them.
    assert not Incident.objects.filter(affected_orgs=world.orgs["telco"]).exists()
    assert not Incident.objects.filter(affected_orgs=world.orgs["national-bank"]).exists()


@pytest.mark.django_db
def test_a_rule_fires_once_per_organization_and_day(world: Any, cii_bank_network: Any) -> None:
    ingest("event4_sinkhole_http")
    apply_rules(day=DAY)
    again = apply_rules(day=DAY)
    call_command("feeds", "rules", "--day", DAY.isoformat(), verbosity=0)

    assert again.fired == []
    assert Incident.objects.count() == 1
    assert RuleFiring.objects.count() == 1


@pytest.mark.django_db
def test_no_incident_for_a_non_cii_organization(world: Any) -> None:
    ingest("event4_sinkhole_http", "event4_sinkhole")  # infected hosts of National Bank, Telco

    assert apply_rules(day=DAY).fired == []
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_an_admin_rule_with_a_threshold_fires_only_when_enough_events(world: Any) -> None:
    FeedRule.objects.update(enabled=False)
    FeedRule.objects.create(
        name="Many exposed services", types=["potentially-unwanted-accessible"], min_events=2
    )
    # Sindh Water: open RDP and open Elasticsearch (2 events); Telco: open SMB (1).
    ingest("scan_rdp", "scan_elasticsearch", "scan_smb")
    fired = apply_rules(day=DAY).fired
    assert {f.organization.slug: f.events for f in fired} == {"sindh-water": 2}
    incident = Incident.objects.get()
    assert set(incident.observables.values_list("value", flat=True)) == {
        "203.0.113.200",
        "203.0.113.140",
    }


@pytest.mark.django_db
def test_a_disabled_rule_never_fires(world: Any, cii_bank_network: Any) -> None:
    FeedRule.objects.update(enabled=False)
    ingest("event4_sinkhole_http")
    assert apply_rules(day=DAY).fired == []
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_an_admin_edits_a_rule_in_the_admin_and_it_is_audited(world: Any, settings: Any) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    from django.test import Client

    from certhub.audit.models import AuditEntry

    rule = FeedRule.objects.get()
    client = Client()
    client.force_login(world.users["admin"])
    response = client.post(
        f"/admin/feeds/feedrule/{rule.pk}/change/",
        {
            "name": rule.name,
            "enabled": "on",
            "description": rule.description,
            "taxonomies": "[]",
            "types": '["infected-system"]',
            "min_events": "3",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.types, rule.min_events, rule.cii_only) == (["infected-system"], 3, False)
    assert AuditEntry.objects.filter(object_type="feeds.feedrule").exists()
