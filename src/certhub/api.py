"""The one django-ninja API object, mounted at /api/v1/. Each app adds its router here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from certhub.accounts.auth import BearerTokenAuth
from certhub.core.errors import CerthubError

api = NinjaAPI(
    title="certhub API",
    version="1",
    description=_(
        "The REST API of certhub. Authenticate with `Authorization: Bearer <token>` "
        "(create a token on your account page or with `certhub token create`), or with "
        "the browser session. Objects you may not see answer 404."
    ),
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionAuth()],
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, message: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(CerthubError)
def on_certhub_error(request: HttpRequest, exc: CerthubError) -> HttpResponse:
    return _error(request, exc.status, exc.message, **exc.details)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        where = ".".join(
            str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path")
        )
        problems.append(
            f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid")
        )
    return _error(
        request, 422, "; ".join(problems) or _("The request is not valid."), errors=exc.errors
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Authentication required: send a valid API token or sign in."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


# Routers are added at the bottom, once the api object exists.
from certhub.advisories.api import router as advisories_router  # noqa: E402
from certhub.feeds.api import router as feeds_router  # noqa: E402
from certhub.incidents.api import router as incidents_router  # noqa: E402
from certhub.notify.api import router as notify_router  # noqa: E402
from certhub.tenancy.api import router as tenancy_router  # noqa: E402

api.add_router("/", tenancy_router)
api.add_router("/", notify_router)
api.add_router("/", incidents_router)
api.add_router("/", feeds_router)
api.add_router("/", advisories_router)
