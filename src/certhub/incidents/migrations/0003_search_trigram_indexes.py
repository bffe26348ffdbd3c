"""Trigram indexes for the incident search on PostgreSQL.

The search is a case-insensitive substring match (Django's ``icontains``, which
PostgreSQL runs as ``UPPER(col::text) LIKE UPPER('%term%')``). A GIN index with
``gin_trgm_ops`` on exactly that expression lets PostgreSQL answer it from the index
instead of scanning every incident and observable. SQLite has no such index; there the
search scans, which the benchmark (bench/incidents.py) keeps in view.

``pg_trgm`` ships with PostgreSQL; creating the extension needs a role allowed to do so.
Where it is refused, the migration goes on without the indexes (search still works,
only slower) and says so.
"""

from django.db import migrations

INDEXES = [
    ("incidents_incident_reference_trgm", "incidents_incident", "reference"),
    ("incidents_incident_title_trgm", "incidents_incident", "title"),
    ("incidents_incident_description_trgm", "incidents_incident", "description"),
    ("incidents_observable_value_trgm", "incidents_observable", "value"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SAVEPOINT certhub_trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # noqa: BLE001 - a missing privilege must not stop the upgrade
            cursor.execute("ROLLBACK TO SAVEPOINT certhub_trgm")
            print(f"\n  pg_trgm is not available ({exc}); incident search runs without indexes.")
            return
        cursor.execute("RELEASE SAVEPOINT certhub_trgm")
        for name, table, column in INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gin ((UPPER(("{column}")::text)) gin_trgm_ops)'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_savedview")]

    operations = [migrations.RunPython(create, drop)]
