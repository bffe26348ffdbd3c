"""CVSS vectors of an advisory's CVEs: parsed and scored with the ``cvss`` library, so a
score is always the one its vector gives. A vector the library refuses is a user error
(``Invalid``) that names the CVE, the CVSS version and the library's reason."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from django.utils.translation import gettext as _

from certhub.core.errors import Invalid

MAX_VECTOR_LENGTH = 400


@dataclass(frozen=True)
class Score:
    """A parsed CVSS vector: its normalised form, base score and severity."""

    version: str  # "3.0", "3.1" or "4.0"
    vector: str
    base_score: Decimal
    severity: str  # as CVSS names it: None, Low, Medium, High, Critical

    def as_csaf(self) -> dict[str, Any]:
        """The object CSAF 2.0 puts under ``scores[].cvss_v3`` (FIRST's CVSS JSON: the
        base metrics, score and severity). Only meaningful for v3 vectors."""
        return CVSS3(self.vector).as_json(minimal=True)


def _reason(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


def parse_cvss_v3(vector: str, *, cve: str = "") -> Score:
    """A CVSS v3.0 or v3.1 vector (``CVSS:3.1/AV:N/...``)."""
    text = (vector or "").strip()
    if len(text) > MAX_VECTOR_LENGTH:
        raise Invalid(_("The CVSS v3 vector of %(cve)s is too long.") % {"cve": cve or "?"})
    if not text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        raise Invalid(
            _("The CVSS v3 vector of %(cve)s must start with CVSS:3.1/ (or CVSS:3.0/).")
            % {"cve": cve or "?"}
        )
    try:
        parsed = CVSS3(text)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise Invalid(
            _("The CVSS v3 vector of %(cve)s is not valid: %(reason)s")
            % {"cve": cve or "?", "reason": _reason(exc)}
        ) from exc
    base = parsed.scores()[0]
    return Score(
        version=text[5:8],
        vector=parsed.clean_vector(),
        base_score=Decimal(str(base)),
        severity=parsed.severities()[0],
    )


def parse_cvss_v4(vector: str, *, cve: str = "") -> Score:
    """A CVSS v4.0 vector (``CVSS:4.0/AV:N/...``)."""
    text = (vector or "").strip()
    if len(text) > MAX_VECTOR_LENGTH:
        raise Invalid(_("The CVSS v4 vector of %(cve)s is too long.") % {"cve": cve or "?"})
    if not text.startswith("CVSS:4.0/"):
        raise Invalid(
            _("The CVSS v4 vector of %(cve)s must start with CVSS:4.0/.") % {"cve": cve or "?"}
        )
    try:
        parsed = CVSS4(text)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise Invalid(
            _("The CVSS v4 vector of %(cve)s is not valid: %(reason)s")
            % {"cve": cve or "?", "reason": _reason(exc)}
        ) from exc
    return Score(
        version="4.0",
        vector=parsed.clean_vector(),
        base_score=Decimal(str(parsed.base_score)),
        severity=str(parsed.severity),
    )
