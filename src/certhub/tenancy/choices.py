"""Fixed vocabularies of the constituency."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamKind(models.TextChoices):
    NATIONAL = "national", _("National CERT")
    GOVERNMENT = "government", _("Government CERT")
    CII = "cii", _("CII CERT")
    SECTORAL = "sectoral", _("Sectoral CERT")
    FEDERAL = "federal", _("Federal CERT")
    PROVINCIAL = "provincial", _("Provincial CERT")


class TeamRole(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")


class OrgRole(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organization administrator")
    REPORTER = "reporter", _("Reporter")


class AssetKind(models.TextChoices):
    CIDR = "cidr", _("IP network (CIDR)")
    ASN = "asn", _("Autonomous system (ASN)")
    DOMAIN = "domain", _("Domain")


class CIIGrade(models.TextChoices):
    """How critical a designated CII organization is (1 = most critical)."""

    GRADE_1 = "1", _("Grade 1 (national impact)")
    GRADE_2 = "2", _("Grade 2 (regional or sectoral impact)")
    GRADE_3 = "3", _("Grade 3 (local impact)")


class NotificationKind(models.TextChoices):
    INCIDENTS = "incidents", _("Incident updates")
    ADVISORIES = "advisories", _("Security advisories")
    FEED_DIGESTS = "feed_digests", _("Abuse feed digests")
    ESCALATIONS = "escalations", _("Escalations and delegations")


class CIIGradeMethod(models.TextChoices):
    """How a CII grade came about: computed from the grading criteria, or set by hand
    with a reason (a ministry decision, a correction)."""

    CRITERIA = "criteria", _("Computed from the grading criteria")
    SET = "set", _("Set with a reason")
    DESIGNATION = "designation", _("Designation")
    REVOCATION = "revocation", _("Designation revoked")
    IMPORT = "import", _("Constituency import")
