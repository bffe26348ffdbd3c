"""Reading and checking the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from certhub.audit.models import AuditChainHead, AuditEntry
from certhub.audit.services import GENESIS_HASH, compute_hash


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int | None
    reason: str


def entries_for(obj_type: str, obj_id: str) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type=obj_type, object_id=obj_id).order_by("id")


def verify_chain(batch_size: int = 5000) -> tuple[int, ChainBreak | None]:
    """Walk the whole log in id order; return how many entries were checked and the first
    break found (an edited row, a removed row, or entries cut off the end)."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    for entry in _iterate(batch_size):
        if entry.prev_hash != expected_prev:
            return checked, ChainBreak(
                entry.pk,
                "its previous-hash does not match the entry before it "
                "(an entry before it was removed or altered)",
            )
        if compute_hash(entry) != entry.entry_hash:
            return checked, ChainBreak(entry.pk, "its content does not match its hash (altered)")
        expected_prev = entry.entry_hash
        last_id = entry.pk
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != expected_prev or head.last_entry_id != last_id):
        return checked, ChainBreak(
            head.last_entry_id, "the newest entries are missing (the log was cut at its end)"
        )
    if head is None and checked:
        return checked, ChainBreak(None, "the chain head is missing")
    return checked, None


def _iterate(batch_size: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(AuditEntry.objects.filter(pk__gt=last).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].pk
