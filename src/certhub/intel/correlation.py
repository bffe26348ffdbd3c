"""The correlation index in pure functions (no database): which keys a value is stored
under, and which keys a lookup of a value probes.

Every indicator is reduced to index keys ``(kind, value)`` in canonical form (the
incidents app's ``normalise``: lower case, refanged, compressed IPv6, IPv4-mapped IPv6
as IPv4). A key is stored as its BLAKE2b-64 hash (a signed 64-bit integer, as feeds'
event identity), so one B-tree probe finds every sighting of it whatever the value's
length; addresses and networks also carry the 32-hex address key tenancy and feeds use,
so "addresses inside this network" is one index range scan.

Matching beyond the exact value:
- an address matches the networks containing it, and a network the addresses and
  smaller networks inside it (lookups probe only the prefix lengths actually stored);
- a domain matches its parent domains (``a.b.example`` finds ``b.example``);
- a URL is also stored under its host, so a URL matches its host's domain or address
  (and that domain's parents), and a domain finds the URLs on it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.errors import Invalid
from certhub.incidents.choices import ObservableKind
from certhub.incidents.observables import FILE_EXTENSIONS, Indicator, normalise
from certhub.tenancy.assets import address_key


class KeyKind(models.TextChoices):
    """What an index key is (addresses of both families share one kind)."""

    IP = "ip", _("IP address")
    CIDR = "cidr", _("IP network")
    DOMAIN = "domain", _("Domain")
    URL = "url", _("URL")
    EMAIL = "email", _("E-mail address")
    MD5 = "md5", _("MD5 hash")
    SHA1 = "sha1", _("SHA-1 hash")
    SHA256 = "sha256", _("SHA-256 hash")
    ASN = "asn", _("Autonomous system")
    CVE = "cve", _("CVE identifier")
    FILE = "file", _("File name")


class Via(models.TextChoices):
    """How a sighting matched the value looked up."""

    EXACT = "exact", _("same value")
    PARENT = "parent", _("parent domain")
    NETWORK = "network", _("in a network")
    INSIDE = "inside", _("inside this network")
    HOST = "host", _("URL host")


_OBSERVABLE_KIND = {
    ObservableKind.IPV4: KeyKind.IP,
    ObservableKind.IPV6: KeyKind.IP,
    ObservableKind.CIDR: KeyKind.CIDR,
    ObservableKind.DOMAIN: KeyKind.DOMAIN,
    ObservableKind.URL: KeyKind.URL,
    ObservableKind.EMAIL: KeyKind.EMAIL,
    ObservableKind.MD5: KeyKind.MD5,
    ObservableKind.SHA1: KeyKind.SHA1,
    ObservableKind.SHA256: KeyKind.SHA256,
    ObservableKind.ASN: KeyKind.ASN,
    ObservableKind.CVE: KeyKind.CVE,
    ObservableKind.FILENAME: KeyKind.FILE,
}
# The observable kind a key kind is entered as (search pages, per-value pages).
KEY_TO_OBSERVABLE = {
    KeyKind.CIDR: ObservableKind.CIDR,
    KeyKind.DOMAIN: ObservableKind.DOMAIN,
    KeyKind.URL: ObservableKind.URL,
    KeyKind.EMAIL: ObservableKind.EMAIL,
    KeyKind.MD5: ObservableKind.MD5,
    KeyKind.SHA1: ObservableKind.SHA1,
    KeyKind.SHA256: ObservableKind.SHA256,
    KeyKind.ASN: ObservableKind.ASN,
    KeyKind.CVE: ObservableKind.CVE,
    KeyKind.FILE: ObservableKind.FILENAME,
}


def key_hash(kind: str, value: str) -> int:
    """BLAKE2b-64 of the key as a signed 64-bit integer (fits a BIGINT column). Two
    different keys collide with probability about n^2 / 2^65; a collision only adds a
    sighting that the stored value (kept next to the hash) lets a reader drop."""
    digest = hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Entry(NamedTuple):
    """One row's worth of index key for a stored value (a tuple: millions are made)."""

    kind: str
    value: str
    hash: int
    ip_key: str | None = None  # 32 hex digits: an address, or a network's first address
    prefix_len: int | None = None  # networks only


class Probe(NamedTuple):
    """One exact key a lookup reads, and how a sighting under it matches."""

    hash: int
    kind: str
    value: str
    via: str


@dataclass(frozen=True)
class RangeProbe:
    """Addresses and networks inside a network: a range scan on the address key."""

    start: str
    end: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network


