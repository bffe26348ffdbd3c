"""NCISS-style scoring: weighted answers give a 0-100 score and a priority 0-5; an
affected CII organization raises it by its grade."""

from __future__ import annotations

import pytest

from certhub.core.errors import Invalid
from certhub.incidents.severity import assess, cii_raise, priority_for_score, score

LOWEST = {
    "functional_impact": "none",
    "information_impact": "none",
    "recoverability": "regular",
    "observed_activity": "prepare",
    "location": "business_dmz",
    "actor": "none",
    "cross_sector_dependency": "none",
    "potential_impact": "negligible",
}
HIGHEST = {
    "functional_impact": "denial_of_critical",
    "information_impact": "destruction_critical",
    "recoverability": "not_recoverable",
    "observed_activity": "effect",
    "location": "safety_systems",
    "actor": "nation_state",
    "cross_sector_dependency": "critical",
    "potential_impact": "severe",
}
BANK_PHISHING = {
    "functional_impact": "significant",  # 65 x 20
    "information_impact": "proprietary_breach",  # 70 x 15
    "recoverability": "supplemented",  # 35 x 10
    "observed_activity": "presence",  # 70 x 15
    "location": "business_network",  # 40 x 10
    "actor": "criminal",  # 50 x 10
    "cross_sector_dependency": "none",  # 0 x 10
    "potential_impact": "moderate",  # 50 x 10
}


@pytest.mark.parametrize(
    ("answers", "expected_score", "expected_priority"),
    [
        (LOWEST, 4, 0),  # prepare 10 x 15 + dmz 20 x 10 = 350 / 100 = 3.5, rounded half up
        (BANK_PHISHING, 52, 3),  # 5150 / 100 = 51.5 -> 52: High
        (HIGHEST, 100, 5),
        (BANK_PHISHING | {"functional_impact": "minimal"}, 46, 2),  # 4550/100 -> 45.5 -> 46
    ],
)
def test_weighted_answers_give_a_score_and_a_priority(
    answers: dict[str, str], expected_score: int, expected_priority: int
) -> None:
    assert score(answers) == expected_score
    assert assess(answers).priority == expected_priority


def test_priority_bands_follow_the_data() -> None:
    assert [priority_for_score(s) for s in (0, 19, 20, 34, 35, 49, 50, 64, 65, 79, 80, 100)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        5,
    ]
    assert priority_for_score(None) == 0


def test_a_cii_grade_raises_the_priority_up_to_emergency() -> None:
    assert cii_raise(["1"]) == 2
    assert cii_raise(["3", "2"]) == 1
    assert cii_raise([]) == 0
    assert assess(BANK_PHISHING, ["1"]).priority == 5
    assert assess(BANK_PHISHING, ["2"]).priority == 4
    assert assess(HIGHEST, ["1"]).priority == 5  # capped
    unscored = assess(None, ["1"])
    assert (unscored.score, unscored.base_priority, unscored.priority) == (None, 0, 2)


def test_incomplete_or_unknown_answers_are_refused_in_words() -> None:
    with pytest.raises(Invalid, match="missing: potential_impact"):
        score({k: v for k, v in LOWEST.items() if k != "potential_impact"})
    with pytest.raises(Invalid, match="not an answer to actor"):
        score(LOWEST | {"actor": "aliens"})
    with pytest.raises(Invalid, match="Unknown severity factors: mood"):
        score(LOWEST | {"mood": "grumpy"})
