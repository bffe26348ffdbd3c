from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


class TenancyConfig(AppConfig):
    name = "certhub.tenancy"
    label = "tenancy"
    verbose_name = _("Constituency")
    navigation = (NavItem("tenancy:directory", _("Constituency"), order=90),)
