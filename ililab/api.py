"""The Python API behind ``ililab infer-graph``: :func:`infer_graph` and :func:`load_graph`.

Validation lives here, once. :func:`check_request` checks what is asked (learner,
parameters, bootstrap options) before any data is read and returns an
:class:`InferenceRequest`; :func:`run_request` carries it out (load, validate and
transform the data with :func:`prepare_dataset`, build the knowledge over the
dataset's nodes, fit, annotate). :func:`infer_graph` is the two in one call; the
``ililab infer-graph`` command calls them separately, so that it can check its
output paths in between, and each check runs once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ililab._version import __version__
from ililab.dataset import Dataset
from ililab.engines import make_engine
from ililab.errors import DataError, UsageError
from ililab.formats import read_graph
from ililab.graph import DependencyGraph
from ililab.knowledge import Knowledge, load_knowledge
from ililab.learners import DEFAULT_LEARNER, Learner, LearnerParams, get
from ililab.matrix import is_shard_pattern, load_matrix, load_shards, validate_matrix
from ililab.names import make_nodes, read_names
from ililab.progress import Progress, search_bars
from ililab.stats import check_covariance
from ililab.transforms import transform_dataset

__all__ = ["infer_graph", "load_graph", "prepare_dataset", "check_request", "run_request", "InferenceRequest", "build_knowledge"]

logger = logging.getLogger("ililab")


def prepare_dataset(
    data: np.ndarray | str | Path,
    names: Sequence[str] | str | Path | None = None,
    modalities: Sequence[str | None] | str | None = None,
    transform: str = "auto",
    key: str | None = None,
    chunk_rows: int | None = None,
    engine: Any = None,
    progress: bool | None = None,
) -> Dataset:
    """Load (if a path), validate and transform data into the :class:`Dataset` learners use.

    The covariance is checked before any learner runs: a singular or badly
    conditioned one is a :class:`~ililab.errors.SingularCovarianceError` that
    names the columns at fault.

    ``data`` may also be a glob pattern (``"shards/*.npy"``) or a list of ``.npy``
    paths: shards are memory-mapped and streamed to their covariance in chunks of
    ``chunk_rows`` rows (on ``engine`` when given, e.g. a Dask cluster), as are
    memory-mapped files too large to hold in memory. ``progress=False`` silences
    the progress bar of long passes (shown on a terminal's stderr only).

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(4, 3000, seed=0)
    >>> data = prepare_dataset(sim.data, names=["a (audio)", "b (audio)", "a (visual)", "b (visual)"], progress=False)
    >>> data.n_samples, data.names[2], data.info["transform"], data.covariance.shape
    (3000, 'a (visual)', 'none', (4, 4))
    """
    if isinstance(names, (str, Path)):
        names = read_names(names)
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, (str, Path)) for d in data) or (
        isinstance(data, (str, Path)) and is_shard_pattern(data)
    ):
        if key is not None:
            raise DataError("--key applies to one .npz archive, not to .npy shards")
        shards = load_shards(data)
        values, file_names = shards.arrays, None
    elif isinstance(data, (str, Path)):
        matrix = load_matrix(data, key=key)
        values, file_names = matrix.values, matrix.names
    else:
        values, file_names = np.asarray(data) if not isinstance(data, np.ndarray) else data, None
        validate_matrix(values, "data")
    if names is None:
        names = file_names
    elif file_names is not None and list(names) != list(file_names):
        raise DataError("names given differ from the CSV header; give one or the other")
    n_columns = values[0].shape[1] if isinstance(values, list) else values.shape[1]
    if isinstance(modalities, str):
        _check_modality_blocks(modalities, n_columns, names)
    nodes = make_nodes(n_columns, names, modalities)
    n_rows = sum(v.shape[0] for v in values) if isinstance(values, list) else values.shape[0]
    # Overflow (values near 1e300) shows as a non-finite covariance, reported with its columns.
    with Progress(n_rows, "covariance", enabled=progress is not False) as bar, np.errstate(over="ignore", invalid="ignore"):
        dataset = transform_dataset(values, nodes, transform, chunk_rows=chunk_rows, progress=bar.update, engine=engine)
    hint = "--transform auto" if dataset.info.get("simplex_blocks") and dataset.info["transform"] == "none" else ""
    if hint:
        hint = (
            "the rows of " + ", ".join(dataset.info["simplex_blocks"]) + " sum to 1 (soft labels); "
            "use --transform auto (Python: transform='auto') or drop one column per block"
        )
    condition = check_covariance(dataset.covariance, dataset.names, hint=hint)
    dataset.info["condition_number"] = condition
    return dataset


def _check_modality_blocks(spec: str, n_columns: int, names: Sequence[str] | None) -> None:
    """A ``--modalities`` spec must give every column a block, and agree with ``Class (modality)`` names.

    Raises
    ------
    UsageError
        A column in no block, or a block that contradicts a column's name.
    """
    from ililab.graph import split_name
    from ililab.names import parse_modalities

    blocks = parse_modalities(spec, n_columns)
    missing = [c for c, m in enumerate(blocks) if m is None]
    if missing:
        shown = ", ".join(str(c) for c in missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise UsageError(
            f"--modalities {spec} leaves column{'s' if len(missing) > 1 else ''} {shown} of the {n_columns} in no "
            "block; give every column a block (blocks are START:STOP, STOP excluded)"
        )
    if names is None:
        return
    known = set(blocks)
    for column, (name, block) in enumerate(zip(names, blocks)):
        said = split_name(str(name))[1]
        if said is not None and said != block and said in known:
            raise UsageError(
                f"--modalities puts column {column} {str(name)!r} in block {block!r}, but its name says {said!r}; "
                "fix the blocks, or leave out --modalities (the names give the modalities)"
            )


@dataclass(frozen=True)
class InferenceRequest:
    """What :func:`run_request` is asked to do, checked by :func:`check_request`.

    Unpacks as ``(learner class, validated parameters)``, the pair ``check_request``
    returned before it returned a request.

    Attributes
    ----------
    learner : str
        The registered learner name.
    learner_cls : type of Learner
        Its class.
    params : LearnerParams
        The validated parameters.
    bootstrap : int
        Number of bootstrap replicates (0: none).
    min_confidence : float or None
        With ``bootstrap``: drop edges whose confidence is lower.
    chunk_rows : int or None
        Rows per chunk of streaming passes.

    Examples
    --------
    >>> request = check_request("ges", {"penalty": 2})
    >>> request.learner, request.params.penalty, request.bootstrap
    ('ges', 2.0, 0)
    >>> cls, params = request
    >>> cls.name
    'ges'
    """

    learner: str
    learner_cls: type[Learner]
    params: LearnerParams
    bootstrap: int = 0
    min_confidence: float | None = None
    chunk_rows: int | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.learner_cls, self.params))


def check_request(
    learner: str | type[Learner] = DEFAULT_LEARNER,
    params: Mapping[str, Any] | LearnerParams | None = None,
    *,
    bootstrap: int = 0,
    min_confidence: float | None = None,
    chunk_rows: int | None = None,
) -> InferenceRequest:
    """Check what :func:`infer_graph` is asked to do, before any data is read.

    The one place these checks live: :func:`infer_graph` runs it, and ``ililab
    infer-graph`` runs it first (so that a mistake costs no time) and hands the
    request to :func:`run_request`.

    ``learner`` is a registered name, or the class :func:`ililab.learners.get` returned
    for it (the command looks the learner up before it reads ``-p KEY=VALUE``, so that an
    unknown learner is the error it reports first; it is not looked up again here).

    Returns
    -------
    InferenceRequest
        Unpacks as ``(learner class, validated parameters)``.

    Raises
    ------
    UnknownLearnerError
        ``learner`` is not registered.
    ParameterError
        A learner parameter is unknown or out of range.
    UsageError
        ``min_confidence`` without ``bootstrap``, a negative ``bootstrap``, ``chunk_rows`` below 1.

    Examples
    --------
    >>> cls, params = check_request("grasp", {"seed": 3})
    >>> cls.name, params.seed
    ('grasp', 3)
    >>> check_request("grasp", min_confidence=0.5)
    Traceback (most recent call last):
    ...
    ililab.errors.UsageError: --min-confidence needs --bootstrap B (confidences come from bootstrap replicates)
    """
    learner_cls = learner if isinstance(learner, type) else get(learner)
    validated = learner_cls.validate_params(params)
    if min_confidence is not None and not bootstrap:
        raise UsageError("--min-confidence needs --bootstrap B (confidences come from bootstrap replicates)")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:  # before the replicates, not after
        raise UsageError(f"--min-confidence must lie in [0, 1], got {min_confidence}")
    if bootstrap < 0:
        raise UsageError(f"bootstrap must be 0 (none) or a number of replicates (1 or more), got {bootstrap}")
    if chunk_rows is not None and chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    return InferenceRequest(learner_cls.name, learner_cls, validated, bootstrap, min_confidence, chunk_rows)


def build_knowledge(
    nodes: Sequence[Any],
    knowledge: Knowledge | str | Path | None = None,
    *,
    forbid_within_modality: bool = False,
    tier_order: Sequence[str] | None = None,
) -> Knowledge | None:
    """The background knowledge over ``nodes``: a file or object, plus modality rules.

    Parameters
    ----------
    nodes : sequence of Node
        The dataset's nodes (``dataset.graph_nodes``); modalities come from them.
    knowledge : Knowledge, or path of a knowledge JSON file, optional
    forbid_within_modality : bool
        Forbid edges between classes of the same modality.
    tier_order : sequence of str, optional
        Modalities as tiers in this order (no edge from a later to an earlier one).

    Returns
    -------
    Knowledge or None
        None when nothing is asked.

    Examples
    --------
    >>> from ililab.graph import Node
    >>> nodes = [Node.from_name("a (audio)"), Node.from_name("a (visual)")]
    >>> build_knowledge(nodes, tier_order=["audio", "visual"]).tiers
    (('a (audio)',), ('a (visual)',))
    >>> build_knowledge(nodes) is None
    True
    """
    result = load_knowledge(knowledge) if isinstance(knowledge, (str, Path)) else knowledge
    if forbid_within_modality or tier_order:
        order = list(tier_order) if tier_order else None
        extra = Knowledge.from_modalities(nodes, forbid_within_modality=forbid_within_modality, tier_order=order)
        result = extra.merge(result) if result is not None else extra
    return result


def infer_graph(
    data: np.ndarray | str | Path | Dataset,
    names: Sequence[str] | str | Path | None = None,
    modalities: Sequence[str | None] | str | None = None,
    learner: str = DEFAULT_LEARNER,
    transform: str = "auto",
    seed: int | None = None,
    knowledge: Knowledge | None = None,
    key: str | None = None,
    bootstrap: int = 0,
    min_confidence: float | None = None,
    engine: str | Any = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    chunk_rows: int | None = None,
    progress: bool | None = None,
    scheduler_timeout: float | None = None,
    **params: Any,
) -> DependencyGraph:
    """Infer a class dependency graph from a data matrix (typically soft labels).

    Parameters
    ----------
    data : ndarray of shape (n, p), path, or Dataset
        Rows are samples (clips), columns variables (class scores). A path is
        read with :func:`ililab.matrix.load_matrix` (``.npy``, ``.npz``, ``.csv``).
    names : sequence of str, or path, optional
        Column names, or a file with one name per line; ``"Class (modality)"``
        names give modalities.
    modalities : sequence or str, optional
        One modality per column, or a spec such as ``"audio=0:28,visual=28:56"``.
    learner : str
        Registered learner name (``ililab.learners.available()``).
    transform : {"auto", "none", "logit", "alr", "clr", ...}
        Soft-label transform; ``auto`` handles simplex blocks (see ``docs/soft-labels.md``).
    seed : int, optional
        Seed of the learner's random choices (default: the learner's default, 0).
    knowledge : Knowledge, optional
        Required / forbidden edges and tiers.
    key : str, optional
        Array name inside an ``.npz`` archive.
    bootstrap : int
        Number B of bootstrap replicates; > 0 annotates each edge with its
        ``confidence`` (see :mod:`ililab.bootstrap`). Seeds come from ``seed``.
    min_confidence : float, optional
        With ``bootstrap``: drop edges whose confidence is lower.
    engine : {"local", "dask"} or an engine object
        Where replicates (and the covariance of shards) run; see :mod:`ililab.engines`.
    jobs : int, optional
        Worker processes (local) or workers of a new Dask ``LocalCluster``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``), with ``engine="dask"``.
    scheduler_timeout : float, optional
        Seconds to wait for that scheduler to answer (default 10); then an
        :class:`~ililab.engines.EngineError`.
    chunk_rows : int, optional
        Rows per chunk of streaming passes (memory is bounded by about one chunk).
    progress : bool, optional
        False silences progress bars; by default they show on a terminal's stderr.
    **params
        Learner parameters, validated against the learner's ``Params``.

    Returns
    -------
    DependencyGraph
        With ``meta`` recording learner, parameters, transform, ``n_samples``
        and the ililab version (never timings, so the same seed gives the same bytes).

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(5, 2000, seed=0)
    >>> g = infer_graph(sim.data, learner="ges")
    >>> len(g.nodes)
    5
    """
    if seed is not None:
        params["seed"] = seed
    request = check_request(learner, params, bootstrap=bootstrap, min_confidence=min_confidence, chunk_rows=chunk_rows)
    own_engine = isinstance(engine, str)
    runner = make_engine(engine, jobs=jobs, scheduler=scheduler, timeout=scheduler_timeout) if own_engine else engine
    try:
        return run_request(request, data, names, modalities, transform, key, knowledge, engine=runner, progress=progress)
    finally:
        if own_engine:
            runner.close()


def run_request(
    request: InferenceRequest,
    data: np.ndarray | str | Path | Dataset,
    names: Sequence[str] | str | Path | None = None,
    modalities: Sequence[str | None] | str | None = None,
    transform: str = "auto",
    key: str | None = None,
    knowledge: Knowledge | str | Path | None = None,
    *,
    forbid_within_modality: bool = False,
    tier_order: Sequence[str] | None = None,
    engine: Any = None,
    progress: bool | None = None,
) -> DependencyGraph:
    """Carry out a checked request: prepare the data, build the knowledge, fit, annotate.

    The request is not checked again (:func:`check_request` did that). ``data``,
    ``names``, ``modalities``, ``transform`` and ``key`` are those of :func:`infer_graph`;
    ``knowledge``, ``forbid_within_modality`` and ``tier_order`` those of
    :func:`build_knowledge` (applied over the dataset's nodes); ``engine`` is an engine
    object (:func:`ililab.engines.make_engine`) or None for the local one.

    Examples
    --------
    >>> from ililab.simulate import simulate_linear_sem
    >>> sim = simulate_linear_sem(4, 1000, seed=0)
    >>> graph = run_request(check_request("ges"), sim.data, names=sim.names, forbid_within_modality=False)
    >>> graph.meta["learner"], len(graph.nodes)
    ('ges', 4)
    """
    learner, learner_cls, validated = request.learner, request.learner_cls, request.params
    bootstrap, min_confidence, chunk_rows = request.bootstrap, request.min_confidence, request.chunk_rows
    if isinstance(data, Dataset):
        dataset = data
    else:
        streaming_engine = engine if getattr(engine, "name", "local") != "local" else None
        dataset = prepare_dataset(
            data, names, modalities, transform, key, chunk_rows=chunk_rows, engine=streaming_engine, progress=progress
        )
    knowledge = build_knowledge(
        dataset.graph_nodes, knowledge, forbid_within_modality=forbid_within_modality, tier_order=tier_order
    )
    if knowledge is not None:
        knowledge.check_names(dataset.names)
    started = time.perf_counter()
    with search_bars(progress is not False):  # GRaSP's / BOSS's restarts: a bar on a terminal
        graph = learner_cls().fit(dataset, knowledge, validated)
    elapsed = time.perf_counter() - started
    logger.info("learner %s finished in %.3f s: %d edges", learner, elapsed, len(graph.edges))
    if dataset.output_nodes is not None:
        graph = DependencyGraph(dataset.graph_nodes, graph.edges, graph.meta)
    meta = dict(graph.meta)
    meta.setdefault("learner", learner)
    meta.setdefault("params", validated.model_dump(by_alias=True))
    meta.update(
        {
            "n_samples": dataset.n_samples,
            "transform": dataset.info.get("transform", "none"),
            "ililab_version": __version__,
        }
    )
    diagnostics = {k: v for k, v in dataset.info.items() if k not in ("transform",) and not k.startswith("_")}
    if diagnostics:
        meta["data"] = diagnostics
    if knowledge is not None and not knowledge.is_empty:
        meta["knowledge"] = knowledge.to_dict()
    graph = graph.with_meta(**meta)
    if bootstrap:
        from ililab.bootstrap import bootstrap_graph

        params = validated.model_dump(by_alias=True)
        with Progress(bootstrap, "bootstrap", enabled=progress is not False) as bar:
            graph = bootstrap_graph(
                graph,
                dataset,
                learner=learner,
                params=params,
                knowledge=knowledge,
                replicates=bootstrap,
                seed=int(params.get("seed") or 0),
                engine=engine,
                chunk_rows=chunk_rows,
                min_confidence=min_confidence,
                on_result=bar.update,
            )
    return graph


def load_graph(path: str | Path, format: str | None = None) -> DependencyGraph:
    """Read a graph file (``ililab.graph/v1`` JSON, or another supported format).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from ililab.graph import DependencyGraph, Edge
    >>> graph = DependencyGraph(["a", "b"], [Edge("a", "b", weight=0.5)])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = graph.save(pathlib.Path(tmp) / "graph.graphml")
    ...     load_graph(path) == graph
    True
    """
    return read_graph(path, format)


