"""Check a package's import graph: no cycle between its modules, no private name imported across modules.

Every import statement counts, wherever it stands (module level, inside a function, under
``TYPE_CHECKING``): an import moved into a function still runs, and still ties the two
modules together.  ``from pkg import name`` is an edge to ``pkg.name`` when that is a module
and to ``pkg`` (its ``__init__``) otherwise, so a package's re-exports are ordinary edges.
A private submodule of the importer's own package (``from . import _fitwalk``) is that
package's business and allowed.

Usage: ``python scripts/check_imports.py [PACKAGE_DIR]`` (default: the ``gaitrisk`` folder
beside this script's folder); prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edge:
    """``importer`` imports ``target`` (a module of the package) at ``line``; ``name`` is the imported name, if any."""

    importer: str
    target: str
    line: int
    name: str | None = None


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package_dir`` (a package is its ``__init__``)."""
    root = package_dir.parent
    out: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _base(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = importer.split(".")
    # a package's own name is its __init__, so "." inside it is the package itself
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def _owner(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``dotted`` that is a module of the package."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def _extension(dotted: str, modules: dict[str, Path]) -> bool:
    """Whether ``dotted`` names a compiled submodule (its source or build sits beside the package's files)."""
    package, _, name = dotted.rpartition(".")
    if package not in modules or modules[package].name != "__init__.py":
        return False
    return any(p.name.split(".")[0] == name for p in modules[package].parent.iterdir())


def edges(modules: dict[str, Path]) -> list[Edge]:
    """Every import between two modules of the package (a module importing itself is not an edge)."""
    out: list[Edge] = []
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    exact = alias.name in modules or _extension(alias.name, modules)
                    target = alias.name if exact else _owner(alias.name, modules)
                    if target is not None:
                        out.append(Edge(importer, target, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                base = _base(importer, is_package, node)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules or _extension(full, modules):
                        out.append(Edge(importer, full, node.lineno))
                    elif (target := _owner(base, modules)) is not None:
                        out.append(Edge(importer, target, node.lineno, alias.name))
    return [e for e in out if e.target != e.importer]


def private_imports(found: list[Edge], modules: dict[str, Path]) -> list[str]:
    """One line per private name one module takes from another."""
    problems = []
    for e in found:
        if e.name is not None:
            name = e.name
        else:
            # an imported module: private if its own name is, unless it sits in the importer's package
            name = e.target.rsplit(".", 1)[-1]
            package = e.importer if modules[e.importer].name == "__init__.py" else e.importer.rpartition(".")[0]
            if e.target.rpartition(".")[0] == package:
                continue
        if is_private(name):
            problems.append(f"{e.importer} (line {e.line}) imports private name {name} from {e.target}")
    return problems


def cycles(found: list[Edge]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for e in found:
        graph.setdefault(e.importer, set()).add(e.target)
        graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph[v]:
                groups.append(group)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(sorted(g)[0], g, graph) for g in sorted(groups, key=lambda g: sorted(g)[0])]


def _cycle_in(start: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    # breadth-first from start back to start inside the group: the shortest cycle through it
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & group):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected group always holds a cycle")


def problems(package_dir: Path) -> list[str]:
    """Every cycle and every private import in the package at ``package_dir``, one line each."""
    modules = module_names(package_dir)
    found = edges(modules)
    out = ["import cycle: " + " -> ".join(c) for c in cycles(found)]
    out += private_imports(found, modules)
    return out


def main(argv: list[str]) -> int:
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "gaitrisk"
    found = problems(package_dir)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
