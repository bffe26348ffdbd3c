"""The account page: who am I, my time zone, my second factor."""

from __future__ import annotations

import pytest

from certhub.audit.models import AuditEntry
from tests.accounts.conftest import enrol

pytestmark = pytest.mark.django_db


def test_account_page_shows_the_profile(client, world) -> None:
    client.force_login(world.users["city-bank.reporter"])
    response = client.get("/accounts/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "city-bank.reporter" in page
    assert "city-bank.reporter@example.org" in page
    assert "Asia/Karachi" in page


def test_account_page_needs_a_signed_in_user(client, world) -> None:
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_user_chooses_a_time_zone(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    response = client.post("/accounts/time-zone/", {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    reporter.refresh_from_db()
    assert reporter.time_zone == "Europe/Berlin"
    entry = AuditEntry.objects.get(action="user.update", object_id=str(reporter.pk))
    assert entry.changes == {"time_zone": ["Asia/Karachi", "Europe/Berlin"]}
    assert "Times are shown in Europe/Berlin" in client.get("/accounts/").content.decode()


def test_unknown_time_zone_is_refused(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    response = client.post("/accounts/time-zone/", {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    reporter.refresh_from_db()
    assert reporter.time_zone == "Asia/Karachi"


def test_mfa_status_is_shown(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    client.force_login(reporter)
    assert "Set up two-factor authentication" in client.get("/accounts/").content.decode()
    enrol(reporter)
    page = client.get("/accounts/").content.decode()
    assert "10 recovery codes left" in page
    assert "Turn off two-factor authentication" in page
    assert "Make new recovery codes" in page


def test_enrolled_user_visiting_setup_goes_to_the_account_page(client, world) -> None:
    reporter = world.users["city-bank.reporter"]
    enrol(reporter)
    client.force_login(reporter)
    response = client.get("/accounts/mfa/setup/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
