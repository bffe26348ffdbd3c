"""The one django-ninja API object, mounted at /api/v1/. Each app adds its router here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from certhub.accounts.auth import BearerTokenAuth
from certhub.core.errors import CerthubError

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}


class CerthubAPI(NinjaAPI):
    """The API, whose OpenAPI document states in one place the errors every operation can
    answer: 401 for a secured operation, 422 for one that takes parameters or a body
    (ninja validates them before the handler runs)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                # ninja keys responses by int; a str key of the same code would make the
                # JSON carry the key twice (which YAML-based readers refuse).
                documented = {str(code) for code in responses}
                if operation.get("security") and "401" not in documented:
                    responses[401] = error
                if (operation.get("parameters") or operation.get("requestBody")) and (
                    "422" not in documented
                ):
                    responses[422] = error
        return schema


api = CerthubAPI(
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
from certhub.awareness.api import router as awareness_router  # noqa: E402
from certhub.awareness.council_api import router as council_router  # noqa: E402
from certhub.feeds.api import router as feeds_router  # noqa: E402
from certhub.incidents.api import router as incidents_router  # noqa: E402
from certhub.intel.api import router as intel_router  # noqa: E402
from certhub.intel.exchange_api import router as exchange_router  # noqa: E402
from certhub.notify.api import router as notify_router  # noqa: E402
from certhub.tenancy.api import router as tenancy_router  # noqa: E402

api.add_router("/", tenancy_router)
api.add_router("/", notify_router)
api.add_router("/", incidents_router)
api.add_router("/", feeds_router)
api.add_router("/", advisories_router)
api.add_router("/", intel_router)
api.add_router("/", exchange_router)
api.add_router("/", awareness_router)
api.add_router("/", council_router)
