"""The CII grading scheme: criteria and their levels are data (``CIICriterion`` rows,
editable in the administration); this module turns answers into a score and a grade,
and holds the scheme certhub ships with.

The score is the weighted mean of the answered levels' points (0 to 100, rounded half
up); the grade follows from the bands below (grade 1 is the most critical). Every active
criterion must be answered, so a grade is never computed from half a form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.tenancy.choices import CIIGrade
from certhub.tenancy.models import CIICriterion

# (lowest score, grade), checked from the top.
GRADE_BANDS: tuple[tuple[int, str], ...] = (
    (70, CIIGrade.GRADE_1),
    (40, CIIGrade.GRADE_2),
    (0, CIIGrade.GRADE_3),
)

# A designation is reviewed once a year.
REVIEW_INTERVAL_DAYS = 365

# The scheme installed by ``install_default_cii_criteria`` (and the demo): slug, name,
# weight, levels as (slug, label, points).
DEFAULT_CRITERIA: tuple[tuple[str, str, int, tuple[tuple[str, str, int], ...]], ...] = (
    (
        "population",
        "People depending on the service",
        3,
        (
            ("local", "Fewer than 100,000", 10),
            ("regional", "100,000 to 5 million", 50),
            ("national", "More than 5 million", 100),
        ),
    ),
    (
        "substitutability",
        "How easily the service can be replaced",
        2,
        (
            ("easy", "Alternatives within hours", 0),
            ("hard", "Alternatives within days", 50),
            ("none", "No alternative", 100),
        ),
    ),
    (
        "dependency",
        "Other sectors depending on it",
        2,
        (
            ("none", "None", 0),
            ("some", "One or two sectors", 50),
            ("many", "Three or more sectors", 100),
        ),
    ),
    (
        "state_functions",
        "Essential state functions affected by its loss",
        2,
        (
            ("none", "None", 0),
            ("some", "Some, with workarounds", 50),
            ("critical", "Defence, security or public order", 100),
        ),
    ),
    (
        "economic_impact",
        "Economic impact of a day's outage",
        1,
        (
            ("low", "Limited to the operator", 10),
            ("medium", "Felt in its sector", 50),
            ("high", "Felt in the national economy", 100),
        ),
    ),
)


@dataclass(frozen=True)
class Grading:
    score: int
    grade: str
    answers: dict[str, str]


def grade_for_score(score: int) -> str:
    for lowest, grade in GRADE_BANDS:
        if score >= lowest:
            return str(grade)
    return str(CIIGrade.GRADE_3)


def grade_from_answers(answers: Mapping[str, str]) -> Grading:
    """Score ``answers`` ({criterion slug: level slug}) against the active criteria."""
    if not isinstance(answers, Mapping):
        raise Invalid(_("Answers are a mapping of criterion to level."))
    criteria = list(CIICriterion.objects.filter(is_active=True).prefetch_related("levels"))
    if not criteria:
        raise Invalid(_("No grading criteria are defined: set the grade with a reason."))
    known = {criterion.slug for criterion in criteria}
    unknown = sorted(str(slug) for slug in answers if slug not in known)
    if unknown:
        raise Invalid(_("Unknown grading criteria: %(c)s.") % {"c": ", ".join(unknown)})
    total = weights = 0
    kept: dict[str, str] = {}
    for criterion in criteria:
        answer = answers.get(criterion.slug)
        if not answer:
            raise Invalid(_("Answer the criterion “%(c)s”.") % {"c": criterion.name})
        levels = {level.slug: level.points for level in criterion.levels.all()}
        if answer not in levels:
            raise Invalid(
                _("%(a)s is not a level of “%(c)s”; choose one of: %(l)s.")
                % {"a": answer, "c": criterion.name, "l": ", ".join(levels)}
            )
        total += criterion.weight * levels[answer]
        weights += criterion.weight
        kept[criterion.slug] = answer
    score = int(total * 2 // weights + 1) // 2
    return Grading(score=score, grade=grade_for_score(score), answers=kept)


def next_review(after: dt.date) -> dt.date:
    return after + dt.timedelta(days=REVIEW_INTERVAL_DAYS)
