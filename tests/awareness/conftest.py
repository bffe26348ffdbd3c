from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from certhub.feeds import services as feeds
from tests.factories import World, make_incident

FEEDS_DATA = Path(__file__).parent.parent / "feeds" / "data"
# The feed files are of 2026-11-27; incidents are reported "now".
START = "2026-11-01"


def period() -> dict[str, str]:
    return {"start": START, "end": timezone.now().date().isoformat()}


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Own media folder per test; plots cached by another test never leak in."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CERTHUB_REQUIRE_MFA = False
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[Callable[[], Any]], Any]:
    """Run ``work`` as if its transactions committed: the on-commit hooks (the feeds'
    events_loaded signal, the incident rollup refresh) run as in production."""

    def run(work: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return work()

    return run


def load_feeds() -> None:
    for path in sorted(FEEDS_DATA.glob("2026-11-27-*-pk-geo.csv")):
        feeds.ingest_file(path=path)


def report_incidents(world: World) -> dict[str, Any]:
    """A bank's ransomware, a telco's phishing and a Punjab hospital's malware."""
    return {
        "bank": make_incident(
            world.users["national-bank.reporter"],
            title="Ransomware at the National Bank",
            category="malicious-code",
            type="infected-system",
        ),
        "telco": make_incident(
            world.users["telco.reporter"],
            title="Phishing at Telco",
            category="fraud",
            type="masquerade",
        ),
        "health": make_incident(
            world.users["punjab-health.reporter"],
            title="Malware at the Punjab hospital",
            category="malicious-code",
            type="infected-system",
        ),
    }


@pytest.fixture
def landscape(world: World, committed: Any) -> dict[str, Any]:
    """The feed files of 2026-11-27 ingested and three incidents reported, every
    transaction committed (so the rollups followed)."""
    committed(load_feeds)
    return committed(lambda: report_incidents(world))


def today() -> dt.date:
    return timezone.now().date()
