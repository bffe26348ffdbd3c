"""Situational awareness (DESIGN.md section 6): daily rollups, stored national reports,
and (council_models) the CERT Council's members, meetings, recommendations and disputes.

The rollups are what every dashboard, plot, statistics answer and report reads: small
tables of counts per day (and the same added up per week), refreshed from the events
and incidents by the services (on the feeds' ``events_loaded`` signal, after an
incident or deadline changes, and by a periodic task), so that no page counts millions
of rows while a user waits."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.tenancy.models import Organization, Sector, Team


class EventCounts(models.Model):
    """The columns the daily and weekly event rollups share: the sector and responsible
    team the events were routed to, the feed and classification, and the counts. The
    names of the columns they are grouped by are ``EVENT_KEYS``."""

    sector = models.ForeignKey(
        Sector, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )
    feed_name = models.CharField(_("feed"), max_length=100)
    classification_taxonomy = models.CharField(_("classification.taxonomy"), max_length=50)
    classification_type = models.CharField(_("classification.type"), max_length=50)
    is_cii = models.BooleanField(_("CII organizations"), default=False)
    events = models.BigIntegerField(_("events"), default=0)
    sightings = models.BigIntegerField(_("sightings"), default=0)

    class Meta:
        abstract = True


EVENT_KEYS = (
    "sector_id",
    "team_id",
    "feed_name",
    "classification_taxonomy",
    "classification_type",
    "is_cii",
)


class OrganizationPlace(models.Model):
    """Where an organization's rollup rows belong: the organization, its sector and
    responsible team (the daily and weekly organization event rollups)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )

    class Meta:
        abstract = True


