"""Every read of the constituency, scoped by the visibility rules (DESIGN.md section 3).

Rules for the constituency itself:
- a platform admin sees everything;
- a team member sees its own teams, every team below them and the teams above them
  (its reporting line); organizations whose responsible team is its team or below it,
  with their assets, contacts and memberships;
- an organization member sees its own organizations (with assets and contacts), and its
  responsible team with that team's reporting line;
- a Council member sees the team tree and the sectors (to read aggregates), never an
  organization's details;
- anything else is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid, NotFound
from certhub.tenancy.assets import (
    address_key,
    domain_suffixes,
    normalise_domain,
    parse_asn,
    parse_ip,
)
from certhub.tenancy.choices import AssetKind, TeamKind, TeamRole
from certhub.tenancy.models import (
    Asset,
    CIICriterion,
    CIICriterionLevel,
    CIIDesignation,
    CIIGradeChange,
    Contact,
    Membership,
    Organization,
    Sector,
    Team,
)
from certhub.tenancy.visibility import scope_for

# --- Teams -----------------------------------------------------------------------------


def teams_visible_to(user: Any) -> QuerySet[Team]:
    scope = scope_for(user)
    teams = Team.objects.select_related("parent")
    if scope.is_admin or scope.is_council:
        return teams
    if not scope.is_authenticated:
        return teams.none()
    condition = Q(pk__in=[])
    for seat in scope.teams:
        condition |= Q(path__startswith=seat.path)
    condition |= Q(pk__in=scope.ancestor_team_ids())
    return teams.filter(condition)


def get_team(user: Any, slug: str) -> Team:
    team = teams_visible_to(user).filter(slug=slug).first()
    if team is None:
        raise NotFound(_("No such team."))
    return team


def national_team() -> Team | None:
    """The National CERT: the root of the team tree (the oldest root if several)."""
    return Team.objects.filter(parent__isnull=True).order_by("id").first()


def team_subtree(team: Team) -> QuerySet[Team]:
    """The team and every team below it: one prefix match on the materialised path."""
    return Team.objects.filter(path__startswith=team.path)


def team_ancestors(team: Team) -> QuerySet[Team]:
    """The teams above ``team``, root first: one query, ids read from its path."""
    return Team.objects.filter(pk__in=team.ancestor_ids).order_by("depth")


def sectors_visible_to(user: Any) -> QuerySet[Sector]:
    scope = scope_for(user)
    return Sector.objects.all() if scope.is_authenticated else Sector.objects.none()


# --- Organizations and what hangs off them ---------------------------------------------


def _organization_condition(user: Any, prefix: str = "") -> Q | None:
    """The filter selecting the organizations ``user`` may see; None means all of them.
    ``prefix`` addresses the organization from a related model (``organization__``)."""
    scope = scope_for(user)
    if scope.is_admin:
        return None
    condition = Q(**{f"{prefix}pk__in" if prefix else "pk__in": []})
    if not scope.is_authenticated:
        return condition
    for seat in scope.teams:
        condition |= Q(**{f"{prefix}responsible_team__path__startswith": seat.path})
    if scope.org_ids:
        condition |= Q(**{f"{prefix}pk__in" if prefix else "pk__in": sorted(scope.org_ids)})
    return condition


def organizations_visible_to(user: Any) -> QuerySet[Organization]:
    orgs = Organization.objects.select_related("sector", "responsible_team")
    condition = _organization_condition(user)
    return orgs if condition is None else orgs.filter(condition)


def get_organization(user: Any, slug: str) -> Organization:
    org = organizations_visible_to(user).filter(slug=slug).first()
    if org is None:
        raise NotFound(_("No such organization."))
    return org


def assets_visible_to(user: Any) -> QuerySet[Asset]:
    assets = Asset.objects.select_related("organization", "organization__sector")
    condition = _organization_condition(user, "organization__")
    return assets if condition is None else assets.filter(condition)


def contacts_visible_to(user: Any) -> QuerySet[Contact]:
    """Contacts of visible organizations, and of visible teams."""
    contacts = Contact.objects.select_related("organization", "team")
    org_condition = _organization_condition(user, "organization__")
    if org_condition is None:
        return contacts
    scope = scope_for(user)
    if scope.is_council:
        return contacts.none()
    visible_team_ids = teams_visible_to(user).values("pk")
    return contacts.filter(
        (Q(organization__isnull=False) & org_condition) | Q(team_id__in=visible_team_ids)
    )


def memberships_visible_to(user: Any) -> QuerySet[Membership]:
    """Who belongs to the teams below the user's teams and to the organizations it sees."""
    scope = scope_for(user)
    memberships = Membership.objects.select_related("user", "team", "organization")
    if scope.is_admin:
        return memberships
    condition = Q(user_id=scope.user_id) if scope.user_id else Q(pk__in=[])
    for seat in scope.teams:
        condition |= Q(team__path__startswith=seat.path)
        condition |= Q(organization__responsible_team__path__startswith=seat.path)
    return memberships.filter(condition)


