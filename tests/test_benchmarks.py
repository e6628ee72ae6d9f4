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