class IncidentPlace(models.Model):
    """Where incident rollup rows belong: the handling team and the sector."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, db_index=False, related_name="+")
    sector = models.ForeignKey(
        Sector, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )

    class Meta:
        abstract = True


class IncidentCounts(IncidentPlace):
    """The counts the daily and weekly incident rollups share, per priority."""

    priority = models.PositiveSmallIntegerField(_("priority"))
    incidents = models.IntegerField(_("incidents"), default=0)
    open = models.IntegerField(_("open"), default=0)
    sla_decided = models.IntegerField(_("SLA deadlines decided"), default=0)
    sla_met = models.IntegerField(_("SLA deadlines met in time"), default=0)
    overdue = models.IntegerField(_("with a deadline overdue (at the refresh)"), default=0)

    class Meta:
        abstract = True


class EventRollup(EventCounts):
    """Feed events of one day (UTC) counted by the sector and responsible team they were
    routed to at ingest (the event's own ``sector`` and ``team``), the feed (report type)
    and the classification: the national and team views of the feeds. Unrouted events
    have no team and no sector."""

    day = models.DateField(_("day (UTC)"))

    class Meta:
        verbose_name = _("event rollup")
        verbose_name_plural = _("event rollups")
        # Covering: the national and Council charts read a range of days from the index.
        indexes = [
            models.Index(
                fields=["day", "team", "sector", "feed_name", "events"],
                name="awareness_event_day",
            ),
            models.Index(fields=["team", "day"], name="awareness_event_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.feed_name} {self.classification_type}: {self.events}"


class OrgEventRollup(OrganizationPlace):
    """One organization's feed events of one day per feed: how many events and how many
    distinct hosts (addresses, or names where a report gives no address). The
    organization's exposure trend and the most affected organizations."""

    day = models.DateField(_("day (UTC)"))
    feed_name = models.CharField(_("feed"), max_length=100)
    events = models.BigIntegerField(_("events"), default=0)
    hosts = models.BigIntegerField(_("distinct hosts"), default=0)

    class Meta:
        verbose_name = _("organization event rollup")
        verbose_name_plural = _("organization event rollups")
        indexes = [
            models.Index(fields=["organization", "day"], name="awareness_org_day"),
            # Covering: the most affected organizations over a range of days.
            models.Index(
                fields=["day", "team", "sector", "organization", "events", "hosts"],
                name="awareness_orgevent_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id} {self.feed_name}: {self.events}"


class IncidentRollup(IncidentCounts):
    """Incidents reported on one day (UTC) counted by handling team, sector (of the
    reporting organization, else of an affected one), RSIT category and priority: how
    many, how many are still open, and the response SLA deadlines already decided (met,
    or past due) and those met in time. An incident counts once, under its handling
    team."""

    day = models.DateField(_("day reported (UTC)"))
    category = models.CharField(_("category"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("incident rollup")
        verbose_name_plural = _("incident rollups")
        # Covering indexes: every dashboard query is a range of days read from the index
        # alone (SQLite has no INCLUDE; the columns are part of the key).
        indexes = [
            models.Index(
                fields=[
                    "day",
                    "team",
                    "sector",
                    "category",
                    "priority",
                    "incidents",
                    "open",
                    "sla_decided",
                    "sla_met",
                    "overdue",
                ],
                name="awareness_incident_day",
            ),
            models.Index(fields=["team", "day"], name="awareness_incident_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {self.category} P{self.priority}: {self.incidents}"


def week_of(day: dt.date) -> dt.date:
    """The Monday (UTC) starting the week of ``day``: the key of the weekly rollups."""
    return day - dt.timedelta(days=day.weekday())


# The weekly rollups below are the daily ones added up per week (Monday to Sunday, UTC),
# refreshed from them whenever a day of the week is recounted. The aggregate views (the
# national, team and Council dashboards) read whole weeks from these, and only the days
# at either end of a range that do not fill a week from the daily rows: a seven-times
# to sixty-times smaller read, with the very same sums.


class EventWeekRollup(EventCounts):
    """``EventRollup`` per week: feed events of one week counted by sector, responsible
    team, feed and classification."""

    week = models.DateField(_("week starting (UTC)"))

    class Meta:
        verbose_name = _("weekly event rollup")
        verbose_name_plural = _("weekly event rollups")
        indexes = [
            models.Index(
                fields=["week", "team", "sector", "feed_name", "events"],
                name="awareness_eventweek_week",
            ),
            models.Index(fields=["team", "week"], name="awareness_eventweek_team"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.feed_name} {self.classification_type}: {self.events}"


class OrgEventWeekRollup(OrganizationPlace):
    """One organization's feed events of one week, all feeds together: events, and
    host-days (its distinct hosts of each day, added up over the week's days). The most
    affected organizations."""

    week = models.DateField(_("week starting (UTC)"))
    events = models.BigIntegerField(_("events"), default=0)
    hosts = models.BigIntegerField(_("host-days"), default=0)

    class Meta:
        verbose_name = _("weekly organization event rollup")
        verbose_name_plural = _("weekly organization event rollups")
        indexes = [
            models.Index(
                fields=["week", "team", "sector", "organization", "events", "hosts"],
                name="awareness_orgeventweek_week",
            ),
            models.Index(fields=["organization", "week"], name="awareness_orgeventweek_org"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.organization_id}: {self.events}"


class IncidentWeekRollup(IncidentCounts):
    """``IncidentRollup`` per week without the category: incidents reported in one week
    by handling team, sector and priority, with the open, SLA and overdue counts. (With
    the category as well, a week has nearly as many rows as incidents.)"""

    week = models.DateField(_("week reported (UTC)"))

    class Meta:
        verbose_name = _("weekly incident rollup")
        verbose_name_plural = _("weekly incident rollups")
        indexes = [
            models.Index(
                fields=[
                    "week",
                    "team",
                    "sector",
                    "priority",
                    "incidents",
                    "open",
                    "sla_decided",
                    "sla_met",
                    "overdue",
                ],
                name="awareness_incidentweek_week",
            ),
            models.Index(fields=["team", "week"], name="awareness_incidentweek_team"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.team_id} P{self.priority}: {self.incidents}"


class IncidentCategoryWeekRollup(IncidentPlace):
    """``IncidentRollup`` per week by handling team, sector and RSIT category: how many
    incidents (the incidents by category)."""

    week = models.DateField(_("week reported (UTC)"))
    category = models.CharField(_("category"), max_length=60, blank=True)
    incidents = models.IntegerField(_("incidents"), default=0)

    class Meta:
        verbose_name = _("weekly incident rollup by category")
        verbose_name_plural = _("weekly incident rollups by category")
        indexes = [
            models.Index(
                fields=["week", "team", "sector", "category", "incidents"],
                name="awareness_inccatweek_week",
            ),
            models.Index(fields=["team", "week"], name="awareness_inccatweek_team"),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.team_id} {self.category}: {self.incidents}"


class RollupState(models.Model):
    """How fresh one kind of rollup is: its version grows at every refresh, so a plot
    rendered from it can be cached under the version and is never served stale."""

    kind = models.CharField(_("rollup"), max_length=20, unique=True)
    version = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.kind} v{self.version}"


class NationalReport(models.Model):
    """A monthly or quarterly national situation report as generated (PDF, kept for
    good): the full version for the National CERT, or the Council version with
    aggregates only."""

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")

    class Edition(models.TextChoices):
        NATIONAL = "national", _("National CERT")
        COUNCIL = "council", _("CERT Council (aggregates only)")

    period = models.CharField(_("period"), max_length=10, choices=Period.choices)
    edition = models.CharField(_("edition"), max_length=10, choices=Edition.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    title = models.CharField(_("title"), max_length=200)
    pdf = models.FileField(_("PDF"), upload_to="awareness/reports/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size in bytes"))
    generated_at = models.DateTimeField(_("generated"), auto_now_add=True)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("generated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("national report")
        verbose_name_plural = _("national reports")
        ordering = ["-start", "-generated_at", "-id"]

    def __str__(self) -> str:
        return self.title


from certhub.awareness.council_models import *  # noqa: E402, F403
