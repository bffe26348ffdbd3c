"""STIX 2.1 in and out (built and parsed with the OASIS ``stix2`` library).

Export: each observable becomes an indicator with a STIX pattern, the cyber-observable it
describes, an observed-data object and a sighting of the indicator by the producing team
(its identity); a CVE becomes a vulnerability. Every object carries its TLP 2.0 marking
(the OASIS TLP 2.0 extension's marking-definitions, with their published ids). Ids are
derived from the incident and the value, so exporting twice gives the same objects.

Import: indicators with simple equality patterns, cyber-observables and vulnerabilities
are read into (kind, value, TLP) candidates; everything else is refused with a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import stix2
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.incidents.choices import ObservableKind
from certhub.incidents.observables import normalise
from certhub.tenancy.tlp import TLP, strictest

# The OASIS TLP 2.0 extension (cti-stix-common-objects, extension-definition-specifications
# /tlp-2.0): its extension id and the five marking-definitions it publishes.
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_MARKING_IDS = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# STIX 2.1's own TLP 1.0 markings, understood on import (WHITE is CLEAR).
_TLP1_MARKING_IDS = {
    stix2.v21.TLP_WHITE.id: TLP.CLEAR,
    stix2.v21.TLP_GREEN.id: TLP.GREEN,
    stix2.v21.TLP_AMBER.id: TLP.AMBER,
    stix2.v21.TLP_RED.id: TLP.RED,
}
TLP_BY_MARKING_ID = {v: k for k, v in TLP2_MARKING_IDS.items()} | _TLP1_MARKING_IDS

# Ids of the objects certhub makes: uuid5 in this namespace (stable across exports).
NAMESPACE = uuid.UUID("2f4c3a51-8d0b-4f7e-9a53-6c1f0e2b7d11")
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

_HASH_NAMES: dict[str, str] = {
    ObservableKind.MD5: "MD5",
    ObservableKind.SHA1: "SHA-1",
    ObservableKind.SHA256: "SHA-256",
}


def tlp_marking(tlp: str) -> stix2.v21.MarkingDefinition:
    """The OASIS TLP 2.0 marking-definition of a certhub label."""
    label = TLP(tlp)
    return stix2.v21.MarkingDefinition(
        id=TLP2_MARKING_IDS[label],
        created=TLP2_CREATED,
        name=label.label,
        extensions={
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": label.value.lower(),
            }
        },
    )


def stable_id(kind: str, *parts: str) -> str:
    """A STIX id derived from ``parts``: the same on every export, and shaped as the
    UUIDv4 STIX 2.1 asks of objects that are not cyber-observables."""
    digest = uuid.uuid5(NAMESPACE, "|".join(parts)).bytes
    return f"{kind}--{uuid.UUID(bytes=digest, version=4)}"


def team_identity(slug: str, name: str) -> stix2.v21.Identity:
    """The producing CERT as a STIX identity (same id on every export)."""
    return stix2.v21.Identity(
        id=stable_id("identity", "team", slug),
        created=TLP2_CREATED,
        modified=TLP2_CREATED,
        name=name,
        identity_class="organization",
        sectors=["government"],
    )


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _observable_parts(kind: str, value: str) -> tuple[str, dict[str, Any]] | None:
    """The pattern and the cyber-observable of one value (None for a CVE)."""
    if kind in (ObservableKind.IPV4, ObservableKind.IPV6, ObservableKind.CIDR):
        sco_type = "ipv6-addr" if ":" in value else "ipv4-addr"
        return f"[{sco_type}:value = {_quote(value)}]", {"type": sco_type, "value": value}
    if kind == ObservableKind.DOMAIN:
        return f"[domain-name:value = {_quote(value)}]", {"type": "domain-name", "value": value}
    if kind == ObservableKind.URL:
        return f"[url:value = {_quote(value)}]", {"type": "url", "value": value}
    if kind == ObservableKind.EMAIL:
        return f"[email-addr:value = {_quote(value)}]", {"type": "email-addr", "value": value}
    if kind in _HASH_NAMES:
        name = _HASH_NAMES[kind]
        return f"[file:hashes.'{name}' = {_quote(value)}]", {
            "type": "file",
            "hashes": {name: value},
        }
    if kind == ObservableKind.ASN:
        number = int(value.removeprefix("AS"))
        return f"[autonomous-system:number = {number}]", {
            "type": "autonomous-system",
            "number": number,
        }
    if kind == ObservableKind.FILENAME:
        return f"[file:name = {_quote(value)}]", {"type": "file", "name": value}
    return None


@dataclass(frozen=True)
class ExportItem:
    """One value to export, with its label, when it was seen and in which incident."""

    kind: str
    value: str
    tlp: str
    seen_at: dt.datetime
    context: str  # the incident reference (or another stable source name)
    comment: str = ""


def objects_for(item: ExportItem, producer: stix2.v21.Identity) -> list[Any]:
    """The STIX objects of one value, labelled with its TLP marking."""
    marking = [TLP2_MARKING_IDS[TLP(item.tlp)]]
    seen = item.seen_at.astimezone(dt.UTC)
    key = (item.context, item.kind, item.value)
    if item.kind == ObservableKind.CVE:
        return [
            stix2.v21.Vulnerability(
                id=stable_id("vulnerability", *key),
                created=seen,
                modified=seen,
                created_by_ref=producer.id,
                name=item.value,
                external_references=[{"source_name": "cve", "external_id": item.value}],
                object_marking_refs=marking,
            )
        ]
    parts = _observable_parts(item.kind, item.value)
    if parts is None:
        return []
    pattern, sco_fields = parts
    sco = stix2.parse(
        sco_fields | {"spec_version": "2.1", "object_marking_refs": marking}, allow_custom=False
    )
    indicator = stix2.v21.Indicator(
        id=stable_id("indicator", *key),
        created=seen,
        modified=seen,
        created_by_ref=producer.id,
        name=f"{ObservableKind(item.kind).label}: {item.value}"[:250],
        description=item.comment or _("Seen in %(context)s.") % {"context": item.context},
        indicator_types=["malicious-activity"],
        pattern=pattern,
        pattern_type="stix",
        valid_from=seen,
        labels=[f"certhub:{item.context}"],
        object_marking_refs=marking,
    )
    observed = stix2.v21.ObservedData(
        id=stable_id("observed-data", *key),
        created=seen,
        modified=seen,
        created_by_ref=producer.id,
        first_observed=seen,
        last_observed=seen,
        number_observed=1,
        object_refs=[sco.id],
        object_marking_refs=marking,
    )
    sighting = stix2.v21.Sighting(
        id=stable_id("sighting", *key),
        created=seen,
        modified=seen,
        created_by_ref=producer.id,
        first_seen=seen,
        last_seen=seen,
        count=1,
        sighting_of_ref=indicator.id,
        observed_data_refs=[observed.id],
        where_sighted_refs=[producer.id],
        object_marking_refs=marking,
    )
    return [indicator, sco, observed, sighting]


def build_bundle(
    items: Sequence[ExportItem],
    *,
    producer_slug: str,
    producer_name: str,
    grouping: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A STIX 2.1 bundle (as JSON data) of ``items`` made by the team ``producer``.
    ``grouping`` (name, context key) adds a grouping of everything, e.g. the incident."""
    producer = team_identity(producer_slug, producer_name)
    objects: list[Any] = [producer]
    labels: set[str] = set()
    seen_ids: set[str] = {producer.id}
    for item in items:
        labels.add(item.tlp)
        for obj in objects_for(item, producer):
            if obj.id not in seen_ids:
                seen_ids.add(obj.id)
                objects.append(obj)
    if grouping and len(objects) > 1:
        name, key = grouping
        label = strictest(*labels) if labels else TLP.CLEAR
        labels.add(label)
        first = min((item.seen_at for item in items), default=dt.datetime.now(dt.UTC))
        objects.append(
            stix2.v21.Grouping(
                id=stable_id("grouping", key),
                created=first,
                modified=first,
                created_by_ref=producer.id,
                name=name[:250],
                context="suspicious-activity",
                object_refs=[obj.id for obj in objects[1:]],
                object_marking_refs=[TLP2_MARKING_IDS[TLP(label)]],
            )
        )
    markings = [tlp_marking(label) for label in sorted(labels)]
    bundle = stix2.v21.Bundle(objects=[*markings, *objects], allow_custom=False)
    return json.loads(bundle.serialize())


