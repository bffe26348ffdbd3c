"""`certhub intel reindex`: build the correlation index from what is stored (after a
restore, or on a database that had incidents and feed events before intel existed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Correlation index maintenance: reindex (every observable and every feed run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["reindex"])

    def handle(self, *args: Any, **options: Any) -> None:
        from certhub.intel import services

        observables = services.index_all_observables()
        runs = services.index_pending_runs()
        self.stdout.write(f"indexed {observables} observable rows and {runs} feed runs")
