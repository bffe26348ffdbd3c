"""The CERT Council of the demo: its members (``council.chair``, ``council.secretary``,
``council.member``), three meetings, a register of recommendations with follow-up (one
addressed to the provincial CERTs and the Banking CERT) and two disputes. Built once, on
``tenancy.signals.demo_built``; a demo that already has a Council is left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model

from certhub.awareness import council_services as services
from certhub.awareness.council_choices import (
    CouncilSeat,
    DisputeStatus,
    RecommendationKind,
    RecommendationStatus,
)
from certhub.awareness.council_models import CouncilMember
from certhub.awareness.council_selectors import today
from certhub.tenancy.models import Team

SEATS = (
    ("council.chair", CouncilSeat.CHAIR, "Ministry of Information Technology"),
    ("council.secretary", CouncilSeat.SECRETARY, "National CERT"),
    ("council.member", CouncilSeat.ACADEMIA, "National University of Sciences"),
)


def build_council_demo(*, actor: Any, **_signal: Any) -> None:
    if CouncilMember.objects.exists():
        return
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=[s[0] for s in SEATS])
    }
    if len(users) != len(SEATS):
        return
    day = today()
    start, end = day - dt.timedelta(days=400), day + dt.timedelta(days=695)
    members = {
        username: services.appoint_member(
            actor=actor,
            user=users[username],
            seat=seat,
            term_start=start,
            term_end=end,
            organization_name=represents,
        )
        for username, seat, represents in SEATS
    }
    secretary = users["council.secretary"]
    past = services.schedule_meeting(
        actor=secretary,
        held_on=day - dt.timedelta(days=90),
        title="Quarterly sitting",
        location="Ministry of IT, committee room 2",
        agenda="1. The national situation (National CERT)\n2. Disclosure policy\n"
        "3. Notification of provincial CERTs",
        minutes="The National CERT presented the quarter's aggregates. The Council adopted "
        "recommendations on a disclosure policy and on notifying provincial CERTs.",
    )
    services.record_attendance(
        actor=secretary,
        meeting=past,
        attendance={
            members["council.chair"].pk: "present",
            members["council.secretary"].pk: "present",
            members["council.member"].pk: "excused",
        },
    )
    recent = services.schedule_meeting(
        actor=secretary,
        held_on=day - dt.timedelta(days=20),
        title="Extraordinary sitting on ransomware in hospitals",
        agenda="1. Ransomware in provincial health departments\n2. Dispute DSP",
        minutes="The Council heard the Punjab and Sindh CERTs and decided the dispute.",
    )
    services.schedule_meeting(
        actor=secretary,
        held_on=day + dt.timedelta(days=30),
        title="Quarterly sitting",
        agenda="1. The national situation\n2. Follow-up of open recommendations",
    )
    policy = services.add_recommendation(
        actor=secretary,
        title="Publish a national coordinated vulnerability disclosure policy",
        text="The Ministry publishes a CVD policy, with the National CERT as coordinator.",
        owner="Ministry of Information Technology",
        due_date=day + dt.timedelta(days=90),
        meeting=past,
    )
    services.add_follow_up(
        actor=secretary,
        recommendation=policy,
        text="Draft circulated to ministries for comment.",
        status=RecommendationStatus.IN_PROGRESS,
    )
    services.add_recommendation(
        actor=secretary,
        title="Fund four analysts in every provincial CERT",
        text="Each provincial CERT has at least four analysts by the next budget year.",
        owner="Ministry of Finance",
        due_date=day - dt.timedelta(days=10),
        meeting=past,
    )
    teams = list(
        Team.objects.filter(
            slug__in=["punjab", "sindh", "khyber-pakhtunkhwa", "balochistan", "banking"]
        )
    )
    notify = services.add_recommendation(
        actor=secretary,
        title="Copy provincial CERTs on every ransomware alert within 24 hours",
        text="Provincial and sectoral CERTs receive every national ransomware alert within "
        "24 hours and confirm they have passed it to their constituents.",
        owner="National CERT",
        kind=RecommendationKind.CERT_NOTIFICATION,
        due_date=day + dt.timedelta(days=30),
        meeting=recent,
        addressed_teams=teams,
    )
    services.add_follow_up(
        actor=secretary, recommendation=notify, text="Sent to the addressed CERTs."
    )
    by_slug = {
        team.slug: team
        for team in Team.objects.filter(
            slug__in=["punjab", "sindh", "health", "government", "banking", "finance"]
        )
    }
    if {"punjab", "sindh"} <= set(by_slug):
        decided = services.open_dispute(
            actor=secretary,
            subject="Who handles ransomware at a hospital serving both provinces",
            description="The Punjab and Sindh CERTs each asked the other to take the lead.",
            parties=[by_slug["punjab"], by_slug["sindh"]],
            raised_on=day - dt.timedelta(days=40),
        )
        services.decide_dispute(
            actor=secretary,
            dispute=decided,
            status=DisputeStatus.DECIDED,
            decision="The CERT of the province where the hospital is registered leads; the "
            "other participates.",
            meeting=recent,
        )
    if {"government", "banking"} <= set(by_slug):
        services.open_dispute(
            actor=secretary,
            subject="Sharing of indicators from a government payment gateway",
            parties=[by_slug["government"], by_slug["banking"]],
            raised_on=day - dt.timedelta(days=5),
        )
