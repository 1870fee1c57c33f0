"""What the LIR benchmarks share: one seed's simulate -> teacher -> grasp graph -> baseline student, and the seed loop.

Imported by the benchmark scripts (run by path, so this directory is on ``sys.path``) after they pin BLAS to one thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from ililab_torch import (
    AVFeatures,
    SimulatedAV,
    SoftLabels,
    StudentConfig,
    TeacherConfig,
    evaluate,
    simulate_av,
    teacher_soft_labels,
    train_student,
)

import ililab
from ililab.graph import DependencyGraph


@dataclass
class Seeded:
    """One seed's benchmark, out-of-fold teacher soft labels of its train clips and the grasp graph on their logits."""

    seed: int
    sim: SimulatedAV
    train: np.ndarray
    test: np.ndarray
    soft: SoftLabels
    graph: DependencyGraph

    @property
    def data(self) -> AVFeatures:
        return self.sim.features

    def mean_map(self, graph: DependencyGraph | None, config: StudentConfig) -> float:
        """Mean test mAP of a student trained with ``graph`` (None: metric only) and the teacher's probabilities."""
        soft = None if graph is None else self.soft.probabilities
        return evaluate(train_student(self.data, self.train, soft, graph, config), self.data, self.test)["mean"]


def prepare(seed: int, teacher_epochs: int, **simulate: Any) -> Seeded:
    """``simulate_av(**simulate, seed=seed)``, the default split, the teacher and the grasp graph, all seeded by ``seed``."""
    sim = simulate_av(**simulate, seed=seed)
    train, test = sim.features.split_indices()
    soft = teacher_soft_labels(sim.features, train, TeacherConfig(epochs=teacher_epochs, seed=seed))
    graph = ililab.infer_graph(soft.logits, names=soft.names, learner="grasp", seed=seed)
    return Seeded(seed, sim, train, test, soft, graph)


def _rounded(value: Any) -> Any:
    """Floats to 4 decimals, inside lists and dicts too (one short JSON line per seed)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def run_seeds(args: Any, one_seed: Callable[[int], dict], summarize: Callable[[list[dict]], None]) -> None:
    """One torch thread; ``one_seed(seed)`` for each of ``args.seeds`` ("0,1,2"), printed as a JSON line
    (floats to 4 decimals); then the arguments, ``summarize(rows)`` and the wall and CPU seconds."""
    torch.set_num_threads(1)
    t0, c0 = time.perf_counter(), time.process_time()
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        r = one_seed(seed)
        print(json.dumps(_rounded(r)), flush=True)
        rows.append(r)
    print("ARGS", vars(args))
    summarize(rows)
    print(f"wall {time.perf_counter() - t0:.0f} cpu {time.process_time() - c0:.0f}")
