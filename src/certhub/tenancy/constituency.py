"""Importing and exporting the constituency: sectors, the team tree, organizations with
their network assets and contacts, as one JSON document or one CSV file (the formats are
documented in docs/constituency.md).

An import runs in three stages:

1. *parse* (format-specific): every row or object becomes a ``Record`` that remembers
   where it stands in the file (CSV line, JSON path and line);
2. *validate*: every record is checked on its own (types, model rules, OpenPGP keys,
   CIDR notation), against the other records (duplicates, references in any order, cycles
   in the team tree) and against the database (assets owned by another organization), and
   every problem is collected with its place;
3. *write*: through the tenancy services only (each change audited with the actor), in
   dependency order (sectors, teams parents first, organizations, assets, contacts), in one
   transaction. Records that would change nothing are not written at all, so importing the
   same file twice leaves the database and the audit log untouched.

The import only adds and updates; it never deletes anything that is not in the file.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError, Invalid
from certhub.tenancy import services
from certhub.tenancy.assets import normalise_asset
from certhub.tenancy.choices import AssetKind, CIIGrade, NotificationKind, TeamKind
from certhub.tenancy.models import Asset, Contact, Organization, Sector, Team
from certhub.tenancy.openpgp import inspect_public_key

SECTOR = "sector"
TEAM = "team"
ORGANIZATION = "organization"
ASSET = "asset"
CONTACT = "contact"
RECORD_KINDS = (SECTOR, TEAM, ORGANIZATION, ASSET, CONTACT)
SECTIONS = {SECTOR: "sectors", TEAM: "teams", ORGANIZATION: "organizations"}
PLURAL = {
    SECTOR: "sectors",
    TEAM: "teams",
    ORGANIZATION: "organizations",
    ASSET: "assets",
    CONTACT: "contacts",
}
FORMATS = ("json", "csv")
# Large lists of slugs or values are sent to the database in slices (SQLite's limit on
# query parameters).
_CHUNK = 500


# --- Where a record stands, and what is wrong with it ----------------------------------


@dataclass(frozen=True)
class Location:
    """A place in the imported file: a JSON path (``organizations[3].assets[1]``) and/or
    a physical line number."""

    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        if self.path and self.line:
            return _("%(path)s (line %(line)s)") % {"path": self.path, "line": self.line}
        if self.line:
            return _("line %(line)s") % {"line": self.line}
        return self.path or _("the file")


@dataclass(frozen=True)
class Problem:
    where: Location
    message: str

    def __str__(self) -> str:
        if self.where == Location():
            return self.message
        return f"{self.where}: {self.message}"


class ImportRejected(Invalid):
    """The file cannot be imported; ``problems`` lists every reason, each with its place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = _("The file has %(count)s problem(s); nothing was imported.") % {
            "count": len(problems)
        }
        super().__init__("\n".join([summary, *(f"  {problem}" for problem in problems)]))


@dataclass(eq=False)
class Record:
    """One sector, team, organization, asset or contact read from the file."""

    kind: str
    where: Location
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Columns whose value could not be read (already reported).
    bad_columns: set[str] = field(default_factory=set)
    # Set when the record itself is fine but depends on one that is not imported.
    skipped_because: str = ""
    # Filled by validation: the final field values and whether they change the database.
    merged: dict[str, Any] = field(default_factory=dict)
    status: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.skipped_because

    @property
    def key(self) -> Any:
        """What identifies the record: a slug, (kind, value) for an asset, (owner kind,
        owner slug, lower-case e-mail) for a contact. None while it cannot be known."""
        if self.kind in (SECTOR, TEAM, ORGANIZATION):
            return self.values.get("slug")
        if self.kind == ASSET:
            if "kind" in self.values and "value" in self.values:
                return (self.values["kind"], self.values["value"])
            return None
        owner = self.owner
        if self.kind != CONTACT or owner is None or "email" not in self.values:
            return None
        return (*owner, self.values["email"].lower())

    @property
    def owner(self) -> tuple[str, str] | None:
        """(``organization`` or ``team``, slug) for an asset or a contact."""
        if self.values.get("organization"):
            return (ORGANIZATION, self.values["organization"])
        if self.values.get("team"):
            return (TEAM, self.values["team"])
        return None

    def label(self) -> str:
        key = self.key
        if self.kind == ASSET and key:
            return str(key[1])
        if self.kind == CONTACT and key:
            return str(self.values["email"])
        return str(key or "?")


@dataclass
class ParsedFile:
    records: list[Record]
    # Problems not tied to one record (a column missing from the CSV header).
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    counts: dict[str, dict[str, int]]
    problems: list[Problem]
    dry_run: bool = False

    def changed(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.counts.values())


# --- Reading single values -------------------------------------------------------------


class _NotGiven:
    """An empty CSV cell of a yes/no column: leave the value as it is."""


NOT_GIVEN = _NotGiven()
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    raise Invalid(_("expected text, found %(value)s") % {"value": json.dumps(raw)})


def _long_text(raw: Any) -> str:
    # Descriptions and keys keep their inner layout; only outer blank lines go.
    return _text(raw) if not isinstance(raw, str) else raw.strip("\r\n")


