"""Every write to the constituency. Keyword-only, one transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Conflict, Invalid
from certhub.tenancy.assets import normalise_asset
from certhub.tenancy.models import Asset, Contact, Membership, Organization, Sector, Team
from certhub.tenancy.openpgp import inspect_public_key
from certhub.tenancy.visibility import forget_scope

TEAM_FIELDS = ["name", "kind", "parent_id", "description", "email", "phone"]
SECTOR_FIELDS = ["name", "description"]
ORG_FIELDS = [
    "name",
    "sector_id",
    "province",
    "responsible_team_id",
    "is_cii",
    "cii_grade",
    "cii_review_date",
    "website",
    "description",
    "is_active",
]
CONTACT_FIELDS = ["name", "role", "email", "phone", "pgp_fingerprint", "notifications"]


def _validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _full_clean(instance: Any, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise Invalid(_validation_message(exc)) from exc


def _upsert(
    model: Any, *, slug: str, fields: list[str], values: dict[str, Any], actor: Any, label: str
) -> tuple[Any, bool]:
    """Create or update the row with ``slug``; audit what changed. Returns (row, changed)."""
    instance = model.objects.select_for_update().filter(slug=slug).first()
    created = instance is None
    before = {} if created else audit.snapshot(instance, fields)
    if created:
        instance = model(slug=slug)
    for name, value in values.items():
        setattr(instance, name, value)
    _full_clean(instance, exclude=["slug"] if not created else None)
    after = audit.snapshot(instance, fields)
    changes = audit.diff(before, after)
    if not created and not changes:
        return instance, False
    instance.save()
    audit.record(
        actor=actor,
        action=f"{label}.{'create' if created else 'update'}",
        obj=instance,
        changes=changes,
    )
    return instance, True


@transaction.atomic
def upsert_team(
    *,
    actor: Any,
    slug: str,
    name: str,
    kind: str,
    parent: Team | None,
    description: str = "",
    email: str = "",
    phone: str = "",
) -> tuple[Team, bool]:
    return _upsert(
        Team,
        slug=slug,
        fields=TEAM_FIELDS,
        actor=actor,
        label="team",
        values={
            "name": name,
            "kind": kind,
            "parent": parent,
            "description": description,
            "email": email,
            "phone": phone,
        },
    )


@transaction.atomic
def upsert_sector(
    *, actor: Any, slug: str, name: str, description: str = ""
) -> tuple[Sector, bool]:
    return _upsert(
        Sector,
        slug=slug,
        fields=SECTOR_FIELDS,
        actor=actor,
        label="sector",
        values={"name": name, "description": description},
    )


@transaction.atomic
def upsert_organization(*, actor: Any, slug: str, **values: Any) -> tuple[Organization, bool]:
    unknown = set(values) - {f.removesuffix("_id") for f in ORG_FIELDS}
    if unknown:
        raise Invalid(
            _("Unknown organization fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    return _upsert(
        Organization, slug=slug, fields=ORG_FIELDS, actor=actor, label="organization", values=values
    )


@transaction.atomic
def add_asset(
    *, actor: Any, organization: Organization, kind: str, value: str, description: str = ""
) -> tuple[Asset, bool]:
    """Register an asset; re-adding one the organization already has changes nothing.
    An asset registered to another organization is refused, naming that organization."""
    normalised = normalise_asset(kind, value)
    existing = (
        Asset.objects.select_related("organization")
        .filter(kind=normalised.kind, value=normalised.value)
        .first()
    )
    if existing is not None:
        if existing.organization_id != organization.pk:
            raise Conflict(
                _("%(value)s is already registered to %(owner)s.")
                % {"value": normalised.value, "owner": existing.organization.slug}
            )
        if description and existing.description != description:
            before = existing.description
            existing.description = description
            existing.save(update_fields=["description", "updated_at"])
            audit.record(
                actor=actor,
                action="asset.update",
                obj=existing,
                changes={"description": [before, description]},
            )
            return existing, True
        return existing, False
    asset = Asset(
        organization=organization,
        kind=normalised.kind,
        value=normalised.value,
        description=description,
    )
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError as exc:  # a concurrent writer registered it first
        raise Conflict(_("%(value)s is already registered.") % {"value": normalised.value}) from exc
    audit.record(
        actor=actor,
        action="asset.create",
        obj=asset,
        changes={
            "organization": [None, organization.slug],
            "kind": [None, asset.kind],
            "value": [None, asset.value],
        },
    )
    return asset, True


@transaction.atomic
def remove_asset(*, actor: Any, asset: Asset) -> None:
    audit.record(
        actor=actor,
        action="asset.delete",
        obj=asset,
        changes={"organization": [asset.organization.slug, None], "value": [asset.value, None]},
    )
    asset.delete()


@transaction.atomic
def upsert_contact(
    *,
    actor: Any,
    organization: Organization | None = None,
    team: Team | None = None,
    email: str,
    name: str,
    role: str = "",
    phone: str = "",
    pgp_key: str = "",
    notifications: list[str] | None = None,
) -> tuple[Contact, bool]:
    """A contact is identified by its owner and e-mail address."""
    owner = {"organization": organization} if organization is not None else {"team": team}
    existing = Contact.objects.filter(**owner, email__iexact=email).first()
    created = existing is None
    before = {} if existing is None else audit.snapshot(existing, CONTACT_FIELDS)
    old_key = None if existing is None else existing.pgp_key
    contact = existing if existing is not None else Contact(**owner)
    contact.email, contact.name, contact.role, contact.phone = email, name, role, phone
    contact.notifications = list(notifications or [])
    contact.pgp_key = pgp_key
    _full_clean(contact)  # validates the key too, in the user's words
    # Normalise the key as save() would, so an unchanged key compares equal.
    if pgp_key.strip():
        key = inspect_public_key(pgp_key)
        contact.pgp_key, contact.pgp_fingerprint = key.armored, key.fingerprint
    else:
        contact.pgp_key, contact.pgp_fingerprint = "", ""
    changes = audit.diff(before, audit.snapshot(contact, CONTACT_FIELDS))
    if existing is not None and not changes and old_key == contact.pgp_key:
        return contact, False
    contact.save()
    audit.record(
        actor=actor,
        action=f"contact.{'create' if created else 'update'}",
        obj=contact,
        changes=changes,
    )
    return contact, True


@transaction.atomic
def set_membership(
    *,
    actor: Any,
    user: Any,
    role: str,
    team: Team | None = None,
    organization: Organization | None = None,
) -> tuple[Membership, bool]:
    """Put ``user`` in a team or organization with ``role`` (or change its role there)."""
    target = {"team": team} if team is not None else {"organization": organization}
    membership = Membership.objects.filter(user=user, **target).first()
    if membership is not None and membership.role == role:
        return membership, False
    before = membership.role if membership else None
    if membership is None:
        membership = Membership(user=user, **target)
    membership.role = role
    _full_clean(membership, exclude=["user"])
    membership.save()
    forget_scope(user)
    audit.record(
        actor=actor,
        action="membership.set",
        obj=membership,
        changes={"user": [None, user.get_username()], "role": [before, role]},
    )
    return membership, True


@transaction.atomic
def remove_membership(*, actor: Any, membership: Membership) -> None:
    audit.record(
        actor=actor,
        action="membership.delete",
        obj=membership,
        changes={"role": [membership.role, None]},
    )
    forget_scope(membership.user)
    membership.delete()
