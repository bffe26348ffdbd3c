from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem
from certhub.incidents.panels import IncidentPanel


def _shown(user: Any) -> bool:
    from certhub.intel.selectors import may_search

    return may_search(user)


def _has_collections(user: Any) -> bool:
    from certhub.tenancy.visibility import scope_for

    scope = scope_for(user)
    return scope.is_admin or scope.has_seat


def _correlation_panel(user: Any, incident: Any, access: Any) -> dict[str, Any] | None:
    from certhub.intel.views import correlation_panel

    return correlation_panel(user, incident, access)


class IntelConfig(AppConfig):
    name = "certhub.intel"
    label = "intel"
    verbose_name = _("Threat intelligence")
    navigation = (
        NavItem("intel:search", _("Indicators"), shown_to=_shown, order=45),
        # The TAXII collections the reader may read, with their addresses for clients.
        NavItem("taxii:collections_page", _("Collections"), shown_to=_has_collections, order=46),
    )
    # Sections of the incident page (certhub.incidents.panels). The exchange side (STIX
    # export, share to a TAXII collection) adds its panel here.
    incident_panels = (IncidentPanel("intel/_correlations.html", _correlation_panel, order=10),)

    def ready(self) -> None:
        from certhub.feeds.signals import events_loaded
        from certhub.incidents.signals import observables_added
        from certhub.intel import receivers

        observables_added.connect(receivers.on_observables_added, dispatch_uid="intel.index")
        events_loaded.connect(receivers.on_events_loaded, dispatch_uid="intel.feeds")
