"""Indicators (observables) in pasted text: refanging, extraction and normalisation.

Reporters paste indicators the way analysts write them, defanged so nobody clicks them:
``hxxp://evil[.]com``, ``1.2.3[.]4``, ``foo(at)bar[.]com``. ``extract`` undoes the usual
defanging forms, then finds URLs, e-mail addresses, networks, addresses, hashes, CVE ids,
AS numbers, file names and domains, each once, normalised. Text consumed by a URL or an
e-mail address is not searched again for its host, so each indicator appears once in
the form it was given."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.incidents.choices import ObservableKind

# Bytes: an observable value must fit a PostgreSQL index entry.
MAX_VALUE_LENGTH = 2000

# Defanging forms, most specific first. Applied to the whole text before matching.
_REFANG = [
    (re.compile(r"\bhxxp(s?)\b", re.I), r"http\1"),
    (re.compile(r"\bfxp\b", re.I), "ftp"),
    (re.compile(r"\[:\]//|\[://\]"), "://"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}", re.I), "."),
    (re.compile(r"\[@\]|\(@\)|\{@\}|\[at\]|\(at\)|\{at\}", re.I), "@"),
    (re.compile(r"\s+\[?dot\]?\s+(?=[a-z0-9])", re.I), "."),
]

# File extensions: a token ending in one is a file name, not a domain (invoice.pdf).
_EXTENSIONS = (
    "exe dll scr bat cmd ps1 psm1 vbs vbe js jse hta lnk msi msp jar apk dmg iso img "
    "doc docx docm xls xlsx xlsm ppt pptx pdf rtf txt csv zip rar 7z gz tgz tar cab "
    "py sh pl php asp aspx jsp elf bin dat tmp log png jpg jpeg gif html htm eml one"
)
FILE_EXTENSIONS = frozenset(_EXTENSIONS.split(" "))

_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_DOMAIN = rf"(?:{_LABEL}\.)+[a-z][a-z0-9-]{{1,62}}"
_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+", re.I)
_EMAIL_RE = re.compile(rf"\b[a-z0-9][a-z0-9._%+-]{{0,63}}@{_DOMAIN}\b", re.I)
_CIDR4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}(?![\d/])")
_IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)")
# Candidate IPv6 text (also with a prefix): checked by ipaddress afterwards.
_IPV6_RE = re.compile(
    r"(?<![0-9a-f:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?(?![0-9a-f:])", re.I
)
_SHA256_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", re.I)
_SHA1_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])", re.I)
_MD5_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", re.I)
_CVE_RE = re.compile(r"\bCVE-\d{4}-\d{4,7}\b", re.I)
# Upper case only: "as 5 people" in prose is not an AS number.
_ASN_RE = re.compile(r"\bASN?\s?(\d{1,10})\b")
_FILENAME_RE = re.compile(
    rf"(?<![\w/\\.-])[\w.-]{{0,200}}\w\.(?:{'|'.join(sorted(FILE_EXTENSIONS))})(?![\w.-])", re.I
)
_DOMAIN_RE = re.compile(rf"(?<![\w@.-]){_DOMAIN}(?![\w@-])\.?", re.I)


@dataclass(frozen=True)
class Indicator:
    kind: str
    value: str


def refang(text: str) -> str:
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


def _blank(text: str, start: int, end: int) -> str:
    # Keep offsets stable: consumed text becomes spaces.
    return text[:start] + " " * (end - start) + text[end:]


def extract(text: str, *, limit: int = 500) -> list[Indicator]:
    """The indicators in ``text``, normalised, in order of first appearance, each once."""
    work = refang(text or "")
    found: list[tuple[int, Indicator]] = []
    seen: set[Indicator] = set()

    def take(pattern: re.Pattern[str], kind: str, *, group: int = 0) -> None:
        nonlocal work
        for match in list(pattern.finditer(work)):
            raw = match.group(group)
            try:
                indicator = normalise(kind, raw)
            except Invalid:
                continue
            work = _blank(work, match.start(), match.end())
            if indicator not in seen:
                seen.add(indicator)
                found.append((match.start(), indicator))

    take(_URL_RE, ObservableKind.URL)
    take(_EMAIL_RE, ObservableKind.EMAIL)
    take(_CIDR4_RE, ObservableKind.CIDR)
    take(_IPV6_RE, ObservableKind.IPV6)
    take(_IPV4_RE, ObservableKind.IPV4)
    take(_SHA256_RE, ObservableKind.SHA256)
    take(_SHA1_RE, ObservableKind.SHA1)
    take(_MD5_RE, ObservableKind.MD5)
    take(_CVE_RE, ObservableKind.CVE)
    take(_ASN_RE, ObservableKind.ASN)
    take(_FILENAME_RE, ObservableKind.FILENAME)
    take(_DOMAIN_RE, ObservableKind.DOMAIN)
    found.sort(key=lambda pair: pair[0])
    return [indicator for _start, indicator in found][:limit]


def _bad(kind: str, value: str) -> Invalid:
    return Invalid(
        _("%(value)s is not a valid %(kind)s.")
        % {"value": value[:100], "kind": ObservableKind(kind).label}
    )


def _domain(value: str) -> str:
    host = value.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _bad(ObservableKind.DOMAIN, value) from exc
    if not re.fullmatch(_DOMAIN, host) or len(host) > 253:
        raise _bad(ObservableKind.DOMAIN, value)
    if host.rsplit(".", 1)[-1] in FILE_EXTENSIONS:
        raise _bad(ObservableKind.DOMAIN, value)
    return host


def normalise(kind: str, raw: str) -> Indicator:
    """One indicator in its canonical form; Invalid (in the user's words) otherwise.
    Defanged input is accepted."""
    if kind not in ObservableKind.values:
        raise Invalid(_("Unknown observable type %(kind)s.") % {"kind": kind})
    value = refang(str(raw or "")).strip()
    if not value or len(value.encode()) > MAX_VALUE_LENGTH or "\x00" in value:
        raise _bad(kind, str(raw or "")[:100])
    try:
        if kind == ObservableKind.IPV4:
            return Indicator(kind, str(ipaddress.IPv4Address(value)))
        if kind == ObservableKind.IPV6:
            if "/" in value:
                return Indicator(
                    ObservableKind.CIDR, str(ipaddress.IPv6Network(value, strict=False))
                )
            return Indicator(kind, ipaddress.IPv6Address(value).compressed)
        if kind == ObservableKind.CIDR:
            network = ipaddress.ip_network(value, strict=False)
            return Indicator(kind, str(network))
    except ValueError as exc:
        raise _bad(kind, value) from exc
    if kind == ObservableKind.DOMAIN:
        return Indicator(kind, _domain(value))
    if kind == ObservableKind.URL:
        return Indicator(kind, _url(value))
    if kind == ObservableKind.EMAIL:
        local, sep, domain = value.rpartition("@")
        if not sep or not local or len(local) > 64 or any(c.isspace() for c in local):
            raise _bad(kind, value)
        return Indicator(kind, f"{local.lower()}@{_domain(domain)}")
    if kind in (ObservableKind.MD5, ObservableKind.SHA1, ObservableKind.SHA256):
        length = {"md5": 32, "sha1": 40, "sha256": 64}[str(kind)]
        if not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", value):
            raise _bad(kind, value)
        return Indicator(kind, value.lower())
    if kind == ObservableKind.CVE:
        if not re.fullmatch(r"CVE-\d{4}-\d{4,7}", value, re.I):
            raise _bad(kind, value)
        return Indicator(kind, value.upper())
    if kind == ObservableKind.ASN:
        match = re.fullmatch(r"(?:ASN?\s?)?(\d{1,10})", value, re.I)
        if not match or not 0 < int(match.group(1)) < 2**32:
            raise _bad(kind, value)
        return Indicator(kind, f"AS{int(match.group(1))}")
    # File name: any single path component without control characters.
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
        raise _bad(kind, value)
    return Indicator(kind, name)


def _url(value: str) -> str:
    # Trailing punctuation of the sentence around a URL is not part of it.
    value = value.rstrip(".,;:!?)]}>'\"")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise _bad(ObservableKind.URL, value) from exc
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        raise _bad(ObservableKind.URL, value)
    host = parts.hostname
    try:
        host = str(ipaddress.ip_address(host))
        if ":" in host:
            host = f"[{host}]"
    except ValueError:
        host = _domain(host)
    try:
        port = parts.port
    except ValueError as exc:
        raise _bad(ObservableKind.URL, value) from exc
    netloc = host if port is None else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit(
        (parts.scheme.lower(), netloc, parts.path or "/", parts.query, parts.fragment)
    )


def guess_kind(value: str) -> str | None:
    """The kind of a single pasted value, or None when nothing fits."""
    found = extract(value, limit=2)
    return found[0].kind if len(found) == 1 else None
