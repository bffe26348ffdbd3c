"""Composing messages: the TLP label before the subject and the body, a reply-safe
reference, and OpenPGP/MIME signatures (RFC 3156)."""

from __future__ import annotations

import email.policy
from email import message_from_bytes
from email.message import EmailMessage as MIMEMessage
from email.message import Message
from typing import Any

from django.core.mail import EmailMessage

from certhub.notify import openpgp
from certhub.tenancy.tlp import tlp_label


def compose_subject(*, tlp: str, subject: str, reference: str = "") -> str:
    """``[TLP:AMBER] [CERT-2026-000123] subject``: TLP first, as TLP 2.0 asks, and the
    reference in brackets so replies keep it whatever the mail client adds."""
    parts = [f"[{tlp_label(tlp)}]"]
    if reference:
        parts.append(f"[{reference}]")
    parts.append(" ".join(subject.split()))
    return " ".join(parts)[:300]


def compose_body(*, tlp: str, body: str) -> str:
    """The label stands before the text, on its own line."""
    return f"{tlp_label(tlp)}\n\n{body.rstrip()}\n"


class SignedEmailMessage(EmailMessage):
    """An e-mail whose content is wrapped in multipart/signed with a detached OpenPGP
    signature by the platform key."""

    def message(self, *, policy: Any = email.policy.default) -> MIMEMessage:
        outer = super().message(policy=policy)
        # The signed entity: the content with only its Content-* headers, serialised with
        # CRLF exactly as it will travel (RFC 3156 section 5).
        entity = message_from_bytes(
            outer.as_bytes(policy=email.policy.SMTP), policy=email.policy.SMTP
        )
        for header in list(entity.keys()):
            if not header.lower().startswith("content-"):
                del entity[header]
        signed_bytes = entity.as_bytes(policy=email.policy.SMTP)
        signature = openpgp.sign_detached(signed_bytes)

        sig_part = Message(policy=email.policy.SMTP)
        sig_part["Content-Type"] = 'application/pgp-signature; name="signature.asc"'
        sig_part["Content-Description"] = "OpenPGP digital signature"
        sig_part.set_payload(signature)

        for header in list(outer.keys()):
            if header.lower().startswith("content-") or header.lower() == "mime-version":
                del outer[header]
        outer["MIME-Version"] = "1.0"
        outer["Content-Type"] = (
            'multipart/signed; micalg="pgp-sha512"; protocol="application/pgp-signature"'
        )
        outer.set_payload([entity, sig_part])
        return outer
