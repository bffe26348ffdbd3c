"""The incident data shipped as JSON in ``data/`` (RSIT taxonomy, severity weights,
deadline profiles and SLAs, escalation rules), loaded once and checked on load, so a
mistake in an edited file is a clear start-up error rather than a wrong score later.

An administrator changes them by editing the files, or by pointing the setting
``CERTHUB_INCIDENT_DATA_DIR`` at a folder holding replacements."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from certhub.incidents.choices import DeadlineKind, Priority, Status
from certhub.incidents.conf import setting

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _read(name: str) -> Any:
    override = setting("CERTHUB_INCIDENT_DATA_DIR")
    path = Path(override) / name if override else None
    if path is None or not path.exists():
        path = PACKAGE_DATA / name
    return _read_path(str(path))


@cache
def _read_path(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"incident data file {path} is not readable JSON: {exc}"
        ) from exc


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ImproperlyConfigured(f"{text!r} is not a duration like 30m, 6h or 3d")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


# --- RSIT ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    category: str
    type: str
    category_name: str
    type_name: str
    namespace: str = "rsit"

    @property
    def machine_tag(self) -> str:
        return f'{self.namespace}:{self.category}="{self.type}"'


@cache
def _taxonomy(path_key: str) -> dict[tuple[str, str], Classification]:
    data = _read("rsit.json")
    namespace = data.get("namespace", "rsit")
    found: dict[tuple[str, str], Classification] = {}
    for category in data["categories"]:
        for kind in category["types"]:
            found[(category["slug"], kind["slug"])] = Classification(
                category["slug"], kind["slug"], category["name"], kind["name"], namespace
            )
    if not found:
        raise ImproperlyConfigured("the RSIT taxonomy has no categories")
    return found


def taxonomy() -> dict[tuple[str, str], Classification]:
    """(category, type) -> Classification, in file order."""
    return _taxonomy(setting("CERTHUB_INCIDENT_DATA_DIR"))


def categories() -> dict[str, str]:
    """category slug -> name, in file order."""
    return {c.category: c.category_name for c in taxonomy().values()}


def classification(category: str, type_: str) -> Classification | None:
    return taxonomy().get((category, type_))


# --- Severity --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityModel:
    # factor slug -> (weight, {answer slug: value})
    factors: dict[str, tuple[int, dict[str, int]]]
    # (min_score, priority), highest threshold first
    bands: tuple[tuple[int, int], ...]
    cii_raise: dict[str, int]


@cache
def _severity(path_key: str) -> SeverityModel:
    data = _read("severity.json")
    factors: dict[str, tuple[int, dict[str, int]]] = {}
    for factor in data["factors"]:
        answers = {a["slug"]: int(a["value"]) for a in factor["answers"]}
        if not answers or any(not 0 <= v <= 100 for v in answers.values()):
            raise ImproperlyConfigured(f"severity factor {factor['slug']}: answers 0 to 100")
        factors[factor["slug"]] = (int(factor["weight"]), answers)
    if sum(weight for weight, _answers in factors.values()) <= 0:
        raise ImproperlyConfigured("severity weights must add up to more than 0")
    bands = tuple(
        sorted(
            ((int(b["min_score"]), int(b["priority"])) for b in data["priority_bands"]),
            reverse=True,
        )
    )
    if not bands or bands[-1][0] != 0 or {p for _s, p in bands} - set(Priority.values):
        raise ImproperlyConfigured("priority bands must start at score 0 and use priorities 0-5")
    return SeverityModel(factors, bands, {str(k): int(v) for k, v in data["cii_raise"].items()})


def severity_model() -> SeverityModel:
    return _severity(setting("CERTHUB_INCIDENT_DATA_DIR"))


@dataclass(frozen=True)
class SeverityQuestion:
    """One factor of the severity form as people read it: its name and its answers'
    names (the values stay in ``SeverityModel``)."""

    slug: str
    name: str
    answers: tuple[tuple[str, str], ...]  # (answer slug, answer name), in file order


@cache
def _severity_questions(path_key: str) -> tuple[SeverityQuestion, ...]:
    return tuple(
        SeverityQuestion(
            factor["slug"],
            factor.get("name", factor["slug"]),
            tuple((a["slug"], a.get("name", a["slug"])) for a in factor["answers"]),
        )
        for factor in _read("severity.json")["factors"]
    )


def severity_questions() -> tuple[SeverityQuestion, ...]:
    """The severity form's questions, in file order (the web form is built from them)."""
    return _severity_questions(setting("CERTHUB_INCIDENT_DATA_DIR"))


