"""Scores over sufficient statistics.

The BIC score is :mod:`ililab.scores.bic`; its Numba kernels are :mod:`ililab.scores.kernels`.
"""

from ililab.scores.bic import (
    DEFAULT_PENALTY,
    BICScore,
    lambda_from_penalty,
    penalty_from_lambda,
    to_causallearn,
)

__all__ = ["BICScore", "DEFAULT_PENALTY", "penalty_from_lambda", "lambda_from_penalty", "to_causallearn"]
