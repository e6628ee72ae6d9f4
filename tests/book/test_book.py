"""The whole book under the smoke profile: every chapter executed through papermill, and
the HTML built from those outputs with warnings as errors (the build is the session fixture
``smoke_build`` of tests/conftest.py, which the browser tests share)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

from cclib.book.runner import notebook_chapters

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = notebook_chapters(ROOT)


def test_build_succeeds(smoke_build):
    assert smoke_build.returncode == 0, smoke_build.stderr[-5000:]
    index = Path(smoke_build.stdout.strip().splitlines()[-1])
    assert index == smoke_build.build_dir / "html" / "index.html"
    assert index.is_file()


def test_every_chapter_executed_with_claims(smoke_build):
    executed = smoke_build.build_dir / "executed"
    manifest = json.loads((executed / "build.json").read_text())
    assert manifest == {"profile": "smoke", "chapters": CHAPTERS}
    for name in CHAPTERS:
        nb_path = executed / f"{name}.ipynb"
        assert nb_path.is_file(), name
        claims = json.loads((executed / f"{name}.claims.json").read_text())
        assert claims["chapter"] == name and claims["profile"] == "smoke"
        assert not (executed / f"{name}.partial.ipynb").exists()


def test_no_error_outputs_and_profile_printed(smoke_build):
    for name in CHAPTERS:
        nb = nbformat.read(smoke_build.build_dir / "executed" / f"{name}.ipynb", as_version=4)
        assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        errors = [o for o in outputs if o.output_type == "error"]
        assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
        streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert "profile: smoke (device: " in streams, f"{name} does not print its profile"


def test_claims_page_lists_every_claim(smoke_build):
    executed = smoke_build.build_dir / "executed"
    ids = [
        c["id"]
        for name in CHAPTERS
        for c in json.loads((executed / f"{name}.claims.json").read_text())["claims"]
    ]
    assert ids, "no chapter recorded a claim"
    page = (smoke_build.build_dir / "html" / "book" / "claims.html").read_text()
    for claim_id in ids:
        assert claim_id in page, claim_id
    assert "smoke" in page and " held, " in page and " failed" in page


def test_every_declared_claim_recorded_with_rule_and_source(smoke_build):
    from cclib.book.rules import declared_claims

    executed = smoke_build.build_dir / "executed"
    for name, specs in declared_claims().items():
        recorded = json.loads((executed / f"{name}.claims.json").read_text())["claims"]
        assert [c["id"] for c in recorded if c["id"] in {s.id for s in specs}]
        assert {c["id"] for c in recorded} == {s.id for s in specs}, name
        for claim in recorded:
            assert claim["rule"] and claim["source"]["paper"] and claim["source"]["where"]
            assert claim["state"] in ("held", "failed", "undetermined", "not applicable")
    page = (smoke_build.build_dir / "html" / "book" / "claims.html").read_text()
    assert 'id="claim-mixing.clean_matches_naive"' in page
    assert "Paper 000" in page and "Paper 004" in page


def test_pages_rendered(smoke_build):
    html = smoke_build.build_dir / "html"
    for page in ("intro", "universal_and", "references", *CHAPTERS):
        assert (html / "book" / f"{page}.html").is_file(), page
    references = (html / "book" / "references.html").read_text()
    assert "Compressed Computation" in references and "Universal-AND" in references
    stage = smoke_build.build_dir / "stage"
    assert not list(stage.rglob("*.py")), "the .py twins must not be staged"


def test_math_renders_offline(smoke_build):
    """Pages load the MathJax copy shipped with the book, not a CDN."""
    html = smoke_build.build_dir / "html"
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    page = (html / "book" / "naive_baseline.html").read_text()
    assert "_static/mathjax/tex-mml-chtml.js" in page
    assert "cdn.jsdelivr.net/npm/mathjax" not in page


def test_claims_command_reads_the_build(smoke_build, cli):
    proc = cli("claims", "--json", "--dir", str(smoke_build.build_dir / "executed"))
    assert proc.returncode == 0, proc.stderr
    assert {c["chapter"] for c in json.loads(proc.stdout)} <= set(CHAPTERS)


def test_warning_fails_the_build(tmp_path, root, cli):
    """A broken reference is a warning, and warnings are errors."""
    proj = tmp_path / "project"
    (proj / "book").mkdir(parents=True)
    shutil.copy(root / "_config.yml", proj / "_config.yml")
    (proj / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/claims\n"
    )
    for name in ("claims.py", "references.bib"):
        shutil.copy(root / "book" / name, proj / "book" / name)
    shutil.copytree(
        root / "book" / "_static", proj / "book" / "_static"
    )  # _config.yml's static path
    (proj / "book" / "intro.md").write_text("# Intro\n\nSee {ref}`no-such-label`.\n")
    proc = cli("build", "--profile", "smoke", "--root", str(proj))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "no-such-label" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: jupyter-book build failed")
    # and the same project without the broken reference builds
    (proj / "book" / "intro.md").write_text("# Intro\n\nSee {ref}`claims-page`.\n")
    proc = cli("build", "--profile", "smoke", "--root", str(proj))
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_build_output_is_one_line_per_chapter(smoke_build):
    """No kernel warnings; off a terminal, first each chapter's estimate and the total,
    then one line per chapter (and a plain progress line for one that runs over a
    minute) and one for the HTML."""
    lines = smoke_build.stderr.strip().splitlines()
    html_line = "building the HTML with jupyter-book (warnings are errors) ..."
    assert not [line for line in lines if "warning" in line.lower() and line != html_line]
    assert "without encryption" not in smoke_build.stderr
    notice = "estimate: timing a training step of each model size"  # when timing is slow
    lines = [line for line in lines if not line.startswith(notice)]
    estimates = lines[: len(CHAPTERS) + 1]
    for name, line in zip(CHAPTERS, estimates, strict=False):
        assert line.startswith(f"estimate: {name}: "), line
    assert estimates[-1].startswith("estimate: the whole run ~")
    rest = lines[len(CHAPTERS) + 1 :]
    progress = [line for line in rest if " model-steps" in line or "no training yet" in line]
    chapter_lines = [line for line in rest if " done in " in line]
    for i, (name, line) in enumerate(zip(CHAPTERS, chapter_lines, strict=True), 1):
        assert line.startswith(f"[{i}/{len(CHAPTERS)}] {name} (smoke) done in "), line
    assert [line for line in rest if line not in progress] == [*chapter_lines, html_line]


def test_build_report_and_about_page(smoke_build):
    """report.json and the "About this build" page: per chapter profile, device, executor,
    wall time (training and the rest), cache share, claims; commit, versions, machine."""
    report = json.loads((smoke_build.build_dir / "report.json").read_text())
    assert (
        report["profile"] == "smoke"
        and len(report["commit"]) in (7, 40)
        or (report["commit"] == "unknown")
    )
    assert set(report["versions"]) >= {"torch", "numpy", "jupyter-book"}
    assert report["machine"]["threads"] >= 1 and report["machine"]["cpu"]
    rows = {row["chapter"]: row for row in report["chapters"]}
    assert list(rows) == CHAPTERS
    for name, row in rows.items():
        assert row["profile"] == "smoke" and row["device"] == "cpu", name
        assert row["executor"] == "inprocess"
        assert row["wall_seconds"] >= row["training_seconds"] >= 0
        executed = json.loads(
            (smoke_build.build_dir / "executed" / f"{name}.claims.json").read_text()
        )
        counted = row["claims_held"] + row["claims_failed"] + row["claims_other"]
        assert counted == len(executed["claims"]), name
    trained = [r for r in rows.values() if r["entries_trained"]]
    assert len(trained) >= 5 and all(r["training_seconds"] > 0 for r in trained)
    for reader in ("mechanism", "semi_nmf"):  # they read the mixing chapter's sweeps
        assert rows[reader]["entries_cached"] >= 1 and rows[reader]["cached_share"] > 0
    page = (smoke_build.build_dir / "html" / "book" / "about.html").read_text()
    assert "About this build" in page and report["commit"][:12] in page
    for name in CHAPTERS:
        assert f"<td><p>{name}</p></td>" in page or f"<td>{name}</td>" in page, name
    # training progress went to the terminal's side channel, not into the notebooks
    for name in CHAPTERS:
        text = (smoke_build.build_dir / "executed" / f"{name}.ipynb").read_text()
        assert "model-steps" not in text and '"event"' not in text, name


def test_smoke_plans_match_the_chapters_cache_keys(smoke_build):
    """After the smoke build every sweep each chapter's plan lists is in the cache: the
    plans build the chapters' own sweeps (else the estimate would count cached work)."""
    from cclib.book import estimate
    from cclib.book.specs import get_spec
    from cclib.engine.cache import Cache

    assert smoke_build.returncode == 0
    costs = estimate.StepCosts(Cache().root, estimate.Machine.here())
    for name in CHAPTERS:
        result = estimate.estimate_chapter(get_spec(name).resolve("smoke"), Cache(), costs)
        assert all(s.status == "cached" for s in result.sweeps), (name, result.sweeps)
        assert result.seconds == 0
