"""Every read of advisories, scoped (DESIGN.md section 3).

Two ways to see an advisory:
- the authoring line: members of the authoring team and of the teams above it see the
  working copy in every state (drafts, reviews, pending updates) and its revisions.
  A TLP:RED working copy is seen by the authoring team itself only (and the named
  recipients once published);
- readers: a published advisory's latest revision, as its TLP and audience allow, through
  the one sharing check ``tlp_allows``: CLEAR goes to everyone (also without an account),
  GREEN to any signed-in user, AMBER and AMBER+STRICT to the members of the audience
  organizations and the CERTs over them, RED to the named recipients only.
The TLP and audience that count for readers are those of the latest published revision,
never of a pending edit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from certhub.advisories.choices import DEFAULT_ACK_HOURS, AudienceKind
from certhub.advisories.models import (
    Acknowledgement,
    Advisory,
    AdvisoryDelivery,
    AdvisoryRevision,
)
from certhub.core.errors import NotFound
from certhub.tenancy.models import Organization, Sector, Team
from certhub.tenancy.tlp import TLP, Audience, tlp_allows
from certhub.tenancy.visibility import Scope, scope_for

REV = "latest_revision__"
BIG_REVISION_FIELDS = (f"{REV}csaf_document", f"{REV}csaf_signature")


def _labels(audience: Audience) -> list[str]:
    return [label for label in TLP.values if tlp_allows(label, audience)]


def _seat_paths_q(scope: Scope, field: str) -> Q:
    condition = Q(pk__in=[])
    for seat in scope.teams:
        condition |= Q(**{f"{field}__path__startswith": seat.path})
    return condition


def _audience_q(scope: Scope) -> Q:
    """Published advisories whose audience includes the user: a member of an audience
    organization, or of a CERT over one (for tiers: a CERT of, or over one of, the kinds)."""
    condition = Q(pk__in=[])
    if not (scope.org_ids or scope.teams):
        return condition
    condition |= Q(**{f"{REV}audience_kind": AudienceKind.EVERYONE})

    own_orgs = list(
        Organization.objects.filter(pk__in=sorted(scope.org_ids)).values_list(
            "sector_id", "is_cii", "responsible_team__kind"
        )
    )
    covered_orgs = Organization.objects.filter(_seat_paths_q(scope, "responsible_team"))
    sector_ids = {sector_id for sector_id, _cii, _kind in own_orgs}
    kinds = {kind for _sector, _cii, kind in own_orgs}
    has_cii = any(cii for _sector, cii, _kind in own_orgs)
    if scope.teams:
        team_paths = Q(pk__in=[])
        for seat in scope.teams:
            team_paths |= Q(path__startswith=seat.path)
        kinds |= set(Team.objects.filter(team_paths).values_list("kind", flat=True).distinct())
        has_cii = has_cii or covered_orgs.filter(is_cii=True).exists()

    sectors = Q(**{f"{REV}audience_sectors__in": sorted(sector_ids)})
    organizations = Q(**{f"{REV}audience_organizations__in": sorted(scope.org_ids)})
    if scope.teams:
        sectors |= Q(**{f"{REV}audience_sectors__in": covered_orgs.values("sector_id")})
        organizations |= Q(**{f"{REV}audience_organizations__in": covered_orgs.values("pk")})
    condition |= Q(**{f"{REV}audience_kind": AudienceKind.SECTORS}) & sectors
    condition |= Q(**{f"{REV}audience_kind": AudienceKind.ORGANIZATIONS}) & organizations
    if has_cii:
        condition |= Q(**{f"{REV}audience_kind": AudienceKind.CII})
    tiers = Q(pk__in=[])
    for kind in sorted(kinds):
        # The kinds are a JSON list of words none of which contains another; matching the
        # quoted word works on SQLite and PostgreSQL alike.
        tiers |= Q(**{f"{REV}audience_team_kinds__icontains": f'"{kind}"'})
    condition |= Q(**{f"{REV}audience_kind": AudienceKind.TIERS}) & tiers
    return condition


def _named_q(scope: Scope) -> Q:
    condition = Q(pk__in=[])
    if scope.user_id is not None:
        condition |= Q(**{f"{REV}red_recipient_users": scope.user_id})
    if scope.teams:
        condition |= Q(**{f"{REV}red_recipient_teams__in": sorted(scope.team_ids)})
    return condition


def _authoring_q(scope: Scope) -> Q:
    if scope.is_admin:
        return ~Q(tlp=TLP.RED)
    if not scope.teams:
        return Q(pk__in=[])
    return (scope.subtree_q("team") & ~Q(tlp=TLP.RED)) | Q(team_id__in=sorted(scope.team_ids))


def _reader_q(scope: Scope) -> Q:
    condition = Q(**{f"{REV}tlp__in": _labels(Audience.PUBLIC)})
    if scope.is_authenticated:
        condition |= Q(**{f"{REV}tlp__in": _labels(Audience.COMMUNITY)})
        condition |= _audience_q(scope) & Q(**{f"{REV}tlp__in": _labels(Audience.ORGANIZATION)})
        condition |= _named_q(scope) & Q(**{f"{REV}tlp__in": _labels(Audience.NAMED)})
    return Q(latest_revision__isnull=False) & condition


def advisories_visible_to(user: Any) -> QuerySet[Advisory]:
    """Every advisory ``user`` may see, in either way (one row each)."""
    scope = scope_for(user)
    matching = Advisory.objects.filter(_authoring_q(scope) | _reader_q(scope)).values("pk")
    return (
        Advisory.objects.filter(pk__in=matching)
        .select_related("team", "latest_revision")
        .defer(*BIG_REVISION_FIELDS)
    )


def in_authoring_line(user: Any, advisory: Advisory) -> bool:
    """May ``user`` see the working copy (drafts, pending updates) of ``advisory``?"""
    scope = scope_for(user)
    if scope.is_admin and advisory.tlp != TLP.RED:
        return True
    if advisory.team_id in scope.team_ids:
        return True
    return advisory.tlp != TLP.RED and scope.covers_team_path(advisory.team.path)


def get_advisory(user: Any, tracking_id: str) -> Advisory:
    advisory = advisories_visible_to(user).filter(tracking_id=tracking_id).first()
    if advisory is None:
        raise NotFound(_("No such advisory."))
    return advisory


def content_for(user: Any, advisory: Advisory) -> dict[str, Any]:
    """What ``user`` reads of an advisory it may see: the working copy for the authoring
    line, the latest published revision for everyone else."""
    from certhub.advisories.services import snapshot_content

    if in_authoring_line(user, advisory):
        return snapshot_content(advisory)
    if advisory.latest_revision is None:  # not reachable through advisories_visible_to
        raise NotFound(_("No such advisory."))
    return dict(advisory.latest_revision.content)


def revisions_of(advisory: Advisory) -> QuerySet[AdvisoryRevision]:
    """The published revisions of an advisory the caller may already see, oldest first."""
    return (
        AdvisoryRevision.objects.filter(advisory_id=advisory.pk)
        .defer("csaf_document", "csaf_signature")
        .order_by("number")
    )


def published_csaf_for(user: Any, tracking_id: str) -> AdvisoryRevision:
    """The CSAF document of the latest revision of an advisory ``user`` may see."""
    advisory = get_advisory(user, tracking_id)
    if advisory.latest_revision_id is None:
        raise NotFound(_("This advisory has not been published yet."))
    return AdvisoryRevision.objects.get(pk=advisory.latest_revision_id)


# --- The public CSAF provider (TLP:CLEAR only, no account) ----------------------------------


def clear_revisions() -> QuerySet[AdvisoryRevision]:
    """The latest revision of every advisory whose latest revision is TLP:CLEAR: what the
    provider directory lists. Unscoped on purpose: CLEAR is public by definition."""
    return AdvisoryRevision.objects.filter(
        tlp=TLP.CLEAR,
        pk__in=Advisory.objects.filter(latest_revision__isnull=False).values("latest_revision_id"),
    )


def get_clear_revision(path: str) -> AdvisoryRevision:
    revision = clear_revisions().filter(csaf_path=path).first()
    if revision is None:
        raise NotFound(_("No such CSAF document."))
    return revision


# --- Distribution: who an advisory is addressed to, and who may receive it ----------------


def audience_organizations(revision: AdvisoryRevision) -> QuerySet[Organization]:
    """The active organizations a published revision is addressed to: the organizations
    that get it in their inbox and by e-mail, and are asked to acknowledge it. It matches
    the audience rule of ``_audience_q`` (a member of one of these organizations reads
    the revision). TLP:RED goes to named people and CERTs only: no organization."""
    orgs = Organization.objects.filter(is_active=True).select_related("sector", "responsible_team")
    if revision.tlp == TLP.RED:
        return orgs.none()
    kind = revision.audience_kind
    if kind == AudienceKind.EVERYONE:
        return orgs
    if kind == AudienceKind.SECTORS:
        return orgs.filter(sector__in=revision.audience_sectors.all())
    if kind == AudienceKind.ORGANIZATIONS:
        return orgs.filter(pk__in=revision.audience_organizations.all())
    if kind == AudienceKind.CII:
        return orgs.filter(is_cii=True)
    if kind == AudienceKind.TIERS:
        return orgs.filter(responsible_team__kind__in=list(revision.audience_team_kinds))
    return orgs.none()


def addressed_teams(revision: AdvisoryRevision) -> QuerySet[Team]:
    """The CERTs a revision is addressed to as such: the named CERTs of a TLP:RED
    revision, the CERTs of the chosen kinds for a ``tiers`` audience; none otherwise."""
    if revision.tlp == TLP.RED:
        return Team.objects.filter(pk__in=revision.red_recipient_teams.all())
    if revision.audience_kind == AudienceKind.TIERS:
        return Team.objects.filter(kind__in=list(revision.audience_team_kinds))
    return Team.objects.none()


def user_may_read(user: Any, advisory: Advisory) -> bool:
    """The one check before anything about ``advisory`` is sent to ``user``: the same
    rule as every page (``advisories_visible_to``)."""
    return advisories_visible_to(user).filter(pk=advisory.pk).exists()


def contact_may_receive(revision: AdvisoryRevision, audience: Audience) -> bool:
    """May a contact mailbox at ``audience`` distance (the mailbox of an addressed
    organization or CERT: ``ORGANIZATION``) receive this revision? The TLP sharing check."""
    return tlp_allows(revision.tlp, audience)


# --- The inbox of an organization -----------------------------------------------------------


def _acknowledged(prefix: str = "") -> Exists:
    return Exists(
        Acknowledgement.objects.filter(
            advisory_id=OuterRef(f"{prefix}advisory_id"),
            organization_id=OuterRef(f"{prefix}organization_id"),
        )
    )


def inbox_for(user: Any) -> QuerySet[AdvisoryDelivery]:
    """The advisories delivered to the user's organizations that it may still read (an
    update that narrowed the audience takes them out), newest first, each annotated with
    ``acknowledged``."""
    scope = scope_for(user)
    if not scope.org_ids:
        return AdvisoryDelivery.objects.none()
    return (
        AdvisoryDelivery.objects.filter(
            organization_id__in=sorted(scope.org_ids),
            advisory__in=advisories_visible_to(user).values("pk"),
        )
        .select_related("advisory", "advisory__latest_revision", "organization")
        .defer(*(f"advisory__{name}" for name in BIG_REVISION_FIELDS))
        .annotate(acknowledged=_acknowledged())
        .order_by("-updated_at", "-id")
    )


def deliveries_to_user(user: Any, advisory: Advisory) -> list[AdvisoryDelivery]:
    """The deliveries of ``advisory`` to the user's organizations (where it may answer)."""
    scope = scope_for(user)
    if not scope.org_ids:
        return []
    return list(
        AdvisoryDelivery.objects.filter(
            advisory_id=advisory.pk, organization_id__in=sorted(scope.org_ids)
        )
        .select_related("organization")
        .order_by("organization__name")
    )


