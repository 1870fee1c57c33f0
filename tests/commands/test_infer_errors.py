"""`ililab infer-graph` with mistaken or conflicting inputs: exit code, one-line message, nothing written."""

import json

import numpy as np
import pytest

from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge


def _one_line_error(result, code, *fragments):
    assert result.code == code, (result.code, result.err)
    lines = [line for line in result.err.splitlines() if line.startswith("error:") or "Error" in line]
    assert len(lines) == 1, result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.err


def test_tiers_from_modalities_and_file_tiers_are_combined(run_cli, tmp_path, soft_files):
    knowledge = tmp_path / "k.json"
    knowledge.write_text(json.dumps({"tiers": [["Church bell (audio)"], ["Bark (audio)"]]}))
    out = tmp_path / "g.json"
    result = run_cli(
        "infer-graph", soft_files["logits"], "--names", soft_files["names"],
        "--tiers-from-modalities", "visual,audio", "--knowledge", knowledge, "-o", out,
    )
    assert result.code == 0, result.err
    graph = DependencyGraph.from_json(out.read_text())
    used = Knowledge(**{k: v for k, v in graph.meta["knowledge"].items()})
    audio = [n.name for n in graph.nodes if n.modality == "audio"]
    visual = [n.name for n in graph.nodes if n.modality == "visual"]
    assert all(used.is_forbidden(a, v) for a in audio for v in visual)  # the flag's tiers are kept
    assert used.is_forbidden("Bark (audio)", "Church bell (audio)")  # and the file's
    for edge in graph.edges:
        assert not (edge.source in audio and edge.target in visual), edge


def _run_infer(run_cli, tmp_path, soft_files, *extra):
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", soft_files["logits"], "--names", soft_files["names"], "-o", out, *extra)
    assert not out.exists()
    return result


def test_knowledge_errors_exit_1_whatever_the_kind(run_cli, tmp_path, soft_files):
    knowledge = tmp_path / "k.json"
    for document, fragment in [
        ([["Bark (audio)", "Bark (visual)"]], "holds a list; expected a JSON object"),
        ({"forbid_within_tier": "yes"}, "forbid_within_tier: Input should be a valid boolean"),
        ({"tiers": [["Bark (audio)"], ["Bark (audio)"]]}, "in more than one tier"),
        ({"required": [["nope", "Bark (audio)"]]}, "not in the data: 'nope'"),
    ]:
        knowledge.write_text(json.dumps(document))
        result = _run_infer(run_cli, tmp_path, soft_files, "--knowledge", knowledge)
        _one_line_error(result, 1, fragment)
        assert "_KnowledgeModel" not in result.err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--tiers-from-modalities", "audio"], "gives one tier, which constrains nothing"),
        (["--tiers-from-modalities", "audio,smell"], "unknown modalities ['smell']; the data has audio, visual"),
    ],
)
def test_tier_option_misuse_exit_2(run_cli, tmp_path, soft_files, extra, fragment):
    _one_line_error(_run_infer(run_cli, tmp_path, soft_files, *extra), 2, fragment)


def test_tiers_from_modalities_without_modalities(run_cli, tmp_path, data_npy):
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", data_npy, "-l", "ges", "--tiers-from-modalities", "a,b", "-o", out)
    _one_line_error(result, 2, "needs columns with modalities", "--modalities")
    assert "[]" not in result.err and not out.exists()


# -- conflicting or misleading options (items 9 and 11 of issue 16) ---------------------------------


@pytest.mark.parametrize(
    ("extra", "code", "fragment"),
    [
        (["--penalty", "2", "-p", "penalty=8"], 2, "--penalty 2 and -p penalty=8 both set penalty; give one"),
        (["--seed", "1", "-p", "seed=2"], 2, "--seed 1 and -p seed=2 both set seed; give one"),
        (["--penalty", "4", "--lambda", "3"], 2, "learner 'grasp': penalty 4.0 and lambda 3.0 disagree (penalty = 2 * lambda)"),
        (["-b", "0"], 2, "Invalid value for '--bootstrap' / '-b': 0 is not in the range x>=1."),
        (["-b", "-3"], 2, "Invalid value for '--bootstrap' / '-b': -3 is not in the range x>=1."),
        (["--modalities", "audio=0:5,visual=5:9"], 2, "leaves column 9 of the 10 in no block"),
        (["--modalities", "visual=0:5,audio=5:10"], 2,
         "--modalities puts column 0 'Church bell (audio)' in block 'visual', but its name says 'audio'"),
    ],
)
def test_conflicting_options_are_one_line_usage_errors(run_cli, tmp_path, soft_files, extra, code, fragment):
    result = _run_infer(run_cli, tmp_path, soft_files, *extra)
    _one_line_error(result, code, fragment)
    assert "'?'" not in result.err and "Usage:" not in result.err


def test_huge_values_name_their_column(run_cli, tmp_path, sem_small):
    data = sem_small.data.copy()
    data[:, 3] *= 1e300
    path = tmp_path / "huge.npy"
    np.save(path, data)
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", path, "-l", "ges", "-o", out)
    _one_line_error(result, 1, "the covariance of column 'x3' is not finite", "rescale or drop it")
    assert "overflow" not in result.err and not out.exists()


def test_unquoted_glob_gets_a_hint(run_cli, tmp_path, sem_small):
    shards = []
    for i, part in enumerate(np.array_split(sem_small.data, 2)):
        shards.append(tmp_path / f"part-{i}.npy")
        np.save(shards[-1], part)
    result = run_cli("infer-graph", *shards, "-l", "ges")  # what the shell makes of parts/*.npy
    _one_line_error(result, 2, "unexpected extra argument", "quote a glob of shards", "'shards/*.npy'")


@pytest.mark.parametrize("command", [["show"], ["plot", "-o", "p.png"], ["convert", "-", "g.json"]])
def test_graph_commands_given_a_data_file_say_so(run_cli, tmp_path, data_npy, command):
    args = [c if c != "-" else str(data_npy) for c in command]
    if command[0] != "convert":
        args.insert(1, str(data_npy))
    result = run_cli(*[a if not a.endswith((".png", "g.json")) else str(tmp_path / a) for a in args])
    _one_line_error(result, 2, "'.npy holds a data matrix, not a graph"[1:])
    assert "--format" not in result.err
    assert not (tmp_path / "p.png").exists() and not (tmp_path / "g.json").exists()


def test_unknown_extension_suggests_the_option_the_command_has(run_cli, tmp_path):
    graph = tmp_path / "g.txt"
    graph.write_text("{}")
    _one_line_error(run_cli("convert", graph, tmp_path / "g.json"), 2, "use --from FORMAT")
    _one_line_error(run_cli("plot", graph, "-o", tmp_path / "p.png"), 2, "use --from FORMAT")
    result = run_cli("show", graph)
    _one_line_error(result, 2, "cannot tell the graph format of")
    assert "use --" not in result.err


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (("--min-confidence", "0.5"), "--min-confidence needs --bootstrap B"),
        (("--bootstrap", "2", "--min-confidence", "1.5"), "--min-confidence must lie in [0, 1]"),
        (("--chunk-rows", "0"), "--chunk-rows must be at least 1"),
        (("-p", "depth=-3"), "parameter 'depth'"),
    ],
)
def test_the_api_checks_run_before_any_data_is_read(run_cli, tmp_path, options, fragment):
    """One set of checks (ililab.api.check_request), run by the command before it opens the data file."""
    out = tmp_path / "g.json"
    result = run_cli("infer-graph", tmp_path / "absent.npy", *options, "-o", out)
    _one_line_error(result, 2, fragment)
    assert not out.exists()
