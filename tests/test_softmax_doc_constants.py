"""docs/soft-labels.md cites tuning constants as ``module.NAME = value``: they must exist, be public and match."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "soft-labels.md"
CITED = sorted(set(re.findall(r"`([a-z_]+)\.([A-Z][A-Z0-9_]*)(?: = ([^`]+))?`", DOC.read_text())))


@pytest.mark.parametrize(("module", "name", "value"), CITED)
def test_cited_constant_is_public_and_has_the_cited_value(module, name, value):
    mod = importlib.import_module(f"ililab.{module}")
    # the docs point users at these names: a name left out of __all__ is not public API
    assert name in mod.__all__
    actual = getattr(mod, name)
    if value:
        cited = float(value[:-1]) / 100 if value.endswith("%") else float(value)
        assert actual == pytest.approx(cited)


def test_tuning_constants_survive_a_mock_patch_round_trip():
    from unittest import mock

    from ililab import _softmax_model
    from ililab import softmax as sm

    before = sm.EM_STEPS
    with mock.patch("ililab.softmax.EM_STEPS", before + 7):
        assert _softmax_model.EM_STEPS == sm.EM_STEPS == before + 7  # the one copy the inversion reads
    assert _softmax_model.EM_STEPS == sm.EM_STEPS == before
    # a value set before the patch is what the patch restores, not the default
    sm.FAST_ABOVE = 123
    try:
        with mock.patch("ililab.softmax.FAST_ABOVE", 5):
            assert _softmax_model.FAST_ABOVE == 5
        assert _softmax_model.FAST_ABOVE == 123
    finally:
        del sm.FAST_ABOVE  # back to the default
    assert sm.FAST_ABOVE == _softmax_model.FAST_ABOVE == 200
    assert set(sm.TUNING) <= set(dir(sm)) & set(vars(sm)) & set(sm.__all__)
