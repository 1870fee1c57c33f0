"""Third-party learners through the ``ililab.learners`` entry-point group.

The fixture packages under ``tests/fixtures/`` are installed the way an installer lays them out
— the package next to a ``NAME-VERSION.dist-info`` whose ``entry_points.txt`` is generated from
the fixture's own ``pyproject.toml`` — into a temporary directory put on ``sys.path``. That needs
no network or build backend and leaves the venv clean; a slow test also runs a real
``pip install --target``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ililab.learners as registry
from ililab.learners import available, check_learner, get

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def install_fixture(name: str, target: Path) -> Path:
    """Lay out fixture ``name`` in ``target`` as an installed distribution; returns ``target``."""
    source = FIXTURES / name
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    for package in tomllib.loads((source / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]:
        shutil.copytree(source / package, target / package)
    dist = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    lines = []
    for group, points in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return target


@pytest.fixture
def fresh_registry(monkeypatch):
    """The registry as if ililab had just been imported (plugins not yet scanned)."""
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "_registered", {k: v for k, v in registry._registered.items() if k in registry._BUILTIN})
    before = set(sys.modules)
    yield
    for module in set(sys.modules) - before:
        if module.startswith(("ililab_toy_learner", "ililab_broken_plugin")):
            del sys.modules[module]


@pytest.fixture
def site(tmp_path, monkeypatch, fresh_registry):
    target = tmp_path / "site"
    target.mkdir()
    monkeypatch.syspath_prepend(str(target))
    return target


def test_plugin_is_listed_usable_and_conforms(site, run_cli, tmp_path):
    install_fixture("ililab_toy_learner", site)
    assert "toy-pcorr" in available()
    cls = get("toy-pcorr")
    assert cls.__module__ == "ililab_toy_learner"
    assert check_learner(cls)[-1] == "knowledge"

    listing = run_cli("learners")
    assert listing.code == 0
    assert "toy-pcorr: Toy plugin" in listing.out and "threshold (float, default 0.1)" in listing.out
    rows = json.loads(run_cli("learners", "--json").out)
    assert rows[-1]["name"] == "toy-pcorr" and rows[-1]["knowledge"] is False

    from ililab.simulate import simulate_linear_sem

    path = tmp_path / "x.npy"
    np.save(path, simulate_linear_sem(6, 2000, seed=1).data)
    result = run_cli("infer-graph", path, "--learner", "toy-pcorr", "--param", "threshold=0.2")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["meta"]["learner"] == "toy-pcorr" and doc["meta"]["params"] == {"threshold": 0.2}
    assert doc["edges"] and all(e["kind"] == "undirected" and abs(e["weight"]) > 0.2 for e in doc["edges"])
    result = run_cli("infer-graph", path, "--learner", "toy-pcorr", "--param", "threshold=2")
    assert result.code == 2 and "parameter 'threshold'" in result.err


def test_broken_plugins_warn_and_do_not_break_ililab(site, run_cli):
    install_fixture("ililab_broken_plugin", site)
    install_fixture("ililab_toy_learner", site)
    with pytest.warns(RuntimeWarning) as caught:
        names = available()
    messages = " | ".join(str(w.message) for w in caught)
    for bad in ("broken-import", "not-a-learner", "crashing"):
        assert f"skipping learner plugin {bad!r}" in messages
        assert bad not in names
    assert "broken on purpose" in messages and "not an ililab Learner subclass" in messages
    assert "toy-pcorr" in names and "boss" in names


def test_cli_in_a_fresh_process_lists_plugin_and_warns_about_broken_ones(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_fixture("ililab_toy_learner", site)
    install_fixture("ililab_broken_plugin", site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from ililab.cli import main; main(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, "learners"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "toy-pcorr: Toy plugin" in done.stdout and "boss" in done.stdout
    assert "skipping learner plugin 'crashing'" in done.stderr and "Traceback" not in done.stderr


def build_wheel(name: str, directory: Path) -> Path:
    """A wheel of fixture ``name``, zipped by hand (no build backend, no network): the
    installed layout of :func:`install_fixture` plus the WHEEL and RECORD files pip reads."""
    import base64
    import hashlib
    import zipfile

    layout = install_fixture(name, directory / "layout")
    dist = next(layout.glob("*.dist-info"))
    (dist / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: ililab-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    files = sorted(f for f in layout.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    record = []
    for f in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(f.read_bytes()).digest()).rstrip(b"=").decode()
        record.append(f"{f.relative_to(layout).as_posix()},sha256={digest},{f.stat().st_size}")
    record.append(f"{dist.name}/RECORD,,")
    (dist / "RECORD").write_text("\n".join(record) + "\n")
    wheel = directory / f"{dist.name[: -len('.dist-info')]}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for f in [*files, dist / "RECORD"]:
            archive.write(f, f.relative_to(layout).as_posix())
    return wheel


@pytest.mark.slow
def test_real_pip_install_into_a_target_directory(tmp_path, monkeypatch, fresh_registry):
    # pip installs a ready wheel with --no-index: nothing to download or build, so a failure
    # here is a real failure (a broken wheel layout or entry-point metadata), never skipped.
    wheel = build_wheel("ililab_toy_learner", tmp_path)
    target = tmp_path / "target"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (target / "ililab_toy_learner").is_dir()
    monkeypatch.syspath_prepend(str(target))
    assert "toy-pcorr" in available()
    assert get("toy-pcorr").name == "toy-pcorr"
