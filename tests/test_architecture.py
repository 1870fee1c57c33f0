"""The import layers of docs/architecture.md, checked on the source.

Every ``import`` in ``ililab/`` is read with :mod:`ast` -- at module level, inside
functions and under ``TYPE_CHECKING`` alike, plus ``import_module("ililab...")`` calls
with a literal name -- and turned into a graph of modules. The test fails on an
import circle, on an import that runs from a lower layer up to a higher one, on a
module no layer owns, and on a private name (leading underscore) taken from a module
that does not share it. Exceptions are listed below with their reason; an exception
that no longer occurs in the code fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ililab"

# Lowest layer first. A module may import modules of its own layer or of lower layers
# (and, inside one layer, only without a circle). An entry names a module or a package
# (then every module under it). docs/architecture.md describes the same table.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("ililab.errors", "ililab._version", "ililab._palette", "ililab.progress", "ililab.files")),
    ("types", ("ililab.graph", "ililab._graphdoc", "ililab._graphcheck", "ililab.knowledge", "ililab.dataset")),
    ("graph algorithms", ("ililab.cpdag", "ililab.metrics")),
    ("statistics", ("ililab.stats", "ililab.censored", "ililab._censored_kernel")),
    ("scores", ("ililab.scores",)),
    ("search", ("ililab.search",)),
    # above the search: undoing the softmax fits its DAG model with GRaSP over BIC (a consumer of it)
    (
        "soft-label preparation",
        (
            "ililab.probability_blocks",
            "ililab.transform_plan",
            "ililab._softmax_model",
            "ililab._softmax_candidates",
            "ililab.softmax",
            "ililab.softmax_transform",
            "ililab.transforms",
        ),
    ),
    ("learners", ("ililab.learners",)),
    ("execution", ("ililab.engines", "ililab.bootstrap")),
    (
        "formats, pictures, report",
        ("ililab.formats", "ililab._arrayfile", "ililab.matrix", "ililab.names", "ililab.io", "ililab.viz", "ililab.report"),
    ),
    ("api", ("ililab.api", "ililab.simulate")),
    ("commands", ("ililab.commands", "ililab.cli", "ililab.testing", "ililab")),
]

# Imports kept on purpose: run only when the function is called (``lazy``), they give a
# type a convenience method networkx would put in a free function. Permanent by choice.
CONVENIENCE: dict[tuple[str, str], str] = {
    ("ililab.graph", "ililab.io"): "DependencyGraph.save: the documented one-call save of the stable graph API",
    ("ililab.graph", "ililab.viz"): "DependencyGraph.plot: the documented one-call picture (matplotlib only then)",
    ("ililab.dataset", "ililab.stats"): "Dataset.from_array computes the covariance with the one implementation",
}

# Debts: imports against the layers or across private names (none left). An entry needs its
# reason; the test fails while a listed import no longer exists.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    names: tuple[str, ...]
    line: int
    lazy: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(package: str, target: str, names: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """``from target import names``: a name that is a submodule is an import of that module."""
    out: list[tuple[str, tuple[str, ...]]] = []
    rest = []
    for name in names:
        if f"{target}.{name}" in MODULES:
            out.append((f"{target}.{name}", ()))
        else:
            rest.append(name)
    if rest or not names:
        out.append((target, tuple(rest)))
    return out


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module, self.depth, self.found = module, 0, []
        self.package = module if is_package else module.rpartition(".")[0]

    def _add(self, target: str, names: tuple[str, ...], node: ast.AST) -> None:
        if target == "ililab" or target.startswith("ililab."):
            for t, n in _resolve(self.package, target, names):
                self.found.append(Import(self.module, t, n, node.lineno, self.depth > 0))

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, (), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        self._add(target, tuple(a.name for a in node.names), node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str):
                self._add(node.args[0].value, (), node)
        self.generic_visit(node)


def collect_imports(sources: dict[str, str] | None = None) -> list[Import]:
    """Every import between ililab modules; ``sources`` overrides a module's text (for the self-test)."""
    found: list[Import] = []
    for module, path in MODULES.items():
        text = (sources or {}).get(module, None) or path.read_text(encoding="utf-8")
        collector = _Collector(module, path.name == "__init__.py")
        collector.visit(ast.parse(text))
        found.extend(i for i in collector.found if i.target != module)
    return found


def layer_of(module: str) -> int | None:
    for rank, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            if module == entry or (entry != "ililab" and module.startswith(entry + ".")):
                return rank
    return None


def _private_module(module: str) -> bool:
    return module.rpartition(".")[2].startswith("_") and not module.endswith("__init__")


def _shares_private(source: str, target: str) -> bool:
    """A private module (``pkg._x``) and its private names are shared within ``pkg`` only."""
    package = target.rpartition(".")[0]
    return _private_module(target) and (source == package or source.startswith(package + "."))


