"""Scaling benchmark: streaming covariance of a large memory-mapped matrix, and bootstrap on each engine.

Not a timed test. Prints the figures it measures; docs/performance.md ("Scaling") quotes them.

    .venv/bin/python benchmarks/scale.py                       # 10^7 x 100 (8 GB on disk), B = 100
    .venv/bin/python benchmarks/scale.py --rows 1000000        # smaller file
    .venv/bin/python benchmarks/scale.py --skip-streaming      # bootstrap part only

1. Streaming covariance: writes an n x 100 float64 .npy (10^7 rows = 8 GB; if the
   disk lacks the space it says so and uses 10^6 rows), then, each in a fresh
   process so peak RSS is that pass's own: numpy.cov on the largest slice held in
   memory, ililab's streaming pass over the same rows of the memory-mapped file,
   and the streaming pass over the whole file. Throughput is bytes of input per
   second. The file was just written, so reads are mostly served by the page cache.
2. Bootstrap of GRaSP (the native learner; BOSS stands in while it is missing) on
   2 x 28 soft-label classes (logits, n = 2000), B = 100: local engine with 1 and
   2 jobs, and a Dask LocalCluster with 2 single-threaded workers (start-up timed
   apart). All engines must give identical confidences.

BLAS is pinned to one thread everywhere.
"""

from __future__ import annotations

from _common import pin_blas

pin_blas()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

