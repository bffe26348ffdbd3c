"""Sections the apps above incidents add to the incident page (the import ladder keeps
incidents from importing them). An AppConfig lists its panels in ``incident_panels``,
as it lists navigation entries: a template, and a function of (user, incident, access)
giving the template's ``panel`` context, or None to leave the panel out. Panels are
shown to readers with the incident's full content only. A panel whose context says
``refresh_with_page`` (and whose section takes ``oob_swap``) is re-rendered out of band
after each change made on the page with htmx; it must then be on the page every time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps

if TYPE_CHECKING:  # AppConfigs import this module before the models are ready
    from certhub.incidents.models import Incident
    from certhub.incidents.selectors import Access


@dataclass(frozen=True)
class IncidentPanel:
    template: str
    context: Callable[[Any, Incident, Access], dict[str, Any] | None]
    order: int = 100


def panels_for(user: Any, incident: Incident, access: Access) -> list[tuple[str, dict[str, Any]]]:
    if not access.full_content:
        return []
    found: list[tuple[int, str, dict[str, Any]]] = []
    for config in apps.get_app_configs():
        for panel in getattr(config, "incident_panels", ()):
            context = panel.context(user, incident, access)
            if context is not None:
                found.append((panel.order, panel.template, context))
    return [(template, context) for _order, template, context in sorted(found, key=lambda f: f[0])]
