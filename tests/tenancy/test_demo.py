"""Someone trying certhub runs `certhub demo` and gets the reference constituency of
DESIGN.md section 2, with a login for every role, built in seconds, and running it again
changes nothing."""

from __future__ import annotations

import io
import ipaddress

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from certhub.accounts.models import User
from certhub.audit.models import AuditEntry
from certhub.tenancy.choices import AssetKind, OrgRole, TeamKind, TeamRole
from certhub.tenancy.demo import DEFAULT_PASSWORD, ORGANIZATIONS, SECTORS, build_demo
from certhub.tenancy.models import Asset, Contact, Membership, Organization, Sector, Team

pytestmark = pytest.mark.django_db

DOCUMENTATION_NETWORKS = [
    ipaddress.ip_network(net)
    for net in (
        "192.0.2.0/24",  # TEST-NET-1, RFC 5737
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "100.64.0.0/10",  # shared address space, RFC 6598: never routed
        "2001:db8::/32",  # IPv6 documentation, RFC 3849
    )
]
DOCUMENTATION_ASNS = set(range(64496, 64512)) | set(range(65536, 65552))  # RFC 5398

STAFF_LOGINS = {
    "national.coordinator": ("national", TeamRole.COORDINATOR),
    "national.analyst": ("national", TeamRole.ANALYST),
    "government.analyst": ("government", TeamRole.ANALYST),
    "banking.coordinator": ("banking", TeamRole.COORDINATOR),
    "banking.analyst": ("banking", TeamRole.ANALYST),
    "telecom.analyst": ("telecom", TeamRole.ANALYST),
    "punjab.analyst": ("punjab", TeamRole.ANALYST),
    "sindh.analyst": ("sindh", TeamRole.ANALYST),
}


def _parent(slug: str) -> str | None:
    parent = Team.objects.get(slug=slug).parent
    return parent.slug if parent else None


def test_the_demo_builds_the_reference_tier_tree() -> None:
    build_demo()
    national = Team.objects.get(slug="national")
    assert (national.kind, national.parent, national.name) == (
        TeamKind.NATIONAL,
        None,
        "National CERT",
    )
    for slug in ("government", "cii", "banking", "telecom", "power", "finance", "defence"):
        assert _parent(slug) == "national"
    for slug in ("punjab", "sindh", "khyber-pakhtunkhwa", "balochistan"):
        team = Team.objects.get(slug=slug)
        assert team.kind == TeamKind.PROVINCIAL
        assert _parent(slug) == "government"
        assert team.depth == 2
    assert Team.objects.count() == 12
    assert Contact.objects.get(team=national).pgp_fingerprint


def test_the_demo_has_forty_odd_organizations_across_every_sector() -> None:
    build_demo()
    assert Organization.objects.count() >= 40
    assert Sector.objects.count() == len(SECTORS) == 10
    for sector in Sector.objects.all():
        assert sector.organizations.exists(), f"no organization in {sector.slug}"
    # Responsible teams follow the sector or the province.
    for org in Organization.objects.select_related("sector", "responsible_team"):
        team = org.responsible_team
        if org.is_cii:
            assert team.slug == "cii"
            assert org.cii_grade
            assert org.cii_review_date is not None
        elif org.sector.slug in ("banking", "telecom", "power", "finance", "defence"):
            assert team.slug == org.sector.slug, org.slug
        if team.kind == TeamKind.PROVINCIAL:
            assert org.province == team.name.removesuffix(" CERT"), org.slug
    assert Organization.objects.filter(is_cii=True).count() >= 3
    assert all(org.contacts.count() == 2 for org in Organization.objects.all())
    soc = Contact.objects.get(email="soc@nationalbank.example")
    assert soc.organization is not None
    assert soc.organization.slug == "example-national-bank"
    assert "incidents" in soc.notifications


def test_every_demo_asset_is_in_a_documentation_or_test_range() -> None:
    build_demo()
    networks = Asset.objects.filter(kind=AssetKind.CIDR)
    assert networks.count() >= len(ORGANIZATIONS) * 2
    for asset in networks:
        network = ipaddress.ip_network(asset.value)
        assert any(
            network.version == allowed.version and network.subnet_of(allowed)
            for allowed in DOCUMENTATION_NETWORKS
        ), asset.value
    for asset in Asset.objects.filter(kind=AssetKind.ASN):
        assert asset.asn in DOCUMENTATION_ASNS, asset.value
    for asset in Asset.objects.filter(kind=AssetKind.DOMAIN):
        assert asset.value.endswith(".example"), asset.value
    assert all(contact.email.endswith(".example") for contact in Contact.objects.all())
    # Each organization has an IPv4 network of its own.
    for org in Organization.objects.all():
        assert any(
            ipaddress.ip_network(asset.value).version == 4
            for asset in org.assets.filter(kind=AssetKind.CIDR)
        ), org.slug


def test_every_demo_login_exists_with_its_membership() -> None:
    build_demo()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert not Membership.objects.filter(user=admin).exists()
    council = User.objects.get(username="council.member")
    assert council.is_council
    assert not Membership.objects.filter(user=council).exists()
    for username, (team, role) in STAFF_LOGINS.items():
        membership = Membership.objects.select_related("team", "user").get(user__username=username)
        assert (membership.team.slug if membership.team else None, membership.role) == (
            team,
            role,
        )
        assert membership.user.email == f"{username}@certhub.example"
    for org in Organization.objects.all():
        membership = Membership.objects.get(user__username=f"{org.slug}.reporter")
        assert (membership.organization, membership.role) == (org, OrgRole.REPORTER)
    assert User.objects.count() == len(STAFF_LOGINS) + 4 + Organization.objects.count()


def test_demo_logins_share_the_chosen_password() -> None:
    build_demo(password="another demo secret")
    assert authenticate(username="banking.analyst", password="another demo secret")
    assert (
        authenticate(username="example-national-bank.reporter", password=DEFAULT_PASSWORD) is None
    )


def test_running_the_demo_twice_changes_nothing() -> None:
    first = build_demo()
    assert first.changed() > 0
    counts = [model.objects.count() for model in (Team, Organization, Asset, Contact, User)]
    entries = AuditEntry.objects.count()

    second = build_demo()

    assert second.changed() == 0
    assert AuditEntry.objects.count() == entries
    assert [model.objects.count() for model in (Team, Organization, Asset, Contact, User)] == (
        counts
    )
    assert second.constituency.counts["organizations"]["unchanged"] == len(ORGANIZATIONS)


def test_the_demo_command_prints_the_logins_and_the_password(settings) -> None:
    settings.DEMO = True
    out = io.StringIO()
    call_command("demo", "--password", "shown-in-the-table", stdout=out)
    text = out.getvalue()
    for username in ("admin", "council.member", *STAFF_LOGINS):
        assert username in text
    assert "example-interior-ministry.reporter" in text
    assert "Password for these logins: shown-in-the-table" in text

    again = io.StringIO()
    call_command("demo", stdout=again)
    assert "nothing changed" in again.getvalue()


def test_the_demo_command_refuses_outside_demo_mode_unless_forced(settings) -> None:
    settings.DEMO = False
    with pytest.raises(CommandError, match="not in demo mode"):
        call_command("demo", stdout=io.StringIO())
    assert not User.objects.filter(username="admin").exists()
    call_command("demo", "--force", stdout=io.StringIO())
    assert User.objects.filter(username="admin", is_superuser=True).exists()
