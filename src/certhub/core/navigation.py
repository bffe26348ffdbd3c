"""The main navigation, assembled from the apps: an AppConfig lists its entries in
``navigation`` as (url name, label, who sees it), so no app edits the base template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Any  # a lazy translation
    # Who sees the entry; the pages themselves still check visibility.
    shown_to: Callable[[Any], bool] = lambda user: bool(user.is_authenticated)
    order: int = 100


def nav_items_for(user: Any, current_app: str | None) -> list[dict[str, Any]]:
    entries: list[tuple[int, dict[str, Any]]] = []
    for config in apps.get_app_configs():
        for item in getattr(config, "navigation", ()):
            if not item.shown_to(user):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            namespace = item.url_name.split(":", 1)[0]
            entries.append(
                (item.order, {"url": url, "label": item.label, "current": namespace == current_app})
            )
    return [entry for _order, entry in sorted(entries, key=lambda pair: pair[0])]
