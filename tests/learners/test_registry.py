import pytest

from ililab.errors import ParameterError, UnknownLearnerError
from ililab.learners import Learner, LearnerParams, available, get, register


def test_builtins_are_listed_first():
    assert available()[:6] == ["grasp", "boss", "ges", "pc", "cl-grasp", "cl-ges"]


def test_unknown_learner():
    with pytest.raises(UnknownLearnerError, match="known learners: grasp"):
        get("nope")


def test_register_and_validate_params():
    @register
    class Toy(Learner):
        name = "toy-test"
        description = "toy"

        class Params(LearnerParams):
            k: int = 2

    assert get("toy-test") is Toy
    assert Toy.validate_params({"k": 3}).k == 3
    with pytest.raises(ParameterError, match="unknown parameter 'j'"):
        Toy.validate_params({"j": 1})
    with pytest.raises(ParameterError, match="parameter 'k'"):
        Toy.validate_params({"k": "many"})


def test_register_rejects_non_learners():
    with pytest.raises(TypeError):
        register(object)  # type: ignore[arg-type]
