"""The filters of the audit log page and its CSV export: actor, action, object and a range of days (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Model
from django.http import QueryDict

from audit.selectors import (
    SYSTEM_ACTOR,
    organization_audit_actions,
    organization_audit_actors,
    organization_audit_target_types,
)
from portal.listing import ListFilterForm


def _day_start(day: date) -> datetime | None:
    """Midnight UTC at the start of ``day``; None past the last day a datetime can hold."""
    try:
        return datetime.combine(day, time.min, tzinfo=UTC)
    except OverflowError:
        return None


class AuditFilterForm(ListFilterForm):
    """Every choice lists only what the organization's log holds. ``since`` and ``until`` are whole days in UTC,
    both included; the selector receives the start of ``since`` and the end of ``until`` as datetimes."""

    q = None  # the log is filtered, not searched: its labels are free text written by many services
    actor = forms.ChoiceField(required=False)
    action = forms.ChoiceField(required=False)
    target_type = forms.ChoiceField(label="Object type", required=False)
    target_id = forms.CharField(label="Object ID", required=False, max_length=64)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: QueryDict, *, organization: Model, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        actor_field, action_field, type_field = (self.fields[name] for name in ("actor", "action", "target_type"))
        assert isinstance(actor_field, forms.ChoiceField) and isinstance(action_field, forms.ChoiceField)  # declared
        assert isinstance(type_field, forms.ChoiceField)  # declared above
        actor_field.choices = [("", "Anyone"), *(
            (f"{kind}:{identifier}", label) for kind, identifier, label in organization_audit_actors(organization)
        ), (SYSTEM_ACTOR, "The system")]
        actions = organization_audit_actions(organization)
        action_field.choices = [("", "All actions"), *((action, action) for action in actions)]
        type_field.choices = [("", "Any object"), *(
            (t, t.replace("_", " ")) for t in organization_audit_target_types(organization)
        )]

    def clean_actor(self) -> tuple[str, str] | None:
        value = self.cleaned_data["actor"]
        if not value:
            return None
        kind, _, identifier = value.partition(":")
        return kind, identifier

    def clean_since(self) -> datetime | None:
        day = self.cleaned_data["since"]
        return _day_start(day) if day else None

    def clean_until(self) -> datetime | None:
        day = self.cleaned_data["until"]
        return _day_start(day + timedelta(days=1)) if day and day < date.max else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until <= since:
            self.add_error("until", "The “To” day is before the “From” day.")
        return cleaned
