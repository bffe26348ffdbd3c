"""Every write to accounts. Keyword-only, one transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from certhub.accounts.models import User
from certhub.audit import services as audit
from certhub.core.errors import Invalid

USER_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "is_council",
    "is_superuser",
    "is_staff",
    "is_active",
]


@transaction.atomic
def upsert_user(
    *,
    actor: Any,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    is_council: bool = False,
    is_superuser: bool = False,
    reset_password: bool = False,
) -> tuple[User, bool]:
    """Create the user ``username`` or bring its profile up to date. A password (or a
    ready hash, for bulk demo data) is set on creation, or when ``reset_password``."""
    existing = User.objects.select_for_update().filter(username=username).first()
    created = existing is None
    user = existing if existing is not None else User(username=username)
    before = {} if created else audit.snapshot(user, USER_FIELDS)
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.is_council = is_council
    user.is_superuser = user.is_staff = is_superuser
    if created or reset_password:
        if password_hash is not None:
            user.password = password_hash
        elif password is not None:
            user.password = make_password(password)
        else:
            user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages)) from exc
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if not created and not changes and not reset_password:
        return user, False
    user.save()
    if reset_password and not created:
        changes["password"] = ["(set)", "(reset)"]
    audit.record(
        actor=actor, action=f"user.{'create' if created else 'update'}", obj=user, changes=changes
    )
    return user, True
