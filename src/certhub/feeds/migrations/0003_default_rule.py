"""The default feed rule: an infected or compromised host in a CII organization opens an
incident for its responsible team."""

from typing import Any

from django.db import migrations

NAME = "Infected or compromised host in a CII organization"


def create_default_rule(apps: Any, schema_editor: Any) -> None:
    FeedRule = apps.get_model("feeds", "FeedRule")
    FeedRule.objects.get_or_create(
        name=NAME,
        defaults={
            "enabled": True,
            "description": (
                "An infected or compromised host in a CII organization opens an incident "
                "for its responsible team."
            ),
            "taxonomies": [],
            "types": ["infected-system", "system-compromise", "compromised"],
            "cii_only": True,
            "min_events": 1,
        },
    )


def remove_default_rule(apps: Any, schema_editor: Any) -> None:
    apps.get_model("feeds", "FeedRule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("feeds", "0002_outputs")]

    operations = [migrations.RunPython(create_default_rule, remove_default_rule)]
