"""Writing to the audit log. Every service that changes data calls ``record`` inside its
own transaction, so the change and its audit entry commit or roll back together."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from certhub.audit.models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return [_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def compute_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's content and the previous entry's hash.

    The row id is left out on purpose: the chain itself fixes the order, and the hash
    can then be written in the same INSERT as the row."""
    payload = {
        "occurred_at": entry.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value changed."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must be called inside the service's transaction")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:300]
    actor_id = getattr(actor, "pk", None)
    actor_name = getattr(actor, "get_username", lambda: str(actor or "system"))()
    # The head row serialises appends: PostgreSQL row lock, SQLite's IMMEDIATE writer lock.
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head = AuditChainHead.objects.create(pk=1, last_entry_id=None, last_hash=GENESIS_HASH)
    entry = AuditEntry(
        occurred_at=timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        changes=_jsonable(changes or {}),
        prev_hash=head.last_hash,
    )
    entry.entry_hash = compute_hash(entry)
    entry.save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(last_entry_id=entry.pk, last_hash=entry.entry_hash)
    return entry


@transaction.atomic
def record_standalone(**kwargs: Any) -> AuditEntry:
    """For events that change nothing else (a failed login, a download)."""
    return record(**kwargs)
