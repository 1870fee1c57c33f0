"""Use the ILI graph in *your own* embedding model: ililab_torch.GraphRegularizer as a plug-in loss term.

Nothing here uses the plugin's student: the model, its loss (a paired-clip InfoNCE) and
the training loop are the user's. The regularizer needs only three things per batch:
the two modalities' embeddings, the teacher's soft labels of those clips, and the graph
(plus, optionally, the annotated labels, so that same-class pairs are not pulled).

    python examples/third_party_embedding.py           # ~20 s
    python examples/third_party_embedding.py --quick   # seconds (used by the tests)
"""

from __future__ import annotations

import argparse
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from ililab_torch import GraphRegularizer, TeacherConfig, cross_modal_map, simulate_av, teacher_soft_labels  # noqa: E402
from torch import nn  # noqa: E402

import ililab  # noqa: E402


class MyTwoTower(nn.Module):
    """A user's model: any two encoders returning batch x dim embeddings will do."""

    def __init__(self, dim_audio: int, dim_visual: int, dim: int = 32) -> None:
        super().__init__()
        self.audio = nn.Sequential(nn.Linear(dim_audio, 128), nn.GELU(), nn.Linear(128, dim))
        self.visual = nn.Sequential(nn.Linear(dim_visual, 128), nn.GELU(), nn.Linear(128, dim))

    def forward(self, a: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.normalize(self.audio(a), dim=1), F.normalize(self.visual(v), dim=1)


def info_nce(za: torch.Tensor, zv: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """The user's own metric loss: each clip's audio should pick its own visual, and back."""
    logits = za @ zv.T / temperature
    target = torch.arange(za.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lam", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    small = args.quick
    sim = simulate_av(n_classes=6 if small else 10, clips_per_class=80 if small else 120,
                      dim_visual=64 if small else 256, seed=args.seed)
    data = sim.features
    train, test = data.split_indices()

    # 1. Soft labels of the training clips (any teacher's probabilities work) and the ILI graph.
    soft = teacher_soft_labels(data, train, TeacherConfig(epochs=8 if small else 30, seed=args.seed))
    graph = ililab.infer_graph(soft.logits, names=soft.names, learner="ges", seed=args.seed)

    # 2. The regularizer: names tell it which soft-label column is which graph node.
    #    reference= gives edge strengths (the learner's graph has no weights) for the sign filter and top-k.
    reg = GraphRegularizer(graph, soft.names, tau=0.1, top_k=3, reference=soft.probabilities)
    print(f"graph: {len(graph.edges)} edges; the regularizer uses {len(reg.weights.edges)}:")
    for edge, weight in reg.weights.edges:
        print(f"  {edge.source}  --  {edge.target}   (A = {weight:g})")

    # 3. The user's training loop, with one extra line for the LIR term.
    model = MyTwoTower(data.dims["audio"], data.dims["visual"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    a = torch.as_tensor(data.audio[train])
    v = torch.as_tensor(data.visual[train])
    y = torch.as_tensor(data.label[train])
    s = torch.as_tensor(soft.probabilities, dtype=torch.float32)
    c = data.n_classes
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(3 if small else 25):
        order = torch.randperm(len(train), generator=generator)
        total_metric = total_lir = 0.0
        for idx in order.split(64):
            za, zv = model(a[idx], v[idx])
            metric = info_nce(za, zv)
            lir = reg(za, zv, s[idx, :c], s[idx, c:], y[idx])  # <- the only LIR-specific line
            loss = metric + args.lam * lir
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_metric += metric.item()
            total_lir += lir.item()
        if epoch % 5 == 0 or small:
            print(f"epoch {epoch + 1}: metric loss {total_metric:.3f}, LIR term {total_lir:.4f}")

    model.eval()
    with torch.no_grad():
        za, zv = model(torch.as_tensor(data.audio[test]), torch.as_tensor(data.visual[test]))
    result = cross_modal_map(za.numpy(), zv.numpy(), np.asarray(data.label[test]))
    print(f"test mAP audio->visual {result['audio_to_visual']:.4f}, visual->audio {result['visual_to_audio']:.4f}, "
          f"mean {result['mean']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
