"""NCISS-style severity: a form of eight factors, each answered from a fixed list, gives
a score from 0 to 100 and a priority level from 0 (Baseline/White) to 5
(Emergency/Black). Weights, answer values and bands are data (``data/severity.json``).

The CII rule: when an organization designated critical information infrastructure is
affected by the incident (or reported it), the priority from the score is raised by
``cii_raise[grade]`` levels for the most critical grade involved (grade 1: two levels,
grades 2 and 3: one level, as shipped), never above Emergency. An unscored incident
starts from Baseline, so a report from a grade-1 CII operator is Medium until an
analyst scores it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from certhub.core.errors import Invalid
from certhub.incidents.catalog import severity_model
from certhub.incidents.choices import Priority


@dataclass(frozen=True)
class Severity:
    score: int | None
    base_priority: int
    priority: int
    cii_raise: int


def score(answers: Mapping[str, str]) -> int:
    """The weighted mean of the answers' values, 0 to 100. Every factor must be answered
    with one of its answers."""
    model = severity_model()
    unknown = sorted(set(answers) - set(model.factors))
    if unknown:
        raise Invalid(_("Unknown severity factors: %(f)s.") % {"f": ", ".join(unknown)})
    missing = [slug for slug in model.factors if slug not in answers]
    if missing:
        raise Invalid(
            _("Answer every severity factor; missing: %(f)s.") % {"f": ", ".join(missing)}
        )
    total = weights = 0
    for slug, (weight, values) in model.factors.items():
        answer = answers[slug]
        if not isinstance(answer, str) or answer not in values:
            raise Invalid(
                _("%(answer)s is not an answer to %(factor)s; choose one of: %(choices)s.")
                % {"answer": answer, "factor": slug, "choices": ", ".join(values)}
            )
        total += weight * values[answer]
        weights += weight
    # Round half up, so 49.5 counts as 50 on every platform.
    return int(total * 2 // weights + 1) // 2


def priority_for_score(value: int | None) -> int:
    if value is None:
        return Priority.BASELINE
    for min_score, priority in severity_model().bands:
        if value >= min_score:
            return priority
    return Priority.BASELINE


def cii_raise(cii_grades: Iterable[str]) -> int:
    """Levels added for the CII organizations involved: the largest raise counts."""
    raises = severity_model().cii_raise
    return max((raises.get(str(grade), 0) for grade in cii_grades if grade), default=0)


def assess(answers: Mapping[str, str] | None, cii_grades: Iterable[str] = ()) -> Severity:
    value = score(answers) if answers else None
    base = priority_for_score(value)
    raise_by = cii_raise(cii_grades)
    return Severity(
        score=value,
        base_priority=base,
        priority=min(base + raise_by, Priority.EMERGENCY),
        cii_raise=raise_by,
    )