def _slug(raw: Any) -> str:
    text = _text(raw)
    if text:
        try:
            validate_slug(text)
        except ValidationError as exc:
            raise Invalid(
                _('"%(value)s" is not a valid slug (letters, digits, hyphens, underscores)')
                % {"value": text}
            ) from exc
    return text


def _parent(raw: Any) -> str | None:
    return _slug(raw) or None


def _boolean(raw: Any) -> bool | _NotGiven:
    if isinstance(raw, bool):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return NOT_GIVEN
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(_('bad boolean "%(value)s" (use true or false)') % {"value": raw})


def _date(raw: Any) -> dt.date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(_('bad date "%(value)s" (use YYYY-MM-DD)') % {"value": raw}) from exc


def _choice(choices: type[models.TextChoices], what: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = str(raw).strip().lower() if isinstance(raw, int | str) else _text(raw)
        if text and text not in choices.values:
            raise Invalid(
                _('unknown %(what)s "%(value)s" (one of: %(known)s)')
                % {"what": what, "value": raw, "known": ", ".join(choices.values)}
            )
        return text

    return parse


def _notifications(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[Any] = [part for part in re.split(r"[\s,;]+", raw) if part]
    elif isinstance(raw, list):
        items = raw
    else:
        raise Invalid(_("expected a list of notification kinds"))
    unknown = [str(item) for item in items if item not in NotificationKind.values]
    if unknown:
        raise Invalid(
            _("unknown notification kind(s) %(kinds)s (known: %(known)s)")
            % {"kinds": ", ".join(unknown), "known": ", ".join(NotificationKind.values)}
        )
    # Stored in one canonical order, so a reordered list is not a change.
    return [kind for kind in NotificationKind.values if kind in items]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[Any], Any]
    required: bool = False


_SLUG = Column("slug", _slug, required=True)
_NAME = Column("name", _text, required=True)
_DESCRIPTION = Column("description", _long_text)
COLUMNS_BY_KIND: dict[str, tuple[Column, ...]] = {
    SECTOR: (_SLUG, _NAME, _DESCRIPTION),
    TEAM: (
        _SLUG,
        _NAME,
        Column("kind", _choice(TeamKind, "team kind"), required=True),
        Column("parent", _parent),
        _DESCRIPTION,
        Column("email", _text),
        Column("phone", _text),
    ),
    ORGANIZATION: (
        _SLUG,
        _NAME,
        Column("sector", _slug, required=True),
        Column("responsible_team", _slug, required=True),
        Column("province", _text),
        Column("is_cii", _boolean),
        Column("cii_grade", _choice(CIIGrade, "CII grade")),
        Column("cii_review_date", _date),
        Column("website", _text),
        _DESCRIPTION,
        Column("is_active", _boolean),
    ),
    ASSET: (
        Column("organization", _slug, required=True),
        Column("kind", _choice(AssetKind, "asset kind"), required=True),
        Column("value", _text, required=True),
        _DESCRIPTION,
    ),
    CONTACT: (
        Column("organization", _slug),
        Column("team", _slug),
        Column("email", _text, required=True),
        Column("name", _text, required=True),
        Column("role", _text),
        Column("phone", _text),
        Column("notifications", _notifications),
        Column("pgp_key", _long_text),
    ),
}
# The CSV header: every column of every record type, in this order.
CSV_COLUMNS = (
    "record",
    "slug",
    "name",
    "kind",
    "parent",
    "sector",
    "responsible_team",
    "province",
    "is_cii",
    "cii_grade",
    "cii_review_date",
    "website",
    "is_active",
    "organization",
    "team",
    "value",
    "email",
    "role",
    "phone",
    "notifications",
    "pgp_key",
    "description",
)
# Values a record takes when it is created and the file leaves a field out.
DEFAULTS: dict[str, dict[str, Any]] = {
    SECTOR: {"description": ""},
    TEAM: {"parent": None, "description": "", "email": "", "phone": ""},
    ORGANIZATION: {
        "province": "",
        "is_cii": False,
        "cii_grade": "",
        "cii_review_date": None,
        "website": "",
        "description": "",
        "is_active": True,
    },
    ASSET: {"description": ""},
    CONTACT: {"role": "", "phone": "", "notifications": [], "pgp_key": ""},
}


def _build_record(kind: str, where: Location, cells: dict[str, Any]) -> Record:
    """Parse the given cells (only the columns the file has) into a record."""
    record = Record(kind, where)
    for column in COLUMNS_BY_KIND[kind]:
        if column.name not in cells:
            if column.required:
                record.problems.append(_('"%(column)s" is required') % {"column": column.name})
                record.bad_columns.add(column.name)
            continue
        try:
            value = column.parse(cells[column.name])
        except Invalid as exc:
            record.problems.append(f"{column.name}: {exc.message}")
            record.bad_columns.add(column.name)
            continue
        if value is NOT_GIVEN:
            continue
        if column.required and value in ("", None):
            record.problems.append(_('"%(column)s" is required') % {"column": column.name})
            record.bad_columns.add(column.name)
            continue
        record.values[column.name] = value
    if kind == ASSET and "kind" in record.values and "value" in record.values:
        try:
            record.values["value"] = normalise_asset(
                record.values["kind"], record.values["value"]
            ).value
        except Invalid as exc:
            record.problems.append(exc.message)
            del record.values["value"]
    if kind == CONTACT:
        owners = [name for name in (ORGANIZATION, TEAM) if record.values.get(name)]
        if len(owners) != 1:
            record.problems.append(
                _("a contact belongs to exactly one organization or team (fill one of both)")
            )
    return record


# --- JSON ------------------------------------------------------------------------------


class _JSONObject(dict[str, Any]):
    """A decoded JSON object that remembers its line and any key given twice."""

    line: int | None = None
    repeated: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject(pairs)
    if len(obj) != len(pairs):
        keys = [key for key, _value in pairs]
        obj.repeated = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return obj


class _LocatingDecoder(json.JSONDecoder):
    """The standard decoder with its pure-Python scanner, told to note each object's line
    so that problems can name it."""

    def __init__(self, text: str) -> None:
        super().__init__(object_pairs_hook=_json_object)
        newlines = [match.start() for match in re.finditer("\n", text)]

        def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            # JSONObject and py_make_scanner are public in the module but not in its stubs.
            obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
            if isinstance(obj, _JSONObject):
                obj.line = bisect.bisect_left(newlines, s_and_end[1]) + 1
            return obj, end

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


def _load_json(text: str) -> Any:
    try:
        return _LocatingDecoder(text).decode(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            [
                Problem(
                    Location(line=exc.lineno),
                    _("invalid JSON at column %(column)s: %(reason)s")
                    % {"column": exc.colno, "reason": exc.msg},
                )
            ]
        ) from exc
    except RecursionError as exc:
        raise ImportRejected([Problem(Location(), _("the JSON is nested too deeply"))]) from exc


def _unknown_keys(item: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    problems = [
        _('unknown field "%(field)s" (known: %(known)s)')
        % {"field": key, "known": ", ".join(allowed)}
        for key in item
        if key not in allowed
    ]
    problems += [
        _('field "%(field)s" is given twice') % {"field": key}
        for key in getattr(item, "repeated", ())
    ]
    return problems


def _json_record(
    kind: str, item: Any, path: str, *, nested: tuple[str, ...] = (), **implied: str
) -> Record:
    where = Location(path, getattr(item, "line", None))
    if not isinstance(item, dict):
        return Record(kind, where, problems=[_("expected an object {...}")])
    columns = [c.name for c in COLUMNS_BY_KIND[kind] if c.name not in implied]
    cells = {name: item[name] for name in columns if name in item}
    record = _build_record(kind, where, {**cells, **implied})
    record.problems[:0] = _unknown_keys(item, [*columns, *nested])
    return record


def parse_document(document: Any) -> ParsedFile:
    """Records of a constituency document already decoded from JSON (or built in Python,
    as the demo data is)."""
    if not isinstance(document, dict):
        raise ImportRejected(
            [Problem(Location(), _("expected a JSON object with sectors, teams, organizations"))]
        )
    fatal = [
        Problem(
            Location(key),
            _('unknown section "%(key)s" (known: sectors, teams, organizations)') % {"key": key},
        )
        for key in document
        if key not in SECTIONS.values()
    ]
    for section in SECTIONS.values():
        if not isinstance(document.get(section, []), list):
            fatal.append(Problem(Location(section), _("expected a list [...]")))
    if fatal:
        raise ImportRejected(fatal)

    records: list[Record] = []
    for kind, section in SECTIONS.items():
        for index, item in enumerate(document.get(section, [])):
            path = f"{section}[{index}]"
            nested = {TEAM: ("contacts",), ORGANIZATION: ("assets", "contacts")}.get(kind, ())
            record = _json_record(kind, item, path, nested=nested)
            records.append(record)
            for child_section in nested:
                children = item.get(child_section, []) if isinstance(item, dict) else []
                child_kind = ASSET if child_section == "assets" else CONTACT
                if not isinstance(children, list):
                    records.append(
                        Record(
                            child_kind,
                            Location(f"{path}.{child_section}", getattr(item, "line", None)),
                            problems=[_("expected a list [...]")],
                        )
                    )
                    continue
                owner_slug = record.values.get("slug", "")
                for child_index, child in enumerate(children):
                    child_path = f"{path}.{child_section}[{child_index}]"
                    if not owner_slug:
                        records.append(
                            Record(
                                child_kind,
                                Location(child_path, getattr(child, "line", None)),
                                skipped_because=_("its %(owner)s has no valid slug")
                                % {"owner": kind},
                            )
                        )
                        continue
                    records.append(
                        _json_record(child_kind, child, child_path, **{kind: owner_slug})
                    )
    return ParsedFile(records)


# --- CSV -------------------------------------------------------------------------------


def _parse_csv(text: str) -> ParsedFile:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[Record] = []
    problems: list[Problem] = []
    header: list[str] | None = None
    header_line = 0
    previous_line = 0
    reported_missing: set[tuple[str, str]] = set()
    try:
        for row in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in row], line
                _check_header(header, header_line)
                continue
            where = Location(line=line)
            kind = dict(zip(header, row, strict=False)).get("record", "").strip().lower()
            missing = _missing_columns(kind, header) if kind in COLUMNS_BY_KIND else []
            for column in missing:
                if (kind, column) not in reported_missing:
                    reported_missing.add((kind, column))
                    problems.append(
                        Problem(
                            Location(line=header_line),
                            _('the header has no "%(column)s" column, needed by %(kind)s rows')
                            % {"column": column, "kind": kind},
                        )
                    )
            if missing:
                reason = _('the header has no "%(column)s" column') % {"column": missing[0]}
                records.append(Record(kind, where, skipped_because=reason))
                continue
            records.append(_csv_record(row, header, where))
    except csv.Error as exc:
        raise ImportRejected(
            [
                Problem(
                    Location(line=reader.line_num),
                    _("the CSV cannot be read: %(reason)s") % {"reason": exc},
                )
            ]
        ) from exc
    if header is None:
        raise ImportRejected([Problem(Location(), _("the file is empty"))])
    return ParsedFile(records, problems)


def _check_header(header: list[str], line: int) -> None:
    problems = [
        Problem(
            Location(line=line),
            _('unknown column "%(column)s" (known: %(known)s)')
            % {"column": name, "known": ", ".join(CSV_COLUMNS)},
        )
        for name in header
        if name and name not in CSV_COLUMNS
    ]
    problems += [
        Problem(Location(line=line), _('column "%(column)s" appears twice') % {"column": name})
        for name in sorted({n for n in header if n and header.count(n) > 1})
    ]
    if "record" not in header:
        problems.append(
            Problem(
                Location(line=line),
                _('the header has no "record" column (sector, team, organization, asset, contact)'),
            )
        )
    if problems:
        raise ImportRejected(problems)


def _missing_columns(kind: str, header: list[str]) -> list[str]:
    missing = [c.name for c in COLUMNS_BY_KIND[kind] if c.required and c.name not in header]
    if kind == CONTACT and ORGANIZATION not in header and TEAM not in header:
        missing.append(f"{ORGANIZATION}/{TEAM}")
    return missing


def _csv_record(row: list[str], header: list[str], where: Location) -> Record:
    cells = dict(zip(header, row, strict=False))
    kind = cells.get("record", "").strip().lower()
    if kind not in COLUMNS_BY_KIND:
        return Record(
            kind or "?",
            where,
            problems=[
                _('unknown record type "%(value)s" (one of: %(known)s)')
                % {"value": cells.get("record", ""), "known": ", ".join(RECORD_KINDS)}
            ],
        )
    used = {c.name for c in COLUMNS_BY_KIND[kind]}
    record = _build_record(kind, where, {k: v for k, v in cells.items() if k in used})
    if len(row) > len(header):
        record.problems.insert(
            0,
            _("%(cells)s cells, but the header has %(columns)s columns")
            % {"cells": len(row), "columns": len(header)},
        )
    record.problems[:0] = [
        _('column "%(column)s" does not apply to a %(kind)s row')
        % {"column": name or "?", "kind": kind}
        for name, value in cells.items()
        if name not in used and name != "record" and value.strip()
    ]
    return record


# --- Reading a file --------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text (UTF-8, with or without a byte-order mark), or the reason not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            [
                Problem(
                    Location(line=line),
                    _("the file is not UTF-8 text (byte %(byte)s cannot be read); save it as UTF-8")
                    % {"byte": exc.start + 1},
                )
            ]
        ) from exc
    if not text.strip():
        raise ImportRejected([Problem(Location(), _("the file is empty"))])
    return text


