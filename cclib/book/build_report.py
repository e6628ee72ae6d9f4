"""What produced a build of the book: ``_build/report.json`` and the "About this build" page.

For every chapter: profile, device, executor, wall time split into training and the
rest, the share of cache entries served from the cache, the claims held and failed, and
the estimate printed before the build against the training time measured. For the
build: the commit (and whether the tree was dirty), the date, the versions of torch,
numpy and jupyter-book, and the machine (CPU model, threads, GPU name).

The page is generated into the staged book (``book/about.md``; the file of that name in
the sources is a placeholder), so a shared HTML build says what made it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .claims import CLAIMS_SUFFIX

REPORT_JSON = "report.json"
ABOUT_PAGE = "about.md"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def git_state(root: Path) -> dict[str, Any]:
    """``{"commit": sha or "unknown", "dirty": bool or None}`` of the checkout at ``root``."""

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit.strip() if commit else "unknown",
        "dirty": None if status is None else bool(status.strip()),
    }


def machine_facts() -> dict[str, Any]:
    """CPU model, torch threads, device and GPU name of this process."""
    from .estimate import Machine

    machine = Machine.here()
    return {
        "cpu": machine.cpu,
        "threads": machine.threads,
        "device": machine.device,
        "gpu": machine.gpu,
        "host": platform.node(),
        "python": platform.python_version(),
    }


def _claims_counts(executed: Path, chapter: str) -> dict[str, int]:
    """Claims of the chapter by state (held, failed, undetermined, not applicable)."""
    from .rules import FAILED, HELD, STATES

    counts = dict.fromkeys(STATES, 0)
    try:
        data = json.loads((executed / f"{chapter}{CLAIMS_SUFFIX}").read_text())
    except (OSError, ValueError):
        return counts
    for claim in data.get("claims", []):
        state = claim.get("state") or (HELD if claim.get("holds") else FAILED)
        counts[state] = counts.get(state, 0) + 1
    return counts


def build_report(
    root: Path,
    executed: Path,
    profile: str,
    chapters: list[str],
    records: Mapping[str, dict],
    began: str,
    jobs: int = 1,
) -> dict[str, Any]:
    """The report of a build whose chapters ran with ``records`` (from
    ``runner.run_chapter_timed``)."""
    from ..engine.executor import executor_label

    machine = machine_facts()
    rows = []
    for name in chapters:
        record = dict(records.get(name, {"chapter": name}))
        counts = _claims_counts(executed, name)
        entries = record.get("entries_cached", 0) + record.get("entries_trained", 0)
        estimate = record.get("estimate") or {}
        record.update(
            device=machine["device"] if machine["gpu"] is None else f"cuda ({machine['gpu']})",
            executor=executor_label(),
            claims_held=counts.get("held", 0),
            claims_failed=counts.get("failed", 0),
            claims_other=sum(v for k, v in counts.items() if k not in ("held", "failed")),
            cache_entries=entries,
            cached_share=(record.get("entries_cached", 0) / entries) if entries else None,
            estimate_seconds=estimate.get("seconds"),
        )
        rows.append(record)
    return {
        "profile": profile,
        "started": began,
        "finished": now(),
        "jobs": jobs,
        **git_state(root),
        "versions": {
            "cclib": _version("cclib"),
            "torch": _version("torch"),
            "numpy": _version("numpy"),
            "jupyter-book": _version("jupyter-book"),
        },
        "machine": machine,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "chapters": rows,
    }


def write_json(path: Path, report: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 100:
        return f"{value:.1f} s"
    if value < 6000:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.2f} h"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _ratio(estimate: float | None, measured: float | None) -> str:
    if estimate is None or not measured or measured < 0.05:
        return "–"
    return f"{estimate / measured:.2f}"


def about_markdown(report: Mapping[str, Any]) -> str:
    """The "About this build" page (MyST markdown)."""
    machine = report["machine"]
    dirty = {True: " (with uncommitted changes)", False: "", None: " (tree state unknown)"}
    versions = report["versions"]
    gpu = machine["gpu"] or "none"
    lines = [
        "(about-build)=",
        "# About this build",
        "",
        "This page is written by `python -m cclib build` when it renders the book, so a copy "
        "of the HTML says what produced it. The same data is in `_build/report.json`.",
        "",
        f"- **Profile**: {report['profile']}",
        f"- **Commit**: `{report['commit']}`{dirty[report['dirty']]}",
        f"- **Built**: {report['started']} to {report['finished']} (UTC), "
        f"{report['jobs']} chapter(s) at a time",
        f"- **Versions**: cclib {versions['cclib']}, torch {versions['torch']}, "
        f"numpy {versions['numpy']}, jupyter-book {versions['jupyter-book']}, "
        f"Python {machine['python']}",
        f"- **Machine**: {machine['cpu']}, {machine['threads']} torch threads, GPU: {gpu}",
        "",
        "Wall time is split into training (the trainer's own calls) and the rest "
        "(evaluation, analysis, figures, the kernel). *From cache* is the share of the "
        "chapter's cache entries (sweeps) that were read rather than trained. The "
        "estimate is the one printed before the build started; its ratio to the training "
        "time measured shows how far to trust the estimates on this machine. *Other claims* "
        "are undetermined (the error straddles the threshold) or not applicable.",
        "",
        "| chapter | profile | device | executor | wall | training | rest | from cache |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in report["chapters"]:
        lines.append(
            f"| {row['chapter']} | {row.get('profile', report['profile'])} | {row['device']} "
            f"| {row['executor']} | {_seconds(row.get('wall_seconds'))} "
            f"| {_seconds(row.get('training_seconds'))} | {_seconds(row.get('rest_seconds'))} "
            f"| {_share(row.get('cached_share'))} |"
        )
    lines += [
        "",
        "| chapter | claims held | failed | other | training estimated | estimate / measured |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["chapters"]:
        lines.append(
            f"| {row['chapter']} | {row['claims_held']} | {row['claims_failed']} "
            f"| {row['claims_other']} | {_seconds(row.get('estimate_seconds'))} "
            f"| {_ratio(row.get('estimate_seconds'), row.get('training_seconds'))} |"
        )
    lines.append("")
    return "\n".join(lines)


def write_about(path: Path, report: Mapping[str, Any]) -> None:
    path.write_text(about_markdown(report), encoding="utf-8")
