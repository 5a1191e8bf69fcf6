"""The package's imports point down the declared layer order and form no cycle.

Parses every module under src/scofeed with ast (no import is executed), so a new upward
import or a cycle fails here with the two module names, before anyone reads the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "scofeed"

# Top to bottom (STYLE.md). A module may import its own layer or any layer below it.
LAYERS: list[list[str]] = [
    ["scofeed.cli", "scofeed.__main__"],
    ["scofeed.daemon"],
    ["scofeed.schedule", "scofeed.serve", "scofeed.watch"],
    [
        "scofeed.poll",
        "scofeed.build",
        "scofeed.add",
        "scofeed.added",
        "scofeed.withdraw",
        "scofeed.recheck",
        "scofeed.outboxes",
    ],
    [
        "scofeed.ingest",
        "scofeed.retag",
        "scofeed.reading",
        "scofeed.relink",
        "scofeed.shown",
        "scofeed.refold",
        "scofeed.renames",
        "scofeed.deliver",
        "scofeed.websub",
        "scofeed.pool",
        "scofeed.poll_times",
        "scofeed.activitypub",
    ],
    [
        "scofeed.sources",
        "scofeed.normalise",
        "scofeed.dates",
        "scofeed.typography",
        "scofeed.render",
        "scofeed.publish",
    ],
    ["scofeed.store"],
    [
        "scofeed.config",
        "scofeed.markup",
        "scofeed.languages",
        "scofeed.graphemes",
        "scofeed.selectors",
        "scofeed.model",
        "scofeed.errors",
        "scofeed.frozen",
        "scofeed.filekinds",
        "scofeed.throttle",
        "scofeed.hostkey",
        "scofeed.logs",
        "scofeed.digest",
        "scofeed.patterns",
        "scofeed",
    ],
]


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for depth, names in enumerate(LAYERS):
        for name in names:
            inside = module.startswith(name + ".") and name != "scofeed"  # the root is exact
            if (module == name or inside) and len(name) > best_len:
                best, best_len = depth, len(name)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported scofeed module, whether it is a type-checking-only import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            checking.update(id(n) for sub in node.body for n in ast.walk(sub))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the submodule; `from mod import name` the module
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        for name in names:
            if name == "scofeed" or name.startswith("scofeed."):
                found.append((name, id(node) in checking))
    return found


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def resolve(name: str) -> str | None:
    """The module a dotted import name refers to (`scofeed.x.f` -> `scofeed.x`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def edges() -> dict[str, set[str]]:
    """Run-time imports only: a type-checking import cannot make a cycle."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod, path in MODULES.items():
        for name, type_only in imports(path):
            if type_only:
                continue
            target = resolve(name)
            if target and target != mod:
                graph[mod].add(target)
    return graph


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    mine = layer_of(module)
    for name, _ in imports(MODULES[module]):
        target = resolve(name)
        if target is None or target == module:
            continue
        # a package's __init__ re-exporting its own submodules is not an upward import
        if target.startswith(module + "."):
            continue
        assert layer_of(target) >= mine, (
            f"{module} (layer {mine}) imports {target} (layer {layer_of(target)})"
        )


def test_no_import_cycles() -> None:
    graph = edges()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod)


def test_every_module_names_its_job() -> None:
    missing = [m for m, p in MODULES.items() if not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing, f"modules without a docstring: {missing}"
