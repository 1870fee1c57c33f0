import json

import pytest

from ililab.errors import DataError, UsageError
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
