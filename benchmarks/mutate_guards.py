"""Break each guard of ``tests/test_guards.py`` on purpose and check that its tests fail.

For every row of ``GUARDS``: copy the repository (tracked and untracked, not ignored files)
into a scratch directory once, apply the row's mutation there, run the row's tests with the
copy first on ``PYTHONPATH``, and restore the file. A row passes when the tests fail (pytest
exit code 1); a mutation whose tests still pass has *survived* and is a hole in the suite.

    .venv/bin/python benchmarks/mutate_guards.py            # every row
    .venv/bin/python benchmarks/mutate_guards.py zip GraphML  # rows whose text contains a word

Exit code 0 when every mutation is caught, 1 otherwise. The repository itself is never modified.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_guards() -> tuple:
    """The ``GUARDS`` table of tests/test_guards.py."""
    spec = importlib.util.spec_from_file_location("_ililab_guards", ROOT / "tests" / "test_guards.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module.GUARDS


def _copy_repository(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run(words: list[str]) -> int:
    guards = [g for g in load_guards() if not words or any(w.lower() in g.what.lower() for w in words)]
    survived = 0
    with tempfile.TemporaryDirectory(prefix="ililab-mutants-") as scratch:
        copy = Path(scratch)
        _copy_repository(copy)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(copy), str(copy / "plugins" / "ililab-torch")]),
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        where = subprocess.run(
            [sys.executable, "-c", "import ililab, ililab_torch; print(ililab.__file__, ililab_torch.__file__)"],
            cwd=copy, env=env, capture_output=True, text=True,
        ).stdout
        if where.count(str(copy)) != 2:
            print(f"the copy is not the code imported ({where.strip()}); is ililab installed non-editable?")
            return 2
        print(f"{'guard':<78} {'result':<9} {'s':>6}")
        for guard in guards:
            path = copy / guard.file
            original = path.read_text(encoding="utf-8")
            if original.count(guard.original) != 1:
                print(f"{guard.what[:78]:<78} {'MOVED':<9}")
                survived += 1
                continue
            path.write_text(original.replace(guard.original, guard.mutated), encoding="utf-8")
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *guard.tests],
                    cwd=copy, env=env, capture_output=True, text=True, timeout=900,
                )
            finally:
                path.write_text(original, encoding="utf-8")
            seconds = time.perf_counter() - start
            caught = done.returncode == 1  # tests ran and failed (2-5: usage / collection problems)
            survived += not caught
            result = "caught" if caught else "SURVIVED" if done.returncode == 0 else f"error {done.returncode}"
            print(f"{guard.what[:78]:<78} {result:<9} {seconds:6.1f}", flush=True)
            if not caught:
                print("    " + "\n    ".join(done.stdout.strip().splitlines()[-5:]))
    print(f"{len(guards) - survived} of {len(guards)} mutations caught")
    return 0 if survived == 0 else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
