"""The organization's audit log page: every member may read it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import access_organization_by_slug
from audit.selectors import organization_audit_actions, organization_audit_events

PAGE_SIZE = 50


@login_required
def org_audit(request: HttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug)
    actions = organization_audit_actions(access.organization)
    action = request.GET.get("action", "")
    if action not in actions:
        action = ""
    events = organization_audit_events(access.organization, action=action or None)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"access": access, "page": page, "actions": actions, "action": action}
    return render(request, "audit/org_audit.html", context)
