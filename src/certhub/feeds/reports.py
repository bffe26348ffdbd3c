"""certhub's mapping of Shadowserver report types to harmonized (IntelMQ-compatible)
event fields and to the RSIT classification.

Written for certhub from Shadowserver's published report schema (report types, their
file-name keys and columns). The classification is certhub's own choice of RSIT
category and type per report (see docs/feeds.md); identifiers follow IntelMQ's where it
has one, so that events compare with peers running IntelMQ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- Harmonized fields --------------------------------------------------------------

# IntelMQ field name -> Event column. The one list every parser maps into.
FIELD_COLUMNS: dict[str, str] = {
    "time.source": "time_source",
    "feed.name": "feed_name",
    "feed.code": "feed_code",
    "classification.taxonomy": "classification_taxonomy",
    "classification.type": "classification_type",
    "classification.identifier": "classification_identifier",
    "severity": "severity",
    "source.ip": "source_ip",
    "source.network": "source_network",
    "source.port": "source_port",
    "source.asn": "source_asn",
    "source.as_name": "source_as_name",
    "source.fqdn": "source_fqdn",
    "source.url": "source_url",
    "source.reverse_dns": "source_reverse_dns",
    "source.account": "source_account",
    "source.geolocation.cc": "source_geolocation_cc",
    "source.geolocation.region": "source_geolocation_region",
    "source.geolocation.city": "source_geolocation_city",
    "destination.ip": "destination_ip",
    "destination.port": "destination_port",
    "destination.asn": "destination_asn",
    "destination.fqdn": "destination_fqdn",
    "destination.url": "destination_url",
    "destination.reverse_dns": "destination_reverse_dns",
    "destination.account": "destination_account",
    "destination.geolocation.cc": "destination_geolocation_cc",
    "protocol.transport": "protocol_transport",
    "protocol.application": "protocol_application",
    "malware.name": "malware_name",
    "product.vendor": "product_vendor",
    "product.name": "product_name",
    "product.version": "product_version",
    "event_description.text": "event_description_text",
}
HARMONIZED_FIELDS = frozenset(FIELD_COLUMNS)
# Fields read as whole numbers (ports, AS numbers).
INTEGER_FIELDS = frozenset({"source.port", "source.asn", "destination.port", "destination.asn"})


# --- Report types -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportType:
    """One Shadowserver report: how its columns map to fields and how it is classified."""

    code: str  # the file-name key: 2026-11-27-<code>-<anything>.csv
    feed_name: str
    taxonomy: str
    type: str
    identifier: str  # the identifier, or the fallback when identifier_column is empty
    columns: tuple[str, ...]  # the report's columns, to recognise a file by its header
    fields: dict[str, str] = field(default_factory=dict)  # column -> harmonized field
    constants: dict[str, str] = field(default_factory=dict)  # field -> value
    identifier_column: str = ""  # a column whose value is the identifier (sinkholes)


# Columns every scan-style report starts with, and the fields they carry.
_SCAN = (
    "timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo",
    "region", "city", "naics", "hostname_source", "sector",
)  # fmt: skip
_SCAN_FIELDS = {
    "timestamp": "time.source",
    "severity": "severity",
    "ip": "source.ip",
    "protocol": "protocol.transport",
    "port": "source.port",
    "hostname": "source.reverse_dns",
    "asn": "source.asn",
    "geo": "source.geolocation.cc",
    "region": "source.geolocation.region",
    "city": "source.geolocation.city",
}
_DEVICE = ("device_vendor", "device_type", "device_model", "device_version")
_DEVICE_FIELDS = {
    "device_vendor": "product.vendor",
    "device_model": "product.name",
    "device_version": "product.version",
}
_CERT = (
    "cert_length", "subject_common_name", "issuer_common_name", "cert_issue_date",
    "cert_expiration_date", "sha1_fingerprint", "cert_serial_number", "ssl_version",
    "signature_algorithm", "key_algorithm",
)  # fmt: skip
_NAMES = (
    "organization_name", "organization_unit_name", "country", "state_or_province_name",
    "locality_name", "street_address", "postal_code", "surname", "given_name",
    "email_address", "business_category", "serial_number",
)  # fmt: skip

# Columns of the event4 family (sinkholes, honeypots): a source and a destination.
_EVENT4 = (
    "timestamp", "protocol", "src_ip", "src_port", "src_asn", "src_geo", "src_region",
    "src_city", "src_hostname", "src_naics", "src_sector", "device_vendor", "device_type",
    "device_model", "severity", "dst_ip", "dst_port", "dst_asn", "dst_geo", "dst_region",
    "dst_city", "dst_hostname", "dst_naics", "dst_sector", "public_source", "infection",
    "family", "tag", "application", "version", "event_id",
)  # fmt: skip
_EVENT4_FIELDS = {
    "timestamp": "time.source",
    "protocol": "protocol.transport",
    "src_ip": "source.ip",
    "src_port": "source.port",
    "src_asn": "source.asn",
    "src_geo": "source.geolocation.cc",
    "src_region": "source.geolocation.region",
    "src_city": "source.geolocation.city",
    "src_hostname": "source.reverse_dns",
    "device_vendor": "product.vendor",
    "device_model": "product.name",
    "severity": "severity",
    "dst_ip": "destination.ip",
    "dst_port": "destination.port",
    "dst_asn": "destination.asn",
    "dst_geo": "destination.geolocation.cc",
    "dst_hostname": "destination.reverse_dns",
    "infection": "malware.name",
}


def _scan(
    code: str,
    feed_name: str,
    taxonomy: str,
    type_: str,
    identifier: str,
    specific: tuple[str, ...],
    application: str = "",
    transport: str = "",
    fields: dict[str, str] | None = None,
) -> ReportType:
    constants = {}
    if application:
        constants["protocol.application"] = application
    if transport:
        constants["protocol.transport"] = transport
    return ReportType(
        code=code,
        feed_name=feed_name,
        taxonomy=taxonomy,
        type=type_,
        identifier=identifier,
        columns=_SCAN + specific,
        fields={**_SCAN_FIELDS, **(fields or {})},
        constants=constants,
    )


def _event4(
    code: str,
    feed_name: str,
    taxonomy: str,
    type_: str,
    identifier: str,
    specific: tuple[str, ...],
    identifier_column: str,
    fields: dict[str, str] | None = None,
    application: str = "",
) -> ReportType:
    return ReportType(
        code=code,
        feed_name=feed_name,
        taxonomy=taxonomy,
        type=type_,
        identifier=identifier,
        columns=_EVENT4 + specific,
        fields={**_EVENT4_FIELDS, **(fields or {})},
        constants={"protocol.application": application} if application else {},
        identifier_column=identifier_column,
    )


_TLS13 = ("tlsv13_support", "tlsv13_cipher", "jarm")
_FINGERPRINTS = ("sha256_fingerprint", "sha512_fingerprint", "md5_fingerprint")

REPORT_TYPES: dict[str, ReportType] = {
    report.code: report
    for report in (
        _scan(
            "scan_http",
            "Accessible-HTTP",
            "other",
            "other",
            "accessible-http",
            (
                "http",
                "http_code",
                "http_reason",
                "content_type",
                "connection",
                "www_authenticate",
                "set_cookie",
                "server",
                "content_length",
                "transfer_encoding",
                "http_date",
                "version",
            ),
            application="http",
        ),
        _scan(
            "scan_ssl",
            "Accessible-SSL",
            "other",
            "other",
            "open-ssl",
            (
                "handshake",
                "cipher_suite",
                "ssl_poodle",
                *_CERT,
                *(f"subject_{name}" for name in _NAMES),
                *(f"issuer_{name}" for name in _NAMES),
                "freak_vulnerable",
                "freak_cipher_suite",
                *_FINGERPRINTS,
                "http_response_type",
                "http_code",
                "http_reason",
                "content_type",
                "http_connection",
                "www_authenticate",
                "set_cookie",
                "server_type",
                "content_length",
                "transfer_encoding",
                "http_date",
                "cert_valid",
                "self_signed",
                "cert_expired",
                "browser_trusted",
                "validation_level",
                "browser_error",
                *_TLS13,
            ),
            application="https",
        ),
        _scan(
            "scan_rdp",
            "Accessible-RDP",
            "vulnerable",
            "potentially-unwanted-accessible",
            "open-rdp",
            ("handshake", "rdp_protocol", *_CERT, *_FINGERPRINTS, *_TLS13),
            application="rdp",
            transport="tcp",
        ),
        _scan(
            "scan_smb",
            "Accessible-SMB",
            "vulnerable",
            "potentially-unwanted-accessible",
            "open-smb",
            (
                "arch",
                "key",
                "smb_major_number",
                "smb_minor_number",
                "smb_revision",
                "smb_version_string",
            ),
            application="smb",
            transport="tcp",
        ),
        _scan(
            "scan_ssh",
            "Accessible-SSH",
            "other",
            "other",
            "open-ssh",
            (
                *_DEVICE,
                "device_sector",
                "serverid_raw",
                "serverid_version",
                "serverid_software",
                "serverid_comment",
                "server_cookie",
                "available_kex",
                "available_ciphers",
                "available_mac",
                "available_compression",
                "selected_kex",
                "algorithm",
                "selected_cipher",
                "selected_mac",
                "selected_compression",
                "server_signature_value",
                "server_signature_raw",
                "server_host_key",
                "server_host_key_sha256",
                "rsa_prime",
                "rsa_prime_length",
                "rsa_generator",
                "rsa_generator_length",
                "rsa_public_key",
                "rsa_public_key_length",
                "rsa_exponent",
                "rsa_modulus",
                "rsa_length",
                "dss_prime",
                "dss_prime_length",
                "dss_generator",
                "dss_generator_length",
                "dss_public_key",
                "dss_public_key_length",
                "dss_dsa_public_g",
                "dss_dsa_public_p",
                "dss_dsa_public_q",
                "dss_dsa_public_y",
                "ecdsa_curve25519",
                "ecdsa_curve",
                "ecdsa_public_key_length",
                "ecdsa_public_key_b",
                "ecdsa_public_key_gx",
                "ecdsa_public_key_gy",
                "ecdsa_public_key_n",
                "ecdsa_public_key_p",
                "ecdsa_public_key_x",
                "ecdsa_public_key_y",
                "ed25519_curve25519",
                *(
                    f"ed25519_cert_public_key_{part}"
                    for part in (
                        "nonce",
                        "bytes",
                        "raw",
                        "sha256",
                        "serial",
                        "type_id",
                        "type_name",
                        "keyid",
                        "principles",
                        "valid_after",
                        "valid_before",
                        "duration",
                        "sigkey_bytes",
                        "sigkey_raw",
                        "sigkey_sha256",
                        "sigkey_value",
                        "sig_raw",
                    )
                ),
                "banner",
                "userauth_methods",
                "hassh",
            ),
            application="ssh",
            fields=_DEVICE_FIELDS,
        ),
        _scan(
            "scan_telnet",
            "Accessible-Telnet",
            "vulnerable",
            "potentially-unwanted-accessible",
            "open-telnet",
            ("banner",),
            application="telnet",
        ),
        _scan(
            "scan_dns",
            "DNS-Open-Resolvers",
            "vulnerable",
            "ddos-amplifier",
            "dns-open-resolver",
            ("dns_version", "min_amplification"),
            application="dns",
        ),
        _scan(
            "scan_ntp",
            "NTP-Version",
            "vulnerable",
            "ddos-amplifier",
            "ntp-version",
            (
                "version",
                "clk_wander",
                "clock",
                "error",
                "frequency",
                "jitter",
                "leap",
                "mintc",
                "noise",
                "offset",
                "peer",
                "phase",
                "poll",
                "precision",
                "processor",
                "refid",
                "reftime",
                "rootdelay",
                "rootdispersion",
                "stability",
                "state",
                "stratum",
                "system",
                "tai",
                "tc",
                "response_size",
                "amplification",
            ),
            application="ntp",
        ),
        _scan(
            "scan_snmp",
            "Open-SNMP",
            "vulnerable",
            "ddos-amplifier",
            "open-snmp",
            (
                *_DEVICE,
                "device_sector",
                "version",
                "sysname",
                "sysdesc",
                "community",
                "response_size",
                "amplification",
                "uptime",
                "mac_address",
                "vendor_id",
                "vendor",
            ),
            application="snmp",
            fields=_DEVICE_FIELDS,
        ),
        _scan(
            "scan_elasticsearch",
            "Open-Elasticsearch",
            "vulnerable",
            "potentially-unwanted-accessible",
            "open-elasticsearch",
            (
                "version",
                "ok",
                "name",
                "cluster_name",
                "http_code",
                "build_hash",
                "build_timestamp",
                "build_snapshot",
                "lucene_version",
                "tagline",
            ),
            application="elasticsearch",
        ),
        _scan(
            "compromised_website",
            "Compromised-Website",
            "intrusions",
            "system-compromise",
            "compromised-website",
            (
                "application",
                "url",
                "http_host",
                "category",
                "system",
                "detected_since",
                "server",
                "redirect_target",
                "cc_url",
                "family",
                "status",
                "account",
                "detail",
                "public_source",
            ),
            fields={
                "application": "protocol.application",
                "url": "source.url",
                "http_host": "source.fqdn",
                "category": "event_description.text",
                "family": "malware.name",
                "account": "source.account",
            },
        ),
        _scan(
            "device_id",
            "Device-Identification IPv4",
            "other",
            "undetermined",
            "device-id",
            _DEVICE,
            fields=_DEVICE_FIELDS,
        ),
        ReportType(
            code="blocklist",
            feed_name="Blocklist",
            taxonomy="other",
            type="other",
            identifier="blocklisted-ip",
            columns=(
                "timestamp",
                "severity",
                "ip",
                "hostname",
                "source",
                "reason",
                "asn",
                "geo",
                "region",
                "city",
                "naics",
                "sector",
                "tag",
            ),
            fields={
                key: value for key, value in _SCAN_FIELDS.items() if key not in {"port", "protocol"}
            },
        ),
        _event4(
            "event4_sinkhole_http",
            "Sinkhole-Events-HTTP IPv4",
            "malicious-code",
            "infected-system",
            "infected-system",
            (
                "http_url",
                "http_host",
                "http_agent",
                "forwarded_by",
                "ssl_cipher",
                "http_referer",
                "ssl_servername",
                "machine_name",
            ),
            identifier_column="infection",
            fields={"http_url": "destination.url", "http_host": "destination.fqdn"},
            application="http",
        ),
        _event4(
            "event4_sinkhole",
            "Sinkhole-Events IPv4",
            "malicious-code",
            "infected-system",
            "infected-system",
            ("ssl_cipher", "ssl_servername"),
            identifier_column="infection",
        ),
        _event4(
            "event4_honeypot_brute_force",
            "Honeypot-Brute-Force-Events",
            "intrusion-attempts",
            "brute-force",
            "brute-force",
            (
                "service",
                "start_time",
                "end_time",
                "client_version",
                "username",
                "password",
                "payload_url",
                "payload_md5",
                "vulnerability_enum",
                "vulnerability_id",
                "vulnerability_class",
                "vulnerability_score",
                "vulnerability_severity",
                "vulnerability_version",
                "target_vendor",
                "target_product",
                "target_class",
            ),
            identifier_column="application",
            fields={"username": "destination.account"},
        ),
        _event4(
            "event4_honeypot_darknet",
            "Honeypot-Darknet",
            "information-gathering",
            "scanner",
            "darknet",
            ("count",),
            identifier_column="tag",
        ),
    )
}

_FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-(?P<code>[a-z0-9_]+)(?:-|\.)", re.IGNORECASE)


def report_type_from_name(file_name: str) -> ReportType | None:
    """``2026-11-27-scan_http-pk-geo.csv`` -> scan_http (None when not a known type)."""
    match = _FILE_NAME.match(file_name)
    if match is None:
        return None
    return REPORT_TYPES.get(match.group("code").lower())


def report_type_from_header(columns: list[str]) -> ReportType | None:
    """The report whose columns the header carries: an exact match, else the single best
    overlap of at least 90% (Shadowserver adds columns over time)."""
    header = {column.strip().lower() for column in columns}
    scores: list[tuple[float, str]] = []
    for report in REPORT_TYPES.values():
        known = set(report.columns)
        if known == header:
            return report
        scores.append((len(known & header) / len(known | header), report.code))
    scores.sort(reverse=True)
    best = scores[0]
    if best[0] >= 0.9 and (len(scores) == 1 or scores[1][0] < best[0]):
        return REPORT_TYPES[best[1]]
    return None
