from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


def _works_with_incidents(user: Any) -> bool:
    """CERT staff and organization members (Council members read aggregates only)."""
    from certhub.tenancy.visibility import scope_for

    scope = scope_for(user)
    return bool(user.is_authenticated and (scope.has_seat or scope.is_admin))


class IncidentsConfig(AppConfig):
    name = "certhub.incidents"
    label = "incidents"
    verbose_name = _("Incidents")
    navigation = (
        NavItem("incidents:queue", _("Incidents"), shown_to=_works_with_incidents, order=10),
    )
