from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from certhub.notify.models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    """What certhub sent, to whom and when: read-only."""

    list_display = ["created_at", "subject", "tlp", "status", "attempts", "sent_at"]
    list_filter = ["status", "tlp", "kind"]
    search_fields = ["subject", "reference", "recipients"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
