"""Scores over sufficient statistics; see :mod:`ililab.scores.bic` for the BIC score and its kernels."""

from ililab.scores.bic import (
    DEFAULT_PENALTY,
    BICScore,
    lambda_from_penalty,
    penalty_from_lambda,
    to_causallearn,
)

__all__ = ["BICScore", "DEFAULT_PENALTY", "penalty_from_lambda", "lambda_from_penalty", "to_causallearn"]
