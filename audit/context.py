"""Who is making the current request, so services can audit it without passing the request around."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""


_current: ContextVar[RequestContext] = ContextVar("portal_request_context", default=RequestContext())  # noqa: B039 (frozen, so immutable)


def current_request_context() -> RequestContext:
    return _current.get()


def set_request_context(context: RequestContext):
    return _current.set(context)


def reset_request_context(token) -> None:
    _current.reset(token)
