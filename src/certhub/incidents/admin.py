"""Incidents in the Django admin: read-only. Every change to an incident goes through
the services (timeline, audit, deadlines, notifications), so the admin only shows them;
the taxonomy, severity weights, deadline profiles and escalation rules are data files
(see catalog.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from certhub.core.admin import ReadOnlyAdmin
from certhub.incidents.models import (
    Attachment,
    CustodyEntry,
    Deadline,
    Incident,
    Participation,
    TimelineEntry,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ParticipationInline(ReadOnlyInline):
    model = Participation
    fields = readonly_fields = ("team", "reason", "created_at")


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = readonly_fields = ("kind", "due_at", "met_at", "paused_at", "breach_notified_at")


class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = readonly_fields = ("occurred_at", "actor_name", "action", "summary", "internal")


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "status", "priority", "tlp", "handling_team"]
    list_filter = ["status", "priority", "tlp", "channel"]
    search_fields = ["reference", "title"]
    list_select_related = ["handling_team"]
    inlines = [ParticipationInline, DeadlineInline, TimelineInline]


class CustodyInline(ReadOnlyInline):
    model = CustodyEntry
    fields = readonly_fields = ("occurred_at", "action", "actor_name", "ip_address", "sha256")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["filename", "incident", "sha256", "size", "content_type"]
    search_fields = ["sha256", "filename", "incident__reference"]
    list_select_related = ["incident"]
    inlines = [CustodyInline]
