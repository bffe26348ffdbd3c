"""Background delivery of e-mail (thin wrappers over services)."""

from __future__ import annotations

from django.tasks import task

from certhub.notify import services


@task(queue_name="mail")
def deliver_mail(mail_id: str) -> str:
    mail = services.deliver(mail_id=mail_id)
    return mail.status if mail is not None else "missing"


@task(queue_name="mail")
def retry_failed_mail() -> int:
    return services.retry_failed()
