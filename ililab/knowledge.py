"""Background knowledge: required and forbidden edges, and tiers.

A :class:`Knowledge` is given in code or read from a JSON file::

    {"required": [["Train (visual)", "Train (audio)"]],
     "forbidden": [["Dog (audio)", "Cat (visual)"]],
     "tiers": [["Train (audio)", "Dog (audio)"], ["Train (visual)", "Dog (visual)"]],
     "forbid_within_tier": false}

Tiers order the variables: no edge may point from a later tier to an earlier
one. Variables not in any tier are unconstrained. With ``forbid_within_tier``
no edge joins two variables of the same tier.

Every error about the knowledge's content (an unreadable or malformed file, a
name in two tiers, a name not in the data, an edge both required and
forbidden, tiers that contradict each other) is a
:class:`~ililab.errors.KnowledgeError` (exit code 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydantic

from ililab.errors import KnowledgeError, UsageError
from ililab.graph import Node

__all__ = ["Knowledge", "load_knowledge"]


class _KnowledgeModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    required: list[tuple[pydantic.StrictStr, pydantic.StrictStr]] = []
    forbidden: list[tuple[pydantic.StrictStr, pydantic.StrictStr]] = []
    tiers: list[list[pydantic.StrictStr]] = []
    forbid_within_tier: pydantic.StrictBool = False  # "yes" or 1 is a mistake, not true


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

    Raises
    ------
    KnowledgeError
        A name in two tiers, a required self-loop, or a ``forbid_within_tier`` that is not a bool.

    Examples
    --------
    >>> k = Knowledge(required=[("Bark (audio)", "Bark (visual)")], tiers=[["Bark (audio)"], ["Bark (visual)"]])
    >>> k.is_forbidden("Bark (visual)", "Bark (audio)"), k.is_forbidden("Bark (audio)", "Bark (visual)")
    (True, False)
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
        if not isinstance(forbid_within_tier, (bool, np.bool_)):
            raise KnowledgeError(f"knowledge: forbid_within_tier must be True or False, got {forbid_within_tier!r}")
        object.__setattr__(self, "forbid_within_tier", bool(forbid_within_tier))
        seen: set[str] = set()
        for tier in self.tiers:
            for name in tier:
                if name in seen:
                    raise KnowledgeError(f"knowledge: {name!r} appears in more than one tier")
                seen.add(name)
        for a, b in self.required:
            if a == b:
                raise KnowledgeError(f"knowledge: required self-loop on {a!r}")

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

        Parameters
        ----------
        nodes : sequence of Node
            The data's nodes; those without a modality are left unconstrained.
        forbid_within_modality : bool
            Forbid every edge between two classes of one modality.
        tier_order : sequence of str, optional
            Modalities, earliest tier first (two or more).

        Returns
        -------
        Knowledge

        Raises
        ------
        UsageError
            The nodes carry no modality, or ``tier_order`` names an unknown modality, one twice,
            or only one.

        Examples
        --------
        >>> nodes = [Node.from_name(n) for n in ["Bark (audio)", "Cat (audio)", "Bark (visual)"]]
        >>> k = Knowledge.from_modalities(nodes, tier_order=["audio", "visual"])
        >>> k.tiers
        (('Bark (audio)', 'Cat (audio)'), ('Bark (visual)',))
        >>> sorted(Knowledge.from_modalities(nodes, forbid_within_modality=True).forbidden)
        [('Bark (audio)', 'Cat (audio)'), ('Cat (audio)', 'Bark (audio)')]
        """
        by_modality: dict[str, list[str]] = {}
        for node in nodes:
            if node.modality is not None:
                by_modality.setdefault(node.modality, []).append(node.name)
        needs = (
            "name the columns 'Class (modality)' (--names) or give --modalities, e.g. audio=0:28,visual=28:56"
        )
        forbidden: list[tuple[str, str]] = []
        if forbid_within_modality:
            if not by_modality:
                raise UsageError(f"--forbid-within-modality needs columns with modalities: {needs}")
            for names in by_modality.values():
                forbidden += [(a, b) for a in names for b in names if a != b]
        tiers: list[list[str]] = []
        if tier_order is not None:
            order = [m.strip() for m in tier_order]
            if not by_modality:
                raise UsageError(f"--tiers-from-modalities needs columns with modalities: {needs}")
            unknown = [m for m in order if m not in by_modality]
            if unknown:
                raise UsageError(
                    f"--tiers-from-modalities names unknown modalities {unknown}; "
                    f"the data has {', '.join(sorted(by_modality))}"
                )
            if len(set(order)) != len(order):
                raise UsageError(f"--tiers-from-modalities names a modality twice: {','.join(order)}")
            if len(order) < 2:
                # One tier constrains nothing (no edge can point into an earlier tier).
                raise UsageError(
                    f"--tiers-from-modalities {','.join(order)} gives one tier, which constrains nothing; "
                    f"give two or more in order, e.g. {','.join(sorted(by_modality))}, "
                    "or use --forbid-within-modality"
                )
            tiers = [by_modality[m] for m in order]
        return cls(forbidden=forbidden, tiers=tiers)

    def merge(self, other: Knowledge | None) -> Knowledge:
        """Every constraint of both: required and forbidden edges united, tiers combined.

        Two sets of tiers refine each other: ``x`` goes before ``y`` when either
        puts it there. When one order of tiers forbids exactly what the two
        forbid together, the result has those tiers; otherwise it keeps the
        tiers that order more pairs and adds the other side's backward edges as
        forbidden edges. ``forbid_within_tier`` of a side whose tiers are not
        kept as they are becomes explicit forbidden edges. Nothing is dropped.

        Raises
        ------
        KnowledgeError
            The two sets of tiers put two variables in opposite orders.

        Examples
        --------
        >>> by_modality = Knowledge(tiers=[["a (audio)", "b (audio)"], ["a (visual)"]])
        >>> from_file = Knowledge(tiers=[["a (audio)"], ["b (audio)"]])
        >>> by_modality.merge(from_file).tiers
        (('a (audio)',), ('b (audio)',), ('a (visual)',))
        """
        if other is None:
            return self
        tiers, within, extra = _combine_tiers(self, other)
        return Knowledge(
            self.required | other.required,
            self.forbidden | other.forbidden | extra,
            tiers,
            within,
        )

    @property
    def is_empty(self) -> bool:
        """Whether there is no constraint at all.

        Examples
        --------
        >>> Knowledge().is_empty, Knowledge(forbidden=[("a", "b")]).is_empty
        (True, False)
        """
        return not (self.required or self.forbidden or self.tiers)

    def check_names(self, names: Sequence[str]) -> None:
        """Raise a :class:`~ililab.errors.KnowledgeError` if the knowledge names a variable not in ``names``.

        Also raised when an edge is both required and forbidden (directly or by the tiers).

        Parameters
        ----------
        names : sequence of str
            The data's column names.

        Examples
        --------
        >>> k = Knowledge(required=[("b", "a")], tiers=[["a"], ["b"]])
        >>> k.check_names(["a", "b", "c"])
        Traceback (most recent call last):
        ...
        ililab.errors.KnowledgeError: knowledge both requires and forbids 'b' -> 'a'
        >>> Knowledge(forbidden=[("a", "z")]).check_names(["a", "b"])
        Traceback (most recent call last):
        ...
        ililab.errors.KnowledgeError: knowledge names variables not in the data: 'z'
        """
        known = set(names)
        mentioned = [n for pair in self.required | self.forbidden for n in pair]
        mentioned += [n for tier in self.tiers for n in tier]
        unknown = sorted(set(mentioned) - known)
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5])
            raise KnowledgeError(f"knowledge names variables not in the data: {shown}")
        clash = self.required & {(a, b) for a, b in self._forbidden_pairs(names)}
        if clash:
            a, b = sorted(clash)[0]
            raise KnowledgeError(f"knowledge both requires and forbids {a!r} -> {b!r}")

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
        """Boolean (p, p) matrix, ``F[i, j]`` True when ``i -> j`` is forbidden.

        Parameters
        ----------
        names : sequence of str
            Row and column order of the matrix (checked as by :meth:`check_names`).

        Returns
        -------
        bool ndarray of shape (p, p)

        Examples
        --------
        >>> Knowledge(tiers=[["a"], ["b", "c"]]).forbidden_matrix(["a", "b", "c"]).astype(int)
        array([[0, 0, 0],
               [1, 0, 0],
               [1, 0, 0]])
        """
        self.check_names(names)
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(names), len(names)), dtype=bool)
        for a, b in self._forbidden_pairs(names):
            out[index[a], index[b]] = True
        return out

    def required_matrix(self, names: Sequence[str]) -> np.ndarray:
        """Boolean (p, p) matrix, ``R[i, j]`` True when ``i -> j`` is required.

        Parameters
        ----------
        names : sequence of str
            Row and column order of the matrix (checked as by :meth:`check_names`).

        Returns
        -------
        bool ndarray of shape (p, p)

        Examples
        --------
        >>> Knowledge(required=[("c", "a")]).required_matrix(["a", "b", "c"]).astype(int)
        array([[0, 0, 0],
               [0, 0, 0],
               [1, 0, 0]])
        """
        self.check_names(names)
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(names), len(names)), dtype=bool)
        for a, b in self.required:
            out[index[a], index[b]] = True
        return out

    def is_forbidden(self, source: str, target: str) -> bool:
        """Whether ``source -> target`` is forbidden by the edges or the tiers.

        Examples
        --------
        >>> k = Knowledge(forbidden=[("a", "b")], tiers=[["b"], ["c", "d"]], forbid_within_tier=True)
        >>> k.is_forbidden("a", "b"), k.is_forbidden("b", "a")  # a forbidden edge is one direction
        (True, False)
        >>> k.is_forbidden("c", "b"), k.is_forbidden("c", "d"), k.is_forbidden("b", "c")
        (True, True, False)
        """
        if (source, target) in self.forbidden:
            return True
        tier_of = {n: k for k, tier in enumerate(self.tiers) for n in tier}
        if source in tier_of and target in tier_of:
            if tier_of[source] > tier_of[target]:
                return True
            return self.forbid_within_tier and tier_of[source] == tier_of[target]
        return False

    def to_dict(self) -> dict:
        """The JSON document form (sorted, deterministic); :func:`load_knowledge` reads it back.

        Examples
        --------
        >>> Knowledge(forbidden=[("b", "a"), ("a", "c")], tiers=[["a"], ["b"]]).to_dict()
        {'required': [], 'forbidden': [['a', 'c'], ['b', 'a']], 'tiers': [['a'], ['b']], 'forbid_within_tier': False}
        """
        return {
            "required": [list(p) for p in sorted(self.required)],
            "forbidden": [list(p) for p in sorted(self.forbidden)],
            "tiers": [list(t) for t in self.tiers],
            "forbid_within_tier": self.forbid_within_tier,
        }


