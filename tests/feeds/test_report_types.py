"""A small, hand-written file of every supported Shadowserver report goes through the
whole pipeline; each event is checked field by field, with its routing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from certhub.feeds import services
from certhub.feeds.models import Event, IngestRun
from tests.feeds.conftest import DATA

UTC = dt.UTC
T1 = dt.datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)
T2 = dt.datetime(2026, 11, 27, 2, 0, 0, tzinfo=UTC)


def v4key(address: str) -> str:
    a, b, c, d = (int(x) for x in address.split("."))
    return f"00000000000000000000ffff{a:02x}{b:02x}{c:02x}{d:02x}"


BANK = {"organization": "national-bank", "team": "banking", "sector": "banking"}
TELCO = {"organization": "telco", "team": "telecom", "sector": "telecom"}
PUNJAB = {"organization": "punjab-health", "team": "punjab", "sector": "health"}
SINDH = {"organization": "sindh-water", "team": "sindh", "sector": "power"}
UNROUTED = {"organization": None, "team": None, "sector": None, "routed_by": None}

# report type -> the events it must give, in line order: every field that is set.
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "scan_http": [
        {
            **BANK,
            "routed_by": "cidr",
            "line": 2,
            "time_source": T1,
            "feed_name": "Accessible-HTTP",
            "classification_taxonomy": "other",
            "classification_type": "other",
            "classification_identifier": "accessible-http",
            "severity": "medium",
            "source_ip": "192.0.2.10",
            "source_ip_key": v4key("192.0.2.10"),
            "source_port": 80,
            "source_asn": 64496,
            "source_reverse_dns": "www.nationalbank.example",
            "source_geolocation_cc": "PK",
            "source_geolocation_region": "PUNJAB",
            "source_geolocation_city": "LAHORE",
            "protocol_transport": "tcp",
            "protocol_application": "http",
            "extra": {
                "tag": "http",
                "naics": "522110",
                "http": "HTTP/1.1",
                "http_code": "200",
                "http_reason": "OK",
                "content_type": "text/html",
                "server": "nginx/1.18.0",
                "content_length": "612",
            },
        },
        {
            **TELCO,
            "routed_by": "cidr",
            "line": 3,
            "source_ip": "198.51.100.7",
            "source_port": 8080,
            "source_asn": 64500,
            "time_source": dt.datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC),
            "extra": {
                "http": "HTTP/1.1",
                "http_code": "401",
                "server": "Boa/0.94.14rc21",
                "www_authenticate": 'Basic realm="router"',
            },
        },
        {**UNROUTED, "line": 4, "source_ip": "100.64.1.1", "source_asn": 64511},
    ],
    "scan_ssl": [
        {
            **PUNJAB,
            "routed_by": "cidr",
            "feed_name": "Accessible-SSL",
            "classification_identifier": "open-ssl",
            "source_ip": "203.0.113.5",
            "source_port": 443,
            "protocol_application": "https",
            "extra": {
                "handshake": "TLSv1.2",
                "cipher_suite": "ECDHE-RSA-AES128-GCM-SHA256",
                "subject_common_name": "health.punjab.example",
                "self_signed": "Y",
                "tlsv13_support": "N",
            },
        }
    ],
    "scan_rdp": [
        {
            **SINDH,
            "routed_by": "cidr",
            "classification_taxonomy": "vulnerable",
            "classification_type": "potentially-unwanted-accessible",
            "classification_identifier": "open-rdp",
            "severity": "high",
            "source_port": 3389,
            "protocol_application": "rdp",
            "protocol_transport": "tcp",
            "extra": {
                "tag": "rdp",
                "rdp_protocol": "RDP",
                "cert_length": "2048",
                "subject_common_name": "SCADA-HMI-01",
            },
        }
    ],
    "scan_smb": [
        {
            **TELCO,
            "routed_by": "cidr",
            "source_ip": "2001:db8::10",
            "source_ip_key": "20010db8000000000000000000000010",
            "source_port": 445,
            "classification_identifier": "open-smb",
            "protocol_application": "smb",
            "extra": {"tag": "smb,smbv1", "smb_version_string": "SMB 1.0"},
        }
    ],
    "scan_ssh": [
        {
            **TELCO,
            "classification_identifier": "open-ssh",
            "product_vendor": "Cisco",
            "product_name": "ASA",
            "product_version": None,
            "protocol_application": "ssh",
            "extra": {
                "serverid_software": "OpenSSH_7.4",
                "serverid_raw": "SSH-2.0-OpenSSH_7.4",
                "hassh": "b12d2871a1189eff20364cf5333619ee",
            },
        }
    ],
    # No network asset covers 100.64.0.1; the report's AS 64500 is telco's.
    "scan_telnet": [
        {
            **TELCO,
            "routed_by": "asn",
            "source_asn": 64500,
            "classification_type": "potentially-unwanted-accessible",
            "classification_identifier": "open-telnet",
            "extra": {"tag": "telnet", "banner": "Login:"},
        }
    ],
    "scan_dns": [
        {
            **BANK,
            "classification_type": "ddos-amplifier",
            "classification_identifier": "dns-open-resolver",
            "protocol_transport": "udp",
            "protocol_application": "dns",
            "source_port": 53,
            "extra": {"dns_version": "9.11.4-P2-RedHat", "min_amplification": "41.5"},
        }
    ],
    "scan_ntp": [
        {
            **PUNJAB,
            "feed_name": "NTP-Version",
            "classification_identifier": "ntp-version",
            "extra": {
                "version": "4",
                "stratum": "3",
                "response_size": "468",
                "amplification": "10.4",
            },
        }
    ],
    "scan_snmp": [
        {
            **TELCO,
            "classification_identifier": "open-snmp",
            "product_vendor": "Cisco",
            "extra": {
                "device_type": "router",
                "sysdesc": "Cisco IOS Software, C2900",
                "community": "public",
                "version": "2",
            },
        }
    ],
    "scan_elasticsearch": [
        {
            **SINDH,
            "severity": "critical",
            "classification_identifier": "open-elasticsearch",
            "protocol_application": "elasticsearch",
            "extra": {
                "version": "7.10.2",
                "cluster_name": "billing",
                "http_code": "200",
                "ok": "True",
            },
        }
    ],
    # 100.64.5.5 is nobody's: the site's host name is national-bank's domain.
    "compromised_website": [
        {
            **BANK,
            "routed_by": "domain",
            "classification_taxonomy": "intrusions",
            "classification_type": "system-compromise",
            "classification_identifier": "compromised-website",
            "source_url": "https://www.nationalbank.example/wp-content/x.php",
            "source_fqdn": "www.nationalbank.example",
            "protocol_application": "https",
            "event_description_text": "webshell",
            "malware_name": "wso-webshell",
            "extra": {"tag": "compromised", "system": "WordPress"},
        }
    ],
    "event4_sinkhole_http": [
        {
            **BANK,
            "routed_by": "cidr",
            "time_source": T2,
            "feed_name": "Sinkhole-Events-HTTP IPv4",
            "classification_taxonomy": "malicious-code",
            "classification_type": "infected-system",
            "classification_identifier": "andromeda",
            "malware_name": "andromeda",
            "source_ip": "192.0.2.66",
            "source_port": 49152,
            "source_asn": 64496,
            "source_geolocation_cc": "PK",
            "destination_ip": "100.64.9.9",
            "destination_port": 80,
            "destination_url": "/api/gate.php",
            "destination_fqdn": "sinkhole.example",
            "protocol_application": "http",
            "extra": {
                "public_source": "Shadowserver",
                "family": "andromeda",
                "http_agent": "Mozilla/4.0",
            },
        }
    ],
    "event4_sinkhole": [
        {
            **TELCO,
            "source_ip": "2001:db8::66",
            "classification_identifier": "conficker",
            "destination_port": 443,
            "extra": {"public_source": "Shadowserver", "family": "conficker", "tag": "conficker"},
        }
    ],
    "event4_honeypot_brute_force": [
        {
            **PUNJAB,
            "classification_taxonomy": "intrusion-attempts",
            "classification_type": "brute-force",
            "classification_identifier": "ssh",
            "destination_account": "root",
            "destination_port": 22,
            "extra": {
                "public_source": "Shadowserver",
                "application": "ssh",
                "service": "ssh",
                "password": "admin123",
                "start_time": "2026-11-27 01:59:00",
                "end_time": "2026-11-27 02:00:00",
            },
        }
    ],
    "event4_honeypot_darknet": [
        {
            **TELCO,
            "classification_taxonomy": "information-gathering",
            "classification_type": "scanner",
            "classification_identifier": "mirai",
            "extra": {"public_source": "Shadowserver", "tag": "mirai", "count": "57"},
        }
    ],
    "blocklist": [
        {
            **BANK,
            "classification_identifier": "blocklisted-ip",
            "source_ip": "192.0.2.77",
            "source_port": None,
            "source_network": None,
            "extra": {"source": "spamhaus-drop", "reason": "botnet controller"},
        },
        {
            **TELCO,
            "source_ip": "198.51.100.128",
            "source_network": "198.51.100.128/25",
            "extra": {"source": "spamhaus-drop", "reason": "hijacked range"},
        },
    ],
    "device_id": [
        {
            **PUNJAB,
            "classification_type": "undetermined",
            "classification_identifier": "device-id",
            "product_vendor": "MikroTik",
            "product_name": "RB750Gr3",
            "product_version": "6.48.6",
            "extra": {"device_type": "router"},
        }
    ],
}


def event_fields(event: Event) -> dict[str, Any]:
    values = {field.attname: getattr(event, field.attname) for field in Event._meta.concrete_fields}
    values["organization"] = event.organization.slug if event.organization else None
    values["team"] = event.team.slug if event.team else None
    values["sector"] = event.sector.slug if event.sector else None
    return values


@pytest.mark.django_db
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_report_type_gives_harmonized_routed_events(world: Any, code: str) -> None:
    path = DATA / f"2026-11-27-{code}-pk-geo.csv"
    outcome = services.ingest_file(path=path)

    assert outcome.status == "done", outcome.message
    run = IngestRun.objects.get(file_name=path.name)
    expected = EXPECTED[code]
    assert (run.report_type, run.rows, run.accepted, run.rejected) == (
        code,
        len(expected),
        len(expected),
        0,
    )
    events = list(Event.objects.select_related("organization", "team", "sector").order_by("line"))
    assert len(events) == len(expected)
    for event, wanted in zip(events, expected, strict=True):
        actual = event_fields(event)
        for name, value in wanted.items():
            assert actual[name] == value, f"{code} line {event.line}: {name}"
        # Always: the report type, its file, the day, one sighting, observation time set.
        assert actual["feed_code"] == code
        assert event.file_id == run.file_id
        assert event.day == event.time_source.date()
        assert (event.count, event.last_seen) == (1, event.time_source)
        assert event.time_observation is not None
        assert event.is_cii is False


@pytest.mark.django_db
def test_cii_customer_network_inside_a_bank_range_routes_to_the_most_specific(world: Any) -> None:
    from tests.factories import make_asset

    grid = world.orgs["grid"]
    make_asset(grid, "cidr", "192.0.2.0/26")  # nested inside national-bank's 192.0.2.0/24

    services.ingest_file(path=DATA / "2026-11-27-scan_dns-pk-geo.csv")  # 192.0.2.53
    services.ingest_file(path=DATA / "2026-11-27-event4_sinkhole_http-pk-geo.csv")  # 192.0.2.66

    by_ip = {e.source_ip: e for e in Event.objects.all()}
    assert by_ip["192.0.2.53"].organization_id == grid.pk
    assert by_ip["192.0.2.53"].is_cii is True
    assert by_ip["192.0.2.53"].team_id == world.teams["cii"].pk
    assert by_ip["192.0.2.66"].organization_id == world.orgs["national-bank"].pk
    assert by_ip["192.0.2.66"].is_cii is False
