"""Builders for tests: the tier tree, organizations and users, made fresh per test."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from certhub.accounts.models import User
from certhub.accounts.services import create_token
from certhub.tenancy.choices import AssetKind, OrgRole, TeamKind, TeamRole
from certhub.tenancy.models import Asset, Membership, Organization, Sector, Team

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_team(
    slug: str, kind: str = TeamKind.SECTORAL, parent: Team | None = None, **extra: Any
) -> Team:
    return Team.objects.create(
        slug=slug, name=extra.pop("name", slug.title()), kind=kind, parent=parent, **extra
    )


def make_sector(slug: str) -> Sector:
    return Sector.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


def make_org(slug: str, team: Team, sector: str | Sector = "banking", **extra: Any) -> Organization:
    sector_obj = sector if isinstance(sector, Sector) else make_sector(sector)
    if extra.get("is_cii") and not extra.get("cii_grade"):
        extra["cii_grade"] = "1"
    return Organization.objects.create(
        slug=slug,
        name=extra.pop("name", slug.title()),
        sector=sector_obj,
        responsible_team=team,
        **extra,
    )


def make_asset(org: Organization, kind: str, value: str) -> Asset:
    asset = Asset(organization=org, kind=kind, value=value)
    asset.save()
    return asset


def bearer_client(user: User) -> Client:
    """A test client that authenticates like a script: a real token from the accounts
    service, sent as ``Authorization: Bearer``."""
    _token, plain = create_token(actor=user, user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {plain}"})


def make_user(
    username: str | None = None,
    *,
    team: Team | None = None,
    org: Organization | None = None,
    role: str | None = None,
    **extra: Any,
) -> User:
    username = username or f"user{next(_counter)}"
    extra.setdefault("email", f"{username}@example.org")
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    if team is not None:
        Membership.objects.create(user=user, team=team, role=role or TeamRole.ANALYST)
    if org is not None:
        Membership.objects.create(user=user, organization=org, role=role or OrgRole.REPORTER)
    return user


@dataclass
class World:
    """A small copy of the reference tree (DESIGN.md section 2) with one organization per
    branch and users in every role."""

    teams: dict[str, Team] = field(default_factory=dict)
    orgs: dict[str, Organization] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def build_world() -> World:
    w = World()
    national = make_team("national", TeamKind.NATIONAL)
    government = make_team("government", TeamKind.GOVERNMENT, national)
    cii = make_team("cii", TeamKind.CII, national)
    banking = make_team("banking", TeamKind.SECTORAL, national)
    telecom = make_team("telecom", TeamKind.SECTORAL, national)
    punjab = make_team("punjab", TeamKind.PROVINCIAL, government)
    sindh = make_team("sindh", TeamKind.PROVINCIAL, government)
    federal = make_team("federal", TeamKind.FEDERAL, national)
    w.teams = {
        t.slug: t for t in (national, government, cii, banking, telecom, punjab, sindh, federal)
    }

    w.orgs["national-bank"] = make_org("national-bank", banking, "banking")
    w.orgs["city-bank"] = make_org("city-bank", banking, "banking", is_cii=True, cii_grade="1")
    w.orgs["telco"] = make_org("telco", telecom, "telecom")
    w.orgs["ministry"] = make_org("ministry", government, "government")
    w.orgs["punjab-health"] = make_org("punjab-health", punjab, "health", province="Punjab")
    w.orgs["sindh-water"] = make_org("sindh-water", sindh, "power", province="Sindh")
    w.orgs["grid"] = make_org("grid", cii, "power", is_cii=True, cii_grade="1")
    w.orgs["national-direct"] = make_org("national-direct", national, "commercial")
    w.orgs["federal-agency"] = make_org("federal-agency", federal, "government")

    make_asset(w.orgs["national-bank"], AssetKind.CIDR, "192.0.2.0/24")
    make_asset(w.orgs["national-bank"], AssetKind.DOMAIN, "nationalbank.example")
    make_asset(w.orgs["telco"], AssetKind.CIDR, "198.51.100.0/24")
    make_asset(w.orgs["telco"], AssetKind.ASN, "AS64500")
    make_asset(w.orgs["telco"], AssetKind.CIDR, "2001:db8::/32")
    make_asset(w.orgs["punjab-health"], AssetKind.CIDR, "203.0.113.0/25")
    make_asset(w.orgs["sindh-water"], AssetKind.CIDR, "203.0.113.128/25")

    for slug in w.teams:
        for role in TeamRole.values:
            w.users[f"{slug}.{role}"] = make_user(f"{slug}.{role}", team=w.teams[slug], role=role)
    for slug in w.orgs:
        for role in OrgRole.values:
            w.users[f"{slug}.{role}"] = make_user(f"{slug}.{role}", org=w.orgs[slug], role=role)
    w.users["council"] = make_user("council.member", is_council=True)
    w.users["admin"] = make_user("admin", is_superuser=True, is_staff=True)
    w.users["nobody"] = make_user("nobody")
    return w


def make_incident(reporter: User, title: str = "Suspicious logins", **fields: Any) -> Any:
    """An incident reported through the incidents service by ``reporter`` (an
    organization member, or CERT staff recording one)."""
    from certhub.incidents.services import report_incident

    return report_incident(actor=reporter, title=title, **fields)


# A severity assessment that scores High (priority 3), and the smallest PNG there is.
HIGH_SEVERITY = {
    "functional_impact": "significant",
    "information_impact": "proprietary_breach",
    "recoverability": "supplemented",
    "observed_activity": "presence",
    "location": "business_network",
    "actor": "criminal",
    "cross_sector_dependency": "none",
    "potential_impact": "moderate",
}
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
)
