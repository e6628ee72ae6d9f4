"""One source of pins (constraints.txt), mirrored by environment.yml; the two commands."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def constraint_pins() -> list[str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def environment_pip() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = [d for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1
    return [str(x).strip() for x in pip[0]["pip"]]


def test_environment_yml_mirrors_constraints():
    pins = constraint_pins()
    pip = environment_pip()
    assert pip[-1] == "-e .[dev]"
    only_env = sorted(set(pip[:-1]) - set(pins))
    only_constraints = sorted(set(pins) - set(pip[:-1]))
    assert not only_env and not only_constraints, (
        f"environment.yml and constraints.txt disagree; only in environment.yml: {only_env}; "
        f"only in constraints.txt: {only_constraints}"
    )
    assert len(pip[:-1]) == len(pins)


def test_environment_python_version():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"] and "pip" in env["dependencies"]


def test_key_pins():
    pins = {re.split(r"==", p)[0].lower(): p for p in constraint_pins()}
    assert pins["torch"] == "torch==2.13.0"
    assert pins["jupyter-book"].startswith("jupyter-book==1.")
    assert pins["sphinx"].lower().startswith("sphinx==")
    for name in ("papermill", "jupytext", "myst-nb", "sphinxcontrib-bibtex", "pytest"):
        assert name in pins, name
    assert all("==" in p for p in constraint_pins())


def test_ci_runs_the_readme_test_command():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    body = [
        line.strip()
        for line in ci.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert body[0] == "set -euo pipefail" and body[-1] == "make test"
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme


def test_makefile_targets():
    text = (ROOT / "Makefile").read_text()
    for target in ("book", "test", "sync", "clean", "clean-cache"):
        assert re.search(rf"^{re.escape(target)}:", text, re.M), target
    assert "-c constraints.txt" in text and "-m cclib build" in text and "-m pytest" in text


def test_make_test_lints_before_pytest():
    """`make test` runs ruff (lint and format check) on the linted folders before pytest."""
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint\b", text, re.M)
    lint = text.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "ruff check $(LINTED)" in lint and "ruff format --check $(LINTED)" in lint
    linted = re.search(r"^LINTED := (.*)$", text, re.M).group(1).split()
    assert linted == ["cclib/", "tests/", "benchmarks/", "$(wildcard", "book/*.py)"]
    pins = {p.split("==")[0].lower() for p in constraint_pins()}
    assert "ruff" in pins
