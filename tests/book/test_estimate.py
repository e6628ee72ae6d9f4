"""Training-time estimates before any work, the max_hours refusal, progress events and
the monitor that shows them, and the build report ("About this build")."""

from __future__ import annotations

import io
import json
import time

import pytest

from cclib.book import estimate as est
from cclib.book import plans
from cclib.book.monitor import ChapterMonitor
from cclib.book.params import ParameterError
from cclib.book.specs import get_spec
from cclib.engine.cache import Cache


@pytest.fixture()
def costs(tmp_path):
    """Step costs measured afresh (in a folder of this test)."""
    return est.StepCosts(tmp_path, est.Machine.here())


@pytest.fixture()
def cpu_costs(tmp_path):
    """Step costs measured afresh in CPU seconds of this process: the comparisons with
    real training below time both in CPU seconds, so that other work on a shared
    machine (which stretches wall time at random) does not decide them. One torch thread
    (tests/conftest.py), so CPU seconds are wall seconds on an idle machine."""
    return est.StepCosts(tmp_path, est.Machine.here(), clock=time.process_time)


def _real_seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def test_every_training_chapter_has_a_plan_and_max_hours():
    from cclib.book.specs import SPECS

    for name, spec in SPECS.items():
        if "max_steps" in spec.names:
            assert "max_hours" in spec.names, name
            assert name in plans.PLANNERS, name
            assert spec.param("max_hours").values["quick"] == 12.0


def _train_smoke(chapter: str, cfg) -> None:
    """What the chapter trains under smoke (its sweeps, as the chapter asks for them)."""
    from cclib.compressed import experiments as cc
    from cclib.compressed import regimes
    from cclib.universal_and import experiments as uand

    if chapter == "regimes":
        cc.run_mlp_sweep(regimes.figure7_sweep(cfg), None)
        cc.run_mlp_sweep(regimes.clean_sweep(cfg), None)
    else:
        for run in uand.chapter_runs(cfg):
            uand.train_run(run, None)


@pytest.mark.parametrize("chapter", ["regimes", "uand_training"])
def test_estimate_within_factor_two_smoke(tmp_path, cpu_costs, chapter):
    cfg = get_spec(chapter).resolve("smoke")
    estimate = est.estimate_chapter(cfg, Cache(tmp_path / "cache"), cpu_costs)
    guess = sum(
        s.seconds for s in estimate.sweeps if not s.label.startswith("uand_training:")
    )  # uand_training's two checks (decay, size) are not trained below
    real = _real_seconds(lambda: _train_smoke(chapter, cfg))
    print(f"{chapter} smoke: estimate {guess:.3f} s, real {real:.3f} s")
    assert 0.5 <= guess / real <= 2.0, (guess, real)


def test_estimate_within_factor_two_naive_baseline_quick_sizes(tmp_path, cpu_costs):
    """The quick profile's sizes (3 MLPs, batch 2048, p = 0.01: the sparse step), a few
    hundred steps: the estimate against the sweep actually trained."""
    from cclib.compressed import experiments

    cfg = get_spec("naive_baseline").resolve("quick", steps=250)
    estimate = est.estimate_chapter(cfg, Cache(tmp_path / "cache"), cpu_costs)
    (sweep,) = [s for s in estimate.sweeps if s.status == "train"]
    assert sweep.model_steps == 3 * experiments.nonempty_horizon(250, 0.01, 100)
    real_sweep = experiments.seed_sweep(cfg, cfg.seeds, p=cfg.p, mixing=cfg.mixing)
    real = _real_seconds(lambda: experiments.run_mlp_sweep(real_sweep, None))
    ratio = estimate.seconds / real
    print(f"naive_baseline quick sizes: estimate {estimate.seconds:.2f} s, real {real:.2f} s")
    assert 0.5 <= ratio <= 2.0, (estimate.seconds, real)


