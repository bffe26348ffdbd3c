from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwarenessConfig(AppConfig):
    name = "certhub.awareness"
    label = "awareness"
    verbose_name = _("Situational awareness")
