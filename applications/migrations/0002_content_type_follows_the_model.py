"""The content type of ``Application`` follows it from ``apikeys`` to ``applications``.

Without this, a database that ran the old migrations keeps ``apikeys.application`` (with the permissions staff
were granted on it, and the admin's history) while Django makes a new, empty ``applications.application``. Renaming
the row keeps both. On a fresh database there is nothing to rename.
"""

from django.db import migrations


def follow(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=new, model="application").exists():
        return
    ContentType.objects.filter(app_label=old, model="application").update(app_label=new)


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, editor: follow(apps, editor, "apikeys", "applications"),
            lambda apps, editor: follow(apps, editor, "applications", "apikeys"),
        ),
    ]
