"""Where the time of one API request goes, in-process: the cost table of ``bench/api_bench.py``.

    DJANGO_SETTINGS_MODULE=portal.settings .venv/bin/python -m bench.costs KEY [--profile key|open]
    DJANGO_SETTINGS_MODULE=portal.settings .venv/bin/python -m bench.costs KEY --gateway CLIENT_ID SECRET

Django's test client runs the requests of each case (the open endpoint, ``GET /api/v1/scopes`` without a
credential, and ``GET /api/v1/hello`` with an API key) against the database the environment names, through the
settings' middleware ("short": a session-free API request skips the page middleware, ``portal.apichain``) and
through the whole chain as it was before (each ``portal.apichain`` class replaced by the one it stands in for). Every
middleware of ``settings.MIDDLEWARE`` is wrapped in a timer here (production code is not touched), and so are
URL resolution, the authentication classes, the rate-limit count, the scope check, DRF's dispatch, rendering and
each observer of finished responses (usage counting, the events observer). Each figure is *exclusive*: a
middleware's own work, without the time spent inside what it wraps. The round with the smallest total counts.
"rest" is what no timer covers: building the request (the test client's share) and Django's handler.

With ``--gateway CLIENT_ID SECRET`` (a resource server serving ``apps:read``, ``bench/gateway_bench.py --costs``) a
third case, ``/gateway/auth`` with the same key as a nginx in front would send it (section 18), and timers around
its parts: the resource server's check, the answer's headers, the request log's row, the client's address. Its
authentication classes and rate-limit count are the API's, timed under the same labels.

With ``--profile CASE`` it prints cProfile's top functions of that case instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

_totals: dict[str, float] = defaultdict(float)
_stack: list[float] = []  # time spent in timed children of each open timer
_wrapped: dict[str, type] = {}  # "Timed<N>" -> its wrapper class, see __getattr__


def timed(label: str, function: Callable, *args: Any, **kwargs: Any) -> Any:
    _stack.append(0.0)
    started = time.perf_counter()
    try:
        return function(*args, **kwargs)
    finally:
        elapsed = time.perf_counter() - started
        children = _stack.pop()
        _totals[label] += elapsed - children
        if _stack:
            _stack[-1] += elapsed


def wrap_method(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return timed(label, original, *args, **kwargs)

    setattr(owner, name, wrapper)


def timed_middleware(path: str) -> type:
    from django.utils.module_loading import import_string

    real = import_string(path)
    label = "middleware " + path.rsplit(".", 1)[1]

    class Timed:
        sync_capable, async_capable = True, False

        def __init__(self, get_response: Callable) -> None:
            self.inner = real(get_response)
            for hook in ("process_view", "process_exception", "process_template_response"):
                method = getattr(self.inner, hook, None)
                if method is not None:
                    setattr(self, hook, lambda *args, _method=method: timed(label, _method, *args))

        def __call__(self, request: Any) -> Any:
            return timed(label, self.inner, request)

    return Timed


def __getattr__(name: str) -> type:  # settings.MIDDLEWARE names "<this module>.Timed<N>"
    if name in _wrapped:
        return _wrapped[name]
    raise AttributeError(name)


def whole_chain(paths: list[str]) -> list[str]:
    """``settings.MIDDLEWARE`` as it was before ``portal.apichain``: each of its classes replaced by the one it
    stands in for (the whole chain on every request, and django-csp's own middleware)."""
    from django.utils.module_loading import import_string

    whole = []
    for path in paths:
        if path.startswith("portal.apichain."):
            original = import_string(path).__mro__[1]
            path = f"{original.__module__}.{original.__name__}"
        whole.append(path)
    return whole


def instrument() -> dict[str, list[str]]:
    """Timers around everything the table names; the two chains' wrapped middleware lists."""
    from django.conf import settings
    from django.core.handlers.base import BaseHandler
    from rest_framework.response import Response
    from rest_framework.settings import api_settings
    from rest_framework.views import APIView

    from portal.api import base, observe

    chains = {}
    for chain, paths in (("short", settings.MIDDLEWARE), ("whole", whole_chain(settings.MIDDLEWARE))):
        for index, path in enumerate(paths):
            _wrapped[f"Timed{chain}{index}"] = timed_middleware(path)
        chains[chain] = [f"{__name__}.Timed{chain}{index}" for index in range(len(paths))]
    wrap_method(BaseHandler, "resolve_request", "URL resolution")
    wrap_method(BaseHandler, "_get_response", "Django's handler: view middleware hooks, the view call")
    for authentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        wrap_method(authentication, "authenticate", "authentication (every class tried)")
    wrap_method(base, "api_usage", "rate-limit count (portal.api.base.api_usage)")
    from gateway import decision, views

    wrap_method(decision, "api_usage", "rate-limit count (portal.api.base.api_usage)")
    wrap_method(views, "authenticate_resource_server", "gateway: the resource server's credentials")
    wrap_method(views, "forwarded_client_ip", "gateway: the client's address")
    wrap_method(views, "logged_path", "gateway: the logged path")
    answer = views.GatewayAuthView.answer
    views.GatewayAuthView.answer = staticmethod(  # type: ignore[method-assign]
        lambda *args, **kwargs: timed("gateway: the answer (identity and rate-limit headers)", answer, *args, **kwargs))
    wrap_method(views.recorder, "record", "gateway: usage and the request log (recorder.record)")
    for permission in api_settings.DEFAULT_PERMISSION_CLASSES:
        wrap_method(permission, "has_permission", "scope check")
    wrap_method(APIView, "dispatch", "DRF: request, negotiation, the view's own code")
    rendered = Response.rendered_content.fget
    Response.rendered_content = property(lambda response: timed("rendering (JSON)", rendered, response))
    labels = {"observe": "usage counting (observer)", "observe_rate_limited": "events observer (rate_limit.exceeded)"}
    for index, observer in enumerate(observe._observers):
        label = labels.get(getattr(observer, "__name__", ""), f"observer {observer!r}")
        observe._observers[index] = lambda *args, _observer=observer, _label=label: timed(_label, _observer, *args)
    return chains


def run(client: Any, case: tuple[str, dict], n: int) -> float:
    path, headers = case
    started = time.perf_counter()
    for _ in range(n):
        if "data" in headers:
            response = client.post(path, **headers)
        else:
            response = client.get(path, **headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code, response.content[:200])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("key")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=["open", "key", "token", "gateway"])
    parser.add_argument("--client", nargs=2, metavar=("ID", "SECRET"), help="for --profile token")
    parser.add_argument("--gateway", nargs=2, metavar=("ID", "SECRET"),
                        help="a resource server serving apps:read: adds the /gateway/auth case")
    parser.add_argument("--token-commit", action="store_true",
                        help="a token request with and without waiting for the WAL flush (PostgreSQL)")
    parser.add_argument("--queries", action="store_true", help="print the queries of one request of each case")
    parser.add_argument("--profile-out", help="with --profile: also write cProfile's stats to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from portal.conf import portal_settings
    from usage.recorder import recorder

    settings.PORTAL = {**getattr(settings, "PORTAL", {}), "USAGE_BACKGROUND_FLUSH": False}  # discarded below
    portal_settings.reload()
    cases = {"open": ("/api/v1/scopes", {}), "key": ("/api/v1/hello", {"HTTP_X_API_KEY": args.key})}
    if args.client:
        client_id, secret = args.client
        cases["token"] = ("/oauth/token/", {"data": {"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret}})
    if args.gateway:
        import base64

        basic = base64.b64encode(":".join(args.gateway).encode()).decode()
        # What gateway/deploy/nginx.conf sends for GET /orders/7?x=1 (apps:read standing in for orders:read).
        cases["gateway"] = ("/gateway/auth", {
            "HTTP_PORTAL_GATEWAY_AUTHORIZATION": f"Basic {basic}", "HTTP_X_API_KEY": args.key,
            "HTTP_PORTAL_REFUSAL_STATUS": "403", "HTTP_PORTAL_REQUIRED_SCOPES": "apps:read",
            "HTTP_X_FORWARDED_METHOD": "GET", "HTTP_X_FORWARDED_URI": "/orders/7?x=1",
            "HTTP_X_FORWARDED_FOR": "127.0.0.1"})
    if args.token_commit:
        from oauthapps import validators

        client, grants = Client(HTTP_HOST="127.0.0.1"), validators.ASYNC_COMMIT_GRANTS
        best = {"waits for the WAL flush": float("inf"), "synchronous_commit off": float("inf")}
        run(client, cases["token"], 20)
        for _round in range(args.rounds):
            for label in best:
                validators.ASYNC_COMMIT_GRANTS = grants if label == "synchronous_commit off" else frozenset()
                best[label] = min(best[label], run(client, cases["token"], 200) / 200 * 1e6)
        for label, micros in best.items():
            print(f"  POST /oauth/token/ (client credentials), the COMMIT {label}: {micros:7.0f} µs")
        return
    if args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = Client(HTTP_HOST="127.0.0.1")
        for name, case in cases.items():
            run(client, case, 3)
            stacks = []

            def where(execute, sql, params, many, context, _stacks=stacks):
                import traceback

                _stacks.append(["/".join(frame.filename.split("/")[-2:]) + f":{frame.lineno} {frame.name}"
                                for frame in traceback.extract_stack()[:-1]
                                if "site-packages/django/" not in frame.filename][-4:])
                return execute(sql, params, many, context)

            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(where):
                run(client, case, 1)
            print(f"  {name}: {len(queries.captured_queries)} queries")
            for query, stack in zip(queries.captured_queries, stacks, strict=False):
                print(f"    {query['time']}s  {query['sql'][:120]}\n        from {' < '.join(reversed(stack))}")
        return
    if args.profile:
        client = Client(HTTP_HOST="127.0.0.1")
        run(client, cases[args.profile], 200)
        profile = cProfile.Profile()
        profile.enable()
        run(client, cases[args.profile], args.requests)
        profile.disable()
        if args.profile_out:
            Path(args.profile_out).parent.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(args.profile_out)
        pstats.Stats(profile).sort_stats("tottime").print_stats(35)
        return
    middleware_paths = list(settings.MIDDLEWARE)
    chains = instrument()
    # Each case through the short chain (the settings) and the whole one (before portal.apichain), in interleaved
    # rounds, so that a machine that changes speed moves both.
    columns = [(name, chain) for chain in ("short", "whole") for name in cases]
    clients = {}
    for chain, paths in chains.items():
        settings.MIDDLEWARE = paths
        clients[chain] = Client(HTTP_HOST="127.0.0.1")
        for name in cases:
            run(clients[chain], cases[name], 200)  # loads the chain, warms up
    best: dict[tuple[str, str], tuple[float, dict[str, float]]] = {}
    for _round in range(args.rounds):
        for column in columns:
            recorder.discard()
            _totals.clear()
            elapsed = run(clients[column[1]], cases[column[0]], args.requests)
            if column not in best or elapsed < best[column][0]:
                best[column] = (elapsed, dict(_totals))
    recorder.discard()
    table: dict[tuple[str, str], dict[str, float]] = {}
    totals: dict[tuple[str, str], float] = {}
    for column, (elapsed, measured) in best.items():
        totals[column] = elapsed / args.requests * 1e6
        row = {label: seconds / args.requests * 1e6 for label, seconds in measured.items()}
        row["rest: the test client's request, Django's handler"] = totals[column] - sum(row.values())
        table[column] = row
    labels = [f"middleware {path.rsplit('.', 1)[1]}" for path in middleware_paths]
    labels += sorted({label for row in table.values() for label in row} - set(labels),
                     key=lambda label: label.startswith("rest"))
    heads = " ".join(f"{name + (' (whole)' if chain == 'whole' else ''):>13}" for name, chain in columns)
    print(f"  {'µs per request (exclusive), best of ' + str(args.rounds) + ' rounds':60} {heads}")
    for label in labels:
        print(f"  {label:60} " + " ".join(f"{table[column].get(label, 0.0):13.1f}" for column in columns))
    print(f"  {'total':60} " + " ".join(f"{totals[column]:13.1f}" for column in columns))
    for chain in chains:
        print(f"  key/open, {chain} chain: {totals[('open', chain)] / totals[('key', chain)]:.2f}")
        if ("gateway", chain) in totals:
            print(f"  gateway/open, {chain} chain: {totals[('open', chain)] / totals[('gateway', chain)]:.2f}")
    for name in cases:
        print(f"  {name}: the short chain saves {totals[(name, 'whole')] - totals[(name, 'short')]:.0f} µs"
              f" ({1 - totals[(name, 'short')] / totals[(name, 'whole')]:.0%})")


if __name__ == "__main__":
    sys.exit(main())
