"""The tier tree: materialised paths stay right through creation and moves, and subtree
queries cost a constant number of queries."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhub.tenancy.choices import TeamKind
from certhub.tenancy.selectors import team_ancestors, team_subtree
from tests.factories import make_team

pytestmark = pytest.mark.django_db


def test_paths_follow_the_reporting_line() -> None:
    national = make_team("national", TeamKind.NATIONAL)
    government = make_team("government", TeamKind.GOVERNMENT, national)
    punjab = make_team("punjab", TeamKind.PROVINCIAL, government)
    assert national.path == f"/{national.pk}/"
    assert punjab.path == f"/{national.pk}/{government.pk}/{punjab.pk}/"
    assert (national.depth, government.depth, punjab.depth) == (0, 1, 2)
    assert national.is_ancestor_of(punjab)
    assert not punjab.is_ancestor_of(national)


def test_subtree_and_ancestors_cost_one_query_whatever_the_depth() -> None:
    national = make_team("national", TeamKind.NATIONAL)
    parent = national
    chain = []
    for i in range(12):
        parent = make_team(f"level-{i}", parent=parent)
        chain.append(parent)
    make_team("sibling", parent=national)
    with CaptureQueriesContext(connection) as queries:
        below_first = list(team_subtree(chain[0]))
        above_last = list(team_ancestors(chain[-1]))
    assert len(queries) == 2
    assert [t.slug for t in below_first] == [t.slug for t in chain]
    assert [t.slug for t in above_last] == ["national"] + [t.slug for t in chain[:-1]]


def test_moving_a_team_moves_its_whole_subtree() -> None:
    national = make_team("national", TeamKind.NATIONAL)
    government = make_team("government", TeamKind.GOVERNMENT, national)
    banking = make_team("banking", parent=national)
    punjab = make_team("punjab", TeamKind.PROVINCIAL, banking)
    lahore = make_team("lahore", parent=punjab)
    punjab.parent = government
    punjab.save()
    lahore.refresh_from_db()
    assert lahore.path == f"/{national.pk}/{government.pk}/{punjab.pk}/{lahore.pk}/"
    assert lahore.depth == 3
    assert set(team_subtree(government).values_list("slug", flat=True)) == {
        "government",
        "punjab",
        "lahore",
    }
    assert set(team_subtree(banking).values_list("slug", flat=True)) == {"banking"}


def test_a_team_cannot_report_to_its_own_subtree() -> None:
    national = make_team("national", TeamKind.NATIONAL)
    government = make_team("government", TeamKind.GOVERNMENT, national)
    punjab = make_team("punjab", TeamKind.PROVINCIAL, government)
    government.parent = punjab
    with pytest.raises(ValidationError):
        government.full_clean()
    with pytest.raises(ValidationError):
        government.save()
