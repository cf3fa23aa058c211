"""The organization's audit log page and its CSV export: every member may read both.

On the top floor: the log lists the events of every feature, and ``audit`` itself sits below ``accounts`` (whose
services record their events in the same transaction), so it cannot reach the organization's door
(``accounts.selectors.access_organization_by_slug``) itself."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import access_organization_by_slug
from audit.export import audit_csv_rows
from audit.filters import AuditFilterForm
from audit.selectors import organization_audit_events
from audit.services import audit_record
from portal.listing import paginate

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "HEAD"])
def org_audit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    if request.GET.get("format") == "csv":
        return org_audit_export(request, slug)
    access = access_organization_by_slug(request.user, slug)
    form = AuditFilterForm(request.GET, organization=access.organization)
    listing = paginate(organization_audit_events(access.organization, **form.filters), form,
                       request.GET.get("page"), noun="event", per_page=PAGE_SIZE)
    context = {"access": access, "listing": listing, "page": listing.page}
    return render(request, "audit/org_audit.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def org_audit_export(request: AuthenticatedHttpRequest, slug: str) -> StreamingHttpResponse:
    """The events the page's filters choose, as CSV, streamed row by row however long the log is. The export
    itself is audited (who took a copy of the log, with which filters)."""
    access = access_organization_by_slug(request.user, slug)
    form = AuditFilterForm(request.GET, organization=access.organization)
    exported = audit_record(action="audit.exported", actor=request.user, organization=access.organization,
                            metadata={"filters": form.query_string()})
    # The log as it was when the copy was asked for: without the event of this very export.
    events = organization_audit_events(access.organization, **form.filters).exclude(pk=exported.pk)
    filename = f"audit-{access.organization.slug}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(audit_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