def violations(imports: list[Import]) -> list[str]:
    """What breaks the rules: upward imports, private names, modules without a layer, circles."""
    allowed = set(CONVENIENCE) | set(KNOWN_EXCEPTIONS)
    problems = [f"{m}: no layer owns this module (add it to LAYERS and docs/architecture.md)"
                for m in MODULES if layer_of(m) is None]
    for imp in imports:
        key = (imp.source, imp.target)
        if key in allowed:
            if key in CONVENIENCE and not imp.lazy:
                problems.append(f"{imp.source}:{imp.line}: {imp.target} is allowed only inside a function")
            continue
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if src is not None and dst is not None and dst > src:
            problems.append(
                f"{imp.source}:{imp.line} imports {imp.target}: layer {LAYERS[src][0]!r} "
                f"may not import the higher layer {LAYERS[dst][0]!r}"
            )
        private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
        if _private_module(imp.target) and not _shares_private(imp.source, imp.target):
            problems.append(f"{imp.source}:{imp.line} imports the private module {imp.target}")
        elif private and not (_shares_private(imp.source, imp.target) or imp.target == imp.source):
            problems.append(f"{imp.source}:{imp.line} imports private {', '.join(private)} from {imp.target}")
    problems.extend(f"import circle: {' -> '.join(c)}" for c in circles(imports, allowed))
    if any(m == "ililab.graph" for m in (i.source for i in imports)):
        problems.extend(
            f"ililab.graph:{i.line} imports {i.target} at module level; graph.py imports only ililab.errors"
            for i in imports if i.source == "ililab.graph" and not i.lazy and i.target != "ililab.errors"
        )
    return problems


def circles(imports: list[Import], allowed: set[tuple[str, str]]) -> list[list[str]]:
    """One circle per strongly connected component of more than one module (Tarjan)."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        if (imp.source, imp.target) not in allowed:
            edges.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component) + [sorted(component)[0]])

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


MAX_LINES = 600  # issue 18: every module under 600 lines, docstrings included


def oversized(limit: int = MAX_LINES) -> list[str]:
    """``path: N lines`` for each module under ``ililab/`` of ``limit`` lines or more."""
    found = []
    for path in MODULES.values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines >= limit:
            found.append(f"{path.relative_to(ROOT.parent)}: {lines} lines")
    return found


def test_every_module_is_under_600_lines():
    assert len(MODULES) > 50  # the scan reaches every module (subpackages included)
    assert oversized() == []


def test_an_oversized_module_is_named():
    """The check lists offenders by path and size (here with a limit the largest modules reach)."""
    largest = max(len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES.values())
    found = oversized(largest)
    assert found and all(" lines" in f and f.startswith("ililab/") for f in found)


def test_imports_follow_the_layers():
    assert violations(collect_imports()) == []


def test_every_exception_still_exists():
    """An allow-listed import that went away must leave the list (so it only shrinks)."""
    present = {(i.source, i.target) for i in collect_imports()}
    stale = [key for key in [*CONVENIENCE, *KNOWN_EXCEPTIONS] if key not in present]
    assert stale == []


@pytest.mark.parametrize("table", [CONVENIENCE, KNOWN_EXCEPTIONS], ids=["convenience", "known"])
def test_each_exception_is_still_needed(table):
    """Without its entry, each listed import breaks a rule (upward, private name or circle)."""
    imports = collect_imports()
    for key in list(table):
        reason = table.pop(key)
        try:
            problems = violations(imports)
        finally:
            table[key] = reason
        assert any(key[0] in p and key[1] in p for p in problems), f"{key} breaks no rule: remove it from the list"


def _with_extra_import(module: str, line: str, inside_function: bool) -> list[Import]:
    text = MODULES[module].read_text(encoding="utf-8")
    extra = f"\n\ndef _probe():\n    {line}\n" if inside_function else f"\n{line}\n"
    return collect_imports({module: text + extra})


@pytest.mark.parametrize(
    ("module", "line", "inside", "expected"),
    [
        ("ililab.errors", "from ililab.graph import Node", False, "may not import the higher layer"),
        ("ililab.stats", "from ililab.viz import plot_graph", True, "may not import the higher layer"),
        ("ililab.formats.dot", "from ililab import __version__", False, "may not import the higher layer"),
        ("ililab.formats.tabular", "from ililab.io import atomic_write", True, "import circle"),
        ("ililab.graph", "from ililab.knowledge import Knowledge", False, "graph.py imports only ililab.errors"),
        ("ililab.graph", "from ililab.io import write_graph", False, "is allowed only inside a function"),
        ("ililab.api", "from ililab.formats._common import check_size", False, "private module"),
        ("ililab.bootstrap", "from ililab.stats import _check_finite", True, "imports private _check_finite"),
        ("ililab.viz", "import_module('ililab.commands.plot')", True, "may not import the higher layer"),
    ],
)
def test_a_broken_layer_is_caught(module, line, inside, expected):
    problems = violations(_with_extra_import(module, line, inside))
    assert any(expected in p for p in problems), problems


def test_the_collector_sees_relative_and_package_imports():
    found = {(i.source, i.target) for i in collect_imports()}
    assert ("ililab.search._compile", "ililab.search._growshrink") in found  # from ililab.search import _growshrink
    assert ("ililab.io", "ililab.formats") in found
    assert ("ililab.graph", "ililab.io") in found  # inside DependencyGraph.save


def test_importing_the_graph_type_loads_no_formats_and_no_matplotlib():
    code = (
        "import sys, ililab.graph\n"
        "bad = [m for m in ('ililab.io', 'ililab.formats', 'ililab.viz', 'matplotlib', 'ililab.learners') "
        "if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_checking_a_request_loads_no_numba():
    """``ililab.api`` is what every command imports before its checks: a usage error must come
    without the numba/scipy start-up, which the softmax inversion alone needs."""
    code = "import sys, ililab.api\nprint([m for m in ('numba', 'ililab.softmax_transform') if m in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_moved_names_are_the_same_objects():
    import ililab
    from ililab import engines, errors, files, formats, io, transforms
    from ililab._version import __version__

    assert transforms.IlilabWarning is errors.IlilabWarning
    assert engines.EngineError is errors.EngineError
    assert io.GRAPH_FORMATS is formats.GRAPH_FORMATS
    assert io.read_graph is formats.read_graph and io.write_graph is formats.write_graph
    assert io.atomic_write is files.atomic_write and io.check_output_path is files.check_output_path
    assert ililab.__version__ == __version__


def _plugin_imports() -> list[tuple[str, int, str, tuple[str, ...]]]:
    """``(file, line, module, names)`` of every ililab import in the plugins' packages (not their tests)."""
    found = []
    for path in sorted((ROOT.parent / "plugins").glob("*/*/**/*.py")):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "ililab":
                found.append((str(path.relative_to(ROOT.parent)), node.lineno, node.module, tuple(a.name for a in node.names)))
            elif isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT.parent)), node.lineno, a.name, ())
                             for a in node.names if a.name.split(".")[0] == "ililab")
    return found


