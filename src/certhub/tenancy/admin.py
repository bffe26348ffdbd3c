"""Administration of the constituency for platform administrators. Every change made
here is audited (AuditedModelAdmin)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext

from certhub.audit.admin import AuditedModelAdmin
from certhub.tenancy.models import (
    Asset,
    CIICriterion,
    CIICriterionLevel,
    Contact,
    Membership,
    Organization,
    Sector,
    Team,
)
from certhub.tenancy.services import record_cii_grade_change


class TeamContactInline(admin.TabularInline):
    model = Contact
    fk_name = "team"
    extra = 0
    fields = ["name", "role", "email", "phone", "notifications"]


class TeamMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "team"
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role"]


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "kind", "parent", "depth"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamContactInline, TeamMembershipInline]


@admin.register(Sector)
class SectorAdmin(AuditedModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class AssetInline(admin.TabularInline):
    model = Asset
    extra = 0
    fields = ["kind", "value", "description"]


class OrganizationContactInline(admin.TabularInline):
    model = Contact
    fk_name = "organization"
    extra = 0
    fields = ["name", "role", "email", "phone", "pgp_key", "notifications"]


class OrganizationMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "organization"
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role"]


@admin.register(Organization)
class OrganizationAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "sector", "province", "responsible_team", "is_cii", "cii_grade"]
    list_filter = ["sector", "is_cii", "responsible_team", "province"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["responsible_team", "sector"]
    inlines = [AssetInline, OrganizationContactInline, OrganizationMembershipInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # A grade changed here is kept in the CII grade history like any other change.
        old_grade = (form.initial.get("cii_grade") or "") if change else ""
        super().save_model(request, obj, form, change)
        if obj.cii_grade != old_grade:
            record_cii_grade_change(
                actor=request.user,
                organization=obj,
                old_grade=old_grade,
                reason=gettext("Changed in the administration."),
            )


@admin.register(Asset)
class AssetAdmin(AuditedModelAdmin):
    list_display = ["value", "kind", "organization", "description"]
    list_filter = ["kind"]
    search_fields = ["value", "organization__name", "organization__slug"]
    autocomplete_fields = ["organization"]


@admin.register(Contact)
class ContactAdmin(AuditedModelAdmin):
    list_display = ["name", "email", "organization", "team", "pgp_fingerprint"]
    search_fields = ["name", "email", "organization__name", "team__name"]
    autocomplete_fields = ["organization", "team"]
    readonly_fields = ["pgp_fingerprint", "pgp_expires_at"]


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "team", "organization", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name", "organization__name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["team", "organization"]


class CIICriterionLevelInline(admin.TabularInline):
    model = CIICriterionLevel
    extra = 0
    fields = ["slug", "label", "points"]


@admin.register(CIICriterion)
class CIICriterionAdmin(AuditedModelAdmin):
    """The CII grading scheme as data: criteria, their weights and their levels."""

    list_display = ["name", "slug", "weight", "position", "is_active"]
    list_editable = ["weight", "position", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CIICriterionLevelInline]
