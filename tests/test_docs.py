"""Docs that run: every ```bash / ```sh / ```python block of README.md and docs/*.md, in order per file.

Each Markdown file gets its own temporary directory holding the demo data of

    ililab simulate soft-labels --classes 10 --samples 20000 --seed 0 -o demo

(simulated once per session and copied), and runs its blocks there, top to bottom:
python blocks share one namespace per file (like a notebook), shell blocks run command
by command. A command that is a plain ``ililab ARGS`` (no pipe, redirection, variable
or unquoted glob) runs in this process through the real entry point (``ililab.cli.main``),
which keeps the whole suite fast (Numba's kernels load once); anything else runs in
``bash`` with this environment's ``bin`` first on ``PATH``. A command that exits non-zero
fails the block.

Conventions for writers: a block whose fence has the line ``<!-- not-run: reason -->``
directly above it is skipped, and pytest's summary lists it with its reason (keep them
few and honest); ```text, ```console, ```json, ```toml and unlabelled blocks never run.
Selecting one block (``pytest tests/test_docs.py -k quickstart``) first runs the blocks
of the same file above it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL, PYTHON = ("bash", "sh"), ("python",)
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)")
DEMO_COMMAND = ["simulate", "soft-labels", "--classes", "10", "--samples", "20000", "--seed", "0", "-o", "demo"]
# characters that make a shell line more than "ililab ARGS" when they appear outside quotes
SHELL_SYNTAX = set("|&;<>()$`\\*?[]{}~!")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None  # the not-run reason, if any

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of ``path`` in order (any language)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path.relative_to(ROOT)}:{i + 1}: code block never closed")
        marker = NOT_RUN.match(lines[i - 1]) if i else None
        skip = marker.group("reason") if marker else None
        blocks.append(Block(path, i + 1, match.group("lang").lower(), "\n".join(lines[i + 1 : end]) + "\n", skip))
        i = end + 1
    return blocks


RUNNABLE = [b for path in DOC_FILES for b in doc_blocks(path) if b.lang in SHELL + PYTHON]


def shell_commands(code: str) -> list[str]:
    """The logical lines of a shell block: continuations joined, blank and comment-only lines dropped."""
    joined = re.sub(r"\\\n", " ", code)
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def plain_ililab(line: str) -> list[str] | None:
    """The arguments of a line that is just ``ililab ARGS [# comment]``, or None (then bash runs it)."""
    quote = None
    for ch in line:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            break
        elif ch in SHELL_SYNTAX:
            return None
    words = shlex.split(line, comments=True)
    return words[1:] if words and words[0] == "ililab" else None


@dataclass
class FileState:
    """A Markdown file's working directory, its python namespace, and how far its blocks have run."""

    directory: Path
    namespace: dict = field(default_factory=lambda: {"__name__": "__docs__"})
    done: int = 0
    failed: str | None = None


_STATES: dict[Path, FileState] = {}


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    from ililab.cli import main

    where = tmp_path_factory.mktemp("docs-demo")
    cwd = os.getcwd()
    os.chdir(where)
    try:
        main(["--quiet", *DEMO_COMMAND])
    except SystemExit as stop:
        assert not stop.code, f"ililab {' '.join(DEMO_COMMAND)} failed"
    finally:
        os.chdir(cwd)
    return where / "demo"


def _run_shell(block: Block, state: FileState) -> None:
    from ililab.cli import main

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg")
    for line in shell_commands(block.code):
        args = plain_ililab(line)
        if args is not None:
            try:
                main(args)
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            detail = "its error is on stderr above"
        else:
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", line], cwd=state.directory, env=env,
                capture_output=True, text=True, timeout=300,
            )
            code, detail = done.returncode, done.stderr.strip()[-2000:]
        if code != 0:
            raise AssertionError(f"{block.where}: `{line.strip()}` exited with {code}: {detail}")


def _run(block: Block, state: FileState) -> None:
    if block.lang in PYTHON:
        exec(compile(block.code, block.where, "exec"), state.namespace)  # our own docs
    else:
        _run_shell(block, state)


