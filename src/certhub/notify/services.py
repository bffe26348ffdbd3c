"""Every outgoing e-mail starts here.

``queue_mail`` records the message (with its TLP label and reference) in the caller's
transaction and enqueues delivery on the task worker once that transaction commits: a
notification is sent only for a change that really happened, and it is not lost when
the mail relay is down (``deliver_mail`` keeps the error and can be retried).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Invalid
from certhub.notify.choices import MailStatus, NotificationKind
from certhub.notify.mail import SignedEmailMessage, compose_body, compose_subject
from certhub.notify.models import NotificationSetting, OutboundAttachment, OutboundMail
from certhub.tenancy.tlp import TLP, Audience, SharePath, require_shareable

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def queue_mail(
    *,
    to: Iterable[str],
    subject: str,
    body: str,
    tlp: str,
    reference: str = "",
    kind: str = "",
    attachments: Sequence[Attachment] = (),
    sign: bool = False,
    dedup_key: str | None = None,
    audience: Audience = Audience.NAMED,
) -> OutboundMail | None:
    """Record one message to ``to`` and deliver it after commit.

    ``audience`` is how far the addressees stand from the information (``tenancy.tlp``):
    NAMED when the caller picked each addressee for this message (the default: a user or
    a contact chosen by the rules of the caller's app), ORGANIZATION when it writes to
    the mailboxes of the organization concerned, and so on. The TLP label must let the
    message go that far, through the one sharing check; otherwise Forbidden.

    ``subject`` and ``body`` are the plain texts; the TLP label is put before both and the
    reference into the subject here, in one place. ``dedup_key`` makes the call
    idempotent: a second call with the same key sends nothing and returns None (for
    "notify once per breach"). Returns None too when there is nobody to write to.
    """
    recipients = sorted({address.strip().lower() for address in to if address and address.strip()})
    if not recipients:
        return None
    if tlp not in TLP.values:
        raise Invalid(_("Unknown TLP label %(tlp)s.") % {"tlp": tlp})
    require_shareable(tlp, path=SharePath.EMAIL, audience=audience)
    if dedup_key and OutboundMail.objects.filter(dedup_key=dedup_key).exists():
        return None
    mail = OutboundMail(
        recipients=recipients,
        subject=compose_subject(tlp=tlp, subject=subject, reference=reference),
        body=compose_body(tlp=tlp, body=body),
        tlp=tlp,
        reference=reference,
        kind=kind,
        sign=sign,
        dedup_key=dedup_key or None,
    )
    try:
        with transaction.atomic():
            mail.save()
    except IntegrityError:  # a concurrent caller recorded the same dedup_key first
        return None
    OutboundAttachment.objects.bulk_create(
        [
            OutboundAttachment(
                mail=mail, filename=a.filename, content_type=a.content_type, content=a.content
            )
            for a in attachments
        ]
    )
    mail_id = mail.pk

    def enqueue() -> None:
        from certhub.notify.tasks import deliver_mail

        deliver_mail.enqueue(str(mail_id))

    transaction.on_commit(enqueue)
    return mail


def deliver(*, mail_id: str) -> OutboundMail | None:
    """Send one recorded message over the configured mailer (SMTP in production)."""
    mail = OutboundMail.objects.filter(pk=mail_id).prefetch_related("attachments").first()
    if mail is None or mail.status == MailStatus.SENT:
        return mail
    message_class = SignedEmailMessage if mail.sign else EmailMessage
    message = message_class(
        subject=mail.subject,
        body=mail.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=mail.recipients,
        headers={"X-Certhub-TLP": mail.tlp, "Auto-Submitted": "auto-generated"}
        | ({"X-Certhub-Reference": mail.reference} if mail.reference else {}),
    )
    for attachment in mail.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
    mail.attempts += 1
    try:
        message.send()
    except Exception as exc:
        mail.status = MailStatus.FAILED
        mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        mail.save(update_fields=["status", "attempts", "last_error"])
        return mail
    mail.status = MailStatus.SENT
    mail.sent_at = timezone.now()
    mail.last_error = ""
    mail.message_id = str(message.extra_headers.get("Message-ID", ""))
    mail.save(update_fields=["status", "attempts", "last_error", "sent_at", "message_id"])
    return mail


def retry_failed() -> int:
    """Enqueue delivery again for failed messages with attempts left."""
    from certhub.notify.tasks import deliver_mail

    ids = list(
        OutboundMail.objects.filter(
            status=MailStatus.FAILED, attempts__lt=MAX_ATTEMPTS
        ).values_list("pk", flat=True)
    )
    for mail_id in ids:
        deliver_mail.enqueue(str(mail_id))
    return len(ids)


# --- What each user wants ----------------------------------------------------------------


def users_who_want(users: Iterable[Any], kind: str) -> list[Any]:
    """The active users with an e-mail address among ``users`` who did not switch ``kind``
    off (one query for the settings)."""
    candidates = [u for u in users if u.is_active and u.email]
    if not candidates:
        return []
    off = set(
        NotificationSetting.objects.filter(
            user_id__in=[u.pk for u in candidates], kind=kind, enabled=False
        ).values_list("user_id", flat=True)
    )
    return [u for u in candidates if u.pk not in off]


@transaction.atomic
def set_preferences(*, actor: Any, user: Any, enabled_kinds: Iterable[str]) -> None:
    """Store which notifications ``user`` receives; everything not listed is off."""
    enabled = set(enabled_kinds)
    unknown = enabled - set(NotificationKind.values)
    if unknown:
        raise Invalid(
            _("Unknown notification kinds: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))}
        )
    before = {k: wants(user, k) for k in NotificationKind.values}
    for kind in NotificationKind.values:
        NotificationSetting.objects.update_or_create(
            user=user, kind=kind, defaults={"enabled": kind in enabled}
        )
    after = {k: k in enabled for k in NotificationKind.values}
    changes = audit.diff(before, after)
    if changes:
        audit.record(actor=actor, action="notifications.set", obj=user, changes=changes)


def wants(user: Any, kind: str) -> bool:
    setting = NotificationSetting.objects.filter(user_id=user.pk, kind=kind).first()
    return True if setting is None else setting.enabled
