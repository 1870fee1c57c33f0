"""`ililab infer-graph` with mistaken or conflicting inputs: exit code, one-line message, nothing written."""

import json

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