# --- Lookups: which organization owns this address, AS or domain ----------------------


def owner_of_ip(raw: str) -> Asset | None:
    """Longest-prefix match over all CIDR assets (IPv4 and IPv6). Unscoped: callers
    check the owner's visibility."""
    key = address_key(parse_ip(raw))
    return (
        Asset.objects.select_related("organization")
        .filter(kind=AssetKind.CIDR, range_start__lte=key, range_end__gte=key)
        .order_by("-prefix_len")
        .first()
    )


def owner_of_asn(raw: str) -> Asset | None:
    return (
        Asset.objects.select_related("organization")
        .filter(kind=AssetKind.ASN, asn=parse_asn(raw))
        .first()
    )


def owner_of_domain(raw: str) -> Asset | None:
    """The registered domain that is the longest suffix of ``raw``."""
    candidates = domain_suffixes(normalise_domain(raw))
    rows = list(
        Asset.objects.select_related("organization").filter(
            kind=AssetKind.DOMAIN, value__in=candidates
        )
    )
    return max(rows, key=lambda asset: len(asset.value), default=None)


def lookup_owner(user: Any, *, ip: str = "", asn: str = "", domain: str = "") -> Asset:
    """The asset (and so the organization) owning an address, AS or domain, when ``user``
    may see that organization; NotFound otherwise, without saying which."""
    given = [name for name, value in (("ip", ip), ("asn", asn), ("domain", domain)) if value]
    if len(given) != 1:
        raise Invalid(_("Give exactly one of ip, asn or domain."))
    if ip:
        asset = owner_of_ip(ip)
    elif asn:
        asset = owner_of_asn(asn)
    else:
        asset = owner_of_domain(domain)
    if (
        asset is None
        or not organizations_visible_to(user).filter(pk=asset.organization_id).exists()
    ):
        raise NotFound(_("No organization you can see owns this resource."))
    return asset


def memberships_of(user: Any) -> tuple[list[Membership], list[Membership]]:
    """The user's own team and organization memberships (one query)."""
    rows = list(
        Membership.objects.filter(user_id=user.pk)
        .select_related("team", "organization")
        .order_by("id")
    )
    return [m for m in rows if m.team_id], [m for m in rows if m.organization_id]


# --- Directory and API reads -----------------------------------------------------------


def organizations_matching(
    user: Any,
    *,
    sector: str = "",
    team: str = "",
    cii: bool | None = None,
    q: str = "",
) -> QuerySet[Organization]:
    """The organizations ``user`` may see, narrowed by the directory filters: a sector
    slug, a team slug (that team's whole subtree), CII or not, and a text that the name or
    slug contains. Filters only narrow: an unknown or invisible team matches nothing the
    user could not already see."""
    orgs = organizations_visible_to(user)
    if sector:
        orgs = orgs.filter(sector__slug=sector)
    if team:
        # The team's path as a prefix of the responsible team's path selects the subtree;
        # a subquery keeps it one statement.
        team_path = Team.objects.filter(slug=team).values("path")[:1]
        orgs = orgs.alias(_filter_team_path=Subquery(team_path)).filter(
            responsible_team__path__startswith=F("_filter_team_path")
        )
    if cii is not None:
        orgs = orgs.filter(is_cii=cii)
    text = q.strip()
    if text:
        orgs = orgs.filter(Q(name__icontains=text) | Q(slug__icontains=text))
    return orgs


