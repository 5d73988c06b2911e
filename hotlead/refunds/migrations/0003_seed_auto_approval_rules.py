"""Seed the three objective auto-approval rules of SPEC §6, enabled (staff can switch them off)."""

from django.db import migrations

RULE_CODES = ("email_bounced", "phone_invalid", "out_of_area_at_sale")


def seed(apps, schema_editor):
    AutoApprovalRule = apps.get_model("refunds", "AutoApprovalRule")
    for code in RULE_CODES:
        AutoApprovalRule.objects.get_or_create(code=code, defaults={"enabled": True})


def unseed(apps, schema_editor):
    apps.get_model("refunds", "AutoApprovalRule").objects.filter(code__in=RULE_CODES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("refunds", "0002_report_rule_and_rate"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
