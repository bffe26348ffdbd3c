"""Administration of accounts for platform administrators. Second-factor secrets are never
shown or edited here; an administrator can only reset a user's second factor (lost phone).
Changes are audited, like every write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certhub.accounts import services
from certhub.accounts.models import ApiToken, LoginFailure, User
from certhub.audit import services as audit
from certhub.audit.admin import AuditedModelAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_superuser", "is_council"]
    list_display += ["mfa_status", "is_active"]
    list_filter = ["is_superuser", "is_council", "is_active"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("certhub"), {"fields": ("is_council", "time_zone", "mfa_status", "totp_confirmed_at")}),
    )
    readonly_fields = ["mfa_status", "totp_confirmed_at", "last_login", "date_joined"]
    actions = ["reset_mfa"]

    @admin.display(description=_("two-factor"), boolean=True)
    def mfa_status(self, obj: User) -> bool:
        return obj.mfa_enabled

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Passwords never go into the audit log, not even as "changed fields" values.
        changed = [name for name in form.changed_data if "password" not in name]
        before = {name: form.initial.get(name) for name in changed} if change else {}
        admin.ModelAdmin.save_model(self, request, obj, form, change)
        changes = audit.diff(before, {name: form.cleaned_data.get(name) for name in changed})
        if not change:
            changes["password"] = [None, "(set)"]
        audit.record(
            actor=request.user,
            action=f"user.{'update' if change else 'create'}",
            obj=obj,
            changes=changes,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                audit.record(
                    actor=request.user,
                    action="user.update",
                    obj=user,
                    changes={"password": ["(set)", "(reset)"]},
                )
        return response

    @admin.action(description=_("Reset two-factor authentication (the user enrols again)"))
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(services.reset_mfa(actor=request.user, user=user) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "Two-factor authentication reset for %(count)d user.",
                "Two-factor authentication reset for %(count)d users.",
                done,
            )
            % {"count": done},
            messages.SUCCESS,
        )


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are listed (never the token itself: only its hash is stored) and can be
    revoked; they are made by their users or with ``certhub token create``."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at"]
    list_display += ["revoked_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            services.revoke_token(actor=request.user, token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    """Recent failed sign-ins (kept a day). Lifting a lockout forgets a username's failures."""

    list_display = ["occurred_at", "username_key", "ip_address"]
    search_fields = ["username_key", "ip_address"]
    date_hierarchy = "occurred_at"
    actions = ["unlock"]

    @admin.action(description=_("Lift the lockout of these usernames"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[LoginFailure]) -> None:
        keys = set(queryset.values_list("username_key", flat=True))
        for key in keys:
            services.unlock_login(actor=request.user, username_key=key)
        self.message_user(
            request,
            ngettext("%(count)d username unlocked.", "%(count)d usernames unlocked.", len(keys))
            % {"count": len(keys)},
            messages.SUCCESS,
        )