def guess_format(name: str, text: str) -> str:
    lowered = name.lower()
    for fmt in FORMATS:
        if lowered.endswith(f".{fmt}"):
            return fmt
    return "json" if text.lstrip()[:1] in ("{", "[") else "csv"


def parse(data: bytes, *, fmt: str | None = None, name: str = "") -> ParsedFile:
    """Parse an uploaded or read file; ``fmt`` is guessed from the name or content."""
    text = decode(data)
    fmt = fmt or guess_format(name, text)
    if fmt == "json":
        return parse_document(_load_json(text))
    return _parse_csv(text)


# --- Validation ------------------------------------------------------------------------


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def sector_fields(sector: Sector) -> dict[str, Any]:
    return {"name": sector.name, "description": sector.description}


def team_fields(team: Team, parent_slug: str | None) -> dict[str, Any]:
    return {
        "name": team.name,
        "kind": team.kind,
        "parent": parent_slug,
        "description": team.description,
        "email": team.email,
        "phone": team.phone,
    }


def organization_fields(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "sector": org.sector.slug,
        "responsible_team": org.responsible_team.slug,
        "province": org.province,
        "is_cii": org.is_cii,
        "cii_grade": org.cii_grade,
        "cii_review_date": org.cii_review_date,
        "website": org.website,
        "description": org.description,
        "is_active": org.is_active,
    }


