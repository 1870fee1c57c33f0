"""The runnable examples in ililab_torch's docstrings run and print what they show (make test runs the
doctests of ililab only), and every public name has one."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

MODULES = ["adapters", "auto", "data", "losses", "retrieval", "student", "synthetic", "teacher"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"ililab_torch.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {module.__name__} failed"


def test_every_public_name_has_an_example():
    import ililab_torch

    missing = [n for n in ililab_torch.__all__ if n != "__version__"
               and ">>>" not in (inspect.getdoc(getattr(ililab_torch, n)) or "")]
    assert missing == []
