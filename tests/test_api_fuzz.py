"""schemathesis fuzzes the whole API against its own OpenAPI document, as an
authenticated client over HTTP: no request may produce a 5xx or a response that breaks
the documented schema. New endpoints are covered as soon as they are in the document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certhub.accounts.services import create_token
from tests.factories import World

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server: Any, world: World, settings: Any, tmp_path: Path
) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    analyst = world.users["national.analyst"]
    _token, plain = create_token(actor=analyst, user=analyst, name="fuzz")
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {plain}",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--generation-deterministic",
            "--request-timeout",
            "20",
            "--no-color",
            "--phases",
            "examples,fuzzing",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
