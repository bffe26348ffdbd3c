"""Validation and normalisation of network assets (pure functions, no database)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.tenancy.choices import AssetKind

MAX_ASN = 4_294_967_295
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class NormalisedAsset:
    kind: str
    value: str
    ip_version: int | None = None
    prefix_len: int | None = None
    range_start: str = ""
    range_end: str = ""
    asn: int | None = None


def address_key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """32 hex digits ordering all addresses: IPv4 as IPv4-mapped IPv6 (``::ffff:a.b.c.d``)."""
    if isinstance(address, ipaddress.IPv4Address):
        return f"{0xFFFF_0000_0000 | int(address):032x}"
    return f"{int(address):032x}"


def parse_ip(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError as exc:
        raise Invalid(_("%(value)s is not an IP address.") % {"value": raw}) from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def normalise_cidr(raw: str) -> NormalisedAsset:
    text = raw.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise Invalid(
                _("%(value)s is not an IP network in CIDR notation.") % {"value": raw}
            ) from exc
        raise Invalid(
            _("%(value)s has host bits set; did you mean %(network)s?")
            % {"value": raw, "network": ipaddress.ip_network(text, strict=False)}
        ) from exc
    return NormalisedAsset(
        kind=AssetKind.CIDR,
        value=str(network),
        ip_version=network.version,
        prefix_len=network.prefixlen,
        range_start=address_key(network.network_address),
        range_end=address_key(network.broadcast_address),
    )


def parse_asn(raw: str | int) -> int:
    text = str(raw).strip().upper().removeprefix("AS").strip()
    if "." in text:  # asdot notation, RFC 5396
        high, _sep, low = text.partition(".")
        if not (high.isdigit() and low.isdigit()) or int(low) > 65535:
            raise Invalid(_("%(value)s is not an AS number.") % {"value": raw})
        number = int(high) * 65536 + int(low)
    elif text.isdigit():
        number = int(text)
    else:
        raise Invalid(_("%(value)s is not an AS number.") % {"value": raw})
    if not 1 <= number <= MAX_ASN:
        raise Invalid(_("%(value)s is outside the AS number range.") % {"value": raw})
    return number


def normalise_asn(raw: str | int) -> NormalisedAsset:
    number = parse_asn(raw)
    return NormalisedAsset(kind=AssetKind.ASN, value=f"AS{number}", asn=number)


def normalise_domain(raw: str) -> str:
    text = raw.strip().lower().rstrip(".")
    if text.startswith("*."):
        text = text[2:]
    if not text or len(text) > 253:
        raise Invalid(_("%(value)s is not a domain name.") % {"value": raw})
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise Invalid(_("%(value)s is not a domain name.") % {"value": raw}) from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise Invalid(_("%(value)s is not a domain name.") % {"value": raw})
    if labels[-1].isdigit():
        raise Invalid(_("%(value)s looks like an address, not a domain name.") % {"value": raw})
    return ascii_name


def normalise_asset(kind: str, raw: str) -> NormalisedAsset:
    if kind == AssetKind.CIDR:
        return normalise_cidr(raw)
    if kind == AssetKind.ASN:
        return normalise_asn(raw)
    if kind == AssetKind.DOMAIN:
        return NormalisedAsset(kind=AssetKind.DOMAIN, value=normalise_domain(raw))
    raise Invalid(_("%(kind)s is not an asset kind (cidr, asn or domain).") % {"kind": kind})


def domain_suffixes(name: str) -> list[str]:
    """``a.b.example`` -> ``[a.b.example, b.example, example]``, most specific first."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]
