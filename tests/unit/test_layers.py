"""Imports point down: a module imports only its own layer and the layers below it, and no
two modules import each other, directly or round a longer cycle (bot/__init__.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage", "config")

# Lowest first. A module belongs to the longest prefix listed.
LAYERS: list[tuple[str, ...]] = [
    ("bot.domain",),
    ("storage", "config"),
    ("bot.words",),
    ("bot.delivery",),
    ("bot.services",),
    ("bot.wizards",),
    ("bot.wiring",),
    ("handlers",),
    ("bot.app", "bot.__main__", "bot.logs", "bot"),
]


def layer_of(module: str) -> int:
    best, rank = "", -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, i
    assert rank >= 0, f"{module} is in no layer: add it to LAYERS"
    return rank


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(path: Path, module: str, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported nabat module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        targets = set()
        for name in names:
            # The deepest nabat module the name refers to.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        line = getattr(node, "lineno", 0)
        out += [(name, line, id(node) in top_level) for name in sorted(targets)]
    return out


def test_no_module_imports_a_layer_above_its_own() -> None:
    found = modules()
    known = set(found)
    upward = [
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        f" at {found[module].relative_to(ROOT)}:{line}"
        for module, path in found.items()
        for target, line, _ in imports(path, module, known)
        if layer_of(target) > layer_of(module) and not module.startswith(target + ".")
    ]
    assert upward == []


def test_no_import_cycle_among_modules() -> None:
    found = modules()
    known = set(found)
    graph = {
        module: {t for t, _, top in imports(path, module, known) if top and t in known}
        for module, path in found.items()
    }
    # A package imports its own modules to re-export them; that is not a cycle.
    for module in graph:
        graph[module] = {t for t in graph[module] if not t.startswith(module + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a domain module importing a service is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.services.alerts import AlertService\n")
    known = {"bot.domain.bad", "bot.services.alerts"}
    ((target, _, _),) = imports(bad, "bot.domain.bad", known)
    assert target == "bot.services.alerts"
    assert layer_of(target) > layer_of("bot.domain.bad")
