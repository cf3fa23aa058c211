"""The request log page of an organization: every member may read it."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import access_organization_by_slug
from apikeys.selectors import organization_api_keys
from oauthapps.selectors import organization_oauth_clients
from usage.forms import RequestLogFilterForm
from usage.selectors import organization_request_logs

PAGE_SIZE = 50


def _cursor(entry) -> str:
    return f"{int(entry.created_at.timestamp() * 1_000_000)}-{entry.pk}"


def _before(value: str) -> Q | None:
    """Rows older than the cursor ``<created_at in µs>-<id>``: a keyset, so a deep page costs what the first does
    (an offset would read every row before it)."""
    micros, _, pk = value.partition("-")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    moment = datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
    return Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=int(pk))


@login_required
@require_http_methods(["GET", "HEAD"])
def request_log(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    access = access_organization_by_slug(request.user, slug)
    organization = access.organization
    form = RequestLogFilterForm(request.GET or None, keys=organization_api_keys(organization).select_related(
        None).only("public_id", "name"), clients=organization_oauth_clients(organization).select_related(None).only(
        "id", "name"))
    entries, next_query, filters = [], None, {}
    if form.is_bound and not form.is_valid():
        return render(request, "usage/request_log.html", {"access": access, "form": form, "entries": []},
                      status=400)
    if form.is_bound:
        filters = form.filters()
    logs = organization_request_logs(organization, **filters)
    before = _before(request.GET.get("before", ""))
    if before is not None:
        logs = logs.filter(before)
    entries = list(logs[:PAGE_SIZE + 1])
    if len(entries) > PAGE_SIZE:
        entries = entries[:PAGE_SIZE]
        query = QueryDict(mutable=True)
        query.update({k: request.GET[k] for k in request.GET if k != "before"})  # each one's last value, as items()
        query["before"] = _cursor(entries[-1])
        next_query = query.urlencode()
    chart_subject = {name: filters.get(name) for name in ("api_key", "oauth_client") if filters.get(name)}
    context = {"access": access, "form": form, "entries": entries, "next_query": next_query,
               "chart_subject": chart_subject, "first_page": before is None}
    return render(request, "usage/request_log.html", context)
