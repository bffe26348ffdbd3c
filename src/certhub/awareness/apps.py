from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


def _reaches_council(user: Any) -> bool:
    from certhub.awareness.council_selectors import council_access

    return bool(user.is_authenticated and council_access(user).reaches_anything)


class AwarenessConfig(AppConfig):
    name = "certhub.awareness"
    label = "awareness"
    verbose_name = _("Situational awareness")
    navigation = (NavItem("council:home", _("Council"), shown_to=_reaches_council, order=80),)

    def ready(self) -> None:
        from certhub.awareness.council_demo import build_council_demo
        from certhub.tenancy.signals import demo_built

        demo_built.connect(build_council_demo, dispatch_uid="awareness.council_demo")
