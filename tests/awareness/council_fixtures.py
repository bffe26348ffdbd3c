"""The Council of the test world: a chair, a secretary and the world's
``council.member`` in office, and one member whose term has ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from certhub.accounts.models import User
from certhub.awareness import council_services as services
from certhub.awareness.council_choices import CouncilSeat
from certhub.awareness.council_models import CouncilMember
from tests.factories import World, make_user


@dataclass
class Council:
    members: dict[str, CouncilMember] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def seat_council(world: World) -> Council:
    admin = world.users["admin"]
    start, end = today() - dt.timedelta(days=300), today() + dt.timedelta(days=400)
    council = Council()
    council.users["chair"] = make_user("council.chair", first_name="Amina", last_name="Chair")
    council.users["secretary"] = make_user("council.secretary")
    council.users["member"] = world.users["council"]
    council.users["former"] = make_user("council.former", is_council=True)
    for key, seat in (
        ("chair", CouncilSeat.CHAIR),
        ("secretary", CouncilSeat.SECRETARY),
        ("member", CouncilSeat.ACADEMIA),
    ):
        council.members[key] = services.appoint_member(
            actor=admin, user=council.users[key], seat=seat, term_start=start, term_end=end
        )
    council.members["former"] = services.appoint_member(
        actor=admin,
        user=council.users["former"],
        seat=CouncilSeat.INDUSTRY,
        term_start=today() - dt.timedelta(days=800),
        term_end=today() - dt.timedelta(days=1),
    )
    return council


def fresh(user: Any) -> Any:
    """The user as a new request would load it (no cached scope or access)."""
    return User.objects.get(pk=user.pk)
