"""Every public definition of ililab's core carries a running ``>>>`` example.

The source of ``ililab/`` is read with :mod:`ast`. A *public definition* is a module-level
function or class whose name does not start with ``_``, and each public method or property
of such a class (dunder methods such as ``__init__`` are documented by their class; a name
defined twice, as a property and its setter, counts once). A module belongs to the *core*
when no component of its dotted path starts with ``_`` (``__init__`` stands for its
package). ``ililab.cli`` and ``ililab.commands.*`` are left out: they are click commands,
which document themselves through ``ililab COMMAND --help`` (tested in ``tests/commands``),
not through Python examples.

The test fails for each public definition whose docstring has no ``>>>`` line, and for an
example that ``pytest --doctest-modules ililab`` (run by ``make test``) would not collect,
so every counted example also runs. ``PENDING`` names modules that other work in progress is
rewriting; they are reported, not failed, and a pending module whose definitions all have
examples fails too, so the list only shrinks. ``NOT_CALLABLE_FROM_PYTHON`` lists kernels
that cannot run in a doctest at all, and ``SHOWN_ON_CLASS`` methods whose example is their
class's, each with its reason; an exemption that is no longer needed fails too.

To run the doctests of one file: ``pytest --doctest-modules --import-mode=prepend ililab/matrix.py``
(under pyproject's importlib mode a single file is loaded as a second copy of its module).
"""

from __future__ import annotations

import ast
import doctest
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ililab"
EXCLUDED = ("ililab.cli", "ililab.commands")  # click commands: documented by --help

# Modules other helpers are editing right now: their missing examples are listed, not failed.
PENDING: dict[str, str] = {}

# Numba kernels compiled without a CPython wrapper: calling one from Python crashes the
# interpreter, and an example would need its own @njit caller, compiled on every run (no
# on-disk cache for code in a doctest). Each has a Python-callable twin with an example
# that runs the same code (noted here).
NOT_CALLABLE_FROM_PYTHON: dict[str, str] = {
    "ililab.scores.kernels.score_ws": "kernel-only; its twin local_score runs the same code",
    "ililab.scores.kernels.add_scores_ws": "kernel-only; its twin add_scores runs the same code",
    "ililab.scores.kernels.remove_scores_ws": "kernel-only; its twin remove_scores runs the same code",
    "ililab.scores.kernels.residual_variance_ws": "kernel-only; its twin residual_variance runs the same code",
}

# Methods whose example is their class's: an example per method would start a Dask client
# each time; DaskEngine's example starts one in-process client and runs all three.
SHOWN_ON_CLASS: dict[str, str] = {
    "ililab.engines.dask_engine.DaskEngine.map": "implements Engine.map (example there); run in DaskEngine's example",
    "ililab.engines.dask_engine.DaskEngine.moments": "implements Engine.moments (example there); run in DaskEngine's example",
    "ililab.engines.dask_engine.DaskEngine.close": "implements Engine.close (example there); run in DaskEngine's example",
}
EXEMPT = {**NOT_CALLABLE_FROM_PYTHON, **SHOWN_ON_CLASS}


@dataclass(frozen=True)
class Definition:
    module: str
    qualname: str
    has_example: bool

    @property
    def name(self) -> str:
        return f"{self.module}.{self.qualname}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def in_core(module: str) -> bool:
    if any(part.startswith("_") for part in module.split(".")):
        return False
    return not any(module == ex or module.startswith(ex + ".") for ex in EXCLUDED)


def is_pending(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PENDING)


def _example(node: ast.AST) -> bool:
    return ">>>" in (ast.get_docstring(node, clean=False) or "")


def _overload(node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in decorators)


def definitions(path: Path) -> list[Definition]:
    """The public definitions of one module, in source order."""
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Definition] = []
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        if not isinstance(node, kinds) or node.name.startswith("_") or _overload(node):
            continue
        found.append(Definition(module, node.name, _example(node)))
        if isinstance(node, ast.ClassDef):
            seen: set[str] = set()
            for member in node.body:
                if (
                    isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and not member.name.startswith("_")
                    and member.name not in seen
                    and not _overload(member)
                ):
                    seen.add(member.name)
                    found.append(Definition(module, f"{node.name}.{member.name}", _example(member)))
    return found


def core_definitions() -> list[Definition]:
    out: list[Definition] = []
    for path in sorted(ROOT.rglob("*.py")):
        if in_core(module_name(path)):
            out.extend(definitions(path))
    return out


CORE = core_definitions()


def _missing(defs: list[Definition]) -> list[Definition]:
    return [d for d in defs if not d.has_example and d.name not in EXEMPT]


def test_the_scan_sees_the_core():
    modules = {d.module for d in CORE}
    # a sample of what must be (and must not be) counted: a broken scan must not pass quietly
    assert {"ililab.matrix", "ililab.names", "ililab.bootstrap", "ililab.formats", "ililab.scores.bic"} <= modules
    assert not any(m.startswith(("ililab.commands", "ililab.cli")) or "._" in m for m in modules)
    names = {d.name for d in CORE}
    assert "ililab.scores.bic.BICScore.local_score" in names
    assert not any(n.rsplit(".", 1)[-1].startswith("_") for n in names)
    assert len(CORE) > 150


def test_every_public_definition_has_an_example():
    missing = [d.name for d in _missing(CORE) if not is_pending(d.module)]
    assert not missing, f"{len(missing)} public definitions without a >>> example:\n  " + "\n  ".join(missing)


def test_pending_modules_still_pending():
    """PENDING only shrinks: a listed module must still exist and still lack an example."""
    for module in sorted(PENDING):
        if not any(d.module == module or d.module.startswith(module + ".") for d in CORE):
            pytest.fail(f"{module} is not a core module any more: remove it from PENDING")
        left = [d.name for d in _missing(CORE) if d.module == module or d.module.startswith(module + ".")]
        assert left, f"every public definition of {module} has an example now: remove it from PENDING"


def test_exemptions_are_still_needed():
    names = {d.name: d for d in CORE}
    for name, reason in EXEMPT.items():
        assert name in names, f"{name} ({reason}) is gone: remove its exemption"
        assert not names[name].has_example, f"{name} has an example now: remove its exemption"
    for name in SHOWN_ON_CLASS:
        owner = names[name.rsplit(".", 1)[0]]
        assert owner.has_example, f"{name} relies on the example of {owner.name}, which has none"


def test_every_example_is_collected_by_doctest():
    """A ``>>>`` that doctest never finds (a wrapped or re-bound object) would not run."""
    by_module: dict[str, list[Definition]] = {}
    for d in CORE:
        if d.has_example:
            by_module.setdefault(d.module, []).append(d)
    finder = doctest.DocTestFinder()
    lost = []
    for module, defs in sorted(by_module.items()):
        collected = {t.name for t in finder.find(importlib.import_module(module)) if t.examples}
        lost += [d.name for d in defs if d.name not in collected]
    assert not lost, "examples that --doctest-modules does not collect:\n  " + "\n  ".join(lost)

