"""The one TLP 2.0 sharing check."""

from __future__ import annotations

import pytest

from certhub.tenancy.tlp import TLP, Audience, strictest, tlp_allows, tlp_label


@pytest.mark.parametrize(
    ("tlp", "farthest"),
    [
        (TLP.CLEAR, Audience.PUBLIC),
        (TLP.GREEN, Audience.COMMUNITY),
        (TLP.AMBER, Audience.PASSED_ON),
        (TLP.AMBER_STRICT, Audience.ORGANIZATION),
        (TLP.RED, Audience.NAMED),
    ],
)
def test_each_label_reaches_exactly_its_audience(tlp: str, farthest: Audience) -> None:
    for audience in Audience:
        assert tlp_allows(tlp, audience) is (audience <= farthest)


def test_unknown_labels_are_refused_not_shared() -> None:
    with pytest.raises(ValueError, match="unknown TLP"):
        tlp_allows("WHITE", Audience.PUBLIC)


def test_a_combination_takes_the_strictest_label() -> None:
    assert strictest("GREEN", "AMBER+STRICT", "AMBER") == "AMBER+STRICT"
    assert strictest() == "CLEAR"
    assert strictest("RED", "CLEAR") == "RED"


def test_labels_are_written_exactly_as_tlp_2_requires() -> None:
    assert tlp_label("AMBER+STRICT") == "TLP:AMBER+STRICT"
    assert tlp_label("CLEAR") == "TLP:CLEAR"
