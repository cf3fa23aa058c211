"""``Application`` now lives in ``applications`` (its 0001 took it over with its table): a key's foreign key
points there, and the model leaves this app's state. The database does not change."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('apikeys', '0002_apikey'),
        ('applications', '0001_initial'),
        # Every foreign key to the old model must point to the new one before it leaves the state.
        ('oauthapps', '0003_application_moves_to_applications'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='apikey',
                    name='application',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='applications.application'),
                ),
                migrations.DeleteModel(name='Application'),
            ],
            database_operations=[],
        ),
    ]