def _state(path: Path, demo_data: Path, tmp_path_factory) -> FileState:
    if path not in _STATES:
        directory = tmp_path_factory.mktemp(f"docs-{path.stem}")
        shutil.copytree(demo_data, directory / "demo")
        _STATES[path] = FileState(directory)
    return _STATES[path]


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.where for b in RUNNABLE])
def test_doc_block_runs(block, demo_data, tmp_path_factory, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    state = _state(block.path, demo_data, tmp_path_factory)
    monkeypatch.chdir(state.directory)
    blocks = [b for b in RUNNABLE if b.path == block.path]
    index = blocks.index(block)
    while state.done < index:  # the blocks above (already run, unless this one was selected alone)
        earlier = blocks[state.done]
        state.done += 1
        if earlier.skip is None and state.failed is None:
            try:
                _run(earlier, state)
            except BaseException as error:
                state.failed = f"{earlier.where}: {type(error).__name__}: {error}"
    if block.skip is not None:
        state.done = max(state.done, index + 1)
        pytest.skip(f"{block.where} not-run: {block.skip}")
    if state.failed is not None:
        pytest.fail(f"an earlier block of this file failed ({state.failed})")
    state.done = index + 1
    try:
        _run(block, state)
    except BaseException as error:
        state.failed = f"{block.where}: {type(error).__name__}"
        raise
    if block.path.name == "README.md" and index == len(blocks) - 1:
        # run from a clone, the README's commands must leave nothing beside demo/ (it is in .gitignore)
        assert sorted(p.name for p in state.directory.iterdir()) == ["demo"]


def test_not_run_markers_are_few_and_say_why():
    skipped = [b for path in DOC_FILES for b in doc_blocks(path) if b.skip is not None]
    for block in skipped:
        assert len(block.skip) >= 10, f"{block.where}: say why the block does not run"
    # benchmark commands (minutes of CPU; heavy benchmarks stay out of make test) are not counted,
    # but every script they name must exist; the other blocks that do not run stay few
    scripts = [re.findall(r"python (\S+\.py)", b.code) for b in skipped]
    for block, names in zip(skipped, scripts):
        for name in names:
            assert (ROOT / name).is_file(), f"{block.where}: {name} does not exist"
    others = [b for b, names in zip(skipped, scripts) if not names]
    assert len(others) <= 12, "more than 12 doc blocks do not run: " + ", ".join(b.where for b in others)
    # a marker must sit right above a block that would otherwise run
    for path in DOC_FILES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if NOT_RUN.match(line):
                below = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
                assert below and below.group("lang").lower() in SHELL + PYTHON, (
                    f"{path.relative_to(ROOT)}:{i + 1}: a not-run marker must sit directly above a bash/sh/python fence"
                )


def test_the_extractor_sees_every_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n```bash\nililab learners\n```\n<!-- not-run: needs a GPU to finish -->\n```python\nimport torch\n```\n"
        "```text\nnot code\n```\n````python\nx = '```'\n````\n"
    )
    blocks = doc_blocks(page)
    assert [(b.line, b.lang, b.skip) for b in blocks] == [
        (2, "bash", None), (6, "python", "needs a GPU to finish"), (9, "text", None), (12, "python", None)
    ]
    assert blocks[3].code == "x = '```'\n"
    block = "ililab a \\\n  --b c   # note\n\n# only a comment\nls | wc\n"
    assert shell_commands(block) == ["ililab a    --b c   # note", "ls | wc"]
    assert plain_ililab("ililab plot g.json -o 'a b.png'  # comment") == ["plot", "g.json", "-o", "a b.png"]
    assert plain_ililab("ililab infer-graph 'shards/*.npy' -o g.json") == ["infer-graph", "shards/*.npy", "-o", "g.json"]
    shell_lines = ("ililab show g | head", "ililab x > out", "ililab x shards/*.npy", "X=1 ililab x", "ililab $A", "make demo")
    for shell in shell_lines:
        assert plain_ililab(shell) is None, shell
