import json

import pytest

from ililab.errors import DataError, KnowledgeError, UsageError
from ililab.graph import Node
from ililab.knowledge import Knowledge, load_knowledge

NAMES = ["a (audio)", "b (audio)", "a (visual)", "b (visual)"]


def test_tiers_forbid_backward_edges():
    k = Knowledge(tiers=[NAMES[:2], NAMES[2:]])
    f = k.forbidden_matrix(NAMES)
    assert f[2, 0] and f[3, 1] and not f[0, 2] and not f[0, 1]
    assert k.is_forbidden("a (visual)", "a (audio)")


def test_from_modalities():
    nodes = [Node.from_name(n) for n in NAMES]
    k = Knowledge.from_modalities(nodes, forbid_within_modality=True, tier_order=["visual", "audio"])
    f = k.forbidden_matrix(NAMES)
    assert f[0, 1] and f[1, 0] and f[2, 3]  # within modality
    assert f[0, 2] and not f[2, 0]  # audio is the later tier
    with pytest.raises(UsageError, match="unknown modalities"):
        Knowledge.from_modalities(nodes, tier_order=["smell"])


def test_unknown_names_and_conflicts():
    with pytest.raises(DataError, match="not in the data"):
        Knowledge(required=[("zzz", "a (audio)")]).check_names(NAMES)
    k = Knowledge(required=[("a (audio)", "b (audio)")], forbidden=[("a (audio)", "b (audio)")])
    with pytest.raises(DataError, match="both requires and forbids"):
        k.check_names(NAMES)


def test_load_knowledge(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"required": [["a (audio)", "a (visual)"]], "tiers": [["a (audio)"], ["b (visual)"]]}))
    k = load_knowledge(path)
    assert ("a (audio)", "a (visual)") in k.required and len(k.tiers) == 2
    path.write_text(json.dumps({"required": [["a"]]}))
    with pytest.raises(DataError, match="required"):
        load_knowledge(path)
    path.write_text("{")
    with pytest.raises(DataError, match="not valid JSON"):
        load_knowledge(path)
    with pytest.raises(DataError, match="cannot read"):
        load_knowledge(tmp_path / "missing.json")


def test_merge_keeps_both_tiers_exactly_when_they_refine():
    by_modality = Knowledge(tiers=[NAMES[:2], NAMES[2:]])
    inside_audio = Knowledge(tiers=[["a (audio)"], ["b (audio)"]])
    for merged in (by_modality.merge(inside_audio), inside_audio.merge(by_modality)):
        assert merged.tiers == (("a (audio)",), ("b (audio)",), ("a (visual)", "b (visual)"))
        assert merged.is_forbidden("a (visual)", "a (audio)") and merged.is_forbidden("b (audio)", "a (audio)")
        assert not merged.is_forbidden("a (audio)", "b (visual)")


def test_merge_never_drops_a_tier_constraint():
    names = NAMES + ["c (audio)"]
    by_modality = Knowledge(tiers=[["a (audio)", "b (audio)", "c (audio)"], NAMES[2:]])
    from_file = Knowledge(tiers=[["a (audio)"], ["b (audio)"]], forbidden=[("a (visual)", "b (visual)")])
    merged = by_modality.merge(from_file)
    expected = set(by_modality._forbidden_pairs(names)) | set(from_file._forbidden_pairs(names))
    assert set(merged._forbidden_pairs(names)) == expected  # exactly the union: nothing dropped, nothing added


def test_merge_keeps_forbid_within_tier_of_split_tiers():
    by_modality = Knowledge(tiers=[NAMES[:2], NAMES[2:]])
    from_file = Knowledge(tiers=[["a (audio)"], ["a (visual)", "b (visual)"]], forbid_within_tier=True)
    merged = by_modality.merge(from_file)
    assert merged.is_forbidden("a (visual)", "b (visual)") and merged.is_forbidden("b (visual)", "a (visual)")
    assert not merged.is_forbidden("a (audio)", "b (audio)") and merged.is_forbidden("a (visual)", "b (audio)")


def test_merge_refuses_tiers_in_opposite_orders():
    with pytest.raises(KnowledgeError, match="tiers disagree: 'a .audio.' comes before 'a .visual.'"):
        Knowledge(tiers=[NAMES[:2], NAMES[2:]]).merge(Knowledge(tiers=[["a (visual)"], ["a (audio)"]]))


def test_from_modalities_misuse_is_a_usage_error():
    nodes = [Node.from_name(n) for n in NAMES]
    with pytest.raises(UsageError, match="one tier, which constrains nothing"):
        Knowledge.from_modalities(nodes, tier_order=["audio"])
    with pytest.raises(UsageError, match="needs columns with modalities: name the columns"):
        Knowledge.from_modalities([Node("x"), Node("y")], tier_order=["audio", "visual"])
    with pytest.raises(UsageError, match="twice"):
        Knowledge.from_modalities(nodes, tier_order=["audio", "audio"])


def test_knowledge_content_errors_are_all_knowledge_errors(tmp_path):
    path = tmp_path / "k.json"
    for document, message in [
        ([["a", "b"]], "holds a list; expected a JSON object with the keys required"),
        ({"forbid_within_tier": "yes"}, "forbid_within_tier: Input should be a valid boolean"),
        ({"forbid_within_tier": 1}, "forbid_within_tier: Input should be a valid boolean"),
        ({"tiers": [["a"], ["a"]]}, "in more than one tier"),
        ({"required": [["a", "a"]]}, "self-loop"),
    ]:
        path.write_text(json.dumps(document))
        with pytest.raises(KnowledgeError, match=message) as caught:
            load_knowledge(path)
        assert caught.value.exit_code == 1 and "_KnowledgeModel" not in str(caught.value)
    with pytest.raises(KnowledgeError, match="must be True or False"):
        Knowledge(forbid_within_tier="yes")