def latest_acknowledgements(advisory: Advisory, org_ids: list[int]) -> dict[int, Acknowledgement]:
    """The current answer of each organization (its latest acknowledgement)."""
    latest: dict[int, Acknowledgement] = {}
    rows = Acknowledgement.objects.filter(
        advisory_id=advisory.pk, organization_id__in=org_ids
    ).order_by("organization_id", "-at", "-id")
    for ack in rows:
        latest.setdefault(ack.organization_id, ack)
    return latest


# --- Acknowledgement rates for the coordinating CERT ----------------------------------------


@dataclass
class AckRow:
    organization: Organization
    delivery: AdvisoryDelivery
    acknowledgement: Acknowledgement | None


@dataclass
class SectorRate:
    sector: Sector
    total: int = 0
    acknowledged: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.acknowledged / self.total) if self.total else 0


@dataclass
class AckOverview:
    advisory: Advisory
    rows: list[AckRow] = field(default_factory=list)
    sectors: list[SectorRate] = field(default_factory=list)
    deadline_hours: int | None = None

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def acknowledged(self) -> int:
        return sum(1 for row in self.rows if row.acknowledgement is not None)

    @property
    def percent(self) -> int:
        return round(100 * self.acknowledged / self.total) if self.total else 0


def acknowledgement_overview(user: Any, tracking_id: str) -> AckOverview:
    """Who acknowledged an advisory, per organization and per sector: for the authoring
    line (the CERT that published it and the CERTs above it); NotFound for anyone else."""
    advisory = get_advisory(user, tracking_id)
    if not in_authoring_line(user, advisory):
        raise NotFound(_("No such advisory."))
    overview = AckOverview(advisory=advisory, deadline_hours=advisory.ack_hours)
    if advisory.latest_revision is None:
        return overview
    deliveries = list(
        AdvisoryDelivery.objects.filter(
            advisory_id=advisory.pk,
            organization__in=audience_organizations(advisory.latest_revision).values("pk"),
        )
        .select_related("organization", "organization__sector")
        .order_by("organization__sector__name", "organization__name")
    )
    latest = latest_acknowledgements(advisory, [d.organization_id for d in deliveries])
    sectors: dict[int, SectorRate] = {}
    for delivery in deliveries:
        org = delivery.organization
        ack = latest.get(org.pk)
        overview.rows.append(AckRow(org, delivery, ack))
        rate = sectors.setdefault(org.sector_id, SectorRate(org.sector))
        rate.total += 1
        rate.acknowledged += ack is not None
    overview.sectors = list(sectors.values())
    return overview


