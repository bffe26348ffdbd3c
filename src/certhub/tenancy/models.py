"""The constituency: the tier tree of CERTs, sectors, organizations, their network
assets and contacts, and who belongs where."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from certhub.core.errors import Invalid
from certhub.core.models import TimeStampedModel
from certhub.tenancy.choices import (
    AssetKind,
    CIIGrade,
    CIIGradeMethod,
    NotificationKind,
    OrgRole,
    TeamKind,
    TeamRole,
)

PATH_SEPARATOR = "/"


class Team(TimeStampedModel):
    """A CERT. Teams form one tree through ``parent``, and the tree is the reporting
    line: an incident escalates from a team to its parent. ``path`` is the materialised
    path of ids from the root (``/1/4/9/``), so "this team and all below it" is one
    indexed prefix match, never a recursion."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=TeamKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(max_length=400, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("team mailbox"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent of this team (read from ``path``)."""
        return [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)][:-1]

    def is_ancestor_of(self, other: Team) -> bool:
        """True when ``other`` is this team or below it."""
        return other.path.startswith(self.path)

    def clean(self) -> None:
        if (
            self.pk
            and self.parent_id is not None
            and self.parent is not None
            and (
                self.parent.pk == self.pk or (self.path and self.parent.path.startswith(self.path))
            )
        ):
            raise ValidationError(
                {"parent": _("A team cannot report to itself or to a team below it.")}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``path`` and ``depth`` of this team and its whole subtree in step with
        ``parent``, on every save path (services, admin, import)."""
        old_path = self.path
        parent = self.parent if self.parent_id else None
        if parent is not None and old_path and parent.path.startswith(old_path):
            raise ValidationError(_("A team cannot report to itself or to a team below it."))
        with transaction.atomic():
            super().save(*args, **kwargs)
            new_path = f"{parent.path if parent else PATH_SEPARATOR}{self.pk}{PATH_SEPARATOR}"
            if new_path == old_path:
                return
            new_depth = new_path.count(PATH_SEPARATOR) - 2
            if not old_path:
                Team.objects.filter(pk=self.pk).update(path=new_path, depth=new_depth)
            else:
                # Move the whole subtree in one statement: swap the path prefix.
                Team.objects.filter(path__startswith=old_path).update(
                    path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
                    depth=F("depth") + (new_depth - self.depth),
                )
            self.path, self.depth = new_path, new_depth


class Sector(TimeStampedModel):
    """A sector of the economy or state (banking, telecom, power, ...). Editable list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self) -> str:
        return self.name


