"""A user switches notifications off and on in the browser's form."""

from __future__ import annotations

import pytest

from certhub.notify.choices import NotificationKind
from certhub.notify.selectors import enabled_kinds
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_reporter_turns_off_feed_digests(client) -> None:
    reporter = make_user("bank.reporter")
    client.force_login(reporter)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200
    assert "Daily abuse feed digests" in page.content.decode()
    keep = [k for k in NotificationKind.values if k != NotificationKind.FEED_DIGEST]
    response = client.post("/notifications/preferences/", {"kinds": keep})
    assert response.status_code == 302
    assert enabled_kinds(reporter) == keep


def test_an_unknown_kind_is_a_form_error_not_a_crash(client) -> None:
    reporter = make_user("bank.reporter")
    client.force_login(reporter)
    response = client.post("/notifications/preferences/", {"kinds": ["sms"]})
    assert response.status_code == 400
    assert "not one of the available choices" in response.content.decode()


def test_anonymous_users_are_sent_to_sign_in(client) -> None:
    response = client.get("/notifications/preferences/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
