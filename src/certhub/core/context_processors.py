from typing import Any

from django.conf import settings
from django.http import HttpRequest

from certhub.core.navigation import nav_items_for


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    return {
        "SITE_NAME": settings.CERTHUB_SITE_NAME,
        "DEMO": settings.DEMO,
        "nav_items": nav_items_for(user, match.app_name if match else None) if user else [],
    }
