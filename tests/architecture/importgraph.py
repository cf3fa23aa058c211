"""An AST import graph of the project's own packages (imports inside functions count too).

Run it as a script to print the figures: `.venv/bin/python -m tests.architecture.importgraph`.
Settings and URL wiring (``*/settings.py``, ``*urls.py``), migrations and tests are left out: they
wire apps together by design.
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "portal",
    "accounts",
    "applications",
    "apikeys",
    "oauthapps",
    "audit",
    "webhooks",
    "usage",
    "gateway",
    "policies",
    "security",
    "notifications",
    "leaks",
    "dashboard",
)
CORE = "portal"
MAX_LINES = 400


def _is_wiring(rel: Path) -> bool:
    name = rel.name
    return (
        "migrations" in rel.parts
        or name == "settings.py"
        or name.endswith("urls.py")
        or rel.parts[:2] == ("portal", "settings")
    )


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    private: list[tuple[str, str]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    def resolve(self, name: str) -> str | None:
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None


def build() -> Graph:
    graph = Graph()
    files: list[tuple[str, Path]] = []
    for app in APPS:
        base = ROOT / app
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(ROOT)
            mod = _module_name(rel)
            graph.modules[mod] = rel
            graph.lines[mod] = len(path.read_text().splitlines())
            if not _is_wiring(rel):
                files.append((mod, path))
    for mod, path in files:
        tree = ast.parse(path.read_text())
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = graph.resolve(alias.name)
                    if target:
                        targets.add(target)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = mod.split(".")
                    if not is_package:
                        base_parts = base_parts[:-1]
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                    source = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] not in APPS:
                    continue
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    target = graph.resolve(full) if full in graph.modules else graph.resolve(source)
                    if target:
                        targets.add(target)
                    if alias.name.startswith("_") and source.split(".")[0] != mod.split(".")[0]:
                        graph.private.append((mod, full))
        targets.discard(mod)
        graph.edges[mod] = targets
    return graph


def app_of(module: str) -> str:
    return module.split(".")[0]


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph.edges):
        if node not in index:
            visit(node)
    return found


def app_edges(graph: Graph) -> dict[tuple[str, str], list[tuple[str, str]]]:
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for src, targets in graph.edges.items():
        for dst in targets:
            if app_of(src) != app_of(dst):
                out.setdefault((app_of(src), app_of(dst)), []).append((src, dst))
    return out


def two_way_pairs(graph: Graph) -> list[tuple[str, str]]:
    edges = app_edges(graph)
    return sorted({tuple(sorted(pair)) for pair in edges if (pair[1], pair[0]) in edges})  # type: ignore[misc]


def core_to_feature(graph: Graph) -> list[tuple[str, str]]:
    return sorted(
        (src, dst) for (a, b), pairs in app_edges(graph).items() if a == CORE for src, dst in pairs
    )


def importers_of(graph: Graph, app: str) -> list[tuple[str, str]]:
    return sorted((src, dst) for (a, b), pairs in app_edges(graph).items() if b == app for src, dst in pairs)


def long_modules(graph: Graph) -> list[tuple[str, int]]:
    return sorted(
        (mod, n)
        for mod, n in graph.lines.items()
        if n > MAX_LINES and not _is_wiring(graph.modules[mod])
    )


def main() -> None:
    graph = build()
    found = cycles(graph)
    pairs = two_way_pairs(graph)
    edges = app_edges(graph)
    print(f"modules: {len(graph.modules)}")
    print(f"cycles: {len(found)}")
    for component in found:
        print("   ", " <-> ".join(component))
    print(f"two-way app pairs: {len(pairs)}")
    for a, b in pairs:
        print(f"    {a} <-> {b}")
        for src, dst in sorted(edges[(a, b)] + edges[(b, a)]):
            print(f"        {src} -> {dst}")
    print(f"core->feature imports: {len(core_to_feature(graph))}")
    for src, dst in core_to_feature(graph):
        print(f"    {src} -> {dst}")
    print(f"private imports: {len(graph.private)}")
    for src, name in graph.private:
        print(f"    {src} -> {name}")
    print(f"modules over {MAX_LINES} lines: {len(long_modules(graph))}")
    for mod, n in long_modules(graph):
        print(f"    {mod}: {n}")
    print(f"importers of dashboard: {len(importers_of(graph, 'dashboard'))}")
    print("app edges:")
    for a, b in sorted(edges):
        print(f"    {a} -> {b} ({len(edges[(a, b)])})")


if __name__ == "__main__":
    main()
