"""Weekly rollups (issue 7): the daily rollups added up per week, so the aggregate
dashboards read whole weeks from a table seven to sixty times smaller. Existing daily
rows are added up here once; from then on the services refresh a week with its days."""

import datetime as dt
from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum

# weekly model: (daily model, grouping fields, {weekly field: daily field summed})
WEEKLY = {
    "EventWeekRollup": (
        "EventRollup",
        ["sector_id", "team_id", "feed_name", "classification_taxonomy", "classification_type", "is_cii"],
        {"events": "events", "sightings": "sightings"},
    ),
    "OrgEventWeekRollup": (
        "OrgEventRollup",
        ["organization_id", "sector_id", "team_id"],
        {"events": "events", "hosts": "hosts"},
    ),
    "IncidentWeekRollup": (
        "IncidentRollup",
        ["team_id", "sector_id", "priority"],
        {name: name for name in ("incidents", "open", "sla_decided", "sla_met", "overdue")},
    ),
    "IncidentCategoryWeekRollup": (
        "IncidentRollup",
        ["team_id", "sector_id", "category"],
        {"incidents": "incidents"},
    ),
}


def add_up_weeks(apps: Any, schema_editor: Any) -> None:
    for weekly_name, (daily_name, fields, sums) in WEEKLY.items():
        weekly = apps.get_model("awareness", weekly_name)
        daily = apps.get_model("awareness", daily_name)
        days = daily.objects.values_list("day", flat=True).distinct().order_by()
        weeks = sorted({day - dt.timedelta(days=day.weekday()) for day in days})
        for week in weeks:
            groups = (
                daily.objects.filter(day__range=(week, week + dt.timedelta(days=6)))
                .values(*fields)
                .annotate(**{f"sum_{k}": Sum(v) for k, v in sums.items()})
                .order_by()
            )
            weekly.objects.bulk_create(
                [
                    weekly(
                        week=week,
                        **{f: g[f] for f in fields},
                        **{k: g[f"sum_{k}"] or 0 for k in sums},
                    )
                    for g in groups
                ],
                batch_size=2000,
            )



class Migration(migrations.Migration):

    dependencies = [
        ('awareness', '0002_council'),
        ('tenancy', '0002_cii_registry'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventWeekRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='week starting (UTC)')),
                ('feed_name', models.CharField(max_length=100, verbose_name='feed')),
                ('classification_taxonomy', models.CharField(max_length=50, verbose_name='classification.taxonomy')),
                ('classification_type', models.CharField(max_length=50, verbose_name='classification.type')),
                ('is_cii', models.BooleanField(default=False, verbose_name='CII organizations')),
                ('events', models.BigIntegerField(default=0, verbose_name='events')),
                ('sightings', models.BigIntegerField(default=0, verbose_name='sightings')),
                ('sector', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.sector')),
                ('team', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.team')),
            ],
            options={
                'verbose_name': 'weekly event rollup',
                'verbose_name_plural': 'weekly event rollups',
                'indexes': [models.Index(fields=['week', 'team', 'sector', 'feed_name', 'events'], name='awareness_eventweek_week'), models.Index(fields=['team', 'week'], name='awareness_eventweek_team')],
            },
        ),
        migrations.CreateModel(
            name='IncidentCategoryWeekRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='week reported (UTC)')),
                ('category', models.CharField(blank=True, max_length=60, verbose_name='category')),
                ('incidents', models.IntegerField(default=0, verbose_name='incidents')),
                ('sector', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.sector')),
                ('team', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.team')),
            ],
            options={
                'verbose_name': 'weekly incident rollup by category',
                'verbose_name_plural': 'weekly incident rollups by category',
                'indexes': [models.Index(fields=['week', 'team', 'sector', 'category', 'incidents'], name='awareness_inccatweek_week'), models.Index(fields=['team', 'week'], name='awareness_inccatweek_team')],
            },
        ),
        migrations.CreateModel(
            name='IncidentWeekRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='week reported (UTC)')),
                ('priority', models.PositiveSmallIntegerField(verbose_name='priority')),
                ('incidents', models.IntegerField(default=0, verbose_name='incidents')),
                ('open', models.IntegerField(default=0, verbose_name='open')),
                ('sla_decided', models.IntegerField(default=0, verbose_name='SLA deadlines decided')),
                ('sla_met', models.IntegerField(default=0, verbose_name='SLA deadlines met in time')),
                ('overdue', models.IntegerField(default=0, verbose_name='with a deadline overdue (at the refresh)')),
                ('sector', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.sector')),
                ('team', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.team')),
            ],
            options={
                'verbose_name': 'weekly incident rollup',
                'verbose_name_plural': 'weekly incident rollups',
                'indexes': [models.Index(fields=['week', 'team', 'sector', 'priority', 'incidents', 'open', 'sla_decided', 'sla_met', 'overdue'], name='awareness_incidentweek_week'), models.Index(fields=['team', 'week'], name='awareness_incidentweek_team')],
            },
        ),
        migrations.CreateModel(
            name='OrgEventWeekRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='week starting (UTC)')),
                ('events', models.BigIntegerField(default=0, verbose_name='events')),
                ('hosts', models.BigIntegerField(default=0, verbose_name='host-days')),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('sector', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.sector')),
                ('team', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.team')),
            ],
            options={
                'verbose_name': 'weekly organization event rollup',
                'verbose_name_plural': 'weekly organization event rollups',
                'indexes': [models.Index(fields=['week', 'team', 'sector', 'organization', 'events', 'hosts'], name='awareness_orgeventweek_week'), models.Index(fields=['organization', 'week'], name='awareness_orgeventweek_org')],
            },
        ),
        migrations.RunPython(add_up_weeks, migrations.RunPython.noop),
    ]
