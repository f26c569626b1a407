"""The folders of chemgen are the stages a name goes through, and imports run one way down them.

Every module of ``chemgen`` and ``chemgen_plugins`` is read with ``ast`` (no
import runs), every import counted: at the top, inside functions (lazy) and
under ``TYPE_CHECKING``. A module may import its own folder and the folders
before it in LAYERS, never one after it, and no set of modules may import
one another in a cycle. docs/architecture.md states the same order.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"chemgen": ROOT / "chemgen", "chemgen_plugins": ROOT / "plugins" / "chemgen_plugins"}

# The import order, first to last; a module may import only its own layer and earlier ones.
LAYERS = [
    ("chemgen.errors", "chemgen.lazy", "chemgen.version"),  # the foundation: exceptions, lazy public names, version
    ("chemgen.io",),  # ground helpers: atomic files, names files, settings, text, progress
    ("chemgen.model",),  # the NumPy network; knows nothing of chemistry, filters or output
    ("chemgen.chem",),  # every chemistry rule once: molecules, OPSIN, naming, analogs, series, molecule files
    ("chemgen.filters",),  # the plugin contract, loading, options, the stage
    ("chemgen_plugins",),  # the built-in filters, registered like a third party's
    ("chemgen.output",),  # writers, HTML, DataFrames, images
    ("chemgen.generation",),  # the front door, the per-batch core, the collector, the cluster
    ("chemgen.evaluation",),  # evaluate, metrics, reports
    ("chemgen.goal",),  # optimize: agent, config, memory, scoring, oracles
    ("chemgen.cli", "chemgen"),  # the command line and the package's public names (imported lazily, by name)
]


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [p for p in path.relative_to(folder).with_suffix("").parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def layer_of(module: str) -> int:
    """The index in LAYERS of the longest prefix that names the module."""
    best, length = None, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = index, len(prefix)
    assert best is not None, f"{module} is in no layer: add its folder to LAYERS (and docs/architecture.md)"
    return best


def imported(module: str, path: Path) -> set[str]:
    """The chemgen modules that ``module`` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for target in targets:
            while target and target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                out.add(target)
    return out


GRAPH = {module: imported(module, path) for module, path in MODULES.items()}


def test_the_walk_sees_lazy_and_type_only_imports():
    assert "chemgen.output.html" in GRAPH["chemgen.generation.collector"]  # imported inside a method
    assert "chemgen.model.estimator" in GRAPH["chemgen.generation.pipeline"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way_down_the_layers(module):
    backwards = sorted(t for t in GRAPH[module] if layer_of(t) > layer_of(module))
    assert not backwards, f"{module} (layer {layer_of(module)}) imports later layers: {backwards}"


def test_the_model_knows_nothing_of_chemistry_filters_generation_or_output():
    banned = ("chemgen.chem", "chemgen.filters", "chemgen.generation", "chemgen.output", "chemgen_plugins")
    for module in (m for m in MODULES if m.startswith("chemgen.model")):
        assert not [t for t in GRAPH[module] if t.startswith(banned)], module


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_architecture_page_states_the_same_order():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    order = "io → model → chem → filters → plugins → output → generation → evaluation → goal → cli"
    assert order in text, "docs/architecture.md must give the import order as LAYERS does"


def test_every_package_folder_ships():
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["packages"].strip().splitlines()  # setuptools reads a multi-line value a package a line
    listed = {line.strip() for line in lines}
    folders = {m for m, path in MODULES.items() if path.name == "__init__.py"}
    assert folders == listed, f"setup.cfg packages differ from the package folders: {sorted(folders ^ listed)}"