def test_estimate_within_factor_two_uand_quick_sizes(tmp_path, cpu_costs):
    """uand_training's quick sizes (m = 30, batch 256) at two d and two s (3 and 10), 200 steps."""
    from cclib.universal_and import experiments

    cfg = get_spec("uand_training").resolve("quick", d_values="10,100", s_values="3,10", steps=200)
    estimate = est.estimate_chapter(cfg, Cache(tmp_path / "cache"), cpu_costs)
    runs = experiments.chapter_runs(cfg)
    main = [s for s in estimate.sweeps if s.label.startswith("uand_training (m=")]
    assert len(main) == 4 and all(s.status == "train" for s in main)
    assert sum(s.model_steps for s in main) == 4 * 2 * 200
    real = _real_seconds(lambda: [experiments.train_run(run, None) for run in runs])
    guess = sum(s.seconds for s in main)
    print(f"uand_training quick sizes: estimate {guess:.2f} s, real {real:.2f} s")
    assert 0.5 <= guess / real <= 2.0, (guess, real)


def test_cached_sweeps_cost_nothing_and_are_never_refused(tmp_path, costs):
    from cclib.compressed import experiments

    cache = Cache(tmp_path / "cache")
    cfg = get_spec("naive_baseline").resolve("smoke", max_hours=1e-9)
    first = est.estimate_chapter(cfg, cache, costs)
    assert first.seconds > 0 and costs.path.is_file()
    with pytest.raises(ParameterError, match="max_hours"):
        est.check_max_hours(first, cfg)
    sweep = experiments.seed_sweep(cfg, cfg.seeds, p=cfg.p, mixing=cfg.mixing, sigma=cfg.sigma)
    experiments.run_mlp_sweep(sweep, cache)
    again = est.estimate_chapter(cfg, cache, costs)
    assert again.seconds == 0 and [s.status for s in again.sweeps] == ["cached"]
    est.check_max_hours(again, cfg)  # nothing to train: not refused
    assert "no training" in again.line()
    # a build counts a sweep two chapters share once (for the first)
    seen: set[str] = set()
    mixing = get_spec("mixing").resolve("smoke")
    mechanism = get_spec("mechanism").resolve("smoke")
    est.estimate_chapter(mixing, cache, costs, seen)
    shared = est.estimate_chapter(mechanism, cache, costs, seen)
    assert [s.status for s in shared.sweeps] == ["shared", "train"]


def test_step_costs_are_kept_per_machine_and_trainer_version(tmp_path):
    machine = est.Machine.here()
    costs = est.StepCosts(tmp_path, machine)
    cfg = get_spec("naive_baseline").resolve("smoke")
    est.estimate_chapter(cfg, None, costs)
    assert costs.measured == 1
    again = est.StepCosts(tmp_path, machine)
    est.estimate_chapter(cfg, None, again)
    assert again.measured == 0  # read back, not measured again
    other = est.StepCosts(tmp_path, machine, version="another-step")
    assert other.costs == {} and other.path != costs.path


