"""The CSAF 2.0 provider (OASIS CSAF 2.0, section 7): the public, signed directory of
TLP:CLEAR advisories under ``/.well-known/csaf/``.

- ``provider-metadata.json``: who publishes, where the documents and the key are;
- ``clear/index.txt`` and ``clear/changes.csv``: every document, and when it last changed;
- ``clear/<year>/<id>.json`` with ``.sha256``, ``.sha512`` and ``.asc`` (the detached
  OpenPGP signature made with the platform key);
- ``openpgp/<FINGERPRINT>.asc``: the public key.

The document bytes, hashes and signature were made at publication and are served as
stored. No account is needed: CLEAR is public by definition.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from certhub.advisories import csaf, selectors
from certhub.core.errors import NotFound
from certhub.core.http import not_found_as_404
from certhub.notify import openpgp as signing

TLP_FOLDER = "clear"
PROVIDER_ROLE = "csaf_trusted_provider"  # documents are hashed and OpenPGP-signed


def _text(body: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), content_type=f"{content_type}; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"  # CSAF aggregators fetch from anywhere
    return response


@require_safe
def provider_metadata(request: HttpRequest) -> HttpResponse:
    key = signing.public_key()
    latest = (
        selectors.clear_revisions()
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    metadata = {
        "canonical_url": csaf.provider_url("provider-metadata.json"),
        "distributions": [{"directory_url": csaf.provider_url(f"{TLP_FOLDER}/")}],
        "last_updated": csaf.csaf_datetime(latest) if latest else "1970-01-01T00:00:00.000Z",
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "public_openpgp_keys": [
            {
                "fingerprint": key.fingerprint,
                "url": csaf.provider_url(f"openpgp/{key.fingerprint}.asc"),
            }
        ],
        "publisher": {
            "category": "coordinator",
            "name": csaf.publisher_name(),
            "namespace": csaf.publisher_namespace(),
        },
        "role": PROVIDER_ROLE,
    }
    return _text(json.dumps(metadata, indent=2) + "\n", "application/json")


@require_safe
def public_key(request: HttpRequest, fingerprint: str) -> HttpResponse:
    key = signing.public_key()
    if fingerprint.upper() != key.fingerprint:
        raise Http404("No such key.")
    return _text(key.armored, "application/pgp-keys")


@require_safe
def index_txt(request: HttpRequest) -> HttpResponse:
    paths = selectors.clear_revisions().order_by("csaf_path").values_list("csaf_path", flat=True)
    return _text("".join(f"{path}\n" for path in paths), "text/plain")


@require_safe
def changes_csv(request: HttpRequest) -> HttpResponse:
    rows = (
        selectors.clear_revisions()
        .order_by("-published_at", "csaf_path")
        .values_list("csaf_path", "published_at")
    )
    body = "".join(f'"{path}","{csaf.csaf_datetime(moment)}"\n' for path, moment in rows)
    return _text(body, "text/csv")


@require_safe
@not_found_as_404
def document(request: HttpRequest, year: str, name: str, suffix: str = "") -> HttpResponse:
    revision = selectors.get_clear_revision(f"{year}/{name}.json")
    filename = f"{name}.json"
    if suffix == "":
        response = HttpResponse(revision.csaf_bytes, content_type="application/json")
        response["Access-Control-Allow-Origin"] = "*"
        return response
    if suffix == ".sha256":
        return _text(f"{revision.csaf_sha256}  {filename}\n", "text/plain")
    if suffix == ".sha512":
        return _text(f"{revision.csaf_sha512}  {filename}\n", "text/plain")
    if suffix == ".asc":
        return _text(revision.csaf_signature, "application/pgp-signature")
    raise NotFound("No such file.")
