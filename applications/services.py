"""Every write to applications. Each one audits itself in its own transaction.

An application owns API keys and OAuth clients, which sit above it and import it, never the other way: deleting
one sends ``applications.events.application_deleting`` inside its transaction, and the receivers of ``apikeys``
and ``oauthapps`` revoke its keys and delete its clients (each audited) before the application goes, as
``accounts.events.membership_ended`` does for a former member's credentials.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from applications.events import application_deleting
from applications.models import Application
from audit.services import audit_record
from portal.callers import Caller

DUPLICATE_NAME = "An application with this name already exists."


def _clean_application_fields(name: str | None, description: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
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
            person = caller.person  # the portal's user model, or None for a command
            application = Application.objects.create(organization=caller.organization,
                                                     created_by=person if isinstance(person, User) else None,
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
    application_deleting.send(sender=Application, caller=caller, application=application)
    audit_record(action="application.deleted", actor=caller.audit_actor, organization=caller.organization,
                 target=application)
    application.delete()


def application_get_or_create_default(*, caller: Caller, name: str = "Default") -> Application:
    existing = Application.objects.filter(organization=caller.organization, name__iexact=name).first()
    return existing or application_create(caller=caller, name=name)
