"""``Application`` moves here from ``apikeys``, keeping its table: this creates it in Django's state only.

On a database that ran ``apikeys.0001_initial`` the table ``apikeys_application`` is already there with its
rows; on a fresh one that migration creates it first (the dependency below). Nothing is copied.
``apikeys.0003`` and ``oauthapps.0003`` then point their foreign keys here and drop the old model from the state.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('apikeys', '0002_apikey'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Application',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120)),
                        ('description', models.TextField(blank=True, max_length=2000)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='applications', to='accounts.organization')),
                    ],
                    options={
                        'db_table': 'apikeys_application',
                        'ordering': ['name', 'id'],
                        'constraints': [models.UniqueConstraint(fields=('organization', 'name'), name='application_name_unique_in_org')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