def _within_pairs(tiers: Sequence[Sequence[str]]) -> frozenset[tuple[str, str]]:
    return frozenset((a, b) for tier in tiers for a in tier for b in tier if a != b)


def _combine_tiers(first: Knowledge, second: Knowledge) -> tuple[tuple, bool, frozenset]:
    """(tiers, forbid_within_tier, extra forbidden edges) holding both sides' tier constraints."""
    if not second.tiers:
        return first.tiers, first.forbid_within_tier, frozenset()
    if not first.tiers or first.tiers == second.tiers:
        return second.tiers, second.forbid_within_tier or (first.forbid_within_tier and bool(first.tiers)), frozenset()
    names = list(dict.fromkeys(n for k in (first, second) for tier in k.tiers for n in tier))
    index = {n: i for i, n in enumerate(names)}
    before = np.zeros((len(names), len(names)), dtype=bool)  # before[x, y]: x in an earlier tier than y
    for k in (first, second):
        rank = np.full(len(names), -1)
        for t, tier in enumerate(k.tiers):
            rank[[index[n] for n in tier]] = t
        member = rank >= 0
        before |= member[:, None] & member[None, :] & (rank[:, None] < rank[None, :])
    clash = np.argwhere(before & before.T)
    if len(clash):
        x, y = names[clash[0][0]], names[clash[0][1]]
        raise KnowledgeError(
            f"knowledge: the tiers disagree: {x!r} comes before {y!r} in one and after it in the other"
        )
    extra: frozenset[tuple[str, str]] = frozenset()
    for k in (first, second):
        if k.forbid_within_tier:
            extra |= _within_pairs(k.tiers)
    # One order of tiers forbids exactly these pairs iff ranking by number of predecessors gives them back.
    depth = before.sum(axis=0)
    if np.array_equal(depth[:, None] < depth[None, :], before):
        tiers = tuple(tuple(n for n in names if depth[index[n]] == d) for d in sorted(set(depth.tolist())))
        return tiers, False, extra
    # Otherwise keep the tiers that order more pairs, and the other side's pairs as forbidden edges.
    keep, spill = (first, second) if _ordered_pairs(first.tiers) >= _ordered_pairs(second.tiers) else (second, first)
    kept = keep.tiers
    if keep.forbid_within_tier:
        extra -= _within_pairs(kept)
    tier_of = {n: t for t, tier in enumerate(spill.tiers) for n in tier}
    backward = frozenset((a, b) for a in tier_of for b in tier_of if tier_of[a] > tier_of[b])
    return kept, keep.forbid_within_tier, extra | backward