def contact_fields(contact: Contact) -> dict[str, Any]:
    return {
        "email": contact.email,
        "name": contact.name,
        "role": contact.role,
        "phone": contact.phone,
        # In the one canonical order: the set matters, not the order it was chosen in.
        "notifications": [k for k in NotificationKind.values if k in (contact.notifications or [])],
        "pgp_key": contact.pgp_key,
    }


def _contact_owner(contact: Contact) -> tuple[str, str]:
    if contact.organization is not None:
        return (ORGANIZATION, contact.organization.slug)
    assert contact.team is not None
    return (TEAM, contact.team.slug)


@dataclass
class _Database:
    """What the database holds of the constituency the file talks about."""

    sectors: dict[str, Sector]
    teams: dict[str, Team]
    team_parent: dict[str, str | None]
    orgs: dict[str, Organization]
    assets: dict[tuple[str, str], Asset]
    contacts: dict[tuple[str, str, str], Contact]

    @classmethod
    def load(cls, records: list[Record]) -> _Database:
        teams = {team.slug: team for team in Team.objects.all()}
        slug_by_id = {team.pk: team.slug for team in teams.values()}
        asset_values = sorted({r.values["value"] for r in records if r.kind == ASSET and r.key})
        assets: dict[tuple[str, str], Asset] = {}
        for chunk in _chunks(asset_values):
            for asset in Asset.objects.select_related("organization").filter(value__in=chunk):
                assets[(asset.kind, asset.value)] = asset
        owners = {r.owner for r in records if r.kind == CONTACT and r.owner}
        contacts: dict[tuple[str, str, str], Contact] = {}
        for owner_kind in (ORGANIZATION, TEAM):
            slugs = sorted(slug for kind, slug in owners if kind == owner_kind)
            for chunk in _chunks(slugs):
                rows = Contact.objects.select_related("organization", "team").filter(
                    Q(**{f"{owner_kind}__slug__in": chunk})
                )
                for contact in rows.order_by("id"):
                    key = (*_contact_owner(contact), contact.email.lower())
                    contacts.setdefault(key, contact)  # the one upsert_contact would find
        return cls(
            sectors={sector.slug: sector for sector in Sector.objects.all()},
            teams=teams,
            team_parent={t.slug: slug_by_id.get(t.parent_id or 0) for t in teams.values()},
            orgs={
                org.slug: org
                for org in Organization.objects.select_related("sector", "responsible_team")
            },
            assets=assets,
            contacts=contacts,
        )

    def current(self, record: Record) -> dict[str, Any] | None:
        """The record's fields as the database has them now, or None if it is new."""
        key = record.key
        if record.kind == SECTOR and key in self.sectors:
            return sector_fields(self.sectors[key])
        if record.kind == TEAM and key in self.teams:
            return team_fields(self.teams[key], self.team_parent[key])
        if record.kind == ORGANIZATION and key in self.orgs:
            return organization_fields(self.orgs[key])
        if record.kind == ASSET and key in self.assets:
            asset = self.assets[key]
            return {"organization": asset.organization.slug, "description": asset.description}
        if record.kind == CONTACT and key in self.contacts:
            return contact_fields(self.contacts[key])
        return None


