from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


def _shown(user: Any) -> bool:
    from certhub.awareness.selectors import has_dashboard

    return bool(user.is_authenticated) and has_dashboard(user)


def _reaches_council(user: Any) -> bool:
    from certhub.awareness.council_selectors import council_access

    return bool(user.is_authenticated and council_access(user).reaches_anything)


class AwarenessConfig(AppConfig):
    name = "certhub.awareness"
    label = "awareness"
    verbose_name = _("Situational awareness")
    navigation = (
        NavItem("awareness:index", _("Dashboards"), shown_to=_shown, order=80),
        NavItem("council:home", _("Council"), shown_to=_reaches_council, order=85),
    )

    def ready(self) -> None:
        # The rollups follow what the lower apps store (DESIGN.md's ladder: they cannot
        # call us, so we listen): feed loads by their signal, incidents and their
        # deadlines by Django's model signals (recounted once the transaction commits).
        from django.db.models.signals import post_delete, post_save

        from certhub.awareness import services
        from certhub.awareness.council_demo import build_council_demo
        from certhub.feeds.signals import events_loaded
        from certhub.incidents.models import Deadline, Incident
        from certhub.tenancy.signals import demo_built

        events_loaded.connect(services.on_events_loaded, dispatch_uid="awareness.events")
        post_save.connect(services.on_incident_saved, sender=Incident, dispatch_uid="aw.inc")
        post_delete.connect(services.on_incident_saved, sender=Incident, dispatch_uid="aw.inc.del")
        post_save.connect(services.on_deadline_saved, sender=Deadline, dispatch_uid="aw.dl")
        demo_built.connect(build_council_demo, dispatch_uid="awareness.council_demo")
