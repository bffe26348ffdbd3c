from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from certhub.core.navigation import NavItem


def _shown(user: Any) -> bool:
    from certhub.feeds.views import shown_in_navigation

    return shown_in_navigation(user)


class FeedsConfig(AppConfig):
    name = "certhub.feeds"
    label = "feeds"
    verbose_name = _("Feeds")
    navigation = (NavItem("feeds:events", _("Feed events"), shown_to=_shown, order=50),)
