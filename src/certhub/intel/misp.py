"""MISP event JSON in and out.

An incident becomes a MISP event: its observables are attributes with a MISP type and
category, the event carries ``tlp:`` and ``rsit:`` tags (RSIT machine tags read
``rsit:<category>="<type>"``), and the MISP distribution follows the TLP label (RED and
AMBER+STRICT: this organization only; AMBER: this community; GREEN: connected
communities; CLEAR: all communities). Event ids are the incident's id, attribute ids the
observable's; their UUIDs are derived from the reference and the value (stable).

A MISP event read back gives an import plan (``stix.ImportPlan``): attributes of known
types become candidates with the TLP of their own ``tlp:`` tag or the event's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.incidents.choices import ObservableKind
from certhub.incidents.models import Incident, Observable
from certhub.intel.stix import NAMESPACE, ImportPlan
from certhub.tenancy.tlp import TLP, strictest

# certhub observable kind -> (MISP type, MISP category)
MISP_TYPES = {
    ObservableKind.IPV4: ("ip-dst", "Network activity"),
    ObservableKind.IPV6: ("ip-dst", "Network activity"),
    ObservableKind.CIDR: ("ip-dst", "Network activity"),
    ObservableKind.DOMAIN: ("domain", "Network activity"),
    ObservableKind.URL: ("url", "Network activity"),
    ObservableKind.EMAIL: ("email-src", "Payload delivery"),
    ObservableKind.MD5: ("md5", "Payload delivery"),
    ObservableKind.SHA1: ("sha1", "Payload delivery"),
    ObservableKind.SHA256: ("sha256", "Payload delivery"),
    ObservableKind.ASN: ("AS", "Network activity"),
    ObservableKind.CVE: ("vulnerability", "External analysis"),
    ObservableKind.FILENAME: ("filename", "Payload delivery"),
}
# MISP type -> certhub kind (None: guess between IPv4, IPv6 and CIDR from the value)
KINDS_OF_MISP_TYPE: dict[str, str | None] = {
    "ip-dst": None,
    "ip-src": None,
    "domain": ObservableKind.DOMAIN,
    "hostname": ObservableKind.DOMAIN,
    "url": ObservableKind.URL,
    "link": ObservableKind.URL,
    "email-src": ObservableKind.EMAIL,
    "email-dst": ObservableKind.EMAIL,
    "email": ObservableKind.EMAIL,
    "md5": ObservableKind.MD5,
    "sha1": ObservableKind.SHA1,
    "sha256": ObservableKind.SHA256,
    "AS": ObservableKind.ASN,
    "vulnerability": ObservableKind.CVE,
    "filename": ObservableKind.FILENAME,
}
# TLP -> MISP distribution (0 your organisation only .. 3 all communities)
DISTRIBUTION = {
    TLP.RED: "0",
    TLP.AMBER_STRICT: "0",
    TLP.AMBER: "1",
    TLP.GREEN: "2",
    TLP.CLEAR: "3",
}
INHERIT_DISTRIBUTION = "5"
# MISP threat level (1 high .. 4 undefined) from certhub priority (0 .. 5)
_THREAT_LEVEL = {0: "4", 1: "3", 2: "3", 3: "2", 4: "1", 5: "1"}
TAG_COLOURS = {
    TLP.CLEAR: "#ffffff",
    TLP.GREEN: "#33ff00",
    TLP.AMBER: "#ffc000",
    TLP.AMBER_STRICT: "#ffc000",
    TLP.RED: "#ff2b2b",
}


def tlp_tag(tlp: str) -> dict[str, Any]:
    label = TLP(tlp)
    return {"name": f"tlp:{label.value.lower()}", "colour": TAG_COLOURS[label], "exportable": True}


def _tlp_of_tags(tags: Any) -> str | None:
    labels = []
    for tag in tags if isinstance(tags, list) else ():
        name = str(tag.get("name", "") if isinstance(tag, dict) else tag).strip().lower()
        if name.startswith("tlp:"):
            level = name[4:].upper().replace("WHITE", "CLEAR")
            if level in TLP.values:
                labels.append(level)
    return strictest(*labels) if labels else None


def event_uuid(incident: Incident) -> str:
    return str(uuid.uuid5(NAMESPACE, f"misp-event|{incident.reference}"))


def _epoch(value: dt.datetime) -> str:
    return str(int(value.timestamp()))


def attribute(incident: Incident, observable: Observable) -> dict[str, Any]:
    misp_type, category = MISP_TYPES[ObservableKind(observable.kind)]
    own_label = observable.tlp != incident.tlp
    return {
        "id": str(observable.pk),
        "event_id": str(incident.pk),
        "object_id": "0",
        "uuid": str(
            uuid.uuid5(
                NAMESPACE,
                f"misp-attribute|{incident.reference}|{observable.kind}|{observable.value}",
            )
        ),
        "type": misp_type,
        "category": category,
        "value": observable.value,
        "to_ids": observable.kind not in (ObservableKind.CVE, ObservableKind.FILENAME),
        "distribution": DISTRIBUTION[TLP(observable.tlp)] if own_label else INHERIT_DISTRIBUTION,
        "sharing_group_id": "0",
        "comment": observable.comment,
        "deleted": False,
        "disable_correlation": False,
        "timestamp": _epoch(observable.created_at),
        "Tag": [tlp_tag(observable.tlp)],
    }


def event(incident: Incident, observables: Iterable[Observable]) -> dict[str, Any]:
    """The incident as a MISP event (the ``Event`` object, without its wrapper)."""
    team = incident.handling_team
    org = {
        "id": str(team.pk),
        "name": team.name,
        "uuid": str(uuid.uuid5(NAMESPACE, f"misp-org|{team.slug}")),
        "local": True,
    }
    tags = [tlp_tag(incident.tlp)]
    if incident.category:
        machine_tag = f"rsit:{incident.category}"
        if incident.type:
            machine_tag += f'="{incident.type}"'
        tags.append({"name": machine_tag, "colour": "#004080", "exportable": True})
    attributes = [attribute(incident, o) for o in observables]
    return {
        "id": str(incident.pk),
        "uuid": event_uuid(incident),
        "info": f"{incident.reference} {incident.title}"[:300],
        "date": incident.reported_at.date().isoformat(),
        "timestamp": _epoch(incident.updated_at),
        "publish_timestamp": "0",
        "published": False,
        "analysis": "2" if incident.status in ("resolved", "closed") else "1",
        "threat_level_id": _THREAT_LEVEL.get(incident.priority, "4"),
        "distribution": DISTRIBUTION[TLP(incident.tlp)],
        "sharing_group_id": "0",
        "org_id": org["id"],
        "orgc_id": org["id"],
        "Org": org,
        "Orgc": org,
        "attribute_count": str(len(attributes)),
        "Attribute": attributes,
        "Object": [],
        "Tag": tags,
    }


def _kind_for(misp_type: str, value: str) -> str | None:
    if misp_type not in KINDS_OF_MISP_TYPE:
        return None
    kind = KINDS_OF_MISP_TYPE[misp_type]
    if kind is not None:
        return kind
    if "/" in value:
        return ObservableKind.CIDR
    return ObservableKind.IPV6 if ":" in value else ObservableKind.IPV4


def plan_event(data: Any, *, default_tlp: str = TLP.AMBER) -> ImportPlan:
    """Read a MISP event (``{"Event": {...}}`` or the bare event) into an import plan."""
    if isinstance(data, dict) and isinstance(data.get("Event"), dict):
        data = data["Event"]
    if not isinstance(data, dict) or not isinstance(data.get("Attribute", []), list):
        raise Invalid(_("This is not a MISP event (an object with an Attribute list)."))
    event_tlp = _tlp_of_tags(data.get("Tag")) or default_tlp
    plan = ImportPlan(title=str(data.get("info", ""))[:300])
    attributes = list(data.get("Attribute") or [])
    for obj in data.get("Object") or []:
        if isinstance(obj, dict) and isinstance(obj.get("Attribute"), list):
            attributes += obj["Attribute"]
    for item in attributes:
        if not isinstance(item, dict):
            plan.refused.append({"source": "?", "reason": _("Not a MISP attribute.")})
            continue
        misp_type, value = str(item.get("type", "")), str(item.get("value", ""))
        source = f"{misp_type}:{value}"[:200]
        kind = _kind_for(misp_type, value)
        if kind is None:
            plan.refused.append(
                {
                    "source": source,
                    "reason": _("Attributes of type %(type)s are not taken.")
                    % {"type": misp_type[:60]},
                }
            )
            continue
        label = _tlp_of_tags(item.get("Tag")) or event_tlp
        plan.take(kind, value, label, source)
    return plan
