"""Background knowledge: required and forbidden edges, and tiers.

A :class:`Knowledge` is given in code or read from a JSON file::

    {"required": [["Train (visual)", "Train (audio)"]],
     "forbidden": [["Dog (audio)", "Cat (visual)"]],
     "tiers": [["Train (audio)", "Dog (audio)"], ["Train (visual)", "Dog (visual)"]],
     "forbid_within_tier": false}

Tiers order the variables: no edge may point from a later tier to an earlier
one. Variables not in any tier are unconstrained. With ``forbid_within_tier``
no edge joins two variables of the same tier.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydantic

from ililab.errors import DataError, UsageError
from ililab.graph import Node

__all__ = ["Knowledge", "load_knowledge"]


class _KnowledgeModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    required: list[tuple[pydantic.StrictStr, pydantic.StrictStr]] = []
    forbidden: list[tuple[pydantic.StrictStr, pydantic.StrictStr]] = []
    tiers: list[list[pydantic.StrictStr]] = []
    forbid_within_tier: bool = False


@dataclass(frozen=True)
class Knowledge:
    """Constraints a learner must honour.

    Parameters
    ----------
    required : iterable of (source, target)
        Directed edges that must be in the result.
    forbidden : iterable of (source, target)
        Directed edges that must not be in the result (``a -> b`` forbidden
        still allows ``b -> a``).
    tiers : sequence of sequences of names
        Temporal tiers; an edge from a later tier into an earlier one is forbidden.
    forbid_within_tier : bool
        Also forbid edges between two variables of the same tier.
    """

    required: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    forbidden: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    tiers: tuple[tuple[str, ...], ...] = ()
    forbid_within_tier: bool = False

    def __init__(
        self,
        required: Iterable[tuple[str, str]] = (),
        forbidden: Iterable[tuple[str, str]] = (),
        tiers: Sequence[Sequence[str]] = (),
        forbid_within_tier: bool = False,
    ) -> None:
        object.__setattr__(self, "required", frozenset((str(a), str(b)) for a, b in required))
        object.__setattr__(self, "forbidden", frozenset((str(a), str(b)) for a, b in forbidden))
        object.__setattr__(self, "tiers", tuple(tuple(str(n) for n in tier) for tier in tiers))
        object.__setattr__(self, "forbid_within_tier", bool(forbid_within_tier))
        seen: set[str] = set()
        for tier in self.tiers:
            for name in tier:
                if name in seen:
                    raise UsageError(f"knowledge: {name!r} appears in more than one tier")
                seen.add(name)
        for a, b in self.required:
            if a == b:
                raise UsageError(f"knowledge: required self-loop on {a!r}")

    @classmethod
    def from_modalities(
        cls,
        nodes: Sequence[Node],
        *,
        forbid_within_modality: bool = False,
        tier_order: Sequence[str] | None = None,
    ) -> Knowledge:
        """Knowledge for soft-label graphs from the nodes' modalities.

        ``forbid_within_modality`` forbids every edge between two classes of the
        same modality; ``tier_order`` (e.g. ``["audio", "visual"]``) makes the
        modalities tiers in that order.
        """
        by_modality: dict[str, list[str]] = {}
        for node in nodes:
            if node.modality is not None:
                by_modality.setdefault(node.modality, []).append(node.name)
        forbidden: list[tuple[str, str]] = []
        if forbid_within_modality:
            if not by_modality:
                raise UsageError("--forbid-within-modality needs nodes with modalities")
            for names in by_modality.values():
                forbidden += [(a, b) for a in names for b in names if a != b]
        tiers: list[list[str]] = []
        if tier_order:
            unknown = [m for m in tier_order if m not in by_modality]
            if unknown:
                raise UsageError(
                    f"tiers name unknown modalities {unknown}; the data has {sorted(by_modality)}"
                )
            tiers = [by_modality[m] for m in tier_order]
        return cls(forbidden=forbidden, tiers=tiers)

    def merge(self, other: Knowledge | None) -> Knowledge:
        """Union of two knowledge objects (tiers of ``other`` win when both have tiers)."""
        if other is None:
            return self
        return Knowledge(
            self.required | other.required,
            self.forbidden | other.forbidden,
            other.tiers or self.tiers,
            other.forbid_within_tier if other.tiers else self.forbid_within_tier,
        )

    @property
    def is_empty(self) -> bool:
        """Whether there is no constraint at all."""
        return not (self.required or self.forbidden or self.tiers)

    def check_names(self, names: Sequence[str]) -> None:
        """Raise a :class:`DataError` if the knowledge names a variable not in ``names``."""
        known = set(names)
        mentioned = [n for pair in self.required | self.forbidden for n in pair]
        mentioned += [n for tier in self.tiers for n in tier]
        unknown = sorted(set(mentioned) - known)
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5])
            raise DataError(f"knowledge names variables not in the data: {shown}")
        clash = self.required & {(a, b) for a, b in self._forbidden_pairs(names)}
        if clash:
            a, b = sorted(clash)[0]
            raise DataError(f"knowledge both requires and forbids {a!r} -> {b!r}")

    def _forbidden_pairs(self, names: Sequence[str]) -> Iterable[tuple[str, str]]:
        yield from self.forbidden
        tier_of = {n: k for k, tier in enumerate(self.tiers) for n in tier}
        for a in names:
            for b in names:
                if a == b or a not in tier_of or b not in tier_of:
                    continue
                if tier_of[a] > tier_of[b] or (self.forbid_within_tier and tier_of[a] == tier_of[b]):
                    yield (a, b)

    def forbidden_matrix(self, names: Sequence[str]) -> np.ndarray:
        """Boolean (p, p) matrix, ``F[i, j]`` True when ``i -> j`` is forbidden."""
        self.check_names(names)
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(names), len(names)), dtype=bool)
        for a, b in self._forbidden_pairs(names):
            out[index[a], index[b]] = True
        return out

    def required_matrix(self, names: Sequence[str]) -> np.ndarray:
        """Boolean (p, p) matrix, ``R[i, j]`` True when ``i -> j`` is required."""
        self.check_names(names)
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(names), len(names)), dtype=bool)
        for a, b in self.required:
            out[index[a], index[b]] = True
        return out

    def is_forbidden(self, source: str, target: str) -> bool:
        """Whether ``source -> target`` is forbidden by the edges or the tiers."""
        if (source, target) in self.forbidden:
            return True
        tier_of = {n: k for k, tier in enumerate(self.tiers) for n in tier}
        if source in tier_of and target in tier_of:
            if tier_of[source] > tier_of[target]:
                return True
            return self.forbid_within_tier and tier_of[source] == tier_of[target]
        return False

    def to_dict(self) -> dict:
        """The JSON document form (sorted, deterministic)."""
        return {
            "required": [list(p) for p in sorted(self.required)],
            "forbidden": [list(p) for p in sorted(self.forbidden)],
            "tiers": [list(t) for t in self.tiers],
            "forbid_within_tier": self.forbid_within_tier,
        }


def load_knowledge(path: str | Path) -> Knowledge:
    """Read a knowledge JSON file (schema in the module docstring and ``docs/learners.md``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"cannot read knowledge file {str(path)!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise DataError(f"knowledge file {str(path)!r} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise DataError(f"knowledge file {str(path)!r} is not valid JSON: {error}") from None
    try:
        model = _KnowledgeModel.model_validate(document)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise DataError(f"knowledge file {str(path)!r}: {where}: {first['msg']}") from None
    return Knowledge(model.required, model.forbidden, model.tiers, model.forbid_within_tier)
