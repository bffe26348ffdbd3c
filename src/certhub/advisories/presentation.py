"""An advisory's content (a revision's or the working copy's data) prepared for a page,
the PDF and the portal: labels for the choices and the details rendered safely."""

from __future__ import annotations

from typing import Any

from certhub.advisories.choices import (
    AudienceKind,
    Exploitation,
    RemediationCategory,
    Severity,
)
from certhub.advisories.text import render_markdown
from certhub.tenancy.choices import TeamKind
from certhub.tenancy.tlp import tlp_label


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def present(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` plus ``*_label`` fields, ``tlp_label``, ``tlp_class`` (for the colour)
    and ``details_html`` (Markdown rendered and sanitised)."""
    audience = content.get("audience", {})
    return {
        **content,
        "severity_label": _label(Severity, content.get("severity", "")),
        "exploitation_label": _label(Exploitation, content.get("exploitation", "")),
        "remediation_label": _label(RemediationCategory, content.get("remediation_category", "")),
        "audience_label": _label(AudienceKind, audience.get("kind", "")),
        "audience_team_kinds": [_label(TeamKind, kind) for kind in audience.get("team_kinds", [])],
        "tlp_label": tlp_label(content["tlp"]),
        "tlp_class": "tlp-" + content["tlp"].lower().replace("+", ""),
        "details_html": render_markdown(content.get("details", "")),
    }
