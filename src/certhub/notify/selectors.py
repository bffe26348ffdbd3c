"""Reads of notification settings and sent mail."""

from __future__ import annotations

from typing import Any

from certhub.notify.choices import NotificationKind
from certhub.notify.models import NotificationSetting


def enabled_kinds(user: Any) -> list[str]:
    """The kinds ``user`` receives (everything it did not switch off)."""
    off = set(
        NotificationSetting.objects.filter(user_id=user.pk, enabled=False).values_list(
            "kind", flat=True
        )
    )
    return [kind for kind in NotificationKind.values if kind not in off]
