"""``python -m cclib`` in a subprocess: bad input, run, params, claims."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import snapshot
from test_faults import _kernels_of, _wait_stopped

from cclib.book import runner
from cclib.book.claims import CLAIM_KEYS, ClaimRecorder
from cclib.book.specs import get_spec

NB = "naive_baseline"

# A stand-in for the real chapter: same parameters, runs in a second.
FAKE_CHAPTER = textwrap.dedent("""\
    # %% [markdown]
    # # Fake chapter

    # %% tags=["parameters"]
    profile = None
    {params}

    # %%
    import cclib
    cfg = cclib.configure("naive_baseline", globals())
    claims = cclib.ClaimRecorder("naive_baseline", cfg.profile)
    claims.record(id="fake.p", statement="p as configured", measured=cfg.p, holds=True)
    claims.table()
    """)

FAILING_CLAIMS_PAGE = textwrap.dedent("""\
    # %% tags=["parameters"]
    profile = None

    # %%
    raise RuntimeError("boom from the chapter")
    """)


@pytest.fixture
def project(tmp_path, root) -> Path:
    """A throw-away project root with the real config and a fast fake chapter."""
    proj = tmp_path / "project"
    (proj / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, proj / name)
    shutil.copy(root / "book" / "claims.py", proj / "book" / "claims.py")
    shutil.copy(root / "book" / "claims.ipynb", proj / "book" / "claims.ipynb")
    params = "\n".join(f"{n} = None" for n in get_spec(NB).names)
    (proj / "book" / f"{NB}.py").write_text(FAKE_CHAPTER.format(params=params))
    (proj / "book" / f"{NB}.ipynb").write_text("paired notebook: must never be written\n")
    return proj


def assert_one_error_line(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert proc.stdout == ""


BAD_INPUTS = [
    pytest.param(
        ["run", "no_such_chapter"], ["unknown chapter 'no_such_chapter'", NB], id="unknown-chapter"
    ),
    pytest.param(
        ["run", NB, "--profile", "fast"],
        ["unknown profile 'fast'", "smoke, quick, paper"],
        id="unknown-profile",
    ),
    pytest.param(
        ["run", NB, "-p", "foo", "1"], ["unknown parameter 'foo'"], id="unknown-parameter"
    ),
    pytest.param(["run", NB, "-p", "steps", "abc"], ["'steps'", "integer"], id="wrong-type"),
    pytest.param(["run", NB, "-p", "p", "0"], ["'p'", "(0, 1]"], id="p-zero"),
    pytest.param(["run", NB, "-p", "p", "1.5"], ["'p'", "(0, 1]", "1.5"], id="p-above-one"),
    pytest.param(["run", NB, "-p", "sigma", "-0.1"], ["'sigma'", ">= 0"], id="negative-sigma"),
    pytest.param(["run", NB, "-p", "steps", "0"], ["'steps'", ">= 1"], id="steps-below-one"),
    pytest.param(
        ["run", NB, "-p", "mixing", "fancy"],
        ["'mixing'", "clean", "embedding"],
        id="unknown-mixing",
    ),
    pytest.param(
        ["run", NB, "-p", "nonempty_steps", "maybe"], ["'nonempty_steps'", "boolean"], id="bad-bool"
    ),
    pytest.param(["run", NB, "-p", "p"], ["-p"], id="p-missing-value"),
    pytest.param(
        ["run", NB, "-p", "p", "1e-12", "-p", "nonempty_steps", "true"],
        ["'max_steps'", "p = 1e-12", "nonempty_steps", "4e+11 training steps", "1,000,000"],
        id="implied-steps-p-tiny",
    ),
    pytest.param(
        ["run", NB, "-p", "p", "1e-6", "-p", "nonempty_steps", "true", "-p", "steps", "6000"],
        ["'max_steps'", "p = 1e-06", "6e+07 training steps"],
        id="implied-steps-p-small",
    ),
    pytest.param(
        ["run", NB, "-p", "seeds", "100000"],
        ["'max_memory_gb'", "seeds = 100000", "GB"],
        id="implied-memory-seeds",
    ),
    pytest.param(
        ["run", NB, "-p", "batch_size", "10000000"],
        ["'max_memory_gb'", "batch_size = 10000000", "activations"],
        id="implied-memory-batch",
    ),
    pytest.param(["run", NB, "-p", "max_steps", "0"], ["'max_steps'", ">= 1"], id="max-steps-zero"),
]


@pytest.mark.parametrize("args,fragments", BAD_INPUTS)
def test_bad_input_one_line_exit_2_nothing_touched(
    cli, project, cache_dir, tmp_path, args, fragments
):
    (cache_dir / "marker.bin").write_bytes(b"cache entry")
    earlier = tmp_path / "earlier" / "out.ipynb"
    earlier.parent.mkdir()
    earlier.write_text('{"earlier": "output"}')
    runner.claims_path_for(earlier).write_text('{"earlier": "claims"}')
    default_runs = project / "_build" / "runs" / NB
    default_runs.mkdir(parents=True)
    (default_runs / "smoke.ipynb").write_text("earlier default output")
    before = (snapshot(cache_dir), snapshot(earlier.parent), snapshot(project))

    for extra in (["--output", str(earlier)], []):  # explicit and default output path
        proc = cli(
            *args,
            *(["--profile", "smoke"] if "--profile" not in args else []),
            *extra,
            "--root",
            str(project),
        )
        assert_one_error_line(proc, *fragments)

    assert (snapshot(cache_dir), snapshot(earlier.parent), snapshot(project)) == before


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@pytest.fixture
def earlier_state(cache_dir, project, tmp_path):
    """An earlier output and cache entry; returns a function snapshotting everything."""
    (cache_dir / "marker.bin").write_bytes(b"cache entry")
    default_runs = project / "_build" / "runs" / NB
    default_runs.mkdir(parents=True, exist_ok=True)
    (default_runs / "smoke.ipynb").write_text("earlier default output")
    (default_runs / "smoke.claims.json").write_text('{"earlier": "claims"}')
    return lambda: (snapshot(cache_dir), snapshot(project))


@pytest.mark.parametrize(
    "device,fragments",
    [
        ("cuda:7", ["CCBOOK_DEVICE='cuda:7'", "use cpu"]),
        ("banana", ["CCBOOK_DEVICE='banana'", "not a torch device"]),
        ("xla", ["CCBOOK_DEVICE='xla'", "cpu, cuda or mps"]),
    ],
)
def test_missing_device_refused_before_work(cli, project, earlier_state, device, fragments):
    if device == "cuda:7" and _cuda_count() > 7:
        pytest.skip("this machine has a cuda:7")
    before = earlier_state()
    proc = cli(
        "run", NB, "--profile", "smoke", "--root", str(project), env={"CCBOOK_DEVICE": device}
    )
    assert_one_error_line(proc, *fragments)
    assert earlier_state() == before


def test_unwritable_cache_refused_before_work(cli, project, earlier_state, tmp_path):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("a file where the cache should be")
    cases = [
        (str(a_file), ["CCBOOK_CACHE", "is a file, not a folder"]),
        (str(a_file / "cache"), ["CCBOOK_CACHE", "under a file"]),
    ]
    if Path("/sys/kernel").is_dir():  # sysfs: no new folders, not even for root
        cases.append(("/sys/ccbook-cache", ["CCBOOK_CACHE", "cannot be written"]))
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root writes through chmod
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        cases.append((str(locked / "cache"), ["CCBOOK_CACHE", "cannot be written"]))
    before = (earlier_state(), a_file.read_bytes())
    for location, fragments in cases:
        proc = cli(
            "run", NB, "--profile", "smoke", "--root", str(project), env={"CCBOOK_CACHE": location}
        )
        assert_one_error_line(proc, *fragments)
    assert (earlier_state(), a_file.read_bytes()) == before
    assert not Path("/sys/ccbook-cache").exists()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made in (["not-a-folder", "project"], ["locked", "not-a-folder", "project"])


def test_run_accepts_a_chapter_path(cli, project):
    proc = cli("run", f"book/{NB}.py", "--profile", "smoke", "--root", str(project), cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == project / "_build" / "runs" / NB / "smoke.ipynb"
    proc = cli("params", f"./book/{NB}.ipynb", "--root", str(project), cwd=project)
    assert proc.returncode == 0 and proc.stdout.startswith(NB), proc.stderr


def test_chapter_path_outside_book_refused(cli, project, tmp_path):
    stray = tmp_path / f"{NB}.py"
    stray.write_text("# not a chapter of the book\n")
    proc = cli("run", str(stray), "--profile", "smoke", "--root", str(project))
    assert_one_error_line(proc, "chapter path", "book/<name>.py")


def test_output_inside_book_refused(cli, project):
    before = snapshot(project)
    proc = cli(
        "run",
        NB,
        "--profile",
        "smoke",
        "--root",
        str(project),
        "--output",
        str(project / "book" / f"{NB}.ipynb"),
    )
    assert_one_error_line(proc, "--output", "never written")
    assert snapshot(project) == before


def test_run_executes_into_its_own_output(cli, project):
    paired = (project / "book" / f"{NB}.ipynb").read_bytes()
    proc = cli(
        "run",
        NB,
        "--profile",
        "smoke",
        "-p",
        "p",
        "0.05",
        "-p",
        "mixing",
        "gaussian",
        "--root",
        str(project),
    )
    assert proc.returncode == 0, proc.stderr
    out = project / "_build" / "runs" / NB / "smoke__p-0.05__mixing-gaussian.ipynb"
    assert proc.stdout.strip() == str(out)
    assert out.is_file() and not runner.partial_path_for(out).exists()
    claims = json.loads(runner.claims_path_for(out).read_text())
    assert claims["profile"] == "smoke"
    assert claims["claims"][0]["measured"] == 0.05
    nb = json.loads(out.read_text())
    text = json.dumps(nb)
    assert "injected-parameters" in text and "profile: smoke (device:" in text
    assert (project / "book" / f"{NB}.ipynb").read_bytes() == paired  # never written
    # quiet: the one progress line, no kernel warnings (the kernel talks over IPC, not TCP)
    assert proc.stderr.strip().splitlines() == [f"running {NB} (profile smoke) -> {out}"]
    assert not list((project / "book").glob("kernel-ipc*"))


def test_run_explicit_output(cli, project, tmp_path):
    out = tmp_path / "elsewhere" / "mine.ipynb"
    proc = cli("run", NB, "--profile", "smoke", "--output", str(out), "--root", str(project))
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and (tmp_path / "elsewhere" / "mine.claims.json").is_file()


def test_failing_chapter_exit_1_keeps_earlier_output(cli, project, tmp_path):
    (project / "book" / "claims.py").write_text(FAILING_CLAIMS_PAGE)
    out = tmp_path / "claims.ipynb"
    out.write_text("earlier good output")
    proc = cli("run", "claims", "--profile", "smoke", "--output", str(out), "--root", str(project))
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: chapter 'claims' failed") and "RuntimeError" in last
    assert "boom from the chapter" in last
    assert out.read_text() == "earlier good output"
    assert runner.partial_path_for(out).is_file()  # kept for inspection


def test_default_output_names(root):
    spec = get_spec(NB)
    overrides = {"mixing": "gaussian", "p": 0.05, "nonempty_steps": True, "steps": None}
    cfg = spec.resolve("smoke", **overrides)
    path = runner.default_output(root, cfg, overrides)
    assert path == (
        root / "_build" / "runs" / NB / "smoke__p-0.05__mixing-gaussian__nonempty_steps-true.ipynb"
    )
    assert runner.default_output(root, spec.resolve("quick"), {}).name == "quick.ipynb"


def test_params_lists_every_parameter(cli):
    proc = cli("params", NB)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("name"))
    assert header.split() == ["name", "type", "smoke", "quick", "paper", "help"]
    spec = get_spec(NB)
    steps = next(line for line in lines if line.startswith("steps "))
    values = [str(spec.param("steps").values[k]) for k in ("smoke", "quick", "paper")]
    columns = [header.index(c) for c in ("smoke", "quick", "paper", "help")]
    cells = [steps[a:b].strip() for a, b in zip(columns, columns[1:], strict=False)]
    assert cells == values and spec.param("steps").help in steps
    for name in ("profile", *get_spec(NB).names):
        assert any(line.startswith(name + " ") for line in lines), name


def test_params_unknown_chapter(cli):
    assert_one_error_line(cli("params", "nope"), "unknown chapter 'nope'")


@pytest.fixture
def fake_build(tmp_path) -> Path:
    executed = tmp_path / "executed"
    a = ClaimRecorder("chap_a", "smoke", path=executed / "chap_a.claims.json")
    a.record(id="a.one", statement="One.", measured=0.5, error=0.1, paper=0.4, holds=True)
    a.record(id="a.two", statement="Two.", measured=3, holds=False)
    (executed / "build.json").write_text(json.dumps({"profile": "smoke", "chapters": ["chap_a"]}))
    return executed


def test_claims_json_format(cli, fake_build):
    proc = cli("claims", "--json", "--dir", str(fake_build))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and len(data) == 2
    for item in data:
        assert set(CLAIM_KEYS) <= set(item)
        assert isinstance(item["id"], str) and isinstance(item["statement"], str)
        assert isinstance(item["measured"], float)
        assert item["paper"] is None or isinstance(item["paper"], float)
        assert item["error"] is None or isinstance(item["error"], float)
        assert isinstance(item["holds"], bool) and item["profile"] == "smoke"
    assert data[0] == {
        "id": "a.one",
        "chapter": "chap_a",
        "statement": "One.",
        "paper": 0.4,
        "measured": 0.5,
        "error": 0.1,
        "holds": True,
        "profile": "smoke",
        "state": "held",
        "rule": "",
        "source": None,
        "note": "",
    }
    assert data[1]["paper"] is None and data[1]["error"] is None and data[1]["holds"] is False


def test_claims_by_source(cli, fake_build):
    proc = cli("claims", "--by-source", "--dir", str(fake_build))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "2 claims: 1 held, 1 failed (a.two)"
    assert "no source declared" in proc.stdout
    assert proc.stdout.index("a.two") < proc.stdout.index("a.one")  # failures first


def test_claims_table(cli, fake_build):
    proc = cli("claims", "--dir", str(fake_build))
    assert proc.returncode == 0, proc.stderr
    assert "a.one" in proc.stdout and "a.two" in proc.stdout
    assert proc.stdout.strip().endswith("2 claims: 1 held, 1 failed (a.two)")


def test_claims_without_build(cli, tmp_path):
    proc = cli("claims", "--dir", str(tmp_path / "nothing"))
    assert proc.returncode == 1 and proc.stderr.startswith("error: no build found")


def test_import_stays_light(cli):
    import subprocess
    import sys

    code = (
        "import sys, cclib; heavy = [m for m in ('torch', 'papermill', 'jupytext', "
        "'nbformat', 'yaml', 'IPython') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


SLOW_CHAPTER_CELL = textwrap.dedent("""\

    # %%
    import os
    import time

    open(os.environ["CCBOOK_TEST_MARKER"], "w").close()
    time.sleep(600)
    """)


def test_ctrl_c_during_build_stops_the_kernel(project, tmp_path):
    """SIGINT while a build executes a chapter: exit 130, one error line, kernel stopped,
    partial notebook kept, nothing after it executed."""
    import signal
    import subprocess
    import sys
    import time

    source = project / "book" / f"{NB}.py"
    source.write_text(source.read_text() + SLOW_CHAPTER_CELL)
    marker = tmp_path / "cell-started"
    build_dir = tmp_path / "_build"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cclib", "build", "--profile", "smoke", "--no-html"]
        + ["--root", str(project), "--build-dir", str(build_dir)],
        env={**os.environ, "CCBOOK_TEST_MARKER": str(marker)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the chapter never reached its slow cell"
        time.sleep(0.2)
    kernels = _kernels_of(proc.pid) if Path("/proc").is_dir() else []
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert time.monotonic() - start < 60  # the sleeping cell was interrupted, not waited for
    assert all(_wait_stopped(pid) for pid in kernels), "a kernel kept running"
    assert proc.returncode == 130, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: interrupted: chapter '{NB}'")
    assert "Traceback" not in stderr
    executed = build_dir / "executed"
    assert runner.partial_path_for(executed / f"{NB}.ipynb").is_file()
    assert not (executed / f"{NB}.ipynb").exists() and not (executed / "claims.ipynb").exists()