def get_organization_detail(user: Any, slug: str) -> Organization:
    """One visible organization with its assets and contacts prefetched (``org.assets.all()``
    and ``org.contacts.all()`` then cost no query)."""
    org = (
        organizations_visible_to(user)
        .prefetch_related(
            Prefetch("assets", queryset=assets_visible_to(user).order_by("kind", "value")),
            Prefetch("contacts", queryset=contacts_visible_to(user).order_by("name")),
        )
        .filter(slug=slug)
        .first()
    )
    if org is None:
        raise NotFound(_("No such organization."))
    return org


@dataclass(frozen=True)
class TeamDetail:
    """A visible team and what a user may see around it. The querysets are lazy: a
    caller that does not read one pays nothing for it."""

    team: Team
    ancestors: QuerySet[Team]
    children: QuerySet[Team]
    contacts: QuerySet[Contact]
    organizations: QuerySet[Organization]


def get_team_detail(user: Any, slug: str) -> TeamDetail:
    team = get_team(user, slug)
    visible = teams_visible_to(user)
    return TeamDetail(
        team=team,
        ancestors=visible.filter(pk__in=team.ancestor_ids).order_by("depth"),
        children=visible.filter(parent_id=team.pk).order_by("name"),
        contacts=contacts_visible_to(user).filter(team_id=team.pk).order_by("name"),
        organizations=organizations_visible_to(user)
        .filter(responsible_team_id=team.pk)
        .order_by("name"),
    )


@dataclass
class TeamNode:
    team: Team
    children: list[TeamNode] = field(default_factory=list)


def team_tree_visible_to(user: Any) -> list[TeamNode]:
    """The visible teams as a forest (one query), children in name order. A team whose
    parent is not visible becomes a root."""
    teams = list(teams_visible_to(user).order_by("depth", "name"))
    nodes = {team.pk: TeamNode(team) for team in teams}
    roots: list[TeamNode] = []
    for team in teams:
        parent = nodes.get(team.parent_id) if team.parent_id else None
        (parent.children if parent else roots).append(nodes[team.pk])
    return roots


def teams_addressable_by(user: Any) -> QuerySet[Team]:
    """The CERTs a staff member may name as recipients (e.g. of a TLP:RED advisory):
    every team of the tree, since peers outside one's own reporting line are legitimate
    recipients and the tree itself is known to all CERT staff. Others may name none."""
    scope = scope_for(user)
    if scope.is_admin or scope.is_cert_staff:
        return Team.objects.order_by("path")
    return Team.objects.none()


# --- The CII registry ------------------------------------------------------------------


def _registry_team_kinds(user: Any, *, roles: frozenset[str] | None = None) -> bool:
    """True when ``user`` sits (with one of ``roles``, any role when None) in the National
    CERT or the CII CERT: the two that keep the CII registry for the whole country."""
    scope = scope_for(user)
    team_ids = [seat.team_id for seat in scope.teams if roles is None or seat.role in roles]
    if not team_ids:
        return False
    return Team.objects.filter(pk__in=team_ids, kind__in=REGISTRY_TEAM_KINDS).exists()


REGISTRY_TEAM_KINDS = (TeamKind.NATIONAL, TeamKind.CII)


def may_manage_cii_registry(user: Any) -> bool:
    """Who records designations, grades and reviews: platform admins and the
    coordinators of the National CERT and of the CII CERT."""
    scope = scope_for(user)
    if scope.is_admin:
        return True
    return _registry_team_kinds(user, roles=frozenset({TeamRole.COORDINATOR}))