def _model_problems(instance: models.Model, exclude: list[str]) -> list[str]:
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        return [f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()]
    return []


def _check_record(record: Record, db: _Database) -> None:
    """Merge the record with the database row and check the result on its own (also
    when some of its cells could not be read, so that every problem is reported)."""
    current = db.current(record)
    merged = {**DEFAULTS[record.kind], **(current or {}), **record.values}
    record.merged = merged
    record.status = "created" if current is None else "updated"
    skip = sorted(record.bad_columns)

    def model_problems(model: type[models.Model], names: list[str], exclude: list[str]) -> None:
        instance = model(**{name: merged.get(name, "") for name in names})
        record.problems.extend(_model_problems(instance, [*exclude, *skip]))

    if record.kind == SECTOR:
        model_problems(Sector, ["slug", "name", "description"], [])
    elif record.kind == TEAM:
        names = ["slug", "name", "kind", "description", "email", "phone"]
        model_problems(Team, names, ["parent", "path", "depth"])
    elif record.kind == ORGANIZATION:
        names = ["slug", "name", "province", "is_cii", "cii_grade", "cii_review_date"]
        names += ["website", "description", "is_active"]
        model_problems(Organization, names, ["sector", "responsible_team"])
        if not {"is_cii", "cii_grade"} & record.bad_columns:
            if merged["is_cii"] and not merged["cii_grade"]:
                record.problems.append(_("A CII organization needs a CII grade."))
            if not merged["is_cii"] and merged["cii_grade"]:
                record.problems.append(_("Only a CII organization has a CII grade."))
    elif record.kind == ASSET:
        if current is not None and current["organization"] != merged["organization"]:
            record.problems.append(
                _('%(value)s is already registered to another organization, "%(owner)s"')
                % {"value": merged["value"], "owner": current["organization"]}
            )
        # add_asset never clears a description: an empty one leaves it as it is.
        if not record.values.get("description") and current is not None:
            merged["description"] = current["description"]
        model_problems(Asset, ["kind", "value", "description"], ["organization"])
    elif record.kind == CONTACT:
        exclude = ["organization", "team", "pgp_key", "pgp_fingerprint", "notifications"]
        model_problems(Contact, ["email", "name", "role", "phone"], exclude)
        if "pgp_key" not in record.bad_columns and merged["pgp_key"].strip():
            try:
                merged["pgp_key"] = inspect_public_key(merged["pgp_key"]).armored
            except Invalid as exc:
                record.problems.append(f"pgp_key: {exc.message}")
    if current is not None and all(
        merged.get(name) == value for name, value in current.items() if name in merged
    ):
        record.status = "unchanged"


