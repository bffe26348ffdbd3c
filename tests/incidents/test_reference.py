"""Incident references read {PREFIX}-{YEAR}-{NNNNNN}, count per year and are never
given twice, even when many reports arrive at once."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from certhub.incidents.models import Incident
from certhub.incidents.services import next_reference
from tests.factories import World, make_incident


@pytest.mark.django_db
def test_references_carry_prefix_year_and_a_six_digit_number(world: World, settings: Any) -> None:
    settings.CERTHUB_REFERENCE_PREFIX = "PKCERT"
    year = timezone.now().year
    first = make_incident(world.users["national-bank.reporter"])
    second = make_incident(world.users["telco.reporter"])
    assert first.reference == f"PKCERT-{year}-000001"
    assert second.reference == f"PKCERT-{year}-000002"


@pytest.mark.django_db
def test_a_new_year_starts_again_at_one_and_numbers_are_never_reused(world: World) -> None:
    make_incident(world.users["national-bank.reporter"])
    later = timezone.now().replace(year=timezone.now().year + 1)
    with transaction.atomic():
        assert next_reference(later) == f"CERT-{later.year}-000001"
    # Deleting an incident does not free its number.
    Incident.objects.all().delete()
    again = make_incident(world.users["national-bank.reporter"])
    assert again.reference.endswith("-000002")


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_consecutive_references() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("threads writing at once need a server database (run with PostgreSQL)")
    from tests.factories import build_world

    world = build_world()
    reporters = [world.users[f"{org}.reporter"] for org in ("national-bank", "telco", "ministry")]
    references: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def report(n: int) -> None:
        try:
            barrier.wait()
            incident = make_incident(reporters[n % 3], title=f"Concurrent {n}")
            references.append(incident.reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(int(re.sub(r".*-", "", ref)) for ref in references)
    assert numbers == list(range(1, 13))
