# The indexes every submission wrote for nothing (docs/performance.md, "Lead intake"): e-mail and phone alone and
# their LIKE twins (the duplicate check and exact searches use the (value, category, created_at) indexes; icontains
# uses none), status alone and its LIKE twin ((status, created_at) serves it), created_at alone (lead_newest_first_idx
# and report_lead_created_idx serve it). Dropping an index takes no time on a big table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0004_lead_lead_source'),
    ]

    operations = [
        migrations.AlterField(
            model_name='lead',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AlterField(
            model_name='lead',
            name='email',
            field=models.EmailField(max_length=254),
        ),
        migrations.AlterField(
            model_name='lead',
            name='phone',
            field=models.CharField(help_text='E.164', max_length=20),
        ),
        migrations.AlterField(
            model_name='lead',
            name='status',
            field=models.CharField(choices=[('pending_verification', 'Pending verification'), ('verified', 'Verified'), ('pending_review', 'Pending review'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('distributed', 'Distributed'), ('unsold', 'Unsold'), ('expired', 'Expired')], default='pending_verification', max_length=32),
        ),
    ]
