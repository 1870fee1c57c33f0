"""docs/soft-labels.md cites tuning constants as ``module.NAME = value``: they must exist, be public and match."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "soft-labels.md"
CITED = sorted(
    c for c in set(re.findall(r"`([a-z_]+)\.([A-Z][A-Z0-9_]*)(?: = ([^`]+))?`", DOC.read_text())) if c[0] != "softmax"
)


@pytest.mark.parametrize(("module", "name", "value"), CITED)
def test_cited_constant_is_public_and_has_the_cited_value(module, name, value):
    mod = importlib.import_module(f"ililab.{module}")
    # the docs point users at these names: a name left out of __all__ is not public API
    assert name in mod.__all__
    actual = getattr(mod, name)
    if value:
        cited = float(value[:-1]) / 100 if value.endswith("%") else float(value)
        assert actual == pytest.approx(cited)
