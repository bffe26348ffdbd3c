"""Who sees which events, address-range reads, and the inbox the worker watches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from certhub.core.errors import NotFound
from certhub.feeds import services
from certhub.feeds.models import Event, IngestRun
from certhub.feeds.selectors import events_in_network, events_visible_to, get_event
from certhub.feeds.tasks import watch_inbox
from tests.feeds.conftest import DATA


def load_all() -> None:
    for path in sorted(DATA.glob("2026-11-27-*-pk-geo.csv")):
        services.ingest_file(path=path)


def visible_ips(user: Any) -> set[str]:
    return set(events_visible_to(user).values_list("source_ip", flat=True))


@pytest.mark.django_db
def test_who_sees_which_events(world: Any) -> None:
    load_all()
    users = world.users
    total = Event.objects.count()

    assert events_visible_to(users["admin"]).count() == total  # unrouted ones too
    assert visible_ips(users["banking.analyst"]) == {
        "192.0.2.10",
        "192.0.2.53",
        "192.0.2.66",
        "192.0.2.77",
        "100.64.5.5",
    }
    assert visible_ips(users["national-bank.reporter"]) == visible_ips(users["banking.analyst"])
    assert visible_ips(users["punjab.viewer"]) == {
        "203.0.113.5",
        "203.0.113.123",
        "203.0.113.66",
        "203.0.113.9",
    }
    # The Government CERT sees its provinces' organizations, not the banks.
    government = visible_ips(users["government.analyst"])
    assert "203.0.113.140" in government
    assert "203.0.113.5" in government
    assert "192.0.2.10" not in government
    # The National CERT sees every routed event; nobody but an admin sees unrouted ones.
    assert events_visible_to(users["national.analyst"]).count() == total - 1
    assert "100.64.1.1" not in visible_ips(users["national.coordinator"])
    assert events_visible_to(users["council"]).count() == 0
    assert events_visible_to(users["nobody"]).count() == 0
    assert events_visible_to(users["city-bank.org_admin"]).count() == 0


@pytest.mark.django_db
def test_an_event_of_another_branch_is_not_found(world: Any) -> None:
    load_all()
    telco_event = Event.objects.filter(organization=world.orgs["telco"]).first()
    assert telco_event is not None
    assert get_event(world.users["telecom.analyst"], telco_event.pk) == telco_event
    with pytest.raises(NotFound):
        get_event(world.users["banking.analyst"], telco_event.pk)


@pytest.mark.django_db
def test_events_in_a_network_on_any_database(world: Any) -> None:
    load_all()
    admin = world.users["admin"]
    inside = events_in_network(admin, "203.0.113.128/25")
    assert set(inside.values_list("source_ip", flat=True)) == {"203.0.113.200", "203.0.113.140"}
    assert set(events_in_network(admin, "2001:db8::/32").values_list("source_ip", flat=True)) == {
        "2001:db8::10",
        "2001:db8::66",
    }
    assert events_in_network(world.users["punjab.analyst"], "203.0.113.128/25").count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_ingests_the_inbox_and_sorts_the_files(
    world: Any, settings: Any, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings.CERTHUB_FEEDS_INBOX = str(inbox)
    good = inbox / "2026-11-27-scan_dns-pk-geo.csv"
    good.write_bytes((DATA / good.name).read_bytes())
    bad = inbox / "2026-11-27-mystery-pk.csv"
    bad.write_text("a,b\n1,2\n")
    partial = inbox / "2026-11-27-scan_ntp-pk.csv.part"
    partial.write_text("still arriving")
    for path in (good, bad):
        import os

        os.utime(path, (1, 1))  # written long ago: settled

    watch_inbox.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)

    assert Event.objects.get().source_ip == "192.0.2.53"
    assert (inbox / "done" / good.name).exists()
    assert (inbox / "quarantine" / bad.name).exists()
    reason = (inbox / "quarantine" / f"{bad.name}.reason.txt").read_text()
    assert "Unknown report type" in reason
    assert partial.exists()
    assert not good.exists()
    assert not bad.exists()
    assert set(IngestRun.objects.values_list("status", flat=True)) == {"done", "quarantined"}
