"""The database cache (shared by every process when REDIS_URL is not set)."""
from django.core.management import call_command
from django.db import migrations


def forwards(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditlog_append_only")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