FULL_ROWS = 10**7
FALLBACK_ROWS = 10**6
COLUMNS = 100
# Rows of the in-memory slice numpy.cov gets (0.8 GB; np.cov holds a centred copy too).
SLICE_ROWS = 10**6
WRITE_BLOCK = 50_000


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's, inherited at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def write_matrix(path: Path, rows: int, cols: int, seed: int = 0) -> None:
    """Correlated Gaussian rows, written block by block with plain file writes (no big buffers)."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(cols, cols)) / np.sqrt(cols)
    offset = rng.normal(size=cols) * 5
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_2_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (rows, cols)})
        for start in range(0, rows, WRITE_BLOCK):
            block = rng.standard_normal((min(WRITE_BLOCK, rows - start), cols)) @ mixing + offset
            block.astype("<f8").tofile(handle)


# -- child processes (one measurement each, so ru_maxrss is the measurement's own) ---------------


def child_numpy_cov(path: str, rows: int) -> dict:
    data = np.load(path, mmap_mode="r")
    x = np.array(data[:rows])
    start = time.perf_counter()
    cov = np.cov(x, rowvar=False)
    seconds = time.perf_counter() - start
    np.save(path + f".npcov-{rows}.npy", cov)
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "bytes": x.nbytes}


def child_syrk(path: str, rows: int) -> dict:
    """The best in-memory way we know: centre, then one symmetric rank-k update (X.T @ X)."""
    data = np.load(path, mmap_mode="r")
    x = np.array(data[:rows])
    start = time.perf_counter()
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / (rows - 1)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "bytes": x.nbytes, "rel_error": _error(path, rows, cov)}


def _error(path: str, rows: int, cov: np.ndarray) -> float | None:
    reference = Path(path + f".npcov-{rows}.npy")
    if not reference.exists():
        return None
    expected = np.load(reference)
    return float(np.max(np.abs(cov - expected)) / np.max(np.abs(expected)))


def child_stream(path: str, rows: int, chunk_rows: int) -> dict:
    from ililab.stats import streaming_moments

    data = np.load(path, mmap_mode="r")
    view = data if rows >= data.shape[0] else data[:rows]
    if rows < data.shape[0]:
        # a row slice of the map is still backed by the file; keep it a plain file read
        view = np.memmap(path, dtype=data.dtype, mode="r", offset=data.offset, shape=(rows, data.shape[1]))
    start = time.perf_counter()
    moments = streaming_moments(view, chunk_rows=chunk_rows or None)
    seconds = time.perf_counter() - start
    cov = moments.covariance()
    error = _error(path, rows, cov)
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "bytes": rows * data.shape[1] * 8, "rel_error": error}


def _run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- parts ----------------------------------------------------------------------------------------


def streaming_part(args) -> None:
    directory = Path(args.dir or tempfile.gettempdir())
    rows = args.rows
    need = rows * COLUMNS * 8
    free = shutil.disk_usage(directory).free
    if free < need * 1.1 + 2**30:
        print(
            f"not enough disk space in {directory} for {rows:,} x {COLUMNS} float64 ({need / 1e9:.1f} GB needed, "
            f"{free / 1e9:.1f} GB free): using {FALLBACK_ROWS:,} rows instead"
        )
        rows = FALLBACK_ROWS
    path = Path(tempfile.mkdtemp(prefix="ililab-scale-", dir=directory)) / "matrix.npy"
    try:
        start = time.perf_counter()
        write_matrix(path, rows, COLUMNS)
        size = rows * COLUMNS * 8 / 1e9
        print(f"wrote {path} ({rows:,} x {COLUMNS} float64, {size:.2f} GB) in {time.perf_counter() - start:.1f} s")
        slice_rows = min(SLICE_ROWS, rows)
        results = [
            ("numpy.cov, rows in memory", slice_rows, _run_child("--child-npcov", str(path), str(slice_rows))),
            ("centred X.T @ X, in memory", slice_rows, _run_child("--child-syrk", str(path), str(slice_rows))),
            (
                "ililab streaming, same rows",
                slice_rows,
                _run_child("--child-stream", str(path), str(slice_rows), str(args.chunk_rows)),
            ),
            ("ililab streaming, whole file", rows, _run_child("--child-stream", str(path), str(rows), str(args.chunk_rows))),
        ]
    finally:
        if not args.keep:
            shutil.rmtree(path.parent, ignore_errors=True)
    chunk = args.chunk_rows or "auto (~8 MB)"
    print(f"\nstreaming covariance: p = {COLUMNS}, float64, chunk_rows = {chunk}, BLAS 1 thread")
    header = ("pass", "rows", "GB", "seconds", "GB/s", "peak RSS MB", "rel. error")
    print("| {:<30} | {:>12} | {:>6} | {:>8} | {:>6} | {:>11} | {:>10} |".format(*header))
    print(f"|{'-' * 32}|{'-' * 14}|{'-' * 8}|{'-' * 10}|{'-' * 8}|{'-' * 13}|{'-' * 12}|")
    for name, n, r in results:
        rate = r["bytes"] / r["seconds"] / 1e9
        error = f"{r['rel_error']:.1e}" if r.get("rel_error") is not None else "-"
        print(
            f"| {name:<30} | {n:>12,} | {r['bytes'] / 1e9:>6.2f} | {r['seconds']:>8.2f} | {rate:>6.2f} | "
            f"{r['rss_mb']:>11.0f} | {error:>10} |"
        )
    rate = {name: r["bytes"] / r["seconds"] for name, _, r in results}
    same = rate["ililab streaming, same rows"]
    print(f"streaming / numpy.cov throughput on the same rows: {same / rate['numpy.cov, rows in memory']:.2f} (target >= 0.50)")
    print(f"streaming / in-memory X.T @ X on the same rows: {same / rate['centred X.T @ X, in memory']:.2f}")
    print(f"peak RSS of the whole-file pass: {results[-1][2]['rss_mb']:.0f} MB (target < 1024 MB for 10^7 rows)")


def _pick_learner(requested: str) -> str:
    from ililab.learners import get

    candidates = [requested] if requested != "auto" else ["grasp", "boss"]
    for name in candidates:
        try:
            get(name)
            return name
        except Exception as error:  # the native grasp may not be installed yet
            print(f"learner {name!r} unavailable ({type(error).__name__}: {error})")
    raise SystemExit("no learner available for the bootstrap benchmark")


def bootstrap_part(args) -> None:
    from ililab.api import prepare_dataset
    from ililab.bootstrap import run_bootstrap
    from ililab.engines import DaskEngine, LocalEngine
    from ililab.learners import get
    from ililab.simulate import simulate_soft_labels

    learner = _pick_learner(args.learner)
    sim = simulate_soft_labels(28, 2000, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = prepare_dataset(sim.logits, names=sim.names)
    cls = get(learner)
    cls().fit(dataset, None, {"seed": 0})  # compile / warm the kernels once
    start = time.perf_counter()
    graph = cls().fit(dataset, None, {"seed": 0})
    one_fit = time.perf_counter() - start
    B = args.replicates
    print(f"\nbootstrap: {learner} on {dataset.n_variables} nodes (2 x 28 classes, logits), n = {dataset.n_samples}, B = {B}")
    print(f"one full-data fit: {one_fit:.3f} s, {len(graph.edges)} edges")
    rows = []
    reference = None
    for label, make in [
        ("local, 1 job", lambda: LocalEngine(1)),
        ("local, 2 jobs", lambda: LocalEngine(2)),
        ("dask LocalCluster, 2 workers", lambda: DaskEngine(jobs=2)),
    ]:
        start = time.perf_counter()
        engine = make()
        startup = time.perf_counter() - start
        try:
            start = time.perf_counter()
            result = run_bootstrap(dataset, learner=learner, replicates=B, seed=0, engine=engine)
            seconds = time.perf_counter() - start
        finally:
            engine.close()
        counts = (result.forward, result.backward, result.undirected)
        same = reference is None or all(np.array_equal(a, b) for a, b in zip(counts, reference))
        reference = reference or counts
        rows.append((label, startup, seconds, same))
    print(f"| {'engine':<30} | {'start-up s':>10} | {'bootstrap s':>11} | {'replicates/s':>12} | {'same confidences':>16} |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 13}|{'-' * 14}|{'-' * 18}|")
    for label, startup, seconds, same in rows:
        print(f"| {label:<30} | {startup:>10.2f} | {seconds:>11.2f} | {B / seconds:>12.1f} | {'yes' if same else 'NO':>16} |")
    print(f"target: B = 100 under 60 s on 2 cores; best measured: {min(r[2] for r in rows):.1f} s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        kind, *rest = sys.argv[1:]
        if kind == "--child-npcov":
            print(json.dumps(child_numpy_cov(rest[0], int(rest[1]))))
        elif kind == "--child-syrk":
            print(json.dumps(child_syrk(rest[0], int(rest[1]))))
        else:
            print(json.dumps(child_stream(rest[0], int(rest[1]), int(rest[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows of the memory-mapped matrix (default 10^7)")
    parser.add_argument("--chunk-rows", type=int, default=0, help="rows per chunk (default: automatic, ~8 MB)")
    parser.add_argument("--dir", help="where to write the matrix (default: the temp directory)")
    parser.add_argument("--keep", action="store_true", help="keep the matrix file")
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--learner", default="auto", help="learner of the bootstrap part (default: grasp, else boss)")
    parser.add_argument("--skip-streaming", action="store_true")
    parser.add_argument("--skip-bootstrap", action="store_true")
    args = parser.parse_args()
    print(f"ililab scaling benchmark; {os.cpu_count()} CPUs, numpy {np.__version__}")
    if not args.skip_streaming:
        streaming_part(args)
    if not args.skip_bootstrap:
        bootstrap_part(args)


if __name__ == "__main__":
    main()
