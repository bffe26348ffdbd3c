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

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from certhub.advisories.choices import AudienceKind
from certhub.advisories.models import Advisory, AdvisoryRevision
from certhub.core.errors import NotFound
from certhub.tenancy.models import Organization, Team
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