# --- Import ---------------------------------------------------------------------------

_SCO_KINDS = {
    "ipv4-addr": ObservableKind.IPV4,
    "ipv6-addr": ObservableKind.IPV6,
    "domain-name": ObservableKind.DOMAIN,
    "url": ObservableKind.URL,
    "email-addr": ObservableKind.EMAIL,
}
_HASH_KINDS = {
    "md5": ObservableKind.MD5,
    "sha-1": ObservableKind.SHA1,
    "sha1": ObservableKind.SHA1,
    "sha-256": ObservableKind.SHA256,
    "sha256": ObservableKind.SHA256,
}
_COMPARISON = re.compile(
    r"""\s*([a-z0-9-]+):([a-z_]+(?:\.(?:'[^']+'|[a-z0-9_-]+))?)\s*=\s*('(?:[^'\\]|\\.)*'|\d+)\s*""",
    re.I,
)
_IGNORED_TYPES = {
    "marking-definition",
    "identity",
    "observed-data",
    "sighting",
    "grouping",
    "relationship",
    "report",
    "note",
    "opinion",
    "extension-definition",
    "language-content",
}


@dataclass
class ImportPlan:
    """What a bundle (or a MISP event) offers: candidates to take, and what is refused."""

    candidates: list[tuple[str, str, str]] = field(default_factory=list)  # kind, value, tlp
    refused: list[dict[str, str]] = field(default_factory=list)  # id/value and reason
    title: str = ""

    def take(self, kind: str, raw: str, tlp: str, source: str) -> None:
        try:
            indicator = normalise(kind, raw)
        except Invalid as exc:
            self.refused.append({"source": source, "reason": exc.message})
            return
        for index, (kind_, value, label) in enumerate(self.candidates):
            if (kind_, value) == (indicator.kind, indicator.value):
                self.candidates[index] = (kind_, value, strictest(label, tlp))
                return
        self.candidates.append((str(indicator.kind), indicator.value, str(tlp)))


