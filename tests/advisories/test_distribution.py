"""Targeted distribution: a published advisory reaches exactly the contacts and members of
its audience, by e-mail (TLP label first, signed) and in their certhub inbox; nobody the
TLP and audience do not allow ever gets it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from certhub.advisories import selectors, services
from certhub.advisories.models import AdvisoryDelivery
from certhub.notify.choices import NotificationKind
from certhub.notify.models import OutboundMail
from certhub.notify.services import set_preferences
from certhub.tenancy.models import Membership
from tests.advisories.conftest import add_contacts, distribute, for_banks, publish
from tests.factories import World

pytestmark = pytest.mark.django_db


def recipients() -> set[str]:
    return {address for mail in OutboundMail.objects.all() for address in mail.recipients}


def test_a_banking_advisory_reaches_the_banks_and_never_telecom(world: World) -> None:
    add_contacts(world)
    advisory = publish(world, **for_banks())
    assert distribute(advisory) > 0
    sent = recipients()
    for bank in ("national-bank", "city-bank"):
        assert f"soc@{bank}.example" in sent
        assert f"{bank}.reporter@example.org" in sent
        assert f"{bank}.org_admin@example.org" in sent
        assert f"noc@{bank}.example" not in sent  # incidents only
    assert "cert@banking.example" in sent  # the CERT responsible for the banks
    assert not {a for a in sent if "telco" in a or "telecom" in a}
    assert not {a for a in sent if "grid" in a or "ministry" in a or "national." in a}
    # One message per organization: a bank never sees another bank's addresses.
    for mail in OutboundMail.objects.all():
        owners = {address.split("@")[1].split(".")[0] for address in mail.recipients}
        assert len(owners - {"example"}) <= 1, mail.recipients
    deliveries = AdvisoryDelivery.objects.filter(advisory=advisory)
    assert {d.organization.slug for d in deliveries} == {"national-bank", "city-bank"}


def test_the_mail_carries_the_tlp_label_the_tracking_id_and_a_signature(
    world: World, settings: Any
) -> None:
    add_contacts(world)
    advisory = publish(world, **for_banks())
    distribute(advisory)
    mail = OutboundMail.objects.get(recipients__icontains="soc@national-bank.example")
    assert mail.subject == (
        f"[TLP:AMBER] [{advisory.tracking_id}] Remote code execution in Example HTTP Server"
    )
    assert mail.body.startswith("TLP:AMBER\n\nRemote code execution in Example HTTP Server")
    assert "CVE-2026-12345 (CVSS v3 9.8 Critical, CVSS v4 9.3 Critical)" in mail.body
    assert "Please acknowledge it in certhub by" in mail.body  # critical: 48 hours
    assert f"/advisories/{advisory.tracking_id}/" in mail.body
    assert mail.sign is True

    settings.CERTHUB_ADVISORY_SIGN_MAIL = False
    other = publish(world, **for_banks(title="Unsigned", severity="medium"))
    distribute(other)
    unsigned = OutboundMail.objects.filter(reference=other.tracking_id)
    assert unsigned.exists()
    assert not unsigned.filter(sign=True).exists()
    assert all("Please acknowledge" not in m.body for m in unsigned)  # medium: no deadline


def test_a_member_who_switched_advisories_off_gets_no_mail(world: World) -> None:
    reporter = world.users["national-bank.reporter"]
    enabled = [k for k in NotificationKind.values if k != NotificationKind.ADVISORY_PUBLISHED]
    set_preferences(actor=reporter, user=reporter, enabled_kinds=enabled)
    distribute(publish(world, **for_banks()))
    assert "national-bank.reporter@example.org" not in recipients()
    assert "national-bank.org_admin@example.org" in recipients()


def test_tlp_red_goes_to_the_named_recipients_only_and_keeps_its_content_in_certhub(
    world: World,
) -> None:
    add_contacts(world)
    advisory = publish(
        world,
        tlp="RED",
        red_recipient_users=["telco.reporter"],
        red_recipient_teams=["banking"],
    )
    distribute(advisory)
    sent = recipients()
    banking_members = {m.user.email for m in Membership.objects.filter(team=world.teams["banking"])}
    assert sent == {"telco.reporter@example.org", "cert@banking.example"} | banking_members
    for mail in OutboundMail.objects.all():
        assert mail.subject.startswith(f"[TLP:RED] [{advisory.tracking_id}]")
        assert "Remote code execution" not in mail.subject + mail.body
        assert "heap overflow" not in mail.body.lower()
    assert not AdvisoryDelivery.objects.filter(advisory=advisory).exists()


def test_an_update_is_sent_again_and_comes_back_unread_and_a_repeat_sends_nothing(
    world: World,
) -> None:
    add_contacts(world)
    advisory = publish(world, **for_banks())
    first = distribute(advisory)
    assert distribute(advisory) == 0  # the worker ran twice: nothing more
    reporter = world.users["national-bank.reporter"]
    services.mark_read(actor=reporter, advisory=advisory)
    assert AdvisoryDelivery.objects.get(organization__slug="national-bank").read_at is not None

    analyst, coordinator = world.users["national.analyst"], world.users["national.coordinator"]
    services.update_advisory(actor=analyst, advisory=advisory, data={"workarounds": "None."})
    services.submit_advisory(actor=analyst, advisory=advisory)
    services.publish_advisory(actor=coordinator, advisory=advisory, change_summary="No workaround")
    assert distribute(advisory) == first
    delivery = AdvisoryDelivery.objects.get(organization__slug="national-bank")
    assert (delivery.revision_number, delivery.read_at) == (2, None)
    update = OutboundMail.objects.get(
        reference=advisory.tracking_id,
        recipients__icontains="soc@national-bank.example",
        subject__contains="Updated:",
    )
    assert "Revision 2" in update.body
    assert "No workaround" in update.body


@pytest.mark.parametrize(
    "audience",
    [
        {"audience_kind": "everyone"},
        {"audience_kind": "sectors", "audience_sectors": ["banking", "power"]},
        {"audience_kind": "cii"},
        {"audience_kind": "tiers", "audience_team_kinds": ["provincial"]},
        {"audience_kind": "organizations", "audience_organizations": ["telco", "grid"]},
    ],
)
def test_the_audience_organizations_are_exactly_those_whose_members_may_read_it(
    world: World, audience: dict[str, Any]
) -> None:
    """Distribution and visibility agree: every member of an audience organization may
    read the advisory, and no member of another organization may."""
    advisory = publish(world, tlp="AMBER", **audience)
    assert advisory.latest_revision is not None
    addressed = set(selectors.audience_organizations(advisory.latest_revision))
    assert addressed
    for slug, org in world.orgs.items():
        reader = world.users[f"{slug}.reporter"]
        assert selectors.user_may_read(reader, advisory) == (org in addressed), slug


@pytest.mark.django_db(transaction=True)
def test_publishing_sends_signed_mail_through_the_worker(world: World, smtp_server: Any) -> None:
    add_contacts(world)
    with transaction.atomic():
        advisory = publish(world, **for_banks())
    assert smtp_server.messages == []
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)
    received = smtp_server.messages
    to_banks = [m for m in received if "soc@national-bank.example" in m.rcpt_tos]
    assert len(to_banks) == 1
    message = to_banks[0].message
    assert message["Subject"].strip().startswith(f"[TLP:AMBER] [{advisory.tracking_id}]")
    assert message.get_content_type() == "multipart/signed"
    everyone = {address for m in received for address in m.rcpt_tos}
    assert not {a for a in everyone if "telco" in a or "telecom" in a}
    assert AdvisoryDelivery.objects.filter(advisory=advisory).count() == 2
