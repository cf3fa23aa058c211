"""The account page where a person turns off the notices that are not about their account's security."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from notifications.forms import NotificationPreferenceForm
from notifications.services import SECURITY_KINDS, preferences_for, preferences_update
from portal.callers import Caller
from portal.forms import posted_data


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notification_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    preference = preferences_for(request.user)
    form = NotificationPreferenceForm(posted_data(request), initial={
        "key_expiry": preference.key_expiry, "webhook_disabled": preference.webhook_disabled})
    if request.method == "POST" and form.is_valid():
        preferences_update(caller=Caller.for_person(request.user), **form.cleaned_data)
        messages.success(request, "Your notification settings have been saved.")
        return redirect("notification-preferences")
    context = {"form": form, "security_notices": list(SECURITY_KINDS.values())}
    return render(request, "notifications/preferences.html", context, status=400 if form.errors else 200)