def reminders_due(now: dt.datetime) -> QuerySet[AdvisoryDelivery]:
    """Deliveries of advisories with an acknowledgement deadline that their organization
    has not acknowledged and was not reminded of yet (the deadline itself is checked by
    the caller: it depends on each advisory's hours). Withdrawn advisories need no
    answer."""
    critical = [severity for severity, hours in DEFAULT_ACK_HOURS.items() if hours]
    return (
        AdvisoryDelivery.objects.filter(
            reminded_at__isnull=True,
            advisory__latest_revision__isnull=False,
            advisory__latest_revision__withdrawn=False,
            delivered_at__lte=now,
        )
        .filter(Q(advisory__ack_within_hours__gt=0) | Q(advisory__severity__in=critical))
        .exclude(_acknowledged())
        .select_related("advisory", "organization")
        .defer(*(f"advisory__{name}" for name in BIG_REVISION_FIELDS))
        .order_by("delivered_at", "id")
    )


# --- The public portal (TLP:CLEAR, no account) ----------------------------------------------

C = "latest_revision__content__"


def portal_advisories(
    *, q: str = "", severity: str = "", year: int | None = None, vendor: str = ""
) -> QuerySet[Advisory]:
    """Published TLP:CLEAR advisories for the public portal (what an anonymous visitor may
    read), newest first, narrowed by a text in the title, summary, CVE ids or products,
    a severity, the year of first publication, and a vendor."""
    advisories = advisories_visible_to(None).order_by("-latest_revision__published_at", "-id")
    text = q.strip()
    if text:
        advisories = advisories.filter(
            Q(**{f"{C}title__icontains": text})
            | Q(**{f"{C}summary__icontains": text})
            | Q(**{f"{C}cves__icontains": text})
            | Q(**{f"{C}products__icontains": text})
        )
    if severity:
        advisories = advisories.filter(**{f"{C}severity": severity})
    if year:
        advisories = advisories.filter(latest_revision__csaf_path__startswith=f"{year:04d}/")
    if vendor:
        # A rough filter in the database, then the exact vendor on the few rows left.
        candidates = advisories.filter(**{f"{C}products__icontains": vendor}).values_list(
            "pk", "latest_revision__content"
        )
        wanted = vendor.casefold()
        exact = [
            pk
            for pk, content in candidates
            if any(
                str(p.get("vendor", "")).casefold() == wanted
                for p in (content or {}).get("products", [])
            )
        ]
        advisories = advisories.filter(pk__in=exact)
    return advisories


def portal_facets() -> tuple[list[int], list[str]]:
    """The publication years and vendors of the portal's advisories (for its filters)."""
    rows = advisories_visible_to(None).values_list(
        "latest_revision__csaf_path", "latest_revision__content"
    )
    years: set[int] = set()
    vendors: dict[str, str] = {}
    for path, content in rows:
        years.add(int(path.split("/", 1)[0]))
        for product in (content or {}).get("products", []):
            name = str(product.get("vendor", "")).strip()
            if name:
                vendors.setdefault(name.casefold(), name)
    return sorted(years, reverse=True), sorted(vendors.values(), key=str.casefold)


def get_portal_advisory(tracking_id: str) -> Advisory:
    advisory = advisories_visible_to(None).filter(tracking_id=tracking_id).first()
    if advisory is None:
        raise NotFound(_("No such advisory."))
    return advisory