def test_plugins_use_only_public_names():
    found = _plugin_imports()
    assert any(path.endswith("cli.py") for path, _, _, _ in found)  # the scan reaches the plugin's lazy imports
    private = [
        f"{path}:{line} from {module} import {', '.join(names)}"
        for path, line, module, names in found
        if any(part.startswith("_") for part in module.split("."))
        or any(n.startswith("_") and not n.startswith("__") for n in names)
    ]
    assert private == []


def test_ililab_never_imports_a_plugin():
    plugin_packages = {p.parent.name for p in (ROOT.parent / "plugins").glob("*/*/__init__.py")}
    assert plugin_packages  # e.g. ililab_torch
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{module}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in plugin_packages]
    assert found == []


def test_the_architecture_page_names_every_layer_entry():
    """docs/architecture.md lists the modules of LAYERS (``errors.py``, ``formats/``, ...)."""
    page = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for _, entries in LAYERS:
        for entry in entries:
            if entry == "ililab":
                short = "ililab/__init__.py"
            else:
                rel = entry.removeprefix("ililab.").replace(".", "/")
                short = f"{rel}/" if (ROOT / rel).is_dir() else f"{rel}.py"
            if short not in page:
                missing.append(short)
    assert missing == []


def _page_layers() -> list[tuple[str, str]]:
    """``(name, text)`` of each row of the page's layer table, lowest first."""
    page = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page.split("## Layers", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    rows: list[list[str]] = []
    for line in table.splitlines():
        head = line[:3].strip()
        if head.isdigit():
            name, _, rest = line[3:].strip().partition("  ")
            rows.append([name, rest])
        elif rows:
            rows[-1][1] += " " + line.strip()
    return [(name, text) for name, text in reversed(rows)]


def test_the_page_table_is_the_layers_table():
    """Same layer names in the same order, and each module in the row of its layer."""
    rows = _page_layers()
    assert [name for name, _ in rows] == [name for name, _ in LAYERS]
    misplaced = []
    for (name, text), (_, entries) in zip(rows, LAYERS):
        for entry in entries:
            rel = "ililab/__init__.py" if entry == "ililab" else entry.removeprefix("ililab.").replace(".", "/")
            short = rel if entry == "ililab" else (f"{rel}/" if (ROOT / rel).is_dir() else f"{rel}.py")
            if short not in text.split() and not any(w.strip(",()") == short for w in text.split()):
                misplaced.append(f"{short} not in row {name!r}")
    assert misplaced == []
