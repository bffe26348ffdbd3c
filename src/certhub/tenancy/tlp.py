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

from enum import IntEnum

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
