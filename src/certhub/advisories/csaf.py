"""CSAF 2.0 (OASIS Common Security Advisory Framework): turning an advisory's published
content into a ``csaf_security_advisory`` document, the provider's file layout, and
reading a vendor's CSAF document back into the fields of a draft advisory.

The document is built from the content snapshot of a revision (not from the live model),
so the same function renders a first publication, an update and a withdrawal, and the
result is stored with the revision: served bytes never change.

Texts inside the document are in English on purpose (``document.lang`` is ``en``): a
CSAF document is read by machines and by CERTs abroad, whatever the author's language.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from certhub.advisories.choices import Exploitation, RemediationCategory, Severity
from certhub.core.errors import Invalid
from certhub.tenancy.tlp import TLP

CSAF_VERSION = "2.0"
CATEGORY = "csaf_security_advisory"
TLP_URL = "https://www.first.org/tlp/"
# CSAF 2.0 knows TLP v1 labels only. TLP 2.0's CLEAR is v1's WHITE; AMBER+STRICT has no v1
# label: it goes out as AMBER with the TLP 2.0 label in distribution.text.
CSAF_TLP = {
    TLP.CLEAR: "WHITE",
    TLP.GREEN: "GREEN",
    TLP.AMBER: "AMBER",
    TLP.AMBER_STRICT: "AMBER",
    TLP.RED: "RED",
}
ALL_VERSIONS = "vers:all/*"
CVE_PATTERN = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
CVSS4_IN_TEXT = re.compile(r"CVSS:4\.0/[A-Za-z0-9:/.]+")
CVSS4_NOTE_TITLE = "CVSS v4.0"
MAX_IMPORT_BYTES = 5 * 1024 * 1024

EXPLOIT_STATUS_TEXT = {
    Exploitation.NONE_KNOWN: "No known exploitation.",
    Exploitation.PROOF_OF_CONCEPT: "A proof-of-concept exploit is public.",
    Exploitation.ACTIVE: "Exploited in the wild.",
}
REMEDIATION_FALLBACK_TEXT = {
    RemediationCategory.VENDOR_FIX: "Update to a fixed version.",
    RemediationCategory.MITIGATION: "Apply the mitigations described in this advisory.",
    RemediationCategory.NO_FIX_PLANNED: "The vendor does not plan to fix this.",
    RemediationCategory.NONE_AVAILABLE: "No fix is available yet.",
}


# --- Settings -----------------------------------------------------------------------------


def publisher_name() -> str:
    return str(getattr(settings, "CERTHUB_CSAF_PUBLISHER_NAME", "") or "National CERT")


def publisher_namespace() -> str:
    return str(getattr(settings, "CERTHUB_CSAF_PUBLISHER_NAMESPACE", "") or "https://cert.example")


def base_url() -> str:
    """Where this installation is reached from outside (``https://cert.example``): CSAF
    documents and the provider metadata carry absolute URLs."""
    return str(getattr(settings, "CERTHUB_CSAF_BASE_URL", "") or publisher_namespace()).rstrip("/")


def provider_url(path: str = "") -> str:
    return f"{base_url()}/.well-known/csaf/{path}"


def generator_version() -> str:
    try:
        return metadata.version("certhub")
    except metadata.PackageNotFoundError:
        return "0"


# --- File layout ---------------------------------------------------------------------------


def csaf_filename(tracking_id: str) -> str:
    """CSAF 2.0 section 5.1: lowercase, every character outside ``+-a-z0-9`` becomes ``_``."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def csaf_path(tracking_id: str, initial_release: dt.datetime) -> str:
    """``<year of the initial release>/<file name>``, relative to the TLP folder."""
    return f"{initial_release.astimezone(dt.UTC).year}/{csaf_filename(tracking_id)}"


def csaf_datetime(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def serialise(document: dict[str, Any]) -> str:
    """The exact text stored and served (UTF-8, two-space indent, final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- Rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RevisionEntry:
    number: int
    date: dt.datetime
    summary: str


@dataclass
class _ProductTree:
    """Products of the advisory as CSAF branches: vendor -> product_name ->
    product_version_range (affected) / product_version (fixed), one product id each."""

    vendors: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    ids: dict[tuple[str, str, str, str], str] = field(default_factory=dict)
    affected: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    def add(self, vendor: str, product: str, category: str, version: str) -> str:
        key = (vendor, product, category, version)
        if key in self.ids:
            return self.ids[key]
        product_id = f"CSAFPID-{len(self.ids) + 1:04d}"
        self.ids[key] = product_id
        self.vendors.setdefault(vendor, {}).setdefault(product, []).append(
            {
                "category": category,
                "name": version,
                "product": {"name": f"{vendor} {product} {version}", "product_id": product_id},
            }
        )
        return product_id

    def as_csaf(self) -> dict[str, Any]:
        return {
            "branches": [
                {
                    "category": "vendor",
                    "name": vendor,
                    "branches": [
                        {"category": "product_name", "name": name, "branches": leaves}
                        for name, leaves in products.items()
                    ],
                }
                for vendor, products in self.vendors.items()
            ]
        }


def _product_tree(products: Iterable[dict[str, Any]]) -> _ProductTree:
    tree = _ProductTree()
    for row in products:
        vendor, name = row["vendor"].strip(), row["product"].strip()
        versions = row.get("versions", "").strip() or ALL_VERSIONS
        affected_id = tree.add(vendor, name, "product_version_range", versions)
        if affected_id not in tree.affected:
            tree.affected.append(affected_id)
        fixed = row.get("fixed_version", "").strip()
        if fixed:
            fixed_id = tree.add(vendor, name, "product_version", fixed)
            if fixed_id not in tree.fixed:
                tree.fixed.append(fixed_id)
    return tree


def _remediations(content: dict[str, Any], tree: _ProductTree) -> list[dict[str, Any]]:
    remediations = []
    category = content.get("remediation_category") or RemediationCategory.VENDOR_FIX
    text = content.get("remediation", "").strip()
    if text or category != RemediationCategory.VENDOR_FIX or tree.fixed:
        remediations.append(
            {
                "category": category,
                "details": text or REMEDIATION_FALLBACK_TEXT[RemediationCategory(category)],
                "product_ids": list(tree.affected),
            }
        )
    workarounds = content.get("workarounds", "").strip()
    if workarounds:
        remediations.append(
            {"category": "workaround", "details": workarounds, "product_ids": list(tree.affected)}
        )
    return remediations


def _vulnerability(
    cve: dict[str, Any] | None, content: dict[str, Any], tree: _ProductTree
) -> dict[str, Any]:
    vulnerability: dict[str, Any] = {}
    if cve is not None:
        vulnerability["cve"] = cve["cve"]
    title = (cve or {}).get("title") or content["title"]
    vulnerability["title"] = title
    notes = [{"category": "description", "title": "Description", "text": title}]
    v4 = (cve or {}).get("cvss_v4")
    if v4:
        # CSAF 2.0 scores know cvss_v2 and cvss_v3 only: the v4.0 vector travels as a note.
        notes.append(
            {
                "category": "other",
                "title": CVSS4_NOTE_TITLE,
                "text": f"{v4['vector']} (base score {v4['score']}, {v4['severity']})",
            }
        )
    vulnerability["notes"] = notes
    status: dict[str, list[str]] = {"known_affected": list(tree.affected)}
    if tree.fixed:
        status["fixed"] = list(tree.fixed)
    vulnerability["product_status"] = status
    v3 = (cve or {}).get("cvss_v3")
    if v3:
        from certhub.advisories.scoring import parse_cvss_v3

        score = parse_cvss_v3(v3["vector"], cve=(cve or {}).get("cve", ""))
        vulnerability["scores"] = [{"cvss_v3": score.as_csaf(), "products": list(tree.affected)}]
    remediations = _remediations(content, tree)
    if remediations:
        vulnerability["remediations"] = remediations
    exploitation = Exploitation(content.get("exploitation") or Exploitation.NONE_KNOWN)
    vulnerability["threats"] = [
        {"category": "exploit_status", "details": EXPLOIT_STATUS_TEXT[exploitation]}
    ]
    return vulnerability


def render_document(
    content: dict[str, Any],
    *,
    history: list[RevisionEntry],
    self_url: str,
) -> dict[str, Any]:
    """The CSAF 2.0 document of one revision. ``history`` lists every revision up to and
    including this one, oldest first; ``self_url`` is where the document is served."""
    if not history:
        raise ValueError("a CSAF document needs at least its own revision")
    current = history[-1]
    tlp = TLP(content["tlp"])
    distribution: dict[str, Any] = {
        "tlp": {"label": CSAF_TLP[tlp], "url": TLP_URL},
        "text": f"{tlp.label} (TLP 2.0).",
    }
    if tlp == TLP.AMBER_STRICT:
        distribution["text"] = (
            "TLP:AMBER+STRICT (TLP 2.0): share only within the recipient organization. "
            "CSAF 2.0 knows no AMBER+STRICT label, hence TLP:AMBER above."
        )
    notes = [{"category": "summary", "title": "Summary", "text": content["summary"]}]
    if content.get("details", "").strip():
        notes.append({"category": "details", "title": "Details", "text": content["details"]})
    if content.get("withdrawn"):
        notes.append(
            {
                "category": "general",
                "title": "Withdrawn",
                "text": "This advisory has been withdrawn. "
                + (content.get("withdrawal_reason") or "").strip(),
            }
        )
    references = [{"category": "self", "summary": "This document", "url": self_url}]
    references += [
        {"category": "external", "summary": ref.get("summary") or ref["url"], "url": ref["url"]}
        for ref in content.get("references", [])
    ]
    tree = _product_tree(content.get("products", []))
    cves = content.get("cves", [])
    vulnerabilities = [_vulnerability(cve, content, tree) for cve in cves] or [
        _vulnerability(None, content, tree)
    ]
    severity = Severity(content.get("severity") or Severity.MEDIUM)
    return {
        "document": {
            "category": CATEGORY,
            "csaf_version": CSAF_VERSION,
            "lang": "en",
            "title": content["title"],
            "publisher": {
                "category": "coordinator",
                "name": publisher_name(),
                "namespace": publisher_namespace(),
            },
            "distribution": distribution,
            "aggregate_severity": {"text": severity.name.title()},
            "notes": notes,
            "references": references,
            "tracking": {
                "id": content["tracking_id"],
                "status": "final",
                "version": str(current.number),
                "initial_release_date": csaf_datetime(history[0].date),
                "current_release_date": csaf_datetime(current.date),
                "revision_history": [
                    {
                        "date": csaf_datetime(entry.date),
                        "number": str(entry.number),
                        "summary": entry.summary,
                    }
                    for entry in history
                ],
                "generator": {
                    "date": csaf_datetime(current.date),
                    "engine": {"name": "certhub", "version": generator_version()},
                },
            },
        },
        "product_tree": tree.as_csaf(),
        "vulnerabilities": vulnerabilities,
    }


# --- Import ----------------------------------------------------------------------------------


@dataclass
class ImportedAdvisory:
    """What a vendor's CSAF document says, in the terms of a draft advisory."""

    title: str
    summary: str
    details: str
    severity: str
    tlp: str
    exploitation: str
    remediation_category: str
    remediation: str
    workarounds: str
    references: list[dict[str, str]]
    products: list[dict[str, str]]
    cves: list[dict[str, str]]
    source_id: str
    source_publisher: str

    def as_fields(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "details": self.details,
            "severity": self.severity,
            "tlp": self.tlp,
            "exploitation": self.exploitation,
            "remediation_category": self.remediation_category,
            "remediation": self.remediation,
            "workarounds": self.workarounds,
            "references": self.references,
            "products": self.products,
            "cves": self.cves,
        }


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise Invalid(message)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _walk_branches(
    branches: Any, trail: dict[str, str], found: dict[str, dict[str, str]], where: str
) -> None:
    _require(isinstance(branches, list), _("%(where)s must be a list.") % {"where": where})
    for index, branch in enumerate(branches):
        here = f"{where}[{index}]"
        _require(isinstance(branch, dict), _("%(where)s must be an object.") % {"where": here})
        category, name = _text(branch.get("category")), _text(branch.get("name"))
        _require(
            bool(category and name),
            _("%(where)s needs a category and a name.") % {"where": here},
        )
        path = {**trail, category: name}
        if "product" in branch:
            product = branch["product"]
            _require(
                isinstance(product, dict) and bool(_text(product.get("product_id"))),
                _("%(where)s.product needs a product_id.") % {"where": here},
            )
            found[_text(product["product_id"])] = {**path, "_name": _text(product.get("name"))}
        if "branches" in branch:
            _walk_branches(branch["branches"], path, found, f"{here}.branches")


def _products_by_id(tree: Any) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    if tree is None:
        return found
    _require(isinstance(tree, dict), _("product_tree must be an object."))
    if "branches" in tree:
        _walk_branches(tree["branches"], {}, found, "product_tree.branches")
    for index, full in enumerate(tree.get("full_product_names") or []):
        _require(
            isinstance(full, dict) and bool(_text(full.get("product_id"))),
            _("product_tree.full_product_names[%(i)d] needs a product_id.") % {"i": index},
        )
        found[_text(full["product_id"])] = {"product_name": _text(full.get("name")), "_name": ""}
    return found


def _severity_from(document: dict[str, Any], v3_scores: list[float]) -> str:
    text = _text((document.get("aggregate_severity") or {}).get("text")).lower()
    if text in Severity.values:
        return text
    top = max(v3_scores, default=None)
    if top is None:
        return Severity.MEDIUM
    if top >= 9.0:
        return Severity.CRITICAL
    if top >= 7.0:
        return Severity.HIGH
    if top >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW


def _tlp_from(document: dict[str, Any]) -> str:
    distribution = document.get("distribution") or {}
    label = _text((distribution.get("tlp") or {}).get("label")).upper()
    if "AMBER+STRICT" in _text(distribution.get("text")).upper():
        return TLP.AMBER_STRICT
    return {
        "WHITE": TLP.CLEAR,
        "CLEAR": TLP.CLEAR,
        "GREEN": TLP.GREEN,
        "AMBER": TLP.AMBER,
        "RED": TLP.RED,
    }.get(label, TLP.AMBER)


def _exploitation_from(vulnerabilities: list[dict[str, Any]]) -> str:
    found = Exploitation.NONE_KNOWN
    for vulnerability in vulnerabilities:
        for threat in vulnerability.get("threats") or []:
            if not isinstance(threat, dict) or threat.get("category") != "exploit_status":
                continue
            details = _text(threat.get("details")).lower()
            if "in the wild" in details or "actively exploited" in details:
                return Exploitation.ACTIVE
            if "proof" in details or "poc" in details.split():
                found = Exploitation.PROOF_OF_CONCEPT
    return found


def parse_document(raw: bytes) -> ImportedAdvisory:
    """Read a CSAF 2.0 document; ``Invalid`` names the first problem found."""
    _require(len(raw) <= MAX_IMPORT_BYTES, _("The CSAF file is larger than 5 MB."))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise Invalid(_("The CSAF file is not UTF-8 text.")) from exc
    except json.JSONDecodeError as exc:
        raise Invalid(
            _("The CSAF file is not JSON: %(reason)s (line %(line)d, column %(column)d).")
            % {"reason": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc
    _require(isinstance(data, dict), _("A CSAF document is a JSON object."))
    document = data.get("document")
    _require(isinstance(document, dict), _("The CSAF document has no document object."))
    _require(
        document.get("csaf_version") == CSAF_VERSION,
        _("Only CSAF 2.0 documents can be imported (document.csaf_version is %(v)r).")
        % {"v": document.get("csaf_version")},
    )
    title = _text(document.get("title"))
    _require(bool(title), _("The CSAF document has no document.title."))
    tracking = document.get("tracking")
    _require(
        isinstance(tracking, dict) and bool(_text(tracking.get("id"))),
        _("The CSAF document has no document.tracking.id."),
    )
    publisher = document.get("publisher") or {}
    _require(isinstance(publisher, dict), _("document.publisher must be an object."))

    notes = [n for n in document.get("notes") or [] if isinstance(n, dict)]
    summary = next((_text(n.get("text")) for n in notes if n.get("category") == "summary"), "")
    details = "\n\n".join(
        _text(n.get("text"))
        for n in notes
        if n.get("category") in ("details", "description", "general") and _text(n.get("text"))
    )
    summary = summary or details.split("\n\n")[0] or title
    references = []
    for ref in document.get("references") or []:
        if isinstance(ref, dict) and _text(ref.get("url")) and ref.get("category") != "self":
            references.append({"url": _text(ref["url"]), "summary": _text(ref.get("summary"))})
    self_ref = next(
        (
            _text(r.get("url"))
            for r in document.get("references") or []
            if isinstance(r, dict) and r.get("category") == "self" and _text(r.get("url"))
        ),
        "",
    )
    if self_ref:
        references.insert(
            0,
            {
                "url": self_ref,
                "summary": f"{_text(publisher.get('name')) or 'Vendor'} advisory "
                f"{_text(tracking['id'])}",
            },
        )

    by_id = _products_by_id(data.get("product_tree"))
    vulnerabilities = data.get("vulnerabilities") or []
    _require(isinstance(vulnerabilities, list), _("vulnerabilities must be a list."))
    affected_ids: list[str] = []
    fixed_ids: list[str] = []
    cves: list[dict[str, str]] = []
    v3_scores: list[float] = []
    remediation = {"category": "", "details": []}  # type: dict[str, Any]
    workarounds: list[str] = []
    for index, vulnerability in enumerate(vulnerabilities):
        _require(
            isinstance(vulnerability, dict),
            _("vulnerabilities[%(i)d] must be an object.") % {"i": index},
        )
        status = vulnerability.get("product_status") or {}
        for key in ("known_affected", "first_affected", "last_affected"):
            for product_id in status.get(key) or []:
                _require(
                    product_id in by_id,
                    _("vulnerabilities[%(i)d] names product %(id)s, which product_tree lacks.")
                    % {"i": index, "id": product_id},
                )
                if product_id not in affected_ids:
                    affected_ids.append(product_id)
        for key in ("fixed", "first_fixed"):
            for product_id in status.get(key) or []:
                _require(
                    product_id in by_id,
                    _("vulnerabilities[%(i)d] names product %(id)s, which product_tree lacks.")
                    % {"i": index, "id": product_id},
                )
                if product_id not in fixed_ids:
                    fixed_ids.append(product_id)
        for item in vulnerability.get("remediations") or []:
            if not isinstance(item, dict) or not _text(item.get("details")):
                continue
            if item.get("category") == "workaround":
                if item["details"].strip() not in workarounds:
                    workarounds.append(item["details"].strip())
            elif item.get("category") in RemediationCategory.values:
                remediation["category"] = remediation["category"] or item["category"]
                if item["details"].strip() not in remediation["details"]:
                    remediation["details"].append(item["details"].strip())
        cve_id = _text(vulnerability.get("cve"))
        if not cve_id:
            continue
        _require(
            bool(CVE_PATTERN.match(cve_id)),
            _("vulnerabilities[%(i)d].cve %(cve)r is not a CVE id.") % {"i": index, "cve": cve_id},
        )
        entry = {"cve": cve_id, "title": _text(vulnerability.get("title"))}
        for score in vulnerability.get("scores") or []:
            if isinstance(score, dict) and isinstance(score.get("cvss_v3"), dict):
                entry.setdefault("cvss_v3_vector", _text(score["cvss_v3"].get("vectorString")))
                if isinstance(score["cvss_v3"].get("baseScore"), int | float):
                    v3_scores.append(float(score["cvss_v3"]["baseScore"]))
            if isinstance(score, dict) and isinstance(score.get("cvss_v4"), dict):
                # CSAF 2.1 carries v4 as a score; accept it when a vendor is ahead.
                entry.setdefault("cvss_v4_vector", _text(score["cvss_v4"].get("vectorString")))
        for note in vulnerability.get("notes") or []:
            match = (
                CVSS4_IN_TEXT.search(_text(note.get("text"))) if isinstance(note, dict) else None
            )
            if match:
                entry.setdefault("cvss_v4_vector", match.group(0))
        cves.append(entry)

    products = _imported_products(by_id, affected_ids, fixed_ids)
    return ImportedAdvisory(
        title=title[:300],
        summary=summary,
        details=details if details != summary else "",
        severity=_severity_from(document, v3_scores),
        tlp=_tlp_from(document),
        exploitation=_exploitation_from(vulnerabilities),
        remediation_category=remediation["category"] or RemediationCategory.VENDOR_FIX,
        remediation="\n\n".join(remediation["details"]),
        workarounds="\n\n".join(workarounds),
        references=references,
        products=products,
        cves=cves,
        source_id=_text(tracking["id"]),
        source_publisher=_text(publisher.get("name")),
    )


def _imported_products(
    by_id: dict[str, dict[str, str]], affected_ids: list[str], fixed_ids: list[str]
) -> list[dict[str, str]]:
    def names(path: dict[str, str]) -> tuple[str, str]:
        vendor = path.get("vendor") or path.get("product_family") or ""
        product = path.get("product_name") or path.get("_name") or ""
        return vendor or _("Unknown vendor"), product or _("Unknown product")

    fixed: dict[tuple[str, str], str] = {}
    for product_id in fixed_ids:
        path = by_id[product_id]
        version = path.get("product_version") or path.get("product_version_range") or ""
        fixed.setdefault(names(path), version)
    rows: list[dict[str, str]] = []
    for product_id in affected_ids:
        path = by_id[product_id]
        versions = path.get("product_version_range") or path.get("product_version") or ""
        vendor, product = names(path)
        rows.append(
            {
                "vendor": vendor,
                "product": product,
                "versions": "" if versions == ALL_VERSIONS else versions,
                "fixed_version": fixed.get((vendor, product), ""),
            }
        )
    return rows