class Organization(TimeStampedModel):
    """A constituent: a ministry, bank, telco, university or infrastructure operator that
    reports incidents and receives help and advisories. Its ``responsible_team`` is the
    CERT that handles it; its assets route abuse events and reports to it."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    sector = models.ForeignKey(
        Sector, verbose_name=_("sector"), on_delete=models.PROTECT, related_name="organizations"
    )
    province = models.CharField(_("province"), max_length=100, blank=True)
    responsible_team = models.ForeignKey(
        Team,
        verbose_name=_("responsible team"),
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    is_cii = models.BooleanField(_("critical information infrastructure"), default=False)
    cii_grade = models.CharField(_("CII grade"), max_length=2, choices=CIIGrade.choices, blank=True)
    cii_review_date = models.DateField(_("CII review date"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_cii=True) | Q(cii_grade=""),
                name="tenancy_org_grade_only_for_cii",
                violation_error_message=_("Only a CII organization has a CII grade."),
            ),
            models.CheckConstraint(
                condition=Q(is_cii=False) | ~Q(cii_grade=""),
                name="tenancy_org_cii_needs_grade",
                violation_error_message=_("A CII organization needs a CII grade."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Asset(TimeStampedModel):
    """A network resource an organization owns: an IP network, an autonomous system or a
    domain. ``value`` is the normalised form (``192.0.2.0/24``, ``AS64500``,
    ``bank.example``). For networks, ``range_start``/``range_end`` hold the first and last
    address as 32 hex digits (IPv4 mapped into IPv6), so that "which network contains this
    address" is an index range scan on any database."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="assets",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AssetKind.choices)
    value = models.CharField(_("value"), max_length=255)
    ip_version = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    prefix_len = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    range_start = models.CharField(max_length=32, blank=True, editable=False)
    range_end = models.CharField(max_length=32, blank=True, editable=False)
    asn = models.BigIntegerField(null=True, blank=True, editable=False)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "value"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"],
                name="tenancy_asset_unique_value",
                violation_error_message=_("This asset is already registered."),
            )
        ]
        indexes = [
            models.Index(fields=["range_start", "range_end"], name="tenancy_asset_range"),
            models.Index(fields=["asn"], name="tenancy_asset_asn"),
        ]

    def __str__(self) -> str:
        return self.value

    def clean(self) -> None:
        from certhub.tenancy.assets import normalise_asset

        try:
            self.value = normalise_asset(self.kind, self.value).value
        except Invalid as exc:
            raise ValidationError({"value": exc.message}) from exc
        owner = (
            Asset.objects.filter(kind=self.kind, value=self.value)
            .exclude(pk=self.pk)
            .values_list("organization__slug", flat=True)
            .first()
        )
        if owner is not None:
            raise ValidationError(
                {
                    "value": _("%(value)s is already registered to %(owner)s.")
                    % {"value": self.value, "owner": owner}
                }
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Normalise on every save path (services, admin, import) so lookups can trust it.
        from certhub.tenancy.assets import normalise_asset

        normalised = normalise_asset(self.kind, self.value)
        self.value = normalised.value
        self.ip_version = normalised.ip_version
        self.prefix_len = normalised.prefix_len
        self.range_start = normalised.range_start
        self.range_end = normalised.range_end
        self.asn = normalised.asn
        super().save(*args, **kwargs)


class Contact(TimeStampedModel):
    """A person or role mailbox of an organization or of a team: how to reach it, its
    OpenPGP key for encrypted mail, and which notifications it wants."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    pgp_key = models.TextField(_("OpenPGP public key"), blank=True)
    pgp_fingerprint = models.CharField(
        _("OpenPGP fingerprint"), max_length=64, blank=True, editable=False
    )
    pgp_expires_at = models.DateTimeField(
        _("OpenPGP key expires"), null=True, blank=True, editable=False
    )
    notifications = models.JSONField(
        _("notifications"),
        default=list,
        blank=True,
        help_text=_("Which notifications this contact receives: %(kinds)s")
        % {"kinds": ", ".join(NotificationKind.values)},
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=(Q(organization__isnull=False) & Q(team__isnull=True))
                | (Q(organization__isnull=True) & Q(team__isnull=False)),
                name="tenancy_contact_one_owner",
                violation_error_message=_("A contact belongs to exactly one organization or team."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def clean(self) -> None:
        from certhub.tenancy.openpgp import inspect_public_key

        if self.pgp_key.strip():
            try:
                inspect_public_key(self.pgp_key)
            except Invalid as exc:
                raise ValidationError({"pgp_key": exc.message}) from exc
        unknown = [k for k in (self.notifications or []) if k not in NotificationKind.values]
        if unknown or not isinstance(self.notifications, list):
            raise ValidationError(
                {
                    "notifications": _("Unknown notification kinds: %(kinds)s")
                    % {"kinds": ", ".join(map(str, unknown)) or str(self.notifications)}
                }
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A key is checked on every save path: a contact never holds an unreadable key.
        from certhub.tenancy.openpgp import inspect_public_key

        if self.pgp_key.strip():
            info = inspect_public_key(self.pgp_key)
            self.pgp_key = info.armored
            self.pgp_fingerprint = info.fingerprint
            self.pgp_expires_at = info.expires_at
        else:
            self.pgp_key = ""
            self.pgp_fingerprint = ""
            self.pgp_expires_at = None
        super().save(*args, **kwargs)


class Membership(TimeStampedModel):
    """A user's place in the constituency: member of one team (coordinator, analyst,
    viewer) or one organization (org_admin, reporter)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=TeamRole.choices + OrgRole.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(team__isnull=False, organization__isnull=True, role__in=TeamRole.values)
                    | Q(team__isnull=True, organization__isnull=False, role__in=OrgRole.values)
                ),
                name="tenancy_membership_role_fits",
                violation_error_message=_(
                    "A membership is in one team with a team role, or in one organization "
                    "with an organization role."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "team"],
                condition=Q(team__isnull=False),
                name="tenancy_membership_unique_team",
            ),
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=Q(organization__isnull=False),
                name="tenancy_membership_unique_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team or self.organization} ({self.role})"