def _check_duplicates(records: list[Record]) -> None:
    first: dict[tuple[str, Any], Record] = {}
    for record in records:
        key = record.key
        if key is None:
            continue
        seen = first.setdefault((record.kind, key), record)
        if seen is not record:
            what = {
                ASSET: _("asset %(value)s"),
                CONTACT: _("contact %(value)s"),
            }.get(record.kind, _('slug "%(value)s"')) % {"value": record.label()}
            record.problems.append(
                _("duplicate %(what)s in the file (first at %(where)s)")
                % {"what": what, "where": seen.where}
            )
    sector_names: dict[str, Record] = {}
    for record in records:
        if record.kind == SECTOR and "name" in record.values:
            seen = sector_names.setdefault(record.values["name"].lower(), record)
            if seen is not record:
                record.problems.append(
                    _('duplicate sector name "%(name)s" in the file (first at %(where)s)')
                    % {"name": record.values["name"], "where": seen.where}
                )


def _effective_parents(
    records: Iterable[Record], db: _Database, use: Callable[[Record], bool]
) -> dict[str, str | None]:
    """Each team's parent once the file's teams (those ``use`` accepts) are written."""
    parents = dict(db.team_parent)
    for record in records:
        if record.kind == TEAM and record.key and use(record):
            parents[record.key] = record.values.get("parent", db.team_parent.get(record.key))
    return parents


def _cycles(parents: dict[str, str | None], among: set[str]) -> list[list[str]]:
    """The cycles of the parent relation that go through a team in ``among``."""
    found: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(among):
        chain: list[str] = []
        slug: str | None = start
        while slug is not None and slug not in done and slug not in chain:
            chain.append(slug)
            slug = parents.get(slug)
        if slug is not None and slug in chain:
            found.append([*chain[chain.index(slug) :], slug])
        done.update(chain)
    return found


def _check_references(records: list[Record], db: _Database) -> None:
    in_file: dict[str, set[Any]] = {kind: set() for kind in RECORD_KINDS}
    for record in records:
        if record.key is not None:
            in_file[record.kind].add(record.key)
    known = {
        SECTOR: in_file[SECTOR] | set(db.sectors),
        TEAM: in_file[TEAM] | set(db.teams),
        ORGANIZATION: in_file[ORGANIZATION] | set(db.orgs),
    }
    for record in records:
        if record.skipped_because:
            continue
        for name, kind, unknown in _REFERENCES.get(record.kind, []):
            slug = record.values.get(name)
            if slug and slug not in known[kind]:
                record.problems.append(unknown() % {"slug": slug})
    for cycle in _cycles(_effective_parents(records, db, lambda r: True), in_file[TEAM]):
        message = (
            _("a team cannot be its own parent")
            if len(cycle) == 2
            else _("cycle in team parents: %(cycle)s") % {"cycle": " -> ".join(cycle)}
        )
        for record in records:
            if record.kind == TEAM and record.key in cycle:
                record.problems.append(message)
    # Sector names are unique: a new name must not be another sector's.
    final_names = {slug: sector.name.lower() for slug, sector in db.sectors.items()}
    for record in records:
        if record.kind == SECTOR and record.key and "name" in record.values:
            final_names[record.key] = record.values["name"].lower()
    for record in records:
        if record.kind == SECTOR and record.key and "name" in record.values:
            # Two sectors of the file with one name are reported as duplicates already.
            others = [
                slug
                for slug, name in final_names.items()
                if name == record.values["name"].lower()
                and slug != record.key
                and slug not in in_file[SECTOR]
            ]
            if others:
                record.problems.append(
                    _('sector "%(slug)s" already has the name "%(name)s"')
                    % {"slug": others[0], "name": record.values["name"]}
                )


_REFERENCES: dict[str, list[tuple[str, str, Callable[[], str]]]] = {
    SECTOR: [],
    TEAM: [("parent", TEAM, lambda: _('unknown parent team "%(slug)s"'))],
    ORGANIZATION: [
        ("sector", SECTOR, lambda: _('unknown sector "%(slug)s"')),
        ("responsible_team", TEAM, lambda: _('unknown responsible team "%(slug)s"')),
    ],
    ASSET: [("organization", ORGANIZATION, lambda: _('unknown organization "%(slug)s"'))],
    CONTACT: [
        ("organization", ORGANIZATION, lambda: _('unknown organization "%(slug)s"')),
        ("team", TEAM, lambda: _('unknown team "%(slug)s"')),
    ],
}


def _skip_dependents(records: list[Record], db: _Database) -> None:
    """Mark the records that depend on a record not imported (until nothing changes):
    an organization whose new sector is bad, the assets of a bad new organization..."""
    while True:
        available = {
            SECTOR: set(db.sectors),
            TEAM: set(db.teams),
            ORGANIZATION: set(db.orgs),
        }
        for record in records:
            if record.ok and record.kind in available:
                available[record.kind].add(record.key)
        changed = False
        for record in records:
            if not record.ok:
                continue
            for name, kind, _message in _REFERENCES.get(record.kind, []):
                slug = record.values.get(name)
                if slug and slug not in available[kind]:
                    record.skipped_because = _('%(what)s "%(slug)s" is not imported') % {
                        "what": name.replace("_", " "),
                        "slug": slug,
                    }
                    changed = True
                    break
        good_teams = {r.key for r in records if r.kind == TEAM and r.ok}
        for cycle in _cycles(_effective_parents(records, db, lambda r: r.ok), good_teams):
            for record in records:
                if record.kind == TEAM and record.ok and record.key in cycle:
                    record.skipped_because = _(
                        "without the teams not imported, its parents would form a cycle: %(cycle)s"
                    ) % {"cycle": " -> ".join(cycle)}
                    changed = True
        if not changed:
            return


