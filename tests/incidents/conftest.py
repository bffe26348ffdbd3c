"""Set-up shared by the incident tests: CERT staff without a second factor (the MFA rule
is tested with the accounts), and attachments stored in a fresh folder per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _incident_settings(settings: Any, tmp_path: Path) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTHUB_REFERENCE_PREFIX = "CERT"
