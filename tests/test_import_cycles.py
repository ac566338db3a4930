"""No import cycles between desktop's top-level modules and packages (app, cli, commands, core, ...).

import-linter's layers contract (pyproject.toml) orders the packages; this check needs no list to be kept
up to date: a new top-level module that takes part in a cycle fails it too. Imports inside functions
count, because a lazy import is still a dependency.
"""

import grimp


def top_level(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_cycle_among_desktop_top_level_modules():
    graph = grimp.build_graph("desktop")
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = top_level(module), top_level(imported)
            if source != target and "desktop" not in (source, target):  # desktop/__init__: the version only
                edges.setdefault(source, set()).add(target)
    cycles = []
    for start in sorted(edges):
        # depth-first search for a path back to `start`
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert cycles == [], "import cycles: " + "; ".join(sorted(set(cycles)))
