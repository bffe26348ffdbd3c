from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from certhub.audit import services as audit
from certhub.audit.models import AuditEntry
from certhub.core.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log can be searched here, never changed."""

    list_display = ["id", "occurred_at", "actor_name", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_name", "object_repr", "object_id", "action"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose changes are audited like a service's. Django runs the change
    and delete views in a transaction, so the entry commits with the change."""

    def _label(self, obj: Any) -> str:
        return str(obj._meta.model_name)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = list(form.changed_data)
        before = {name: form.initial.get(name) for name in changed} if change else {}
        super().save_model(request, obj, form, change)
        after = {name: form.cleaned_data.get(name) for name in changed}
        action = f"{self._label(obj)}.{'update' if change else 'create'}"
        audit.record(actor=request.user, action=action, obj=obj, changes=audit.diff(before, after))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            audit.record(actor=request.user, action=f"{self._label(deleted)}.delete", obj=deleted)
            deleted.delete()
        for instance in instances:
            created = instance.pk is None
            instance.save()
            audit.record(
                actor=request.user,
                action=f"{self._label(instance)}.{'create' if created else 'update'}",
                obj=instance,
            )
        formset.save_m2m()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record(actor=request.user, action=f"{self._label(obj)}.delete", obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit.record(actor=request.user, action=f"{self._label(obj)}.delete", obj=obj)
            super().delete_queryset(request, queryset)