@dataclass
class Validation:
    to_write: list[Record]  # the good records, in the order they can be written
    problems: list[Problem]  # what is wrong with the file, each at its place
    skipped: list[Problem]  # good records that depend on a bad one
    in_file_order: list[Problem]  # both, in the order of the file


def validate(parsed: ParsedFile) -> Validation:
    """Check every record against the file and the database; write nothing."""
    records = parsed.records
    db = _Database.load(records)
    for record in records:
        if record.kind in COLUMNS_BY_KIND and not record.skipped_because and record.key:
            _check_record(record, db)
    _check_duplicates(records)
    _check_references(records, db)
    _skip_dependents(records, db)
    problems = list(parsed.problems)
    skipped: list[Problem] = []
    in_file_order = list(parsed.problems)
    for record in records:
        own = [Problem(record.where, message) for message in record.problems]
        if not record.problems and record.skipped_because:
            own = [Problem(record.where, _("skipped: %(why)s") % {"why": record.skipped_because})]
            skipped += own
        else:
            problems += own
        in_file_order += own
    return Validation(_write_order(records, db), problems, skipped, in_file_order)


def _write_order(records: list[Record], db: _Database) -> list[Record]:
    good = [record for record in records if record.ok]
    parents = _effective_parents(good, db, lambda r: True)
    depth: dict[str, int] = {}

    def depth_of(slug: str) -> int:
        if slug not in depth:
            parent = parents.get(slug)
            depth[slug] = 0 if parent is None else depth_of(parent) + 1
        return depth[slug]

    rank = {kind: index for index, kind in enumerate(RECORD_KINDS)}
    return sorted(
        good,
        key=lambda r: (rank[r.kind], depth_of(r.key) if r.kind == TEAM else 0),
    )


# --- Writing ---------------------------------------------------------------------------


def _empty_counts() -> dict[str, dict[str, int]]:
    return {PLURAL[kind]: {"created": 0, "updated": 0, "unchanged": 0} for kind in RECORD_KINDS}


