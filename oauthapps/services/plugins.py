"""Internal plugins: a client-credentials client each, whose secret the portal keeps readable (encrypted with
``PORTAL_ENCRYPTION_KEYS``), and the rotation of those encryption keys over every stored plugin secret."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from applications.services import application_get_or_create_default
from audit.services import audit_record
from oauthapps.models import OAuthClient, PluginCredential
from oauthapps.services.clients import oauth_client_create
from oauthapps.signing_keys import signing_keys_reencrypt
from portal.callers import Caller
from portal.conf import portal_settings
from portal.encryption import decrypt, encrypt, reencrypt
from portal.models import PendingMail

PLUGIN_APPLICATION_NAME = "Plugins"
PLUGIN_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


@transaction.atomic
def plugin_provision(*, caller: Caller, name: str, scopes: list[str]) -> tuple[PluginCredential, str, bool]:
    """An internal plugin's client-credentials client, made once. Returns ``(credential, secret, created)``.

    The plugin's secret is the one secret the portal keeps readable (encrypted with ``PORTAL_ENCRYPTION_KEYS``):
    a redeploy of the plugin needs it again. Provisioning a name that exists makes nothing and returns the
    existing client's secret; the same name in another organization is refused. ``caller`` acts in the plugin's
    organization (a command: ``Caller.system(organization)``).
    """
    organization = caller.organization
    name = (name or "").strip()
    if not PLUGIN_NAME_PATTERN.match(name):
        raise ValidationError({"name": ["Use 1 to 60 lower-case letters, digits, '-' or '_', starting with a letter "
                                        "or digit."]})
    existing = PluginCredential.objects.select_related("client__organization").filter(name=name).first()
    if existing is not None:
        if existing.client.organization_id != organization.pk:
            raise ValidationError({"name": [f"The plugin {name!r} is already provisioned for another organization."]})
        return existing, decrypt(existing.encrypted_secret), False
    application = application_get_or_create_default(caller=caller, name=PLUGIN_APPLICATION_NAME)
    client, secret = oauth_client_create(caller=caller, application=application, name=name,
                                         client_type=OAuthClient.CLIENT_CONFIDENTIAL,
                                         grant_types=["client_credentials"], allowed_scopes=scopes)
    assert secret is not None  # a confidential client is always given one
    try:
        with transaction.atomic():
            credential = PluginCredential.objects.create(name=name, client=client, encrypted_secret=encrypt(secret))
    except IntegrityError:
        raise ValidationError({"name": [f"The plugin {name!r} was provisioned at the same time; run again."]}) from None
    audit_record(action="plugin.provisioned", actor=caller.audit_actor, organization=organization, target=client,
                 metadata={"plugin": name, "clientId": client.client_id, "allowedScopes": client.allowed_scopes})
    return credential, secret, True


def plugin_env_lines(*, credential: PluginCredential, secret: str | None = None) -> list[str]:
    """The three lines of an environment file for a plugin. Decrypts the secret unless it is given.

    Raises ``portal.encryption.DecryptionError`` when no configured key can read the stored secret.
    """
    if secret is None:
        secret = decrypt(credential.encrypted_secret)
    return [
        f"OAUTH_CLIENT_ID={credential.client.client_id}",
        f"OAUTH_CLIENT_SECRET={secret}",
        f"API_BASE_URL={portal_settings.BASE_URL.rstrip('/')}/api/v1",
    ]


@transaction.atomic
def encryption_keys_rotate() -> int:
    """Re-encrypt every stored plugin secret, pending mail and signing key under the first ``PORTAL_ENCRYPTION_KEYS``.

    All or nothing: one secret no configured key can read raises ``DecryptionError`` and changes nothing, so
    the operator can put the missing key back and run again. Afterwards the older keys can be dropped.
    """
    count = 0
    for credential in PluginCredential.objects.select_for_update().order_by("pk"):
        credential.encrypted_secret = reencrypt(credential.encrypted_secret)
        credential.save(update_fields=["encrypted_secret", "updated_at"])
        count += 1
    # Mail waiting to be sent may hold a single-use link: it is encrypted with the same keys.
    for pending in PendingMail.objects.select_for_update().order_by("pk"):
        pending.body_encrypted = reencrypt(pending.body_encrypted)
        pending.save(update_fields=["body_encrypted"])
        count += 1
    return count + signing_keys_reencrypt()
