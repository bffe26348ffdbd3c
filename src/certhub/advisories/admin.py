"""Admin: advisories are read here; they are written through the API and the services
(the lifecycle, the two-person rule and the audit log live there). Revisions are history:
read-only."""

from __future__ import annotations

from django.contrib import admin

from certhub.advisories.models import (
    Acknowledgement,
    Advisory,
    AdvisoryDelivery,
    AdvisoryRevision,
)
from certhub.core.admin import ReadOnlyAdmin


@admin.register(Advisory)
class AdvisoryAdmin(ReadOnlyAdmin):
    list_display = ["tracking_id", "title", "team", "status", "tlp", "severity", "updated_at"]
    list_filter = ["status", "tlp", "severity"]
    search_fields = ["tracking_id", "title"]
    list_select_related = ["team"]


@admin.register(AdvisoryRevision)
class AdvisoryRevisionAdmin(ReadOnlyAdmin):
    list_display = ["advisory", "number", "published_at", "published_by_name", "tlp", "withdrawn"]
    list_filter = ["tlp", "withdrawn"]
    search_fields = ["advisory__tracking_id"]
    list_select_related = ["advisory"]
    exclude = ["csaf_document", "csaf_signature"]


@admin.register(AdvisoryDelivery)
class AdvisoryDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["advisory", "organization", "revision_number", "delivered_at", "read_at",
                    "reminded_at"]  # fmt: skip
    search_fields = ["advisory__tracking_id", "organization__name"]
    list_select_related = ["advisory", "organization"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["advisory", "organization", "state", "by_name", "at"]
    list_filter = ["state"]
    search_fields = ["advisory__tracking_id", "organization__name"]
    list_select_related = ["advisory", "organization"]