def _unquote(literal: str) -> str:
    if literal.startswith("'"):
        return re.sub(r"\\(.)", r"\1", literal[1:-1])
    return literal


def _kind_of_path(sco_type: str, path: str, value: str) -> str | None:
    if sco_type in _SCO_KINDS and path == "value":
        if sco_type in ("ipv4-addr", "ipv6-addr") and "/" in value:
            return ObservableKind.CIDR
        return _SCO_KINDS[sco_type]
    if sco_type == "file" and path.startswith("hashes."):
        return _HASH_KINDS.get(path.split(".", 1)[1].strip("'").lower())
    if sco_type == "file" and path == "name":
        return ObservableKind.FILENAME
    if sco_type == "autonomous-system" and path == "number":
        return ObservableKind.ASN
    return None


def _pattern_values(pattern: str) -> list[tuple[str, str]] | None:
    """(kind, value) of each equality in a pattern of ORed equalities; None otherwise."""
    text = pattern.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    found = []
    for part in re.split(r"\]\s+OR\s+\[|\s+OR\s+", text[1:-1]):
        match = _COMPARISON.fullmatch(part)
        if not match:
            return None
        sco_type, path, literal = match.groups()
        value = _unquote(literal)
        kind = _kind_of_path(sco_type.lower(), path, value)
        if kind is None:
            return None
        found.append((kind, value))
    return found


def tlp_of(obj: dict[str, Any], default: str) -> str:
    labels = [
        TLP_BY_MARKING_ID[ref]
        for ref in obj.get("object_marking_refs") or ()
        if isinstance(ref, str) and ref in TLP_BY_MARKING_ID
    ]
    return strictest(*labels) if labels else default


def plan_bundle(data: Any, *, default_tlp: str = TLP.AMBER) -> ImportPlan:
    """Read a STIX 2.1 bundle (parsed JSON) into an import plan. A document that is not a
    STIX 2.1 bundle is Invalid; objects certhub cannot use are listed as refused."""
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise Invalid(_('This is not a STIX 2.1 bundle (type must be "bundle").'))
    objects = data.get("objects") or []
    if not isinstance(objects, list):
        raise Invalid(_("The bundle's objects must be a list."))
    plan = ImportPlan()
    for obj in objects:
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            plan.refused.append({"source": "?", "reason": _("Not a STIX object.")})
            continue
        kind, source = obj["type"], str(obj.get("id", obj["type"]))[:200]
        tlp = tlp_of(obj, default_tlp)
        if kind == "grouping" or kind == "report":
            plan.title = plan.title or str(obj.get("name", ""))[:300]
        if kind == "indicator":
            if obj.get("pattern_type", "stix") != "stix" or not isinstance(obj.get("pattern"), str):
                plan.refused.append({"source": source, "reason": _("Not a STIX pattern.")})
                continue
            values = _pattern_values(obj["pattern"])
            if values is None:
                plan.refused.append(
                    {
                        "source": source,
                        "reason": _(
                            "Only equality patterns on addresses, domains, URLs, "
                            "e-mail addresses, hashes, file names and AS numbers "
                            "are taken."
                        ),
                    }
                )
                continue
            for value_kind, value in values:
                plan.take(value_kind, value, tlp, source)
        elif kind in _SCO_KINDS and isinstance(obj.get("value"), str):
            plan.take(_kind_of_path(kind, "value", obj["value"]) or "", obj["value"], tlp, source)
        elif kind == "file":
            hashes = obj.get("hashes")
            for name, value in (hashes if isinstance(hashes, dict) else {}).items():
                hash_kind = _HASH_KINDS.get(str(name).lower())
                if hash_kind and isinstance(value, str):
                    plan.take(hash_kind, value, tlp, source)
            if isinstance(obj.get("name"), str):
                plan.take(ObservableKind.FILENAME, obj["name"], tlp, source)
        elif kind == "autonomous-system" and isinstance(obj.get("number"), int):
            plan.take(ObservableKind.ASN, str(obj["number"]), tlp, source)
        elif kind == "vulnerability":
            cves = [
                ref.get("external_id")
                for ref in obj.get("external_references") or ()
                if isinstance(ref, dict) and ref.get("source_name") == "cve"
            ] or [obj.get("name")]
            for cve in cves:
                plan.take(ObservableKind.CVE, str(cve or ""), tlp, source)
        elif kind not in _IGNORED_TYPES:
            plan.refused.append(
                {
                    "source": source,
                    "reason": _("Objects of type %(type)s are not taken.") % {"type": kind[:60]},
                }
            )
    return plan


def load_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(_("The document is not valid JSON.")) from exc
