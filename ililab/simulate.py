"""Seeded synthetic data with a known graph.

* :func:`simulate_linear_sem` — a linear-Gaussian structural equation model
  over a random DAG.
* :func:`simulate_soft_labels` — soft labels for ``C`` classes in each of
  ``M`` modalities: logits from a linear SEM over a latent class DAG (which
  links each class's nodes across modalities, as a teacher's aligned outputs
  do, plus random cross- and within-modality edges), turned into
  probabilities by a softmax per modality block.

Everything is a pure function of the arguments and ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ililab.errors import UsageError
from ililab.graph import DependencyGraph, Edge, Node

__all__ = [
    "SimulatedData",
    "SimulatedSoftLabels",
    "random_dag",
    "simulate_linear_sem",
    "simulate_soft_labels",
    "class_names",
]

# Class names in the style of AVE's: spaces, commas and parentheses must survive every format.
_AVE_STYLE = [
    "Church bell", "Male speech, man speaking", "Bark", "Fixed-wing aircraft, airplane",
    "Race car, auto racing", "Female speech, woman speaking", "Helicopter", "Violin, fiddle",
    "Flute", "Ukulele", "Frying (food)", "Truck", "Shofar", "Motorcycle", "Acoustic guitar",
    "Train horn", "Clock", "Banjo", "Goat", "Baby cry, infant crying", "Bus", "Chainsaw", "Cat",
    "Horse", "Toilet flush", "Rodents/rats", "Accordion", "Mandolin",
]


def class_names(n_classes: int) -> list[str]:
    """``n_classes`` distinct class names (AVE-style names first, then ``class 28`` ...).

    The AVE-style names hold spaces, commas, parentheses and a slash on purpose: every file
    format must carry them unchanged.

    Examples
    --------
    >>> class_names(3)
    ['Church bell', 'Male speech, man speaking', 'Bark']
    >>> class_names(30)[-2:]
    ['class 28', 'class 29']
    """
    return [_AVE_STYLE[i] if i < len(_AVE_STYLE) else f"class {i}" for i in range(n_classes)]


@dataclass(frozen=True)
class SimulatedData:
    """Rows of a linear SEM with its true DAG (returned by :func:`simulate_linear_sem`).

    Attributes
    ----------
    data : ndarray of shape (n, p)
        The simulated rows.
    names : list of str
        Column names ``x0`` ... ``x{p-1}``.
    weights : ndarray of shape (p, p)
        ``weights[i, j]`` is the coefficient of ``i -> j`` (0 without an edge).
    true_graph : DependencyGraph
        The DAG of ``weights``, each edge weighted by its coefficient.

    Examples
    --------
    >>> sim = simulate_linear_sem(5, 200, seed=0)
    >>> sim.names
    ['x0', 'x1', 'x2', 'x3', 'x4']
    >>> len(sim.true_graph.edges) == int((sim.weights != 0).sum())
    True
    """

    data: np.ndarray
    names: list[str]
    weights: np.ndarray
    true_graph: DependencyGraph


@dataclass(frozen=True)
class SimulatedSoftLabels:
    """Soft labels from a latent class DAG, with the logits they came from.

    Returned by :func:`simulate_soft_labels`.

    Attributes
    ----------
    probabilities : ndarray of shape (n, C * M)
        One block of ``C`` columns per modality.
    logits : ndarray of shape (n, C * M)
        The latent logits behind ``probabilities``.
    names : list of str
        Column names such as ``"Bark (audio)"``.
    weights : ndarray
        Weighted adjacency of the true class DAG.
    true_graph : DependencyGraph
        The true DAG over ``names``.
    modalities : tuple of str
        Modality names, in block order.
    n_classes : int
        Classes per modality ``C``.

    Examples
    --------
    >>> sim = simulate_soft_labels(3, 50, seed=0)
    >>> sim.modalities, sim.n_classes
    (('audio', 'visual'), 3)
    >>> sim.names[:2]
    ['Church bell (audio)', 'Male speech, man speaking (audio)']
    >>> np.allclose(sim.probabilities[:, :3].sum(axis=1), 1.0)  # a softmax per modality block
    True
    """

    probabilities: np.ndarray
    logits: np.ndarray
    names: list[str]
    weights: np.ndarray
    true_graph: DependencyGraph
    modalities: tuple[str, ...]
    n_classes: int

    def save(self, directory: str | Path, prefix: str = "soft_labels") -> dict[str, Path]:
        """Write ``PREFIX.npy``, ``PREFIX_logits.npy``, ``names.txt`` and ``true_graph.json``.

        Parameters
        ----------
        directory : str or Path
            Created if missing.
        prefix : str
            File name stem of the two arrays.

        Returns
        -------
        dict of str to Path
            The four paths, by ``"probabilities"``, ``"logits"``, ``"names"`` and ``"true_graph"``.

        Examples
        --------
        >>> import tempfile
        >>> sim = simulate_soft_labels(3, 50, seed=0)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     paths = sim.save(tmp)
        ...     sorted(path.name for path in paths.values())
        ['names.txt', 'soft_labels.npy', 'soft_labels_logits.npy', 'true_graph.json']
        """
        from ililab.matrix import write_array
        from ililab.names import write_names

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {
            "probabilities": directory / f"{prefix}.npy",
            "logits": directory / f"{prefix}_logits.npy",
            "names": directory / "names.txt",
            "true_graph": directory / "true_graph.json",
        }
        write_array(self.probabilities, paths["probabilities"])
        write_array(self.logits, paths["logits"])
        write_names(self.names, paths["names"])
        self.true_graph.save(paths["true_graph"])
        return paths


def _check_positive(value: float, what: str) -> None:
    if not value > 0:
        raise UsageError(f"{what} must be positive, got {value}")


def random_dag(
    p: int,
    expected_degree: float,
    rng: np.random.Generator,
    weight_range: tuple[float, float] = (0.3, 1.0),
) -> np.ndarray:
    """Weighted adjacency of a random DAG (``W[i, j]`` = coefficient of ``i -> j``).

    Each pair is joined with probability ``expected_degree / (p - 1)`` along a
    random causal order; weights are uniform in ``weight_range`` with a random sign.

    Parameters
    ----------
    p : int
        Number of variables (at least 2).
    expected_degree : float
        Expected number of neighbours per node, in ``[0, p - 1]``.
    rng : numpy.random.Generator
        Source of every random choice.
    weight_range : (float, float)
        Range of absolute coefficients.

    Returns
    -------
    ndarray of shape (p, p)

    Raises
    ------
    UsageError
        ``p < 2`` or ``expected_degree`` outside ``[0, p - 1]``.

    Examples
    --------
    >>> from ililab.cpdag import is_dag
    >>> w = random_dag(6, 2.0, np.random.default_rng(0))
    >>> w.shape, is_dag(w)
    ((6, 6), True)
    >>> edges = w != 0
    >>> bool(np.all((np.abs(w[edges]) >= 0.3) & (np.abs(w[edges]) <= 1.0)))
    True
    >>> int(edges.sum()) > 0
    True
    """
    if p < 2:
        raise UsageError(f"need at least 2 variables, got {p}")
    if expected_degree < 0 or expected_degree > p - 1:
        raise UsageError(f"expected degree must lie in [0, {p - 1}], got {expected_degree}")
    order = rng.permutation(p)
    prob = expected_degree / (p - 1)
    upper = np.triu(rng.random((p, p)) < prob, k=1)
    low, high = weight_range
    magnitude = rng.uniform(low, high, size=(p, p))
    sign = rng.choice([-1.0, 1.0], size=(p, p))
    w_ordered = np.where(upper, magnitude * sign, 0.0)
    weights = np.zeros((p, p))
    weights[np.ix_(order, order)] = w_ordered
    return weights


def _sample_sem(weights: np.ndarray, n: int, rng: np.random.Generator, noise_sd: np.ndarray) -> np.ndarray:
    p = weights.shape[0]
    noise = rng.standard_normal((n, p)) * noise_sd
    # x = x W + e  =>  x = e (I - W)^-1
    return noise @ np.linalg.inv(np.eye(p) - weights)


def _dag_graph(names: Sequence[str], weights: np.ndarray, meta: dict) -> DependencyGraph:
    edges = [
        Edge(names[i], names[j], "directed", float(weights[i, j]))
        for i, j in zip(*np.nonzero(weights))
    ]
    return DependencyGraph([Node.from_name(n) for n in names], edges, meta)


def simulate_linear_sem(
    p: int,
    n: int,
    expected_degree: float = 2.0,
    seed: int = 0,
    weight_range: tuple[float, float] = (0.3, 1.0),
) -> SimulatedData:
    """Rows of a linear-Gaussian SEM over a random DAG.

    Parameters
    ----------
    p, n : int
        Variables and rows.
    expected_degree : float
        Expected number of neighbours per node.
    seed : int
        Seed of every random choice.
    weight_range : (float, float)
        Range of absolute edge coefficients.

    Examples
    --------
    >>> sim = simulate_linear_sem(5, 100, seed=1)
    >>> sim.data.shape, len(sim.true_graph.nodes)
    ((100, 5), 5)
    """
    _check_positive(n, "n")
    rng = np.random.default_rng(seed)
    weights = random_dag(p, expected_degree, rng, weight_range)
    noise_sd = rng.uniform(0.7, 1.3, size=p)
    data = _sample_sem(weights, n, rng, noise_sd)
    names = [f"x{i}" for i in range(p)]
    meta = {"simulation": "linear-sem", "p": p, "n": n, "expected_degree": expected_degree, "seed": seed}
    return SimulatedData(data, names, weights, _dag_graph(names, weights, meta))


def _softmax_blocks(logits: np.ndarray, n_blocks: int) -> np.ndarray:
    out = np.empty_like(logits)
    width = logits.shape[1] // n_blocks
    for b in range(n_blocks):
        block = logits[:, b * width : (b + 1) * width]
        shifted = np.exp(block - block.max(axis=1, keepdims=True))
        out[:, b * width : (b + 1) * width] = shifted / shifted.sum(axis=1, keepdims=True)
    return out


def simulate_soft_labels(
    n_classes: int,
    n: int,
    modalities: Sequence[str] = ("audio", "visual"),
    expected_degree: float = 2.0,
    seed: int = 0,
    logit_scale: float = 1.5,
    align_modalities: bool = True,
    dtype: type | str = np.float64,
    *,
    output: str = "softmax",
    decimals: int | None = None,
    imbalance: float = 1.0,
    chain: float = 0.0,
    weight_range: tuple[float, float] = (0.3, 1.0),
    standardize: bool = True,
) -> SimulatedSoftLabels:
    """Soft labels for ``n_classes`` classes per modality from a latent class DAG.

    Parameters
    ----------
    n_classes : int
        Classes per modality ``C``; the graph has ``C * len(modalities)`` nodes.
    n : int
        Clips (rows).
    modalities : sequence of str
        Modality names, one block of ``C`` columns each, in this order.
    expected_degree : float
        Expected number of random neighbours per node (besides the alignment edges).
    seed : int
        Seed of every random choice.
    logit_scale : float
        Standard deviation of the logits; larger gives peakier probabilities.
    align_modalities : bool
        Link each class's node in the first modality to its node in every
        other modality (the same-class edge every teacher's graph shows).
    dtype : numpy dtype
        dtype of the probabilities and logits written (float16 or float32 like a network's
        output, or float64); probabilities too small for it underflow to 0, as in a network.
    output : {"softmax", "sigmoid"}
        ``softmax`` per modality block (rows sum to 1), or ``sigmoid`` per column: independent
        multi-label probabilities like an AudioSet tagger's.
    decimals : int, optional
        Round the probabilities to this many decimals (like a CSV export): rows then sum to 1
        only approximately, and small probabilities become 0.
    imbalance : float
        Ratio of the most to the least frequent class: class ``j`` of each block gets the
        logit offset ``-log(imbalance) * j / (C - 1)`` (1 = balanced). Offsets change no edge.
    chain : float
        Add the edge ``class j-1 -> class j`` with this weight within every modality block (and
        keep the alignment edges): the strongly chained logits that make normalisation hard to undo.
    weight_range : (float, float)
        Range of absolute edge weights of the random class DAG.
    standardize : bool
        Scale every logit to standard deviation ``logit_scale`` (default); False multiplies the
        SEM's logits by ``logit_scale`` as they are, so chained or high-degree classes get far
        larger logits (saturated, near one-hot probabilities), as a confident network's do.

    Returns
    -------
    SimulatedSoftLabels
        ``probabilities`` (rows of each modality block sum to 1 for ``softmax``), ``logits``
        (offsets included), column ``names`` such as ``"Train horn (visual)"``, and ``true_graph``.

    Examples
    --------
    >>> sim = simulate_soft_labels(5, 100, modalities=("audio",), decimals=3, seed=1)
    >>> sim.probabilities.shape, bool(np.all(sim.probabilities == np.round(sim.probabilities, 3)))
    ((100, 5), True)
    """
    _check_positive(n_classes, "number of classes")
    _check_positive(n, "n")
    _check_positive(logit_scale, "logit scale")
    modalities = tuple(modalities)
    if not modalities or len(set(modalities)) != len(modalities):
        raise UsageError(f"modalities must be distinct and non-empty, got {list(modalities)}")
    if n_classes < 2:
        raise UsageError("need at least 2 classes per modality")
    if output not in ("softmax", "sigmoid"):
        raise UsageError(f"output must be 'softmax' or 'sigmoid', got {output!r}")
    if decimals is not None and decimals < 1:
        raise UsageError(f"decimals must be at least 1, got {decimals}")
    if not imbalance >= 1:
        raise UsageError(f"imbalance is a ratio of class frequencies, at least 1; got {imbalance}")
    if chain < 0:
        raise UsageError(f"chain weight must be non-negative, got {chain}")
    rng = np.random.default_rng(seed)
    m = len(modalities)
    p = n_classes * m
    degree = min(expected_degree, p - 1)
    weights = random_dag(p, degree, rng, weight_range)
    if chain > 0:
        # chain edges first, then drop any random edge that would close a cycle through them
        for k in range(m):
            for c in range(1, n_classes):
                a, b = k * n_classes + c - 1, k * n_classes + c
                weights[b, a] = 0.0
                weights[a, b] = chain
        weights = _break_cycles(weights)
    if align_modalities and m > 1:
        # Same-class edges from the first modality's node; keep the graph acyclic by
        # removing any edge that would close a cycle through them.
        for c in range(n_classes):
            for k in range(1, m):
                a, b = c, k * n_classes + c
                weights[b, a] = 0.0
                weights[a, b] = rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
        weights = _break_cycles(weights)
    noise_sd = rng.uniform(0.7, 1.3, size=p)
    latent = _sample_sem(weights, n, rng, noise_sd)
    latent = (latent / latent.std(axis=0) if standardize else latent) * logit_scale
    if imbalance > 1:
        offsets = -np.log(imbalance) * np.arange(n_classes) / max(n_classes - 1, 1)
        latent = latent + np.tile(offsets, m)
    if output == "sigmoid":
        latent = latent - 2.0  # tags are rare: a typical class is present in about 1 clip of 8
    names = [f"{c} ({mod})" for mod in modalities for c in class_names(n_classes)]
    if output == "softmax":
        probabilities = _softmax_blocks(latent, m)
    else:
        probabilities = np.exp(-np.logaddexp(0.0, -latent))
    if decimals is not None:
        probabilities = np.round(probabilities, decimals)
    probabilities = probabilities.astype(dtype)  # a smaller dtype underflows tiny values to 0
    meta = {
        "simulation": "soft-labels", "n_classes": n_classes, "modalities": list(modalities),
        "n": n, "expected_degree": expected_degree, "seed": seed, "logit_scale": logit_scale,
        "output": output, "decimals": decimals, "dtype": np.dtype(dtype).name, "imbalance": imbalance,
        "chain": chain, "weight_range": list(weight_range), "standardize": standardize,
    }
    return SimulatedSoftLabels(
        probabilities,
        latent.astype(dtype),
        names,
        weights,
        _dag_graph(names, weights, meta),
        modalities,
        n_classes,
    )


def _break_cycles(weights: np.ndarray) -> np.ndarray:
    """Drop random-DAG edges that close a cycle with the alignment edges (deterministic)."""
    from ililab.cpdag import is_dag

    w = weights.copy()
    if is_dag(w):
        return w
    # Rebuild: keep edges in a fixed order, adding each only if it keeps the graph acyclic.
    p = w.shape[0]
    kept = np.zeros_like(w)
    strength = [(-abs(w[i, j]), i, j) for i, j in zip(*np.nonzero(w))]
    for _, i, j in sorted(strength):
        kept[i, j] = w[i, j]
        if not is_dag(kept):
            kept[i, j] = 0.0
    assert kept.shape == (p, p)
    return kept
