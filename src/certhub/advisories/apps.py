from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


class AdvisoriesConfig(AppConfig):
    name = "certhub.advisories"
    label = "advisories"
    verbose_name = _("Advisories")
    # CERT staff write and follow advisories there; organization members find their inbox.
    navigation = (NavItem("advisories:list", _("Advisories"), order=40),)