def ipv4_int(text: str) -> int | None:
    """A canonical dotted-quad IPv4 address as an integer, without ``ipaddress`` (the
    hot path of feeds and batch correlation): ``inet_pton`` is as strict as
    ``ipaddress`` (no leading zeros, no short forms). None for anything else."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text))
    except (OSError, ValueError, TypeError):
        return None


def ipv6_int(text: str) -> int | None:
    """An IPv6 address in its canonical compressed form as an integer; None otherwise."""
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError, TypeError):
        return None
    if "." in text or socket.inet_ntop(socket.AF_INET6, packed) != text:
        return None
    return int.from_bytes(packed)


def _dotted(number: int) -> str:
    return f"{number >> 24}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def _ipv4_entry(number: int) -> Entry:
    value = _dotted(number)
    return Entry("ip", value, key_hash("ip", value), f"{0xFFFF_0000_0000 | number:032x}")


def _ipv4_network_probes(number: int, own: int, prefixes: list[tuple[int, int]]) -> list[Probe]:
    probes = []
    for version, length in prefixes:
        if version != 4 or length >= own:
            continue
        mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
        supernet = f"{_dotted(number & mask)}/{length}"
        probes.append(Probe(key_hash("cidr", supernet), "cidr", supernet, "network"))
    return probes


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _ip_entry(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Entry:
    value = address.compressed
    return Entry(KeyKind.IP, value, key_hash(KeyKind.IP, value), ip_key=address_key(address))


def _network_entry(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Entry:
    if network.prefixlen == network.max_prefixlen:
        return _ip_entry(network.network_address)
    value = str(network)
    return Entry(
        KeyKind.CIDR,
        value,
        key_hash(KeyKind.CIDR, value),
        ip_key=address_key(network.network_address),
        prefix_len=network.prefixlen,
    )


def _plain(kind: str, value: str) -> Entry:
    return Entry(kind, value, key_hash(kind, value))


def _host_entry(url: str) -> Entry | None:
    host = urlsplit(url).hostname
    if not host:
        return None
    number = ipv4_int(host)
    if number is not None:
        return _ipv4_entry(number)
    try:
        return _ip_entry(_address(host))
    except ValueError:
        return _plain(KeyKind.DOMAIN, host)


_KIND_OF = {str(k): str(v) for k, v in _OBSERVABLE_KIND.items()}
_HEX = re.compile(r"[0-9a-f]+")
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
_PLAIN_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}")


# A URL already in the form ``normalise`` gives (lower-case scheme and host, a path,
# nothing it would refang or strip): it is its own canonical form.
_PLAIN_URL = re.compile(
    r"(?:https?|ftp)://([a-z0-9.-]+)(?::([0-9]{1,5}))?/[^\s?#\[\](){}<>'\"`]*"
    r"(?:\?[^\s#\[\](){}<>'\"`]+)?(?:#[^\s\[\](){}<>'\"`]+)?"
)


def _plain_url(raw: str) -> bool:
    match = _PLAIN_URL.fullmatch(raw)
    if match is None or raw[-1] in ".,;:!?)]}>'\"":
        return False
    host, port = match.group(1), match.group(2)
    if port is not None and (int(port) > 65535 or port[0] == "0"):
        return False
    if ipv4_int(host) is not None:
        return True
    return bool(_PLAIN_DOMAIN.fullmatch(host)) and host.rsplit(".", 1)[-1] not in FILE_EXTENSIONS


def canonical(kind: str, raw: str) -> Indicator:
    """``normalise`` (incidents) with fast paths for values already in canonical form,
    the bulk of feed data: IPv4 addresses, lower-case ASCII domains, lower-case hashes.
    Anything else goes through ``normalise`` and its checks; Invalid as it raises."""
    if kind == "ipv4" and ipv4_int(raw) is not None:
        return Indicator("ipv4", raw)
    if kind == "ipv6" and ipv6_int(raw) is not None:
        return Indicator("ipv6", raw)
    if kind in _HASH_LENGTHS and len(raw) == _HASH_LENGTHS[kind] and _HEX.fullmatch(raw):
        return Indicator(kind, raw)
    if (
        kind == "domain"
        and len(raw) <= 253
        and _PLAIN_DOMAIN.fullmatch(raw)
        and raw.rsplit(".", 1)[-1] not in FILE_EXTENSIONS
    ):
        return Indicator("domain", raw)
    if kind == "url" and _plain_url(raw):
        return Indicator("url", raw)
    return normalise(kind, raw)


def entries_for(indicator: Indicator) -> list[Entry]:
    """The keys a normalised indicator is stored under (a URL also under its host)."""
    kind = _KIND_OF[indicator.kind]
    value = indicator.value
    if kind == KeyKind.IP:
        number = ipv4_int(value)
        if number is not None:
            return [_ipv4_entry(number)]
        number = ipv6_int(value)
        if number is not None and number >> 32 != 0xFFFF:  # not IPv4-mapped
            return [Entry("ip", value, key_hash("ip", value), f"{number:032x}")]
        return [_ip_entry(_address(value))]
    if kind == KeyKind.CIDR:
        return [_network_entry(ipaddress.ip_network(value, strict=False))]
    if kind == KeyKind.URL:
        host = _host_entry(value)
        return [_plain(kind, value), *([host] if host else [])]
    return [_plain(kind, value)]


def entries_for_value(kind: str, raw: str) -> list[Entry]:
    """Keys of a raw value of an observable kind (Invalid when it does not parse)."""
    return entries_for(normalise(kind, raw))


def parent_domains(domain: str) -> list[str]:
    """``a.b.example`` -> ``[b.example]``: parents with at least two labels (a top-level
    domain alone is never an indicator)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]


