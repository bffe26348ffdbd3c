"""Traffic Light Protocol 2.0 and the Permissible Actions Protocol: the labels, and the one
sharing check every export, message and API answer uses (DESIGN.md sections 3 and 4).

TLP 2.0 (FIRST) in certhub's terms:
- CLEAR: no limit; may be published (public portal, public feeds).
- GREEN: the community: any signed-in user of this installation, never the public.
- AMBER: the recipient organizations (or teams) and those they must tell to act: in
  certhub, the users who may see the object through the visibility rules.
- AMBER+STRICT: the recipient organization only: like AMBER, but not passed on to other
  organizations, so it never leaves the organizations and teams already involved.
- RED: only the named recipients (users or teams named on the object).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class TLP(models.TextChoices):
    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


class PAP(models.TextChoices):
    """What recipients may do with the information (PAP, as in the MISP taxonomy)."""

    CLEAR = "CLEAR", "PAP:CLEAR"
    GREEN = "GREEN", "PAP:GREEN"
    AMBER = "AMBER", "PAP:AMBER"
    RED = "RED", "PAP:RED"


class Audience(IntEnum):
    """How far a recipient stands from the source, nearest first."""

    NAMED = 0  # a user or team named as recipient on the object
    ORGANIZATION = 1  # a member of an organization or team already involved
    PASSED_ON = 2  # someone an involved party tells so that it can act (its clients)
    COMMUNITY = 3  # any signed-in user of this installation
    PUBLIC = 4  # anyone, without an account


# The farthest audience each label allows.
_REACH = {
    TLP.RED: Audience.NAMED,
    TLP.AMBER_STRICT: Audience.ORGANIZATION,
    TLP.AMBER: Audience.PASSED_ON,
    TLP.GREEN: Audience.COMMUNITY,
    TLP.CLEAR: Audience.PUBLIC,
}
# Most restrictive last: used to pick the label of a combination.
ORDER = [TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED]


def tlp_allows(tlp: str, audience: Audience) -> bool:
    """May information labelled ``tlp`` go to ``audience``? The one sharing check."""
    try:
        reach = _REACH[TLP(tlp)]
    except ValueError as exc:
        raise ValueError(f"unknown TLP label {tlp!r}") from exc
    return audience <= reach


def strictest(*labels: str) -> str:
    """The label of a document combining parts with these labels (the most restrictive)."""
    known = [TLP(label) for label in labels if label]
    return max(known, key=ORDER.index, default=TLP.CLEAR).value


def tlp_label(tlp: str) -> str:
    """``TLP:AMBER+STRICT``, as it must appear in a subject line and before a body."""
    return TLP(tlp).label


TLP_HELP = _(
    "CLEAR: may be published. GREEN: the certhub community, not public. AMBER: the "
    "organizations involved and those they must tell. AMBER+STRICT: the organizations "
    "involved only. RED: named recipients only."
)


# --- The sharing check every export path calls ---------------------------------------


class SharePath(models.TextChoices):
    """The ways information leaves certhub; each calls ``sharing_refusal`` before it does."""

    STIX = "stix", _("STIX export")
    TAXII = "taxii", _("TAXII collection")
    MISP = "misp", _("MISP export")
    CSV = "csv", _("CSV export")
    EMAIL = "email", _("e-mail")


@dataclass(frozen=True)
class Holders:
    """Who already holds a piece of information: the users and teams named as its
    recipients, the teams involved (they and the teams above them are "the
    organization"), and the organizations involved. The clients of an involved team (the
    teams below it and the organizations it is responsible for) are those AMBER may be
    passed on to."""

    named_user_ids: frozenset[int] = frozenset()
    named_team_ids: frozenset[int] = frozenset()
    team_paths: tuple[str, ...] = ()
    org_ids: frozenset[int] = frozenset()


def audience_of(user: Any, holders: Holders) -> Audience:
    """How far ``user`` stands from the holders of the information (nearest first)."""
    from certhub.tenancy.visibility import scope_for

    scope = scope_for(user)
    if not scope.is_authenticated:
        return Audience.PUBLIC
    if scope.user_id in holders.named_user_ids or scope.team_ids & holders.named_team_ids:
        return Audience.NAMED
    own_paths = [seat.path for seat in scope.teams]
    if scope.org_ids & holders.org_ids or any(
        held.startswith(own) for held in holders.team_paths for own in own_paths
    ):
        return Audience.ORGANIZATION
    client_paths = [*own_paths, *scope.org_team_paths]
    if any(path.startswith(held) for held in holders.team_paths for path in client_paths):
        return Audience.PASSED_ON
    return Audience.COMMUNITY


_REFUSALS = {
    TLP.RED: _("TLP:RED leaves certhub only to its named recipients."),
    TLP.AMBER_STRICT: _("TLP:AMBER+STRICT stays within the recipient organization."),
    TLP.AMBER: _("TLP:AMBER goes only to the recipient organization and its clients."),
    TLP.GREEN: _("TLP:GREEN goes to the community, never to the public."),
}


def sharing_refusal(tlp: str, *, path: str, audience: Audience) -> str | None:
    """Why information labelled ``tlp`` may not leave on ``path`` for ``audience``, in
    the user's words; None when it may. Every export path (STIX, TAXII, MISP, CSV,
    e-mail) asks this one question (DESIGN.md section 6)."""
    SharePath(path)  # an unknown path is a bug, not a refusal
    if tlp_allows(tlp, audience):
        return None
    return "%s: %s" % (SharePath(path).label, _REFUSALS[TLP(tlp)])  # noqa: UP031


def may_share(tlp: str, *, path: str, audience: Audience) -> bool:
    return sharing_refusal(tlp, path=path, audience=audience) is None


def require_shareable(tlp: str, *, path: str, audience: Audience) -> None:
    """Raise Forbidden (with the reason) when the label does not let it go."""
    from certhub.core.errors import Forbidden

    refusal = sharing_refusal(tlp, path=path, audience=audience)
    if refusal is not None:
        raise Forbidden(refusal)


def labels_shareable(*, path: str, audience: Audience) -> list[str]:
    """The labels that may go on ``path`` to ``audience`` (to filter a query)."""
    return [label for label in ORDER if may_share(label, path=path, audience=audience)]
