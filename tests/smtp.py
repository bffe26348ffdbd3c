"""A real SMTP server on loopback (aiosmtpd) for tests of outgoing mail: no mocks of the
mail path, the messages travel through Django's SMTP backend and a socket."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Collector:
    messages: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                ReceivedMail(
                    envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)
                )
            )
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, collector: _Collector, port: int) -> None:
        self._collector = collector
        self.host = "127.0.0.1"
        self.port = port

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._collector.lock:
            return list(self._collector.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Any:
    """Start an SMTP server on 127.0.0.1 and point certhub's mailer at it."""
    collector = _Collector()
    port = _free_port()
    # aiosmtpd logs every connection at INFO from its own thread, which can outlive
    # pytest's output capture and print "I/O operation on closed file" noise.
    mail_log = logging.getLogger("mail.log")
    previous_level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield SMTPServer(collector, port)
    finally:
        controller.stop()
        mail_log.setLevel(previous_level)
