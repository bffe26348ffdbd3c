"""Settings of the incidents app, with their defaults. A deployment overrides any of them
in the Django settings (``CERTHUB_...``); code reads them only through ``setting``."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # A folder with replacement data files (rsit.json, severity.json, deadlines.json,
    # escalation.json); files missing there come from the package's data/ folder.
    "CERTHUB_INCIDENT_DATA_DIR": "",
    # Largest attachment accepted, in bytes.
    "CERTHUB_ATTACHMENT_MAX_BYTES": 25 * 1024 * 1024,
    # Public reports: how many one client address may submit in the window.
    "CERTHUB_PUBLIC_REPORTS_PER_IP": 5,
    "CERTHUB_PUBLIC_REPORT_WINDOW_SECONDS": 60 * 60,
    # Public reports: longest title and description accepted.
    "CERTHUB_PUBLIC_REPORT_MAX_TITLE": 200,
    "CERTHUB_PUBLIC_REPORT_MAX_DESCRIPTION": 20_000,
    # The team that receives public reports: a slug, or empty for the root of the tree.
    "CERTHUB_NATIONAL_INTAKE_TEAM": "",
    # Most observables taken from one pasted text.
    "CERTHUB_MAX_EXTRACTED_OBSERVABLES": 500,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