def _network_probes(
    address_or_network: ipaddress.IPv4Address
    | ipaddress.IPv6Address
    | ipaddress.IPv4Network
    | ipaddress.IPv6Network,
    prefixes: Iterable[tuple[int, int]],
    via: str,
) -> list[Probe]:
    """The stored networks that could contain it: one probe per stored prefix length."""
    version = 6 if ":" in str(address_or_network) else 4
    if not any(v == version for v, _length in prefixes):
        return []
    own: int
    if isinstance(address_or_network, ipaddress.IPv4Address | ipaddress.IPv6Address):
        base = ipaddress.ip_network(address_or_network)
    else:
        base = address_or_network
    version, own = base.version, base.prefixlen
    probes = []
    for prefix_version, length in prefixes:
        if prefix_version != version or length >= own:
            continue
        supernet = str(base.supernet(new_prefix=length))
        probes.append(Probe(key_hash(KeyKind.CIDR, supernet), KeyKind.CIDR, supernet, via))
    return probes


def _domain_probes(domain: str, via: str) -> list[Probe]:
    probes = [Probe(key_hash(KeyKind.DOMAIN, domain), KeyKind.DOMAIN, domain, via)]
    for parent in parent_domains(domain):
        probes.append(Probe(key_hash(KeyKind.DOMAIN, parent), KeyKind.DOMAIN, parent, Via.PARENT))
    return probes


def probes_for(
    indicator: Indicator, prefixes: Iterable[tuple[int, int]] = ()
) -> tuple[list[Probe], RangeProbe | None]:
    """What a lookup of ``indicator`` reads: exact keys (the value, its parents, the
    networks around it, its URL host) and, for a network, the range inside it.
    ``prefixes``: the (IP version, prefix length) pairs of the networks stored."""
    prefixes = list(prefixes)
    if indicator.kind == "ipv4":  # the common case, without ipaddress
        number = ipv4_int(indicator.value)
        if number is not None:
            value = indicator.value
            exact = Probe(key_hash("ip", value), "ip", value, "exact")
            return [exact, *_ipv4_network_probes(number, 32, prefixes)], None
    probes: list[Probe] = []
    range_probe: RangeProbe | None = None
    for entry in entries_for(indicator):
        via = (
            Via.EXACT
            if entry.kind == _OBSERVABLE_KIND[ObservableKind(indicator.kind)]
            else Via.HOST
        )
        if entry.kind == KeyKind.IP:
            probes.append(Probe(entry.hash, entry.kind, entry.value, via))
            number = ipv4_int(entry.value)
            if number is not None:
                probes += _ipv4_network_probes(number, 32, prefixes)
            elif any(version == 6 for version, _length in prefixes):
                probes += _network_probes(_address(entry.value), prefixes, Via.NETWORK)
        elif entry.kind == KeyKind.CIDR:
            network = ipaddress.ip_network(entry.value)
            probes.append(Probe(entry.hash, entry.kind, entry.value, via))
            probes += _network_probes(network, prefixes, Via.NETWORK)
            range_probe = RangeProbe(
                address_key(network.network_address),
                address_key(network.broadcast_address),
                network,
            )
        elif entry.kind == KeyKind.DOMAIN:
            probes += _domain_probes(entry.value, via)
        else:
            probes.append(Probe(entry.hash, entry.kind, entry.value, via))
    return probes, range_probe


def inside(network: ipaddress.IPv4Network | ipaddress.IPv6Network, kind: str, value: str) -> bool:
    """Whether a stored address or network lies inside ``network`` (a range scan's row
    check: the address key range also holds bigger networks starting there)."""
    try:
        if kind == KeyKind.IP:
            return _address(value) in network
        other = ipaddress.ip_network(value)
    except ValueError:
        return False
    return other.version == network.version and other.subnet_of(network)  # type: ignore[arg-type]


def parse_key(kind: str, value: str) -> Indicator:
    """A value addressed by an observable kind or a key kind (the per-value page's URL),
    normalised; Invalid otherwise."""
    if kind in ObservableKind.values and kind != ObservableKind.IPV4:
        return normalise(kind, value)
    if kind in (KeyKind.IP, ObservableKind.IPV4):
        try:
            address = _address(value.strip())
        except ValueError as exc:
            raise Invalid(_("%(value)s is not an IP address.") % {"value": value[:100]}) from exc
        observable_kind = ObservableKind.IPV4 if address.version == 4 else ObservableKind.IPV6
        return normalise(observable_kind, str(address))
    if kind not in KEY_TO_OBSERVABLE:
        raise Invalid(_("Unknown indicator type %(kind)s.") % {"kind": kind[:20]})
    return normalise(KEY_TO_OBSERVABLE[KeyKind(kind)], value)


def key_of(indicator: Indicator) -> Entry:
    """The indicator's own key (the first of its entries)."""
    return entries_for(indicator)[0]
