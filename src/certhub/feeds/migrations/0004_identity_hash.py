"""The dedup key becomes a 64-bit hash of the identity text (issue 4: an 8-byte unique
key instead of a ~60-character one). Existing events get the hash of their stored
identity, the same function the pipeline uses, so re-sightings keep merging."""

import hashlib
from typing import Any

from django.db import migrations, models


def hash_identities(apps: Any, schema_editor: Any) -> None:
    Event = apps.get_model("feeds", "Event")
    batch = []
    for pk, identity in Event.objects.values_list("pk", "identity").iterator(chunk_size=5000):
        digest = hashlib.blake2b(identity.encode(), digest_size=8).digest()
        batch.append(Event(pk=pk, identity_hash=int.from_bytes(digest, "big", signed=True)))
        if len(batch) >= 5000:
            Event.objects.bulk_update(batch, ["identity_hash"])
            batch = []
    if batch:
        Event.objects.bulk_update(batch, ["identity_hash"])


class Migration(migrations.Migration):
    dependencies = [("feeds", "0003_default_rule")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="identity_hash",
            field=models.BigIntegerField(null=True, verbose_name="identity key (hash)"),
        ),
        migrations.RunPython(hash_identities, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="event", name="feeds_event_identity"),
        migrations.RemoveField(model_name="event", name="identity"),
        migrations.AlterField(
            model_name="event",
            name="identity_hash",
            field=models.BigIntegerField(verbose_name="identity key (hash)"),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("day", "identity_hash"), name="feeds_event_identity_hash"
            ),
        ),
    ]
