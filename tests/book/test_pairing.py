"""book/*.py and book/*.ipynb stay paired, and parameters cells match the specs."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_configuration_file
from papermill.translators import PythonTranslator

from cclib.book.runner import notebook_chapters, toc_files
from cclib.book.specs import SPECS

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.py"))


def cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def parameters_cells(nb):
    return [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]


def test_there_are_chapters():
    assert "claims" in CHAPTERS and len(CHAPTERS) >= 2


@pytest.mark.parametrize("name", CHAPTERS)
def test_py_and_ipynb_have_identical_cells(name):
    py = jupytext.read(ROOT / "book" / f"{name}.py")
    ipynb_path = ROOT / "book" / f"{name}.ipynb"
    assert ipynb_path.is_file(), f"book/{name}.ipynb missing: run `make sync`"
    ipynb = jupytext.read(ipynb_path)
    assert cells(py) == cells(ipynb), f"book/{name}.py and .ipynb differ: run `make sync`"
    tags_py = [c.metadata.get("tags", []) for c in py.cells]
    tags_nb = [c.metadata.get("tags", []) for c in ipynb.cells]
    assert tags_py == tags_nb


@pytest.mark.parametrize("name", CHAPTERS)
def test_paired_ipynb_has_no_outputs(name):
    nb = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_no_injected_parameters_in_book():
    for path in sorted((ROOT / "book").glob("*.py")) + sorted((ROOT / "book").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "injected-parameters" not in text, f"{path.name} holds a papermill run"
        assert "papermill" not in text or path.suffix == ".py", path.name


@pytest.mark.parametrize("name", CHAPTERS)
def test_one_parameters_cell_matching_spec(name):
    nb = jupytext.read(ROOT / "book" / f"{name}.py")
    tagged = parameters_cells(nb)
    assert len(tagged) == 1, f"{name}: expected exactly one cell tagged parameters"
    cell = tagged[0]
    assert "profile" in cell.source
    # papermill must be able to parse every line (e.g. no '=' inside comments)
    parsed = [p.name for p in PythonTranslator.inspect(cell)]
    assigned = [
        line.split("=")[0].strip()
        for line in cell.source.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert parsed == assigned, f"{name}: papermill cannot parse the parameters cell"
    assert parsed[0] == "profile", f"{name}: profile must come first"
    assert name in SPECS, f"{name}: no entry in cclib/book/specs.py"
    assert sorted(parsed) == sorted(["profile", *SPECS[name].names])
    assert "cclib.configure(" in jupytext.writes(nb, "py:percent")


@pytest.mark.parametrize("name", CHAPTERS)
def test_parameters_default_to_none(name):
    nb = jupytext.read(ROOT / "book" / f"{name}.py")
    for p in PythonTranslator.inspect(parameters_cells(nb)[0]):
        assert p.default == "None", f"{name}: {p.name} must default to None"


def test_every_spec_has_a_chapter_in_the_toc():
    no_source = sorted(set(SPECS) - set(CHAPTERS))
    assert not no_source, f"specs without book/<name>.py: {no_source}"
    no_spec = sorted(set(CHAPTERS) - set(SPECS))
    assert not no_spec, f"chapters without an entry in cclib/book/specs.py: {no_spec}"
    not_in_toc = sorted(set(CHAPTERS) - set(notebook_chapters(ROOT)))
    assert not not_in_toc, f"chapters missing from _toc.yml: {not_in_toc}"
    assert notebook_chapters(ROOT)[-1] == "claims"
    for entry in toc_files(ROOT):
        stem = ROOT / entry
        assert stem.with_suffix(".md").is_file() or stem.with_suffix(".py").is_file(), entry


def test_jupytext_config_pairs_only_book():
    config = load_jupytext_configuration_file(str(ROOT / "jupytext.toml"))
    paired = config.default_formats(str(ROOT / "book" / "naive_baseline.ipynb"))
    assert paired is not None and "ipynb" in paired and "py:percent" in paired
    assert config.default_formats(str(ROOT / "benchmarks" / "x.ipynb")) is None
    assert config.default_formats(str(ROOT / "x.ipynb")) is None


@pytest.mark.parametrize("name", CHAPTERS)
def test_paired_ipynb_names_its_kernel_and_language(name):
    """papermill's own command line needs both (``jupytext --sync`` keeps them; the
    ``.py`` twin stays free of notebook metadata)."""
    nb = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"book/{name}.ipynb has no kernelspec: run `make sync`"
    )
    assert nb.metadata["kernelspec"].get("language") == "python"
    assert nb.metadata.get("language_info", {}).get("name") == "python"
    text = (ROOT / "book" / f"{name}.py").read_text(encoding="utf-8")
    assert "kernelspec" not in text and "language_info" not in text