def _ordered_pairs(tiers: Sequence[Sequence[str]]) -> int:
    sizes = [len(t) for t in tiers]
    return (sum(sizes) ** 2 - sum(s * s for s in sizes)) // 2


def load_knowledge(path: str | Path) -> Knowledge:
    """Read a knowledge JSON file (schema in the module docstring and ``docs/learners.md``).

    Raises
    ------
    KnowledgeError
        The file cannot be read, is not JSON, or does not follow the schema
        (unknown keys, wrong types; ``forbid_within_tier`` must be ``true`` or ``false``).

    Examples
    --------
    >>> import json, tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "k.json")
    ...     _ = open(path, "w").write(json.dumps({"forbidden": [["b", "a"]]}))
    ...     sorted(load_knowledge(path).forbidden)
    [('b', 'a')]
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KnowledgeError(f"cannot read knowledge file {str(path)!r}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise KnowledgeError(f"knowledge file {str(path)!r} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise KnowledgeError(f"knowledge file {str(path)!r} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        kind = {list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(type(document), "a number")
        raise KnowledgeError(
            f"knowledge file {str(path)!r} holds {kind}; expected a JSON object with the keys "
            "required, forbidden, tiers, forbid_within_tier (see docs/learners.md)"
        )
    try:
        model = _KnowledgeModel.model_validate(document)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise KnowledgeError(f"knowledge file {str(path)!r}: {where}: {first['msg']}") from None
    return Knowledge(model.required, model.forbidden, model.tiers, model.forbid_within_tier)
