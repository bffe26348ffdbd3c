"""Every write to the constituency. Keyword-only, one transaction each, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit import services as audit
from certhub.core.errors import Conflict, Forbidden, Invalid
from certhub.tenancy.assets import normalise_asset
from certhub.tenancy.choices import CIIGrade, CIIGradeMethod
from certhub.tenancy.cii import DEFAULT_CRITERIA, grade_from_answers, next_review
from certhub.tenancy.models import (
    Asset,
    CIICriterion,
    CIICriterionLevel,
    CIIDesignation,
    CIIGradeChange,
    Contact,
    Membership,
    Organization,
    Sector,
    Team,
)
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
    old_grade = (
        Organization.objects.filter(slug=slug).values_list("cii_grade", flat=True).first() or ""
    )
    org, changed = _upsert(
        Organization, slug=slug, fields=ORG_FIELDS, actor=actor, label="organization", values=values
    )
    if changed and org.cii_grade != old_grade:
        # Every grade change is kept in the CII grade history, imports included.
        _record_grade_change(
            actor=actor,
            organization=org,
            old_grade=old_grade,
            method=CIIGradeMethod.IMPORT,
            reason=_("Set by the constituency import."),
        )
    return org, changed


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


# --- The CII registry ------------------------------------------------------------------


def _require_registry_keeper(actor: Any) -> None:
    from certhub.tenancy.selectors import may_manage_cii_registry

    if not may_manage_cii_registry(actor):
        raise Forbidden(
            _(
                "Only coordinators of the National CERT or the CII CERT (or an administrator) "
                "keep the CII registry."
            )
        )


def _locked_org(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


def _record_grade_change(
    *,
    actor: Any,
    organization: Organization,
    old_grade: str,
    method: str,
    reason: str = "",
    score: int | None = None,
    answers: dict[str, str] | None = None,
) -> CIIGradeChange:
    change = CIIGradeChange.objects.create(
        organization=organization,
        changed_at=timezone.now(),
        changed_by=actor if getattr(actor, "pk", None) else None,
        old_grade=old_grade,
        new_grade=organization.cii_grade,
        method=method,
        reason=reason,
        score=score,
        answers=answers or {},
    )
    audit.record(
        actor=actor,
        action="organization.cii_grade",
        obj=organization,
        changes={
            "cii_grade": [old_grade or None, organization.cii_grade or None],
            "method": [None, method],
            "reason": [None, reason],
            **({"score": [None, score]} if score is not None else {}),
        },
    )
    return change


@transaction.atomic
def record_cii_grade_change(
    *, actor: Any, organization: Organization, old_grade: str, reason: str
) -> CIIGradeChange:
    """Keep in the grade history a grade changed outside the registry's own services
    (the administration), so that no change goes unrecorded."""
    return _record_grade_change(
        actor=actor,
        organization=organization,
        old_grade=old_grade,
        method=CIIGradeMethod.SET,
        reason=reason,
    )


def _grade_input(
    *, grade: str = "", answers: dict[str, str] | None = None, reason: str = ""
) -> tuple[str, str, int | None, dict[str, str]]:
    """(grade, method, score, answers) from either criteria answers or a grade with a
    reason: exactly one of the two."""
    if answers:
        if grade:
            raise Invalid(_("Give either the criteria answers or a grade, not both."))
        grading = grade_from_answers(answers)
        return grading.grade, CIIGradeMethod.CRITERIA, grading.score, grading.answers
    if grade not in CIIGrade.values:
        raise Invalid(
            _("Choose a CII grade (%(grades)s) or answer the grading criteria.")
            % {"grades": ", ".join(CIIGrade.values)}
        )
    if not reason.strip():
        raise Invalid(_("Say why the grade is set by hand."))
    return grade, CIIGradeMethod.SET, None, {}


@transaction.atomic
def designate_cii(
    *,
    actor: Any,
    organization: Organization,
    authority: str,
    designated_on: dt.date,
    decision_reference: str = "",
    grade: str = "",
    answers: dict[str, str] | None = None,
    reason: str = "",
    review_date: dt.date | None = None,
) -> CIIDesignation:
    """Record that ``authority`` designated ``organization`` as CII on ``designated_on``,
    with its first grade (from the criteria, or set with a reason) and its first annual
    review date (a year after the designation unless given)."""
    _require_registry_keeper(actor)
    org = _locked_org(organization)
    if org.is_cii:
        raise Conflict(_("%(org)s is already designated as CII.") % {"org": org.name})
    if not authority.strip():
        raise Invalid(_("Name the ministry or authority that designated it."))
    new_grade, method, score, kept = _grade_input(grade=grade, answers=answers, reason=reason)
    designation = CIIDesignation(
        organization=org,
        authority=authority.strip(),
        designated_on=designated_on,
        decision_reference=decision_reference.strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    _full_clean(designation)
    designation.save()
    org.is_cii = True
    org.cii_grade = new_grade
    org.cii_review_date = review_date or next_review(designated_on)
    org.save(update_fields=["is_cii", "cii_grade", "cii_review_date", "updated_at"])
    audit.record(
        actor=actor,
        action="organization.cii_designate",
        obj=org,
        changes={
            "is_cii": [False, True],
            "authority": [None, designation.authority],
            "designated_on": [None, designated_on],
            "cii_review_date": [None, org.cii_review_date],
        },
    )
    _record_grade_change(
        actor=actor,
        organization=org,
        old_grade="",
        method=method if method == CIIGradeMethod.CRITERIA else CIIGradeMethod.DESIGNATION,
        reason=reason or _("Designated by %(authority)s.") % {"authority": designation.authority},
        score=score,
        answers=kept,
    )
    organization.refresh_from_db()
    return designation


@transaction.atomic
def regrade_cii(
    *,
    actor: Any,
    organization: Organization,
    grade: str = "",
    answers: dict[str, str] | None = None,
    reason: str = "",
) -> CIIGradeChange:
    """Change a designated organization's grade, from the criteria answers or by hand
    with a reason. The change is kept in the grade history even when the grade stays
    the same (a reassessment is itself worth recording)."""
    _require_registry_keeper(actor)
    org = _locked_org(organization)
    if not org.is_cii:
        raise Conflict(_("%(org)s is not designated as CII.") % {"org": org.name})
    new_grade, method, score, kept = _grade_input(grade=grade, answers=answers, reason=reason)
    old_grade = org.cii_grade
    org.cii_grade = new_grade
    org.save(update_fields=["cii_grade", "updated_at"])
    change = _record_grade_change(
        actor=actor,
        organization=org,
        old_grade=old_grade,
        method=method,
        reason=reason,
        score=score,
        answers=kept,
    )
    organization.refresh_from_db()
    return change


@transaction.atomic
def complete_cii_review(
    *,
    actor: Any,
    organization: Organization,
    reviewed_on: dt.date,
    next_review_date: dt.date | None = None,
    note: str = "",
) -> Organization:
    """Record the annual review of a designation: the next review is due a year later
    (or on ``next_review_date``). Regrading, if the review changes the grade, is
    ``regrade_cii``."""
    _require_registry_keeper(actor)
    org = _locked_org(organization)
    if not org.is_cii:
        raise Conflict(_("%(org)s is not designated as CII.") % {"org": org.name})
    following = next_review_date or next_review(reviewed_on)
    if following <= reviewed_on:
        raise Invalid(_("The next review must come after this one."))
    before = org.cii_review_date
    org.cii_review_date = following
    org.save(update_fields=["cii_review_date", "updated_at"])
    audit.record(
        actor=actor,
        action="organization.cii_review",
        obj=org,
        changes={
            "cii_review_date": [before, following],
            "reviewed_on": [None, reviewed_on],
            "note": [None, note],
        },
    )
    organization.refresh_from_db()
    return org


@transaction.atomic
def revoke_cii(
    *, actor: Any, organization: Organization, revoked_on: dt.date, reason: str
) -> CIIDesignation | None:
    """End a designation: the organization is no longer CII (no grade, no review); the
    designation and the grade history stay on record."""
    _require_registry_keeper(actor)
    org = _locked_org(organization)
    if not org.is_cii:
        raise Conflict(_("%(org)s is not designated as CII.") % {"org": org.name})
    if not reason.strip():
        raise Invalid(_("Say why the designation is revoked."))
    designation = CIIDesignation.objects.filter(organization=org, revoked_on__isnull=True).first()
    if designation is not None:
        if revoked_on < designation.designated_on:
            raise Invalid(_("A designation cannot be revoked before it was made."))
        designation.revoked_on = revoked_on
        designation.revocation_reason = reason.strip()
        designation.save(update_fields=["revoked_on", "revocation_reason", "updated_at"])
    old_grade = org.cii_grade
    org.is_cii, org.cii_grade, org.cii_review_date = False, "", None
    org.save(update_fields=["is_cii", "cii_grade", "cii_review_date", "updated_at"])
    audit.record(
        actor=actor,
        action="organization.cii_revoke",
        obj=org,
        changes={"is_cii": [True, False], "revoked_on": [None, revoked_on]},
    )
    _record_grade_change(
        actor=actor,
        organization=org,
        old_grade=old_grade,
        method=CIIGradeMethod.REVOCATION,
        reason=reason.strip(),
    )
    organization.refresh_from_db()
    return designation


@transaction.atomic
def install_default_cii_criteria(*, actor: Any) -> int:
    """Create the grading criteria certhub ships with (``cii.DEFAULT_CRITERIA``) where
    they are missing; existing criteria, perhaps edited, are left alone. Returns how
    many were created."""
    created = 0
    for position, (slug, name, weight, levels) in enumerate(DEFAULT_CRITERIA):
        if CIICriterion.objects.filter(slug=slug).exists():
            continue
        criterion = CIICriterion.objects.create(
            slug=slug, name=name, weight=weight, position=position
        )
        CIICriterionLevel.objects.bulk_create(
            CIICriterionLevel(criterion=criterion, slug=level, label=label, points=points)
            for level, label, points in levels
        )
        audit.record(
            actor=actor,
            action="cii_criterion.create",
            obj=criterion,
            changes={"weight": [None, weight], "levels": [None, [lv[0] for lv in levels]]},
        )
        created += 1
    return created
