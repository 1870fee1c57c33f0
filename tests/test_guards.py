"""Every guard ililab promises, the line that implements it, and the test that fails without it.

``GUARDS`` is the table: a guard, the file and exact text that implement it, a mutation that
disables it, and the tests that must then fail. ``benchmarks/mutate_guards.py`` applies each
mutation in a scratch copy of the repository, runs those tests, and reports whether they failed
(run it after touching a guard: ``.venv/bin/python benchmarks/mutate_guards.py``). The tests
below keep the table honest: each guarded text is still in its file (once) and each catching
test exists, so a refactoring that moves a guard must update its row.

Guards with a test but no row: learner names are never import paths (below; the refusal is the
absence of code, nothing to mutate), billion laughs / external entities (refused by the same
DOCTYPE check), deep GML / DOT / JSON nesting (tests/formats/test_roundtrip.py). Symlinked
outputs (written through the link) are another issue's work and are not covered here.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Guard:
    what: str
    file: str
    original: str
    mutated: str
    tests: tuple[str, ...]


GUARDS: tuple[Guard, ...] = (
    # -- nothing read executes code ------------------------------------------------------------
    Guard(".npy/.npz headers with object dtypes are refused before numpy reads the data",
          "ililab/_arrayfile.py", "    if dtype.hasobject:\n        raise _pickle_error(where)",
          "    if False:\n        raise _pickle_error(where)",
          ("tests/test_io.py::test_pickled_npz_member_is_refused_and_never_run",
           "tests/test_io.py::test_pickled_npy_is_refused_before_numpy_reads_it")),
    Guard(".npy loaded with allow_pickle=False (holds without memory mapping too)",
          "ililab/_arrayfile.py", 'np.load(path, mmap_mode="r", allow_pickle=False)',
          'np.load(path, mmap_mode="r", allow_pickle=True)',
          ("tests/test_io.py::test_pickled_npy_is_refused_without_memory_mapping_too",)),
    Guard("the plugin's checkpoints loaded with torch.load(weights_only=True)",
          "plugins/ililab-torch/ililab_torch/student.py", 'torch.load(path, map_location="cpu", weights_only=True)',
          'torch.load(path, map_location="cpu", weights_only=False)',
          ("plugins/ililab-torch/tests/test_torch_guards.py::test_load_student_refuses_a_pickled_checkpoint",
           "plugins/ililab-torch/tests/test_torch_guards.py::test_student_evaluate_refuses_a_pickled_checkpoint")),
    Guard("the plugin's feature archives loaded with allow_pickle=False",
          "plugins/ililab-torch/ililab_torch/data.py", "np.load(path, allow_pickle=False)",
          "np.load(path, allow_pickle=True)",
          ("plugins/ililab-torch/tests/test_torch_guards.py::test_load_features_refuses_a_pickled_archive",)),
    Guard("GraphML with a DOCTYPE / ENTITY declaration is refused",
          "ililab/formats/graphml.py", 'if re.search(r"<!DOCTYPE|<!ENTITY", text, re.IGNORECASE):',
          "if False:",
          ("tests/formats/test_limits.py::test_graphml_entity_declarations_are_refused",)),
    # -- bounded resources -------------------------------------------------------------------------
    Guard(".npz members are memory-mapped or spooled, never loaded whole",
          "ililab/_arrayfile.py", "            return _npz_member(path, archive, info, where)",
          "            return np.load(path, allow_pickle=False)[key]",
          ("tests/test_io.py::test_npz_members_are_memory_mapped_not_loaded",)),
    Guard("a compressed .npz member is decompressed block by block",
          "ililab/_arrayfile.py", "block = stream.read(min(_NPZ_BLOCK, left))", "block = stream.read(left)",
          ("tests/test_io.py::test_compressed_npz_is_decompressed_in_bounded_memory",)),
    Guard("a .npz member expanding > 200-fold to > 256 MiB is refused as a zip bomb",
          "ililab/_arrayfile.py", "if nbytes > _BOMB_BYTES and ratio > _BOMB_RATIO:", "if False:",
          ("tests/test_io.py::test_zip_bomb_npz_is_refused_before_decompressing",)),
    Guard("a compressed .npz member needing more than half the free disk is refused",
          "ililab/_arrayfile.py", "    if nbytes > free // 2:", "    if False:",
          ("tests/test_io.py::test_compressed_npz_larger_than_half_the_free_disk_is_refused",)),
    Guard("a .npz member whose header disagrees with its size is refused",
          "ililab/_arrayfile.py", "if info.file_size - offset != nbytes:", "if False:",
          ("tests/test_io.py::test_npz_header_that_lies_about_its_shape",)),
    Guard("DOT: an edge statement's size is checked before its edges are made",
          "ililab/formats/dot.py", "check_size(len(self.order), len(self.edges) + made)", "pass",
          ("tests/formats/test_limits.py::test_dot_fan_out_is_refused_before_its_edges_are_made",)),
    Guard("every reader: node / edge counts checked when the graph is assembled",
          "ililab/formats/_common.py", "    check_size(len(nodes), len(raw_edges))  # type: ignore[arg-type]", "",
          ("tests/formats/test_limits.py::test_every_reader_honours_the_limits",)),
    Guard("GraphML counts nodes and edges before parsing them",
          "ililab/formats/graphml.py", '    check_size(tags.count("node"), tags.count("edge"))', "",
          ("tests/formats/test_limits.py::test_limits_are_checked_before_building",)),
    Guard("GML counts nodes and edges before converting them",
          "ililab/formats/gml.py", "    check_size(g.number_of_nodes(), g.number_of_edges())", "",
          ("tests/formats/test_limits.py::test_limits_are_checked_before_building",)),
    Guard("JSON counts nodes and edges before validating them",
          "ililab/formats/json_graph.py",
          "        check_size(len(nodes) if isinstance(nodes, list) else 0, len(edges) if isinstance(edges, list) else 0)",
          "", ("tests/formats/test_limits.py::test_limits_are_checked_before_building",)),
    Guard("DOT parsing is linear (member lists are ordered dictionaries)",
          "ililab/formats/dot.py", "                members.update(dict.fromkeys(left))\n",
          "                members.update({n: None for n in left if n not in list(members)})\n",
          ("tests/formats/test_limits.py::test_dot_parsing_is_linear",)),
    # -- messages, exit codes, outputs ---------------------------------------------------------------
    Guard("a number that does not parse is quoted clipped",
          "ililab/formats/_common.py", 'raise GraphFormatError(f"{what} must be a number, got {shown(value)}") from None',
          'raise GraphFormatError(f"{what} must be a number, got {value!r}") from None',
          ("tests/formats/test_limits.py::test_a_huge_value_is_not_echoed",)),
    Guard("no line of an error message is longer than MAX_LINE",
          "ililab/errors.py", "        return clip_lines(super().__str__())", "        return super().__str__()",
          ("tests/formats/test_limits.py::test_no_error_message_line_is_longer_than_the_limit",)),
    Guard("text named .npy is told so (not 'a pickled array')",
          "ililab/_arrayfile.py", "            if not head.startswith(_NPY_MAGIC):", "            if False:",
          ("tests/test_io.py::test_text_file_with_a_numpy_suffix",)),
    Guard("an internal error exits 3", "ililab/cli.py", "        sys.exit(3)", "        sys.exit(1)",
          ("tests/test_guards.py::test_internal_error_exits_3_in_one_line",)),
    Guard("an output under a regular file is an OutputError (also as root)",
          "ililab/files.py", "    if not directory.is_dir():", "    if False:",
          ("tests/test_io.py::test_unwritable_output_even_as_root",)),
    # -- tests that check what their names say (the audit's table) -------------------------------
    Guard("bootstrap hands row-based learners (PC) the resampled rows",
          "ililab/bootstrap.py",
          "rows = np.repeat(np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays]), counts(0, shared.n_rows), axis=0)",
          "rows = np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays])",
          ("tests/test_bootstrap.py::test_every_learner_gets_the_resample",
           "tests/test_bootstrap.py::test_pc_replicate_graphs_differ")),
    Guard("GRaSP honours tucks=", "ililab/search/grasp.py", "    variant = TUCKS.index(tucks)\n", "    variant = 2\n",
          ("tests/search/test_grasp.py::test_each_tuck_variant_widens_the_search",)),
    Guard("GRaSP honours ordered=", "ililab/search/grasp.py", "first_variant = 0 if ordered else variant",
          "first_variant = variant",
          ("tests/search/test_grasp.py::test_ordered_runs_the_lower_variants_first",)),
    Guard("a built-in learner that cannot be imported fails the tests",
          "ililab/learners/__init__.py", '"boss": "ililab.learners.boss:BossLearner"',
          '"boss": "ililab.learners.no_such_module:BossLearner"',
          ("tests/learners/test_conformance.py::test_registered_learner_conforms",)),
    Guard("the CLI prints the first-run compile notice", "ililab/cli.py",
          "setLevel(logging.WARNING if quiet else logging.DEBUG if debug else logging.INFO)",
          "setLevel(logging.WARNING)",
          ("tests/test_cli.py::test_first_run_compile_notice_is_shown_unless_quiet",)),
    Guard("Hypothesis draws a fixed sequence of examples", "tests/conftest.py",
          'settings.register_profile("ci", derandomize=True', 'settings.register_profile("ci", derandomize=False',
          ("tests/test_guards.py::test_hypothesis_examples_are_seeded",)),
)


@pytest.mark.parametrize("guard", GUARDS, ids=[g.what[:60] for g in GUARDS])
def test_the_guarded_text_is_in_its_file_once(guard):
    text = (ROOT / guard.file).read_text(encoding="utf-8")
    assert text.count(guard.original) == 1, f"{guard.file}: update GUARDS, the guard moved"
    assert guard.original != guard.mutated


@pytest.mark.parametrize("guard", GUARDS, ids=[g.what[:60] for g in GUARDS])
def test_each_catching_test_exists(guard):
    for node in guard.tests:
        path, _, name = node.partition("::")
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        assert name in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, node


def test_internal_error_exits_3_in_one_line(run_cli, monkeypatch, tmp_path):
    import ililab.io

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug, not a user error")

    monkeypatch.setattr(ililab.io, "read_graph", bug)
    result = run_cli("show", tmp_path / "g.json")
    assert result.code == 3
    assert result.err.startswith("internal error: ZeroDivisionError: a bug, not a user error")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_internal_error_message_is_clipped(run_cli, monkeypatch, tmp_path):
    import ililab.io
    from ililab.errors import MAX_LINE

    def bug(*args, **kwargs):
        raise ValueError("9" * 100_000)

    monkeypatch.setattr(ililab.io, "read_graph", bug)
    result = run_cli("show", tmp_path / "g.json")
    assert result.code == 3 and max(len(line) for line in result.err.splitlines()) == MAX_LINE


def test_internal_error_traceback_with_debug(run_cli, monkeypatch, tmp_path):
    import ililab.io

    monkeypatch.setattr(ililab.io, "read_graph", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_cli("--debug", "show", tmp_path / "g.json")


def test_learner_names_are_never_import_paths(run_cli, tmp_path):
    import numpy as np

    from ililab.errors import UnknownLearnerError
    from ililab.learners import get

    for name in ("os:system", "ililab.learners.grasp:GraspLearner", "subprocess"):
        with pytest.raises(UnknownLearnerError):
            get(name)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(50, 3)))
    result = run_cli("infer-graph", tmp_path / "x.npy", "-l", "os:system")
    assert result.code == 2 and "unknown learner" in result.err.lower()


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci", reason="another profile was chosen on purpose")
def test_hypothesis_examples_are_seeded():
    from hypothesis import settings

    assert settings.default.derandomize is True


def test_mutation_script_reads_this_table():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import mutate_guards
    finally:
        sys.path.pop(0)
    assert len(mutate_guards.load_guards()) == len(GUARDS)
