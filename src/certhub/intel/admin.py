"""Read-only admin views of the correlation index's bookkeeping (the index is written by
the services only; the sightings table itself is too large for an admin list)."""

from __future__ import annotations

from django.contrib import admin

from certhub.core.admin import ReadOnlyAdmin
from certhub.intel.models import IndexedRun, IndicatorFlag


@admin.register(IndicatorFlag)
class IndicatorFlagAdmin(ReadOnlyAdmin):
    list_display = (
        "kind", "value", "organizations", "incidents", "widespread_since", "common_since",
    )  # fmt: skip
    list_filter = ("kind",)
    search_fields = ("value",)


@admin.register(IndexedRun)
class IndexedRunAdmin(ReadOnlyAdmin):
    list_display = ("run_id", "events", "sightings", "indexed_at")
