"""``--executor`` and ``build --jobs`` (issue 11) through ``python -m cclib``."""

from __future__ import annotations

import json
import shutil
import socket
import textwrap
from pathlib import Path

import pytest

from cclib.book.estimate import COSTS_DIR
from cclib.book.specs import get_spec

# A small chapter that trains a real (tiny) sweep and records its mean final loss.
TRAINING_CHAPTER = textwrap.dedent("""\
    # %% tags=["parameters"]
    profile = None
    {params}

    # %%
    import cclib
    from cclib.compressed import experiments as ex
    from cclib.engine.cache import Cache
    from cclib.engine.training import TrainConfig
    cfg = cclib.configure("{name}", globals())
    sweep = ex.MLPSweep(
        tuple(ex.CCInstance(seed=s, p=0.05, mixing="gaussian", sigma=0.02) for s in range(4)),
        TrainConfig(steps=80, batch_size=64), n=20, d=10)
    result = ex.run_mlp_sweep(sweep, Cache())
    claims = cclib.ClaimRecorder("{name}", cfg.profile)
    loss = float(result.losses[-10:].mean())
    claims.record(id="{name}.loss", statement="final loss", measured=loss, holds=True)
    """)

# A chapter that only notes when it ran (for the order of `build --jobs`).
TIMED_CHAPTER = textwrap.dedent("""\
    # %% tags=["parameters"]
    profile = None
    {params}

    # %%
    import json, os, time
    import cclib
    cfg = cclib.configure("{name}", globals())
    start = time.time()
    time.sleep(2.0)
    with open(os.environ["CCBOOK_ROOT"] + "/times.jsonl", "a") as f:
        f.write(json.dumps({{"name": "{name}", "start": start, "end": time.time()}}) + "\\n")
    claims = cclib.ClaimRecorder("{name}", cfg.profile)
    claims.record(id="{name}.ran", statement="ran", measured=1.0, holds=True)
    """)


def _chapter(template: str, name: str) -> str:
    params = "\n".join(f"{n} = None" for n in get_spec(name).names)
    return template.format(params=params, name=name)


def _project(tmp_path: Path, root: Path, chapters: dict[str, str]) -> Path:
    proj = tmp_path / "project"
    (proj / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, proj / name)
    shutil.copy(root / "book" / "claims.py", proj / "book" / "claims.py")
    for name, template in chapters.items():
        (proj / "book" / f"{name}.py").write_text(_chapter(template, name))
    return proj


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_error_line(proc, *fragments) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("command", ["run", "build"])
def test_unreachable_scheduler_refused_before_any_work(cli, root, tmp_path, command):
    proj = _project(tmp_path, root, {"naive_baseline": TRAINING_CHAPTER})
    address = f"tcp://127.0.0.1:{_free_port()}"
    args = ["naive_baseline"] if command == "run" else []
    proc = cli(command, *args, "--profile", "smoke", "--executor", address, "--root", str(proj))
    _one_error_line(proc, address, "no Dask scheduler answers")
    assert not (proj / "_build").exists()


@pytest.mark.parametrize(
    "args,env,fragments",
    [
        (["--executor", "local:0"], {}, ["--executor='local:0'", "local:N"]),
        (["--executor", "cluster"], {}, ["--executor='cluster'", "tcp://host:8786"]),
        ([], {"CCBOOK_EXECUTOR": "cluster"}, ["CCBOOK_EXECUTOR='cluster'"]),
        (["--jobs", "0"], {}, ["--jobs", ">= 1"]),
    ],
)
def test_bad_executor_or_jobs_is_one_usage_error(cli, root, tmp_path, args, env, fragments):
    proj = _project(tmp_path, root, {"naive_baseline": TRAINING_CHAPTER})
    proc = cli("build", "--profile", "smoke", *args, "--root", str(proj), env=env)
    _one_error_line(proc, *fragments)
    assert not (proj / "_build").exists()


def _claims(notebook: Path) -> dict:
    data = json.loads(notebook.with_name(notebook.stem + ".claims.json").read_text())
    return {c["id"]: c["measured"] for c in data["claims"]}


def test_run_on_a_local_cluster_gives_the_in_process_claims(cli, root, tmp_path):
    proj = _project(tmp_path, root, {"naive_baseline": TRAINING_CHAPTER})
    out = {}
    for executor in ("inprocess", "local:2"):
        env = {"CCBOOK_CACHE": str(tmp_path / f"cache-{executor.replace(':', '')}")}
        nb = tmp_path / f"{executor.replace(':', '')}.ipynb"
        proc = cli(
            "run", "naive_baseline", "--profile", "smoke", "--executor", executor,
            "--root", str(proj), "--output", str(nb), env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"executor: {executor}" in nb.read_text()  # the chapter's header line
        out[executor] = _claims(nb)
    assert out["local:2"]["naive_baseline.loss"] == pytest.approx(
        out["inprocess"]["naive_baseline.loss"], rel=1e-5
    )
    shards = [
        p for p in (tmp_path / "cache-local2").iterdir() if p.is_dir() and p.name != COSTS_DIR
    ]
    assert len(shards) == 3  # two shards and the merged sweep


def test_build_jobs_runs_chapters_at_once_and_readers_after_the_chapter_they_read(
    cli, root, tmp_path
):
    names = ["naive_baseline", "mixing", "mechanism", "regimes"]
    proj = _project(tmp_path, root, dict.fromkeys(names, TIMED_CHAPTER))
    proc = cli("build", "--profile", "smoke", "--jobs", "2", "--no-html", "--root", str(proj))
    assert proc.returncode == 0, proc.stderr[-3000:]
    times = {t["name"]: t for t in map(json.loads, (proj / "times.jsonl").read_text().splitlines())}
    assert set(times) == set(names)
    assert times["mechanism"]["start"] >= times["mixing"]["end"]  # reads mixing's sweeps
    overlaps = [
        (a, b)
        for a in names
        for b in names
        if a < b and times[a]["start"] < times[b]["end"] and times[b]["start"] < times[a]["end"]
    ]
    assert overlaps, "no two chapters ran at once"
    executed = proj / "_build" / "executed"
    for name in [*names, "claims"]:
        assert (executed / f"{name}.ipynb").is_file(), name
        assert (executed / f"{name}.claims.json").is_file(), name
    ran = _claims(executed / "claims.ipynb")
    assert ran == {} or all(v == 1.0 for v in ran.values())
    done = [line for line in proc.stderr.splitlines() if " done in " in line]
    assert len(done) == len(names) + 1 and done[-1].startswith("[5/5] claims (smoke)")
