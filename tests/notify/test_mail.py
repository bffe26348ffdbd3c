"""Outgoing mail as a recipient meets it: TLP label first in the subject and the body,
the reference in the subject, attachments, OpenPGP signatures that gpg verifies,
delivery through the worker to a real SMTP server, retries, and users' choices."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from certhub.core.errors import Invalid
from certhub.notify import openpgp, services
from certhub.notify.choices import MailStatus, NotificationKind
from certhub.notify.models import OutboundMail
from tests.factories import make_user


def run_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_notification_arrives_with_its_tlp_label_and_reference(smtp_server) -> None:
    with transaction.atomic():
        services.queue_mail(
            to=["SOC@Bank.example", "soc@bank.example", "cert@national.example"],
            subject="Incident escalated to the National CERT",
            body="The incident was escalated.\nReason: CII organization affected.",
            tlp="AMBER+STRICT",
            reference="CERT-2026-000042",
            attachments=[services.Attachment("events.csv", b"ip,port\n192.0.2.1,80\n", "text/csv")],
        )
    assert smtp_server.messages == []  # nothing leaves before the worker runs
    run_worker()
    (received,) = smtp_server.messages
    assert sorted(received.rcpt_tos) == ["cert@national.example", "soc@bank.example"]
    message = received.message
    assert (
        message["Subject"].strip()
        == "[TLP:AMBER+STRICT] [CERT-2026-000042] Incident escalated to the National CERT"
    )
    assert message["X-Certhub-TLP"] == "AMBER+STRICT"
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("TLP:AMBER+STRICT\n\nThe incident was escalated.")
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "events.csv"
    assert attachment.get_content().replace("\r\n", "\n") == "ip,port\n192.0.2.1,80\n"
    mail = OutboundMail.objects.get()
    assert mail.status == MailStatus.SENT
    assert mail.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_change_rolls_back(smtp_server) -> None:

    def fail_after_queueing() -> None:
        with transaction.atomic():
            services.queue_mail(to=["a@bank.example"], subject="x", body="y", tlp="GREEN")
            raise RuntimeError("the service failed after queueing")

    with pytest.raises(RuntimeError):
        fail_after_queueing()
    run_worker()
    assert smtp_server.messages == []
    assert not OutboundMail.objects.exists()


@pytest.mark.django_db
def test_the_same_dedup_key_is_sent_once() -> None:
    first = services.queue_mail(
        to=["a@bank.example"],
        subject="Deadline missed",
        body=".",
        tlp="AMBER",
        dedup_key="breach:1",
    )
    second = services.queue_mail(
        to=["a@bank.example"],
        subject="Deadline missed",
        body=".",
        tlp="AMBER",
        dedup_key="breach:1",
    )
    assert first is not None
    assert second is None
    assert OutboundMail.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_tlp_label_is_refused() -> None:
    with pytest.raises(Invalid):
        services.queue_mail(to=["a@bank.example"], subject="x", body="y", tlp="WHITE")


@pytest.mark.django_db(transaction=True)
def test_a_failed_delivery_is_kept_and_retried(smtp_server, settings) -> None:
    good = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    with transaction.atomic():
        services.queue_mail(to=["a@bank.example"], subject="x", body="y", tlp="GREEN")
    run_worker()
    mail = OutboundMail.objects.get()
    assert mail.status == MailStatus.FAILED
    assert mail.attempts == 1
    assert mail.last_error
    settings.MAILERS = good
    assert services.retry_failed() == 1
    run_worker()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_signed_message_verifies_with_gpg(smtp_server, tmp_path: Path, settings) -> None:
    settings.DATA_DIR = tmp_path / "data"
    with transaction.atomic():
        services.queue_mail(
            to=["soc@bank.example"],
            subject="Advisory",
            body="Patch now.\nÜmlaut and Urdu: خطرہ",
            tlp="CLEAR",
            sign=True,
        )
    run_worker()
    (received,) = smtp_server.messages
    raw = received.raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    boundary = re.search(rb'boundary="?([^";\r\n]+)"?', raw).group(1)
    parts = raw.split(b"--" + boundary)
    signed_entity = parts[1][
        2:-2
    ]  # between the CRLF after the boundary and the CRLF before the next
    signature = parts[2].split(b"\r\n\r\n", 1)[1].strip()
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    (tmp_path / "key.asc").write_text(openpgp.public_key().armored)
    (tmp_path / "entity").write_bytes(signed_entity)
    (tmp_path / "entity.asc").write_bytes(signature + b"\n")
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        ["gpg", "--batch", "--import", str(tmp_path / "key.asc")],
        env=env,
        check=True,
        capture_output=True,
    )
    verify = subprocess.run(
        ["gpg", "--batch", "--verify", str(tmp_path / "entity.asc"), str(tmp_path / "entity")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert "Good signature" in verify.stderr
    assert received.message.get_content_type() == "multipart/signed"


@pytest.mark.django_db
def test_users_choose_what_they_receive() -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    services.set_preferences(
        actor=bob, user=bob, enabled_kinds=[NotificationKind.ADVISORY_PUBLISHED]
    )
    chosen = services.users_who_want([alice, bob], NotificationKind.INCIDENT_ASSIGNED)
    assert chosen == [alice]
    assert services.users_who_want([alice, bob], NotificationKind.ADVISORY_PUBLISHED) == [
        alice,
        bob,
    ]
    with pytest.raises(Invalid):
        services.set_preferences(actor=bob, user=bob, enabled_kinds=["sms"])
