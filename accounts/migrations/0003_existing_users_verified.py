"""Everyone who signed up before e-mail verification existed keeps what they could do: their address is recorded
as verified (contract section 11)."""

from django.db import migrations


def mark_verified(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.exclude(email="").iterator():
        address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
        if address is None:
            EmailAddress.objects.create(user=user, email=user.email.lower(), primary=True, verified=True)
        elif not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organization_allow_keys_without_expiry"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(mark_verified, migrations.RunPython.noop)]
