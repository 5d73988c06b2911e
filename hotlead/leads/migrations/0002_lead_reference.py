"""Issue 14: a short human reference on every lead (HL- and five characters, e.g. HL-7K3Q9), backfilled for existing rows, then unique."""
import secrets

from django.db import migrations, models

import hotlead.leads.references

# A frozen copy of the generator (data migrations never import app code that may change later).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    used = set(Lead.objects.exclude(reference=None).values_list("reference", flat=True))
    batch = []
    for pk in Lead.objects.filter(reference=None).order_by("pk").values_list("pk", flat=True).iterator(2000):
        while True:
            reference = "HL-" + "".join(secrets.choice(ALPHABET) for _ in range(5))
            if reference not in used:
                used.add(reference)
                break
        batch.append(Lead(pk=pk, reference=reference))
        if len(batch) >= 2000:
            Lead.objects.bulk_update(batch, ["reference"])
            batch = []
    if batch:
        Lead.objects.bulk_update(batch, ["reference"])


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="reference",
            field=models.CharField(editable=False, max_length=12, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="lead",
            name="reference",
            field=models.CharField(default=hotlead.leads.references.reference_generate, editable=False,
                                   max_length=12, unique=True),
        ),
    ]
