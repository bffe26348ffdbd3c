"""Outgoing notifications: every e-mail certhub sends is recorded before it is sent."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.notify.choices import MailStatus, NotificationKind
from certhub.tenancy.tlp import TLP


class OutboundMail(models.Model):
    """One e-mail message as certhub composed it: recipients, TLP label, subject and body.
    Delivery runs on the task worker; the row says whether and when it went out, so a
    message is never lost when the mail relay is down and never sent twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipients = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    tlp = models.CharField(_("TLP"), max_length=12, choices=TLP.choices)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    # Makes a notification idempotent (e.g. "one mail per deadline breach").
    dedup_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    sign = models.BooleanField(_("OpenPGP-signed"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")

    def __str__(self) -> str:
        return self.subject


class OutboundAttachment(models.Model):
    """A file attached to an outgoing e-mail (e.g. the CSV of a feed digest)."""

    mail = models.ForeignKey(OutboundMail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.filename


class NotificationSetting(models.Model):
    """A user's choice to receive (or not) one kind of notification. No row means yes."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notify_setting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {'on' if self.enabled else 'off'}"