# --- Deadlines -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineRules:
    profiles: dict[str, dict[str, dt.timedelta]]
    profile_names: dict[str, str]
    default_profile: str
    cii_profile: str
    sector_profiles: dict[str, str]
    met_on_report: frozenset[str]
    slas: dict[int, dict[str, dt.timedelta]]
    pause_in_status: dict[str, frozenset[str]]

    def pauses(self, status: str, kind: str) -> bool:
        kinds = self.pause_in_status.get(status, frozenset())
        return "*" in kinds or kind in kinds


@cache
def _deadlines(path_key: str) -> DeadlineRules:
    data = _read("deadlines.json")
    profiles = {
        slug: {kind: parse_duration(text) for kind, text in p["deadlines"].items()}
        for slug, p in data["reporting_profiles"].items()
    }
    slas = {
        int(priority): {kind: parse_duration(text) for kind, text in row.items()}
        for priority, row in data["response_slas"].items()
    }
    assignment = data.get("profile_assignment", {})
    rules = DeadlineRules(
        profiles=profiles,
        profile_names={slug: p["name"] for slug, p in data["reporting_profiles"].items()},
        default_profile=data["default_profile"],
        cii_profile=assignment.get("cii_organizations", ""),
        sector_profiles=dict(assignment.get("sectors", {})),
        met_on_report=frozenset(data.get("met_on_report", [])),
        slas=slas,
        pause_in_status={s: frozenset(k) for s, k in data.get("pause_in_status", {}).items()},
    )
    kinds = set(DeadlineKind.values)
    named = {rules.default_profile, *rules.sector_profiles.values()} | (
        {rules.cii_profile} if rules.cii_profile else set()
    )
    if named - set(profiles):
        raise ImproperlyConfigured(f"unknown reporting profiles: {sorted(named - set(profiles))}")
    if set(slas) != set(Priority.values):
        raise ImproperlyConfigured("response SLAs are needed for every priority 0-5")
    used = {k for p in profiles.values() for k in p} | {k for row in slas.values() for k in row}
    if used - kinds or set(rules.pause_in_status) - set(Status.values):
        raise ImproperlyConfigured("deadline data names an unknown deadline kind or status")
    return rules


def deadline_rules() -> DeadlineRules:
    return _deadlines(setting("CERTHUB_INCIDENT_DATA_DIR"))


# --- Escalation ------------------------------------------------------------------------

ESCALATION_RULES = {"cii_affected", "priority_at_least", "multiple_sectors", "widespread"}
ESCALATION_TARGETS = {"root", "parent", "common_ancestor"}


@cache
def _escalation(path_key: str) -> tuple[dict[str, Any], ...]:
    rules = tuple(_read("escalation.json")["rules"])
    for rule in rules:
        if rule.get("rule") not in ESCALATION_RULES:
            raise ImproperlyConfigured(f"unknown escalation rule {rule.get('rule')!r}")
        if rule.get("escalate_to") not in ESCALATION_TARGETS:
            raise ImproperlyConfigured(f"unknown escalation target {rule.get('escalate_to')!r}")
    return rules


def escalation_rules() -> tuple[dict[str, Any], ...]:
    return _escalation(setting("CERTHUB_INCIDENT_DATA_DIR"))
