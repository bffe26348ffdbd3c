from django.contrib import admin

from certhub.core.admin import ReadOnlyAdmin
from certhub.notify.models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    """What certhub sent, to whom and when: read-only."""

    list_display = ["created_at", "subject", "tlp", "status", "attempts", "sent_at"]
    list_filter = ["status", "tlp", "kind"]
    search_fields = ["subject", "reference", "recipients"]
    readonly_fields = [f.name for f in OutboundMail._meta.fields]
