"""Faults during a real chapter run, through the command line: Ctrl-C (SIGINT) and SIGKILL
while training, a diverging run, and papermill's own command line on a chapter.

Each interrupted run must stop its kernel, keep the partial notebook, leave the cache
without a half-written entry and the earlier output untouched, and the next run must
resume and give exactly the result of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, snapshot

from cclib.book import runner
from cclib.book.estimate import COSTS_DIR

CHAPTER = "naive_baseline"
STEPS = "4000"  # training long enough to interrupt after its first checkpoint (every 1000)
RUN = ["-m", "cclib", "run", CHAPTER, "--profile", "smoke", "-p", "steps", STEPS]

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "CCBOOK_CACHE": str(cache)}


def _run(cache: Path, out: Path, *extra: str, timeout: float = 600):
    return subprocess.run(
        [sys.executable, *RUN, *extra, "--output", str(out)],
        cwd=ROOT,
        env=_env(cache),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _kernels_of(pid: int) -> list[int]:
    """The ipykernel processes started by process ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or stat[0] != pid:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in cmdline:
            found.append(int(entry.name))
    return found


def _wait_stopped(pid: int, timeout: float = 30) -> bool:
    """Whether process ``pid`` has exited (gone, or a zombie nobody reaped) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stat = _stat(pid)
        if stat is None or stat[1] == "Z":
            return True
        time.sleep(0.2)
    return False


def _start_and_wait_for_training(cache: Path, out: Path) -> tuple[subprocess.Popen, list[int]]:
    """Start a run and return once training has saved its first checkpoint."""
    proc = subprocess.Popen(
        [sys.executable, *RUN, "--output", str(out)],
        cwd=ROOT,
        env=_env(cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not list(cache.glob("*/checkpoint.json")):
        if proc.poll() is not None:
            pytest.fail(f"the run ended before its first checkpoint: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no checkpoint within 300 s")
        time.sleep(0.2)
    kernels = _kernels_of(proc.pid)
    assert len(kernels) == 1, kernels
    return proc, kernels


def _entry_files(cache: Path) -> dict[str, set[str]]:
    locks = {".lock", ".compute.lock"}  # the cache's read/write lock, the executor's compute lock
    entries = [d for d in cache.iterdir() if d.name != COSTS_DIR]  # not results: step costs
    return {d.name: {p.name for p in d.iterdir()} - locks for d in entries}


def _result(cache: Path, out: Path) -> tuple[dict, list]:
    """Sha256 of every cache entry's payload, and the claims of the run."""
    shas = {
        d.name: json.loads((d / "meta.json").read_text())["sha256"]
        for d in cache.iterdir()
        if (d / "meta.json").is_file()
    }
    claims = json.loads(runner.claims_path_for(out).read_text())["claims"]
    return shas, claims


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run's cache entries and claims."""
    base = tmp_path_factory.mktemp("reference")
    cache, out = base / "cache", base / "out.ipynb"
    proc = _run(cache, out)
    assert proc.returncode == 0, proc.stderr
    return _result(cache, out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_run_stops_cleanly_and_resumes(tmp_path, reference, sig):
    cache, out = tmp_path / "cache", tmp_path / "runs" / "out.ipynb"
    out.parent.mkdir()
    out.write_text("earlier output")
    runner.claims_path_for(out).write_text('{"earlier": "claims"}')
    earlier = {k: v for k, v in snapshot(out.parent).items()}

    proc, (kernel,) = _start_and_wait_for_training(cache, out)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)

    assert _wait_stopped(kernel), "the kernel kept running after the run was stopped"
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith("error: interrupted"), stderr
        assert CHAPTER in errors[0] and "partial notebook" in errors[0]
        assert "Traceback" not in stderr and "WARNING" not in stderr
        partial = nbformat.read(runner.partial_path_for(out), as_version=4)
        assert any(
            o.get("ename") == "KeyboardInterrupt"
            for c in partial.cells
            if c.cell_type == "code"
            for o in c.outputs
        )
    else:
        assert proc.returncode == -signal.SIGKILL
        assert runner.partial_path_for(out).is_file()
    # nothing completed, nothing half-written: only the checkpoint of the running entry
    for name, files in _entry_files(cache).items():
        assert files <= {"checkpoint.pt", "checkpoint.json"}, (name, files)
    now = snapshot(out.parent)
    assert {k: now[k] for k in earlier} == earlier  # the earlier output is untouched

    again = _run(cache, out)
    assert again.returncode == 0, again.stderr
    assert _result(cache, out) == reference  # resumed: exactly the uninterrupted result
    assert not runner.partial_path_for(out).exists()


def test_diverging_run_one_line_nothing_cached(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "runs" / "out.ipynb"
    out.parent.mkdir()
    out.write_text("earlier output")
    proc = subprocess.run(
        [sys.executable, "-m", "cclib", "run", CHAPTER, "--profile", "smoke"]
        + ["-p", "lr", "1e6", "--output", str(out)],
        cwd=ROOT,
        env=_env(cache),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "diverged" in errors[0] and "instance" in errors[0], proc.stderr
    assert "step" in errors[0] and "seed" in errors[0]
    assert "Traceback" not in proc.stderr
    assert out.read_text() == "earlier output"
    assert not list(cache.rglob("meta.json")) and not list(cache.rglob("payload.pt"))


def _papermill(*args: str, cwd: Path, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "papermill", *args],
        cwd=cwd,
        env=env or os.environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_papermill_help_notebook_lists_parameters(tmp_path):
    proc = _papermill("--help-notebook", str(ROOT / "book" / "mixing.ipynb"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "profile:" in proc.stdout and "smoke | quick | paper" in proc.stdout
    assert "sigma_points:" in proc.stdout and "max_steps:" in proc.stdout


def test_papermill_runs_a_chapter(tmp_path):
    out = tmp_path / "out.ipynb"
    claims = tmp_path / "out.claims.json"
    env = {**os.environ, "CCBOOK_CLAIMS_FILE": str(claims)}
    book = ROOT / "book" / f"{CHAPTER}.ipynb"
    before = book.read_bytes()
    proc = _papermill(
        str(book), str(out), "-p", "profile", "smoke", "-p", "p", "0.05", cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata["papermill"]["parameters"] == {"profile": "smoke", "p": 0.05}
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    recorded = json.loads(claims.read_text())
    assert recorded["profile"] == "smoke" and recorded["claims"]
    assert book.read_bytes() == before


def test_papermill_run_refuses_an_implied_budget_early(tmp_path):
    out = tmp_path / "out.ipynb"
    book = ROOT / "book" / f"{CHAPTER}.ipynb"
    args = ["-p", "profile", "smoke", "-p", "p", "1e-12", "-p", "nonempty_steps", "True"]
    proc = _papermill(str(book), str(out), *args, cwd=tmp_path)
    assert proc.returncode != 0
    assert "ParameterError" in proc.stderr and "max_steps" in proc.stderr
    nb = nbformat.read(out, as_version=4)
    failed = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")]
    assert "cclib.configure(" in failed[-1].source  # refused in the configure cell
