"""The project's shape, checked on every run: imports point one way (down the floors the README draws), no
import cycle, no other app's private names, no module too long to read."""

from __future__ import annotations

import pytest

from tests.architecture import importgraph

#: Top to bottom, as the README's Project layout draws them; apps on one floor do not import each other.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("dashboard",),
    ("gateway",),
    ("security",),
    ("leaks", "webhooks", "usage"),
    ("notifications",),
    ("oauthapps",),
    ("apikeys",),
    ("applications",),
    ("policies",),
    ("accounts",),
    ("audit",),
    ("portal",),
)


@pytest.fixture(scope="module")
def graph() -> importgraph.Graph:
    return importgraph.build()


def test_every_app_is_on_a_floor() -> None:
    assert sorted(app for floor in FLOORS for app in floor) == sorted(importgraph.APPS)


def test_there_is_no_import_cycle(graph: importgraph.Graph) -> None:
    assert importgraph.cycles(graph) == []


def test_no_two_apps_import_each_other(graph: importgraph.Graph) -> None:
    assert importgraph.two_way_pairs(graph) == []


def test_imports_only_point_down_the_floors(graph: importgraph.Graph) -> None:
    level = {app: len(FLOORS) - i for i, floor in enumerate(FLOORS) for app in floor}
    upward = sorted(
        (src, dst)
        for (a, b), pairs in importgraph.app_edges(graph).items()
        if level[b] >= level[a]
        for src, dst in pairs
    )
    assert upward == []


def test_the_core_imports_no_feature(graph: importgraph.Graph) -> None:
    assert importgraph.core_to_feature(graph) == []


def test_nothing_imports_the_dashboard(graph: importgraph.Graph) -> None:
    assert importgraph.importers_of(graph, "dashboard") == []


def test_no_app_uses_another_apps_private_names(graph: importgraph.Graph) -> None:
    assert graph.private == []


def test_no_module_is_over_400_lines_outside_settings(graph: importgraph.Graph) -> None:
    assert importgraph.long_modules(graph) == []


def test_the_graph_sees_imports_inside_functions(graph: importgraph.Graph) -> None:
    # The check itself: a lazy import (inside a function) is an edge like any other.
    assert "apikeys.services" in graph.edges["apikeys.signals"]