def cii_registry_organizations(user: Any) -> QuerySet[Organization]:
    """The organizations whose CII record ``user`` may read: all of them for admins and
    the National and CII CERTs (the registry is theirs), otherwise those the user sees
    through the visibility rules. Council members: none (aggregates only)."""
    scope = scope_for(user)
    orgs = Organization.objects.select_related("sector", "responsible_team")
    if scope.is_admin or may_manage_cii_registry(user):
        return orgs
    # Analysts and viewers of the National and CII CERTs: the CII organizations, and
    # what the visibility rules show them anyway.
    if _registry_team_kinds(user):
        return orgs.filter(Q(is_cii=True) | Q(pk__in=organizations_visible_to(user).values("pk")))
    return organizations_visible_to(user)


def cii_register(
    user: Any, *, q: str = "", sector: str = "", grade: str = ""
) -> QuerySet[Organization]:
    """The designated CII organizations ``user`` may read, with their current
    designation (``current_designations``, a list of at most one) prefetched."""
    orgs = cii_registry_organizations(user).filter(is_cii=True)
    if q.strip():
        orgs = orgs.filter(Q(name__icontains=q.strip()) | Q(slug__icontains=q.strip()))
    if sector:
        orgs = orgs.filter(sector__slug=sector)
    if grade:
        orgs = orgs.filter(cii_grade=grade)
    return orgs.prefetch_related(
        Prefetch(
            "cii_designations",
            queryset=CIIDesignation.objects.filter(revoked_on__isnull=True),
            to_attr="current_designations",
        )
    ).order_by("cii_review_date", "name")


@dataclass(frozen=True)
class CIIRecord:
    """One organization's CII record: its designations (current first), its grade
    history (newest first) and the grading criteria to regrade it with."""

    organization: Organization
    designations: list[CIIDesignation]
    history: list[CIIGradeChange]
    can_manage: bool

    @property
    def current_designation(self) -> CIIDesignation | None:
        return next((d for d in self.designations if d.revoked_on is None), None)


def get_cii_record(user: Any, slug: str) -> CIIRecord:
    org = cii_registry_organizations(user).filter(slug=slug).first()
    if org is None:
        raise NotFound(_("No such organization."))
    return CIIRecord(
        organization=org,
        designations=list(
            CIIDesignation.objects.filter(organization=org)
            .select_related("recorded_by")
            .order_by("revoked_on", "-designated_on", "-id")
        ),
        history=list(
            CIIGradeChange.objects.filter(organization=org)
            .select_related("changed_by")
            .order_by("-changed_at", "-id")
        ),
        can_manage=may_manage_cii_registry(user),
    )


def cii_criteria() -> list[CIICriterion]:
    """The active grading criteria with their levels (the scheme is not confidential)."""
    return list(
        CIICriterion.objects.filter(is_active=True)
        .prefetch_related(Prefetch("levels", queryset=CIICriterionLevel.objects.order_by("points")))
        .order_by("position", "slug")
    )


def cii_reviews_due(*, today: dt.date, days_before: int) -> QuerySet[Organization]:
    """Designated organizations whose annual review falls within ``days_before`` days of
    ``today`` or has passed: a system read for the reminder task (unscoped)."""
    return (
        Organization.objects.filter(
            is_cii=True,
            is_active=True,
            cii_review_date__isnull=False,
            cii_review_date__lte=today + dt.timedelta(days=days_before),
        )
        .select_related("sector", "responsible_team")
        .order_by("cii_review_date", "pk")
    )


def cii_cert_recipients() -> list[str]:
    """Where CII review reminders go: the CII CERTs' mailboxes, their contacts and their
    coordinators (a system read for the reminder task)."""
    teams = Team.objects.filter(kind=TeamKind.CII)
    addresses = [email for email in teams.values_list("email", flat=True) if email]
    addresses += list(Contact.objects.filter(team__in=teams).values_list("email", flat=True))
    addresses += list(
        Membership.objects.filter(team__in=teams, role=TeamRole.COORDINATOR)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted({address.lower() for address in addresses if address})
