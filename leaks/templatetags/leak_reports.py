"""``{% leak_banners keys %}``: a banner on a key's page (or a page listing keys) for each key revoked because it
was found in public, saying where. A template tag, so that the pages of ``apikeys`` and ``applications`` show it
without their code importing this app (it depends on them, not the other way)."""

from __future__ import annotations

from django import template

from leaks.selectors import leak_reports_for_client, leak_reports_for_keys

register = template.Library()


@register.inclusion_tag("leaks/banners.html")
def leak_banners(keys) -> dict:
    """``keys``: one API key or several. One query for all of them."""
    keys = [keys] if hasattr(keys, "public_id") else list(keys or [])
    return {"reports": list(leak_reports_for_keys(keys)) if keys else []}


@register.inclusion_tag("leaks/banners.html")
def client_leak_banners(client) -> dict:
    """The tokens of an OAuth client revoked for a leak."""
    return {"reports": list(leak_reports_for_client(client))}

