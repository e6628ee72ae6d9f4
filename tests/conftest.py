"""Shared fixtures: a private results cache, one torch thread, and CLI helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Set before any test (and any subprocess a test starts) can read them.
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="ccbook-tests-"))
os.environ["CCBOOK_CACHE"] = str(_SESSION_TMP / "cache")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.pop("CCBOOK_CLAIMS_FILE", None)
os.environ.pop("CCBOOK_CLAIMS_DIR", None)


@pytest.fixture(scope="session")
def root() -> Path:
    """The project root (the checkout the tests belong to)."""
    return ROOT


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    path = Path(os.environ["CCBOOK_CACHE"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_cli(
    *args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``python -m cclib ARGS`` in a subprocess (text output captured)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cclib", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli():
    return run_cli


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` with its bytes (for "left untouched" checks)."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def smoke_build(tmp_path_factory, cli):
    """The whole book built once per test session under the smoke profile (the completed
    ``python -m cclib build`` process, with ``build_dir`` and ``elapsed`` added).
    ``CCBOOK_TEST_SMOKE_BUILD=DIR`` reuses the build in DIR instead (for iterating on
    tests that only read a build, such as tests/book/test_browser.py)."""
    reuse = os.environ.get("CCBOOK_TEST_SMOKE_BUILD")
    if reuse:  # a developer iterating on the page tests: an existing smoke build, as is
        proc = subprocess.CompletedProcess([], 0, stdout=f"{reuse}/html/index.html\n", stderr="")
        proc.elapsed, proc.build_dir = 0.0, Path(reuse)
        return proc
    build_dir = tmp_path_factory.mktemp("book") / "_build"
    start = time.perf_counter()
    proc = cli("build", "--profile", "smoke", "--build-dir", str(build_dir), timeout=1200)
    proc.elapsed = time.perf_counter() - start
    proc.build_dir = build_dir
    return proc
