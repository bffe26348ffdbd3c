"""The demo shows a Council at work and a CII registry with history, and building it
again changes nothing."""

from __future__ import annotations

import pytest

from certhub.accounts.models import User
from certhub.awareness.council_models import CouncilMeeting, CouncilMember, Dispute, Recommendation
from certhub.awareness.council_selectors import council_access
from certhub.tenancy.demo import ORGANIZATIONS, build_demo
from certhub.tenancy.models import CIICriterion, CIIDesignation, CIIGradeChange, Organization

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "members": CouncilMember.objects.count(),
        "meetings": CouncilMeeting.objects.count(),
        "recommendations": Recommendation.objects.count(),
        "disputes": Dispute.objects.count(),
        "designations": CIIDesignation.objects.count(),
        "grade_changes": CIIGradeChange.objects.count(),
        "criteria": CIICriterion.objects.count(),
    }


def test_the_demo_council_and_cii_registry() -> None:
    build_demo()
    first = counts()
    assert first["members"] == 3
    assert first["meetings"] == 3
    assert first["recommendations"] == 3
    assert first["disputes"] == 2
    cii_orgs = [o for o in ORGANIZATIONS if o.cii]
    assert first["designations"] == len(cii_orgs)
    assert first["grade_changes"] > len(cii_orgs)  # some were regraded
    assert first["criteria"] == 5
    secretary = User.objects.get(username="council.secretary")
    assert council_access(secretary).writes
    assert council_access(User.objects.get(username="council.member")).reads
    assert not council_access(User.objects.get(username="council.member")).writes
    punjab = Recommendation.objects.get(kind="cert_notification")
    assert punjab.addressed_teams.filter(slug="punjab").exists()
    for org in Organization.objects.filter(is_cii=True):
        assert CIIGradeChange.objects.filter(organization=org).latest("changed_at").new_grade == (
            org.cii_grade
        )
    build_demo()
    assert counts() == first
