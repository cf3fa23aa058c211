"""Search, filters and pages of the dashboard's lists: the one helper every list page uses.

A list page reads its filters with a :class:`ListFilterForm` (a GET form: a search box and a few choices) and
hands the selector's queryset to :func:`paginate`. A value that is not valid (an unknown status, an application
of another organization) is ignored and the page says so; it is never an error page. A page that is no number
shows the first page, and one past the end the last page, as the audit log always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect, QueryDict

PAGE_SIZE = 25


class ListFilterForm(forms.Form):
    """The form above a list, always bound (to ``request.GET``). Subclasses add their filters as optional fields
    and may rewrite what was typed in :meth:`normalize_query`."""

    # A subclass without a search box sets it to None (Django's way of removing a declared field).
    q: forms.CharField | None = forms.CharField(label="Search", required=False, max_length=200)

    def __init__(self, data: QueryDict, **kwargs: Any) -> None:
        data = data.copy()
        typed = data.get("q", "")
        query = self.normalize_query(typed.strip())
        # True when what was typed must not be shown back (a whole API key): the view sends the browser to
        # the page of the rewritten query, so the address bar and history keep only the harmless part.
        self.query_rewritten = query != typed.strip()
        data["q"] = query
        # Ids of their own, so a page's other form (the invitation's "role") never shares one with a filter.
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(data, **kwargs)

    def normalize_query(self, query: str) -> str:
        return query

    @property
    def filters(self) -> dict[str, Any]:
        """The valid filters that hold a value (bad ones are left out), as the selector takes them."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    @property
    def ignored(self) -> list[str]:
        """One sentence per value that was ignored, for the page to show."""
        return [f"{self[name].label}: {' '.join(map(str, errors))} It was ignored." if name in self.fields
                else f"{' '.join(map(str, errors))} It was ignored." for name, errors in self.errors.items()]

    def query_string(self) -> str:
        """The valid filters as URL parameters, for the links of the pager (``page`` and bad values dropped)."""
        return urlencode({name: self[name].value() for name in self.filters})


@dataclass(frozen=True)
class Listing:
    """One page of a list and the filters that chose it."""

    page: Page[Any]
    form: ListFilterForm
    noun: str  # what is listed, in the singular: "key", "OAuth client"

    @property
    def plural(self) -> str:
        return f"{self.noun}s"

    @property
    def count_label(self) -> str:
        """"1 key", "30 keys"."""
        count = self.page.paginator.count
        return f"{count} {self.noun if count == 1 else self.plural}"

    @property
    def is_filtered(self) -> bool:
        return bool(self.form.filters)

    def link(self, number: int) -> str:
        params = self.form.query_string()
        return f"?{params}&page={number}" if params else f"?page={number}"

    @property
    def previous_link(self) -> str | None:
        return self.link(self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_link(self) -> str | None:
        return self.link(self.page.next_page_number()) if self.page.has_next() else None


def paginate(items: QuerySet[Any], form: ListFilterForm, page_number: str | None, *, noun: str,
             per_page: int = PAGE_SIZE) -> Listing:
    """The page ``page_number`` of ``items`` (already filtered by the selector). Not a number: the first page;
    past the end: the last one. Two queries: the count and the page."""
    page = Paginator(items, per_page).get_page(page_number)
    return Listing(page=page, form=form, noun=noun)


def filtered_redirect(request: HttpRequest, form: ListFilterForm) -> HttpResponseRedirect:
    """The same list with the form's valid filters only: where the browser goes when the search was rewritten
    (a pasted key becomes its public id), so the address bar and the history never keep the secret."""
    params = form.query_string()
    return HttpResponseRedirect(f"{request.path}?{params}" if params else request.path)


def first_page(items: QuerySet[Any], *, per_page: int = PAGE_SIZE) -> Page[Any]:
    """The first page of a list shown inside another page (an application's keys), which links to the whole
    list when there is more."""
    return Paginator(items, per_page).page(1)