class _Writer:
    """Writes validated records through the services, keeping the rows it needs next."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.sectors: dict[str, Sector] = {}
        self.orgs: dict[str, Organization] = {}
        self.teams: dict[str, Team] = {}

    def sector(self, slug: str) -> Sector:
        if slug not in self.sectors:
            self.sectors[slug] = Sector.objects.get(slug=slug)
        return self.sectors[slug]

    def team(self, slug: str) -> Team:
        if slug not in self.teams:
            self.teams[slug] = Team.objects.get(slug=slug)
        return self.teams[slug]

    def organization(self, slug: str) -> Organization:
        if slug not in self.orgs:
            self.orgs[slug] = Organization.objects.get(slug=slug)
        return self.orgs[slug]

    def write(self, record: Record) -> bool:
        """Write one record; True if the database changed."""
        merged, actor = record.merged, self.actor
        if record.kind == SECTOR:
            sector, changed = services.upsert_sector(
                actor=actor, slug=record.key, name=merged["name"], description=merged["description"]
            )
            self.sectors[sector.slug] = sector
        elif record.kind == TEAM:
            # Read the parent afresh: moving a team above it may have changed its path.
            self.teams.clear()
            parent = self.team(merged["parent"]) if merged["parent"] else None
            _team, changed = services.upsert_team(
                actor=actor,
                slug=record.key,
                name=merged["name"],
                kind=merged["kind"],
                parent=parent,
                description=merged["description"],
                email=merged["email"],
                phone=merged["phone"],
            )
        elif record.kind == ORGANIZATION:
            values = {name: merged[name] for name in DEFAULTS[ORGANIZATION]}
            org, changed = services.upsert_organization(
                actor=actor,
                slug=record.key,
                name=merged["name"],
                sector=self.sector(merged["sector"]),
                responsible_team=self.team(merged["responsible_team"]),
                **values,
            )
            self.orgs[org.slug] = org
        elif record.kind == ASSET:
            _asset, changed = services.add_asset(
                actor=actor,
                organization=self.organization(merged["organization"]),
                kind=merged["kind"],
                value=merged["value"],
                description=merged["description"],
            )
        else:
            owner_kind, owner_slug = record.owner or ("", "")
            owner: dict[str, Any] = (
                {"organization": self.organization(owner_slug)}
                if owner_kind == ORGANIZATION
                else {"team": self.team(owner_slug)}
            )
            _contact, changed = services.upsert_contact(
                actor=actor,
                **owner,
                email=merged["email"],
                name=merged["name"],
                role=merged["role"],
                phone=merged["phone"],
                pgp_key=merged["pgp_key"],
                notifications=merged["notifications"],
            )
        return changed


def import_parsed(
    parsed: ParsedFile, *, actor: Any = None, skip_bad: bool = False, dry_run: bool = False
) -> ImportReport:
    """Validate, then write in one transaction. Without ``skip_bad`` any problem rejects
    the whole file (``ImportRejected``) and nothing is written."""
    counts = _empty_counts()
    with transaction.atomic():
        checked = validate(parsed)
        if (checked.problems or checked.skipped) and not skip_bad:
            # Records skipped because of another one are noise here: nothing is written.
            raise ImportRejected(checked.problems or checked.skipped)
        problems = list(checked.in_file_order)
        writer = _Writer(actor)
        for record in checked.to_write:
            tally = counts[PLURAL[record.kind]]
            if record.status == "unchanged":
                tally["unchanged"] += 1
                continue
            try:
                changed = writer.write(record)
            except ObjectDoesNotExist as exc:
                # Only with --skip-bad: a record it depends on failed to be written.
                problems.append(
                    Problem(record.where, _("skipped: a record it depends on was not imported"))
                )
                if not skip_bad:
                    raise ImportRejected(problems) from exc
                continue
            except (CerthubError, ValidationError, IntegrityError) as exc:
                # A rule only the database could check, or a concurrent change.
                problems.append(Problem(record.where, _error_message(exc)))
                if not skip_bad:
                    raise ImportRejected(problems) from exc
                continue
            tally[record.status if changed else "unchanged"] += 1
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(counts=counts, problems=problems, dry_run=dry_run)


def _error_message(exc: Exception) -> str:
    if isinstance(exc, CerthubError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return _("conflicts with a change made at the same time: %(reason)s") % {"reason": exc}


def import_file(
    data: bytes,
    *,
    fmt: str | None = None,
    name: str = "",
    actor: Any = None,
    skip_bad: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    return import_parsed(
        parse(data, fmt=fmt, name=name), actor=actor, skip_bad=skip_bad, dry_run=dry_run
    )


def import_document(document: dict[str, Any], *, actor: Any = None) -> ImportReport:
    """Import a constituency given as a Python structure in the JSON layout (the demo)."""
    return import_parsed(parse_document(document), actor=actor)


# --- Export ----------------------------------------------------------------------------


def _exported(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in values.items()
    }


def _asset_order(asset: Asset) -> tuple[Any, ...]:
    kinds = list(AssetKind.values)
    return (
        kinds.index(asset.kind),
        asset.ip_version or 0,
        asset.range_start,
        asset.prefix_len or 0,
        asset.asn or 0,
        asset.value,
    )


def _contacts(contacts: Iterable[Contact]) -> list[dict[str, Any]]:
    ordered = sorted(contacts, key=lambda c: (c.email.lower(), c.email, c.pk))
    return [_exported(contact_fields(contact)) for contact in ordered]


def export_document() -> dict[str, Any]:
    """The whole constituency in the JSON layout, in a stable order (so two exports of
    the same constituency are identical, whatever the row ids)."""
    sectors = [
        {"slug": sector.slug, **sector_fields(sector)} for sector in Sector.objects.order_by("slug")
    ]
    teams = list(Team.objects.prefetch_related("contacts").order_by("slug"))
    slug_by_id = {team.pk: team.slug for team in teams}
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)
    ordered_teams: list[dict[str, Any]] = []

    def walk(parent_id: int | None) -> None:
        for team in children.get(parent_id, []):
            ordered_teams.append(
                {
                    "slug": team.slug,
                    **team_fields(team, slug_by_id.get(team.parent_id or 0)),
                    "contacts": _contacts(team.contacts.all()),
                }
            )
            walk(team.pk)

    walk(None)
    organizations = [
        {
            "slug": org.slug,
            **_exported(organization_fields(org)),
            "assets": [
                {"kind": asset.kind, "value": asset.value, "description": asset.description}
                for asset in sorted(org.assets.all(), key=_asset_order)
            ],
            "contacts": _contacts(org.contacts.all()),
        }
        for org in Organization.objects.select_related("sector", "responsible_team")
        .prefetch_related("assets", "contacts")
        .order_by("slug")
    ]
    return {"sectors": sectors, "teams": ordered_teams, "organizations": organizations}


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


def render_csv(document: dict[str, Any]) -> str:
    """The CSV layout: one header, one row per record; each team and organization is
    followed by its own assets and contacts."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()

    def row(kind: str, values: dict[str, Any]) -> None:
        writer.writerow({"record": kind, **{k: _csv_cell(v) for k, v in values.items()}})

    for sector in document["sectors"]:
        row(SECTOR, sector)
    for team in document["teams"]:
        row(TEAM, {k: v for k, v in team.items() if k != "contacts"})
        for contact in team["contacts"]:
            row(CONTACT, {TEAM: team["slug"], **contact})
    for org in document["organizations"]:
        row(ORGANIZATION, {k: v for k, v in org.items() if k not in ("assets", "contacts")})
        for asset in org["assets"]:
            row(ASSET, {ORGANIZATION: org["slug"], **asset})
        for contact in org["contacts"]:
            row(CONTACT, {ORGANIZATION: org["slug"], **contact})
    return out.getvalue()


def export_text(fmt: str = "json") -> str:
    document = export_document()
    return render_csv(document) if fmt == "csv" else render_json(document)