# --- The CII registry ------------------------------------------------------------------


class CIIDesignation(TimeStampedModel):
    """The decision of a ministry or other competent authority designating an
    organization as critical information infrastructure: who decided, when, under which
    reference. A revoked designation stays on record with the date and reason."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="cii_designations",
    )
    authority = models.CharField(
        _("designating authority"),
        max_length=200,
        help_text=_("The ministry or authority that designated it, e.g. Ministry of Energy."),
    )
    designated_on = models.DateField(_("designated on"))
    decision_reference = models.CharField(_("decision reference"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    class Meta:
        ordering = ["-designated_on", "-id"]
        verbose_name = _("CII designation")
        verbose_name_plural = _("CII designations")
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(revoked_on__isnull=True),
                name="tenancy_one_current_cii_designation",
                violation_error_message=_("This organization is already designated as CII."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.authority}, {self.designated_on})"


class CIICriterion(TimeStampedModel):
    """One criterion of the CII grading scheme (population served, substitutability,
    cross-sector dependency, ...), with its weight in the weighted score. Its answers
    are ``CIICriterionLevel`` rows. Editable as data by the platform administrator."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("CII grading criterion")
        verbose_name_plural = _("CII grading criteria")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1),
                name="tenancy_cii_criterion_weight_positive",
                violation_error_message=_("A criterion's weight is at least 1."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CIICriterionLevel(models.Model):
    """One answer to a grading criterion and the points it scores, 0 (no impact) to
    100 (national impact)."""

    criterion = models.ForeignKey(
        CIICriterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="levels"
    )
    slug = models.SlugField(_("slug"), max_length=100)
    label = models.CharField(_("label"), max_length=200)
    points = models.PositiveSmallIntegerField(_("points"))

    class Meta:
        ordering = ["criterion", "points", "slug"]
        verbose_name = _("CII criterion level")
        verbose_name_plural = _("CII criterion levels")
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "slug"], name="tenancy_cii_level_unique_slug"
            ),
            models.CheckConstraint(
                condition=Q(points__lte=100),
                name="tenancy_cii_level_points_range",
                violation_error_message=_("Points run from 0 to 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.slug}: {self.label} ({self.points})"


class CIIGradeChange(models.Model):
    """One change of an organization's CII grade, kept for ever: who, when, the old and
    the new grade, how (criteria, by hand, designation, revocation) and why. For a
    computed grade, the answers and the score are kept too."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="cii_grade_changes",
    )
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    old_grade = models.CharField(_("old grade"), max_length=2, choices=CIIGrade.choices, blank=True)
    new_grade = models.CharField(_("new grade"), max_length=2, choices=CIIGrade.choices, blank=True)
    method = models.CharField(_("method"), max_length=20, choices=CIIGradeMethod.choices)
    reason = models.TextField(_("reason"), blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("CII grade change")
        verbose_name_plural = _("CII grade changes")

    def __str__(self) -> str:
        return f"{self.organization}: {self.old_grade or '-'} -> {self.new_grade or '-'}"
