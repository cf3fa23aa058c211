"""A client's application is now ``applications.Application`` (the same table): a change of state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0001_initial'),
        ('oauthapps', '0002_plugincredential_spentauthorizationcode_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='oauthclient',
                    name='application',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='oauth_clients', to='applications.application'),
                ),
            ],
            database_operations=[],
        ),
    ]
