"""Where an incident goes: the intake team, the reporting line, and the automatic
escalation rules (``data/escalation.json``). Pure decisions on the team tree; the
services carry them out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from certhub.incidents.catalog import escalation_rules
from certhub.incidents.conf import setting
from certhub.tenancy.models import Organization, Team
from certhub.tenancy.selectors import national_team


def national_intake() -> Team:
    """The team receiving reports without an organization (public reports): the one
    named by CERTHUB_NATIONAL_INTAKE_TEAM, else the root of the tree."""
    slug = setting("CERTHUB_NATIONAL_INTAKE_TEAM")
    team = Team.objects.filter(slug=slug).first() if slug else national_team()
    if team is None:
        raise ImproperlyConfigured("there is no national intake team (no root team)")
    return team


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def common_ancestor_id(paths: Iterable[str]) -> int | None:
    """The lowest team whose subtree holds every team at ``paths``."""
    chains = [_path_ids(path) for path in paths]
    if not chains:
        return None
    common: int | None = None
    for ids in zip(*chains, strict=False):
        if len(set(ids)) != 1:
            break
        common = ids[0]
    return common


@dataclass(frozen=True)
class RuleHit:
    rule: str  # the rule's name, e.g. "priority_at_least"
    key: str  # what is remembered so that it fires once, e.g. "priority_at_least:3"
    target: Team | None  # None when the incident already sits at or above the target


def _target(kind: str, handling: Team, org_team_paths: list[str]) -> Team | None:
    if kind == "root":
        ids = _path_ids(handling.path)
        return Team.objects.filter(pk=ids[0]).first() if ids else None
    if kind == "parent":
        return handling.parent
    ancestor = common_ancestor_id([handling.path, *org_team_paths])
    return Team.objects.filter(pk=ancestor).first() if ancestor else None


def rules_applying(
    *,
    handling: Team,
    priority: int,
    orgs: list[Organization],
    already_fired: Iterable[str],
    widespread_team_paths: Iterable[str] | None = None,
) -> list[RuleHit]:
    """The rules that apply now and have not fired yet on this incident. A rule that
    applies while the incident already sits high enough still counts as fired, so a
    coordinator's later delegation down is not undone by the same rule.
    ``widespread_team_paths``: given only when the correlation index found one of the
    incident's indicators across several organizations (the rule "widespread"): the
    responsible teams of those organizations, which its common ancestor covers."""
    fired = set(already_fired)
    sectors = {org.sector_id for org in orgs}
    hits: list[RuleHit] = []
    for rule in escalation_rules():
        name = rule["rule"]
        key = f"{name}:{rule['priority']}" if name == "priority_at_least" else name
        if key in fired:
            continue
        if name == "cii_affected":
            applies = any(org.is_cii for org in orgs)
        elif name == "priority_at_least":
            applies = priority >= int(rule["priority"])
        elif name == "widespread":
            applies = widespread_team_paths is not None
        else:  # multiple_sectors
            applies = len(sectors) > 1
        if not applies:
            continue
        paths = [org.responsible_team.path for org in orgs]
        if name == "widespread":
            paths += list(widespread_team_paths or ())
        target = _target(rule["escalate_to"], handling, paths)
        # Only upwards: a rule never moves an incident sideways or down.
        moves = target is not None and target.pk != handling.pk and target.is_ancestor_of(handling)
        hits.append(RuleHit(rule=name, key=key, target=target if moves else None))
    return hits
