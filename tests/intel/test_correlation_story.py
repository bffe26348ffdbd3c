"""Issue 5's story: the same C2 address is in a bank's incident, a ministry's incident
and a sinkhole feed file. The national analyst's view of the bank incident shows both;
the bank's reporter sees neither; the banking analyst sees the count but not the
ministry's incident; the value is widespread, its incidents escalate by the rule
"widespread", and the national team is alerted once, over real SMTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from certhub.feeds import services as feeds
from certhub.incidents.models import Incident
from certhub.intel.models import IndexedRun, IndicatorFlag
from certhub.notify.models import OutboundMail
from tests.factories import World, bearer_client, make_incident

C2 = "198.18.0.66"
EVENT4_HEADER = (
    "timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,src_hostname,"
    "src_naics,src_sector,device_vendor,device_type,device_model,severity,dst_ip,dst_port,"
    "dst_asn,dst_geo,dst_region,dst_city,dst_hostname,dst_naics,dst_sector,public_source,"
    "infection,family,tag,application,version,event_id"
)


def sinkhole_file(folder: Path, rows: list[tuple[str, str]], day: str = "2026-11-27") -> Path:
    """A Shadowserver event4_sinkhole report: infected clients (src) calling the C2
    (dst) that now points at the sinkhole."""
    path = folder / f"{day}-event4_sinkhole-pk-geo.csv"
    lines = [EVENT4_HEADER]
    for number, (client, c2) in enumerate(rows):
        lines.append(
            f"{day} 0{number % 10}:00:00,tcp,{client},{50000 + number},,,,,,,,,,,high,{c2},443,"
            ",,,,,,,Shadowserver,andromeda,andromeda,andromeda,,,"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def run_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)


def correlation_of(client: Any, reference: str, value: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/incidents/{reference}/correlations")
    assert response.status_code == 200, response.content
    (found,) = [c for c in response.json()["correlations"] if c["value"] == value]
    return found


@pytest.mark.django_db(transaction=True)
def test_one_c2_address_across_a_bank_a_ministry_and_a_sinkhole_feed(
    world: World, settings: Any, smtp_server: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTHUB_INTEL_WIDESPREAD_ORGS = 2
    bank = make_incident(
        world.users["national-bank.reporter"],
        "Branch PCs beaconing",
        observables_text=f"Our proxy saw beacons to {C2.replace('.', '[.]')} every 60 s.",
    )
    ministry = make_incident(
        world.users["ministry.reporter"],
        "Malware on the minister's laptop",
        observables_text=f"C2: {C2}",
    )
    # Two organizations so far: correlated, not widespread yet.
    assert not IndicatorFlag.objects.exists()
    # The sinkhole saw a telecom customer's host calling the same C2.
    outcome = feeds.ingest_file(
        path=sinkhole_file(tmp_path, [("198.51.100.23", C2), ("198.51.100.24", C2)])
    )
    assert outcome.status == "done"
    assert outcome.run is not None
    run_worker()  # indexes the run (task enqueued from feeds' events_loaded) and sends mail
    assert IndexedRun.objects.get(run_id=outcome.run.pk).events == 2

    flag = IndicatorFlag.objects.get(value=C2)
    assert flag.widespread
    assert not flag.common
    assert flag.organizations == 3  # the bank, the ministry, the telecom customer

    # The national analyst sees both the ministry's incident and the feed events.
    national = bearer_client(world.users["national.analyst"])
    seen = correlation_of(national, bank.reference, C2)
    assert seen["incidents"] == 1
    assert seen["organizations"] == 1
    assert seen["sectors"] == 1
    assert seen["feed_events"] == 2
    assert [s["reference"] for s in seen["seen_in"]] == [ministry.reference]
    assert [(d["organization"], d["events"]) for d in seen["feed_days"]] == [("Telco", 2)]
    assert seen["hidden_incidents"] == 0
    assert seen["widespread"] is True

    # The banking analyst: counted, but the ministry's incident is not named.
    banking = bearer_client(world.users["banking.analyst"])
    seen = correlation_of(banking, bank.reference, C2)
    assert seen["incidents"] == 1
    assert seen["feed_events"] == 2
    assert seen["seen_in"] == []
    assert seen["hidden_incidents"] == 1
    assert seen["feed_days"] == []  # the telecom customer's events are not the bank's
    assert ministry.reference not in str(
        banking.get(f"/api/v1/incidents/{bank.reference}/correlations").json()
    )

    # The bank's reporter sees neither.
    reporter = bearer_client(world.users["national-bank.reporter"])
    seen = correlation_of(reporter, bank.reference, C2)
    assert (seen["incidents"], seen["feed_events"], seen["hidden_incidents"]) == (0, 0, 0)
    assert seen["seen_in"] == []
    assert seen["feed_days"] == []
    assert seen["widespread"] is False

    # Both incidents were escalated by the rule "widespread" to the National CERT, the
    # lowest team over the bank's, the ministry's and the telecom customer's CERTs.
    for incident in (bank, ministry):
        incident = Incident.objects.get(pk=incident.pk)
        assert incident.handling_team.slug == "national"
        assert "widespread" in incident.escalation_rules_fired
        assert incident.timeline.get(action="escalated").changes["rule"] == "widespread"

    # A third organization's incident with the same C2 changes nothing for the alert.
    make_incident(world.users["telco.reporter"], "Router callback", observables_text=C2)
    run_worker()
    alerts = OutboundMail.objects.filter(kind="intel_widespread")
    assert alerts.count() == 1
    received = [m for m in smtp_server.messages if "Widespread indicator" in m.message["Subject"]]
    assert len(received) == 1
    message = received[0].message
    assert message["Subject"].startswith("[TLP:AMBER]")
    assert "national.analyst@example.org" in received[0].rcpt_tos
    assert "banking.analyst@example.org" not in received[0].rcpt_tos
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert C2 in body
    assert "3 organizations" in body
