from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "certhub.core"
    label = "core"
    verbose_name = "certhub core"