def test_refusal_is_one_line_naming_estimate_and_ways_out(cli, tmp_path):
    out = tmp_path / "never.ipynb"
    args = ["run", "naive_baseline", "--profile", "quick", "--output", str(out)]
    proc = cli(*args, "-p", "steps", "300", "-p", "max_hours", "0.0001")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: parameter 'max_hours': "), lines
    line = lines[0]
    for fragment in (
        "naive_baseline (profile quick) needs an estimated ~",
        "of training on cpu (",
        "above max_hours = 0.0001",
        "steps = 300",
        "batch_size = 2,048",
        "run on a GPU",
        "--profile smoke",
        "-p max_hours ",
    ):
        assert fragment in line, (fragment, line)
    assert proc.stdout == "" and not out.exists()
    # --dry-run prints the estimate and executes nothing
    proc = cli(*args, "-p", "steps", "300", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("naive_baseline: ~") and " model-steps" in proc.stdout
    assert not out.exists()


def test_build_max_hours_refuses_before_any_work(cli, tmp_path):
    build_dir = tmp_path / "_build"
    env = {"CCBOOK_CACHE": str(tmp_path / "cache")}  # empty: nothing of the smoke build cached
    proc = cli(
        "build", "--profile", "smoke", "--max-hours", "1e-9", "--build-dir", str(build_dir), env=env
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "max_hours = 1e-09" in lines[0], lines
    assert "--max-hours " in lines[0] and "to accept it" in lines[0]
    assert not build_dir.exists()


def test_training_writes_progress_events(tmp_path, monkeypatch):
    import torch

    from cclib.compressed import experiments

    events = tmp_path / "events.jsonl"
    monkeypatch.setenv("CCBOOK_EVENTS", str(events))
    cfg = get_spec("naive_baseline").resolve("smoke")
    sweep = experiments.seed_sweep(cfg, cfg.seeds, p=cfg.p)
    experiments.run_mlp_sweep(sweep, Cache(tmp_path / "cache"), description="sweep A")
    experiments.run_mlp_sweep(sweep, Cache(tmp_path / "cache"), description="sweep A")
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    kinds = [e["event"] for e in lines]
    assert kinds[0] == "start" and "end" in kinds
    assert [e["cached"] for e in lines if e["event"] == "entry"] == [False, True]
    end = next(e for e in lines if e["event"] == "end")
    assert end["sweep"] == "sweep A" and end["done"] == sum(sweep.horizons())
    assert end["seconds"] > 0
    # the monitor reads them back: model-steps, training time and cache entries
    monitor = ChapterMonitor("[1/1] x", events, total=sum(sweep.horizons()), tty=False)
    monitor.poll()
    seen = monitor.observed
    assert seen.model_steps == sum(sweep.horizons()) and seen.training_seconds > 0
    assert (seen.entries_cached, seen.entries_trained) == (1, 1)
    assert torch.get_num_threads() >= 1


def test_monitor_prints_plain_lines_off_a_terminal(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps({"event": "start", "t": time.time(), "sweep": "mixing: sigma sweep"})
        + "\n"
        + json.dumps(
            {"event": "progress", "t": time.time(), "sweep": "mixing: sigma sweep", "done": 500}
        )
        + "\n"
    )
    stream = io.StringIO()
    with ChapterMonitor("[3/10] mixing", events, 2000, 60.0, interval=0.2, stream=stream):
        time.sleep(1.3)
    lines = stream.getvalue().splitlines()
    assert lines, "no plain progress line"
    assert lines[-1].startswith("[3/10] mixing: training mixing: sigma sweep: 500 of 2,000")
    assert "(25%)" in lines[-1] and "elapsed" in lines[-1] and "left" in lines[-1]


def test_gpu_rate_shown_where_a_gpu_measured_the_same_sizes(tmp_path, costs):
    """A GPU's step costs in the same cache folder (same trainer version) give the line
    its "~X on a GPU at the last measured rate"; the CPU estimate is unchanged."""
    cfg = get_spec("naive_baseline").resolve("smoke")
    cpu = est.estimate_chapter(cfg, None, costs)
    assert cpu.gpu_seconds is None and "on a GPU" not in cpu.line()
    gpu_machine = est.Machine("gpu-host", "some CPU", 8, "cuda", "NVIDIA H100")
    gpu_costs = est.StepCosts(tmp_path, gpu_machine, version=costs.version)
    for key, value in costs.costs.items():  # same sizes, every instance at once, 10x faster
        cls = json.loads(key)
        cls["instances"] = cfg.seeds
        gpu_costs.costs[json.dumps(cls, sort_keys=True)] = {
            **value,
            "seconds": value["seconds"] / 10,
        }
    gpu_costs.save()
    again = est.estimate_chapter(cfg, None, est.StepCosts(tmp_path, est.Machine.here()))
    assert again.gpu == "NVIDIA H100"
    assert again.gpu_seconds == pytest.approx(cpu.seconds / 10)
    assert "at the last measured rate" in again.line()
