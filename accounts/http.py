"""The request type of dashboard views behind ``login_required``."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """What a view decorated with ``login_required`` is given: its ``user`` is a signed-in person, never
    ``AnonymousUser`` (the decorator redirects the others to sign in first). A type for annotations only, as
    django-stubs recommends; Django still passes a plain ``HttpRequest``."""

    user: User
