# SPDX-License-Identifier: MIT
"""The layout holds: no import cycles between modules or packages, and each layer imports only the layers below.

store/ (the database) < security/, web/ < realtime/ < handlers/ < app/ < seam.py; messages.py is shared by all.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("store", "security", "web", "realtime", "handlers", "app")
# What each package may import from the project, besides itself and messages.
MAY_IMPORT = {
    "store": set(),
    "security": {"store"},
    "web": {"store"},
    "realtime": {"store", "security", "web"},
    "handlers": {"store", "security", "web", "realtime"},
    "app": {"store", "security", "web", "realtime", "handlers"},
}
PROJECT = {*PACKAGES, "messages", "seam"}


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path):
    """The project modules a file imports (absolute imports only: the project uses no relative ones)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in PROJECT}
    return found


def graph():
    files = [ROOT / "seam.py", ROOT / "messages.py"]
    files += [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    modules = {module_name(path): path for path in files}
    edges = {}
    for name, path in modules.items():
        # `from handlers import auth` names a module; `from handlers.base import ApiHandler` names a symbol.
        edges[name] = {target for target in project_imports(path) if target in modules and target != name}
    return edges


def cycle(edges):
    """One import cycle as a list of names, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_no_module_imports_itself_through_others():
    edges = graph()
    # A package's __init__ imports its own modules by design; only cycles between distinct modules count.
    edges = {source: {t for t in targets if not source.startswith(t + ".")} for source, targets in edges.items()}
    assert cycle(edges) is None


def test_packages_import_only_the_layers_below():
    wrong = []
    for source, targets in graph().items():
        package = source.split(".")[0]
        if package not in MAY_IMPORT:
            continue
        for target in targets:
            other = target.split(".")[0]
            if other not in (package, "messages") and other not in MAY_IMPORT[package]:
                wrong.append(f"{source} imports {target}")
    assert wrong == []


def test_package_graph_has_no_cycle():
    packages = {}
    for source, targets in graph().items():
        packages.setdefault(source.split(".")[0], set()).update(t.split(".")[0] for t in targets)
    assert cycle({p: targets - {p} for p, targets in packages.items()}) is None


def test_the_cycle_finder_finds_cycles():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
