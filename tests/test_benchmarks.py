"""Smoke test of the speed benchmark (benchmarks/speed.py): it runs at tiny sizes and
writes its JSON. The timings themselves are never checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_and_writes_json(tmp_path):
    output = tmp_path / "latest.json"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "speed.py"),
        *("--instances", "1", "2", "--n", "12", "--d", "4", "--batch", "32"),
        *("--steps", "1", "--repeats", "1", "--ua-sizes", "tiny:5:4:2:16"),
        *("--output", str(output)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result = json.loads(output.read_text())
    assert [row["instances"] for row in result["cc"]["rows"]] == [1, 2]
    assert [row["p"] for row in result["sampler"]] == [0.001, 0.01, 0.1, 1.0]
    assert result["universal_and"][0]["size"] == "tiny"
    assert "seconds" in result["chapters"]
    assert "CC trainer" in done.stdout


def test_gpu_check_kit_smoke_on_the_cpu(tmp_path):
    """``benchmarks/gpu_check.py --smoke --device cpu``: every check runs (the CPU stands in
    for the GPU) and passes, and the JSON has each timing."""
    output = tmp_path / "gpu_check.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py")]
    command += ["--smoke", "--device", "cpu", "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    for check in ("device", "losses_match_cpu", "cache_round_trip", "executor_gpu"):
        assert result[check]["ok"] is True, (check, result[check])
    assert result["sigma_sweep"]["ms_per_model_step"] > 0
    assert result["universal_and_paper_size"]["ms_per_step"] > 0
    assert result["ok"] is True
