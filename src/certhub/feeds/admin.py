"""Read-only admin views of the feed pipeline's bookkeeping (writes go through the
ingest services, never through forms)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from certhub.audit.admin import AuditedModelAdmin
from certhub.feeds.models import AsnPrefix, FeedRule, IngestRun, ReportFile, RuleFiring


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(IngestRun)
class IngestRunAdmin(ReadOnlyAdmin):
    list_display = (
        "file_name", "report_type", "status", "rows", "accepted", "duplicates", "rejected",
        "unrouted", "seconds", "started_at",
    )  # fmt: skip
    list_filter = ("status", "report_type")
    search_fields = ("file_name", "sha256")


@admin.register(ReportFile)
class ReportFileAdmin(ReadOnlyAdmin):
    list_display = ("name", "sha256", "size", "received_at", "last_day")
    search_fields = ("name", "sha256")


@admin.register(AsnPrefix)
class AsnPrefixAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "asn", "as_name")
    search_fields = ("prefix", "as_name")


# --- Outputs (digests, rules) ---------------------------------------------------------------


@admin.register(FeedRule)
class FeedRuleAdmin(AuditedModelAdmin):
    """Feed rules are data the national CERT's admins edit here (changes audited)."""

    list_display = ("name", "enabled", "types", "taxonomies", "cii_only", "min_events")
    list_filter = ("enabled", "cii_only")
    search_fields = ("name",)


@admin.register(RuleFiring)
class RuleFiringAdmin(ReadOnlyAdmin):
    list_display = ("rule", "organization", "day", "events", "incident", "fired_at")
    list_filter = ("rule", "day")
