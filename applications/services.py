"""Every write to applications. Each one audits itself in its own transaction.

An application owns API keys and OAuth clients, so deleting one is coordinated here, above both: its keys are
revoked (``apikeys.services``) and its clients deleted (``oauthapps.services.clients``), each audited, before
the application goes. ``apikeys`` and ``oauthapps`` never import each other.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_keys_revoke_for_application
from applications.models import Application
from audit.services import audit_record
from oauthapps.services.clients import oauth_clients_delete_for_application
from policies.selectors import policy_for
from portal.callers import Caller
from portal.conf import portal_settings

DUPLICATE_NAME = "An application with this name already exists."
QUICK_START_APPLICATION = "Default"
QUICK_START_KEY_NAME = "Quick start"


def _clean_application_fields(name: str | None, description: str | None) -> dict:
    fields: dict = {}
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": ["Give the application a name."]})
        if len(name) > 120:
            raise ValidationError({"name": ["Use at most 120 characters."]})
        fields["name"] = name
    if description is not None:
        if len(description) > 2000:
            raise ValidationError({"description": ["Use at most 2000 characters."]})
        fields["description"] = description.strip()
    return fields


@transaction.atomic
def application_create(*, caller: Caller, name: str, description: str = "") -> Application:
    fields = _clean_application_fields(name, description)
    if Application.objects.filter(organization=caller.organization, name__iexact=fields["name"]).exists():
        raise ValidationError({"name": [DUPLICATE_NAME]})
    try:
        with transaction.atomic():
            application = Application.objects.create(organization=caller.organization, created_by=caller.person,
                                                     **fields)
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None
    audit_record(action="application.created", actor=caller.audit_actor, organization=caller.organization,
                 target=application)
    return application


@transaction.atomic
def application_update(*, caller: Caller, application: Application, name: str | None = None,
                       description: str | None = None) -> Application:
    fields = _clean_application_fields(name, description)
    if "name" in fields and Application.objects.filter(
        organization=caller.organization, name__iexact=fields["name"]
    ).exclude(pk=application.pk).exists():
        raise ValidationError({"name": [DUPLICATE_NAME]})
    changed = {k: v for k, v in fields.items() if getattr(application, k) != v}
    if not changed:
        return application
    for key, value in changed.items():
        setattr(application, key, value)
    application.save(update_fields=[*changed, "updated_at"])
    audit_record(action="application.updated", actor=caller.audit_actor, organization=caller.organization,
                 target=application, metadata={"fields": sorted(changed)})
    return application


@transaction.atomic
def application_delete(*, caller: Caller, application: Application) -> None:
    """Delete an application. Its keys are revoked first and its OAuth clients deleted (each audited), so nothing
    it held keeps working."""
    api_keys_revoke_for_application(caller=caller, application=application, reason="application deleted")
    oauth_clients_delete_for_application(caller=caller, application=application)
    audit_record(action="application.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=application)
    application.delete()


def application_get_or_create_default(*, caller: Caller, name: str = "Default") -> Application:
    existing = Application.objects.filter(organization=caller.organization, name__iexact=name).first()
    return existing or application_create(caller=caller, name=name)


@transaction.atomic
def quick_start_key_create(*, caller: Caller) -> tuple[ApiKey, str]:
    """The overview's first call in one click: the ``Default`` application (the one there is, or a new one) and a
    ``test`` key with the ``READ_ONLY`` preset, each made and audited by the same services as anywhere else. A test
    key needs no verified address. Returns ``(key, plaintext)``."""
    application = application_get_or_create_default(caller=caller, name=QUICK_START_APPLICATION)
    days = min(portal_settings.KEY_DEFAULT_EXPIRY_DAYS, portal_settings.KEY_MAX_EXPIRY_DAYS)
    # Within the organization's lifetime limit (section 19); a policy that leaves out a READ_ONLY scope refuses.
    limit = policy_for(caller.organization.pk).max_key_lifetime_days
    if limit is not None:
        days = min(days, limit)
    return api_key_create(caller=caller, application=application, name=QUICK_START_KEY_NAME,
                          scope_preset="READ_ONLY", expires_in_days=days, environment=ApiKey.Environment.TEST)
