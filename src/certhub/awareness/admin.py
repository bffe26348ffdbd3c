from django.contrib import admin

from certhub.awareness.models import NationalReport, RollupState


@admin.register(NationalReport)
class NationalReportAdmin(admin.ModelAdmin):
    list_display = ("title", "period", "edition", "start", "end", "generated_at", "generated_by")
    list_filter = ("period", "edition")
    readonly_fields = ("sha256", "size", "generated_at", "generated_by")


@admin.register(RollupState)
class RollupStateAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "refreshed_at")
    readonly_fields = ("kind", "version", "refreshed_at")
