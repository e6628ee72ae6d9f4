"""Command line: ``python -m cclib run | build | params | claims``.

- ``run CHAPTER [--profile P] [-p NAME VALUE ...] [--output PATH]``: execute one chapter
  with papermill into its own output (default ``_build/runs/CHAPTER/<profile>[__...].ipynb``).
- ``build [--profile P] [--jobs N]``: execute every chapter (N at once) and build the book
  (warnings are errors).
- ``run`` and ``build`` take ``--executor inprocess | local:N | tcp://host:port``: where
  sweeps train (``cclib.engine.executor``; default ``$CCBOOK_EXECUTOR``, else in-process).
- ``params CHAPTER``: the chapter's parameters with each profile's value and help.
- ``sync [CHAPTER ...]``: re-pair ``book/<name>.py`` with its ``.ipynb`` (jupytext --sync)
  and give the notebook the kernel metadata papermill needs.
- ``claims [--json] [--by-source] [--dir D]``: the claims of the latest build (``--by-source``:
  grouped by paper and figure or section, failures first, as on the Claims page).

Bad input gives one line ``error: ...`` on stderr and exit code 2, before anything is
written. A chapter that fails while executing gives exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..engine.errors import SettingError
from .params import PROFILES

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem as one ``error:`` line (exit 2)."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(message)


def _error(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


EXECUTOR_HELP = (
    "where sweeps train: inprocess (default), local:N (a Dask LocalCluster of N workers) or "
    "a Dask scheduler address such as tcp://host:8786 (default: $CCBOOK_EXECUTOR)"
)


def _apply_executor(option: str | None) -> str:
    """Make ``--executor`` (if given) the setting every chapter of this command sees
    (``$CCBOOK_EXECUTOR``); a malformed one is a usage error. Returns the setting."""
    from ..engine import executor

    if option is not None:
        setting = executor.parse_executor(option, "--executor")
        os.environ[executor.ENV] = str(setting)
        os.environ.pop(executor.LABEL_ENV, None)
    return str(executor.executor_setting())


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cclib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="execute one chapter with papermill")
    run.add_argument("chapter", help="chapter name (mixing) or path (book/mixing.py)")
    run.add_argument(
        "--profile",
        default=None,
        help=f"one of {', '.join(PROFILES)} (default: paper on a GPU, else quick)",
    )
    run.add_argument(
        "-p",
        "--param",
        dest="params",
        action="append",
        nargs=2,
        default=[],
        metavar=("NAME", "VALUE"),
        help="override one parameter (repeatable)",
    )
    run.add_argument("--output", default=None, help="executed notebook path (.ipynb)")
    run.add_argument("--executor", default=None, help=EXECUTOR_HELP)
    run.add_argument("--root", default=None, help=argparse.SUPPRESS)

    build = sub.add_parser("build", help="execute every chapter and build the book")
    build.add_argument(
        "--profile",
        default=None,
        help=f"one of {', '.join(PROFILES)} (default: paper on a GPU, else quick)",
    )
    build.add_argument("--root", default=None, help="project root (default: auto)")
    build.add_argument("--build-dir", default=None, help="build directory (default: ROOT/_build)")
    build.add_argument(
        "--no-html", action="store_true", help="only execute the chapters, do not run jupyter-book"
    )
    build.add_argument("--executor", default=None, help=EXECUTOR_HELP)
    build.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="chapters executed at once, each in its own kernel (default 1)",
    )

    params = sub.add_parser("params", help="list a chapter's parameters")
    params.add_argument("chapter", help="chapter name (mixing) or path (book/mixing.py)")
    params.add_argument("--root", default=None, help=argparse.SUPPRESS)

    sync = sub.add_parser(
        "sync", help="pair book/<name>.py with its .ipynb (jupytext --sync + kernel metadata)"
    )
    sync.add_argument(
        "chapters", nargs="*", help="chapter names or paths (default: every book/*.py)"
    )
    sync.add_argument("--root", default=None, help=argparse.SUPPRESS)

    claims = sub.add_parser("claims", help="print the claims of the latest build")
    claims.add_argument("--json", action="store_true", help="JSON list instead of a table")
    claims.add_argument(
        "--by-source",
        action="store_true",
        help="group by paper and figure or section, failures first (as the Claims page)",
    )
    claims.add_argument(
        "--dir", default=None, help="executed-build directory (default: ROOT/_build/executed)"
    )
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from . import runner
    from .specs import get_spec

    root = Path(args.root).resolve() if args.root else None
    chapter = runner.chapter_name(args.chapter, root)
    spec = get_spec(chapter)
    overrides = spec.parse_cli([tuple(p) for p in args.params])
    executor = _apply_executor(args.executor)
    plan = runner.plan_run(chapter, args.profile, overrides, args.output, root)
    where = "" if executor == "inprocess" else f", executor {executor}"
    print(
        f"running {plan.chapter} (profile {plan.cfg.profile}{where}) -> {plan.output}",
        file=sys.stderr,
        flush=True,
    )
    try:
        with runner.executor_session(log=False) as env:
            out = runner.execute(plan, extra_env=env, progress=plan.chapter)
    except runner.ChapterInterrupted as exc:
        return _error(str(exc), EXIT_INTERRUPTED)
    except runner.ChapterExecutionError as exc:
        return _error(str(exc), EXIT_FAILED)
    print(out)
    return EXIT_OK


def _cmd_build(args: argparse.Namespace) -> int:
    from . import runner

    root = Path(args.root).resolve() if args.root else None
    build_dir = Path(args.build_dir).resolve() if args.build_dir else None
    if args.jobs < 1:
        return _error(f"option '--jobs': must be >= 1, got {args.jobs}", EXIT_USAGE)
    _apply_executor(args.executor)
    try:
        index = runner.build(
            args.profile, root=root, build_dir=build_dir, html=not args.no_html, jobs=args.jobs
        )
    except runner.ChapterInterrupted as exc:
        return _error(str(exc), EXIT_INTERRUPTED)
    except (runner.ChapterExecutionError, runner.BookBuildError) as exc:
        return _error(str(exc), EXIT_FAILED)
    print(index.resolve())
    return EXIT_OK


def _fmt_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def params_table(chapter: str) -> str:
    from .specs import get_spec

    spec = get_spec(chapter)
    header = ["name", "type", "smoke", "quick", "paper", "help"]
    rows = [
        [
            "profile",
            "str",
            "",
            "",
            "",
            f"one of {', '.join(PROFILES)}; default: paper on a GPU, quick on a CPU",
        ]
    ]
    for p in spec.params:
        rows.append([p.name, p.describe(), *(_fmt_value(p.values[k]) for k in PROFILES), p.help])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = [f"{spec.name}: {spec.title}", ""]
    for row in [header, ["-" * w for w in widths] + ["----"], *rows]:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
    for rel in spec.relations:
        lines.append(f"constraint: {getattr(rel, 'name', rel)}")
    return "\n".join(line.rstrip() for line in lines)


def _cmd_params(args: argparse.Namespace) -> int:
    from .runner import chapter_name

    root = Path(args.root).resolve() if args.root else None
    print(params_table(chapter_name(args.chapter, root)))
    return EXIT_OK


def _cmd_sync(args: argparse.Namespace) -> int:
    from . import runner

    root = Path(args.root).resolve() if args.root else runner.project_root()
    names = [runner.chapter_name(c, root) for c in args.chapters]
    sources = (
        [runner.chapter_source(root, n) for n in names]
        if names
        else sorted(runner.book_dir(root).glob("*.py"))
    )
    for source in sources:
        if not source.is_file():
            return _error(f"no chapter source {source}", EXIT_USAGE)
    for source in sources:
        runner.sync_pair(source)
        print(source.with_suffix(".ipynb"))
    return EXIT_OK


def _cmd_claims(args: argparse.Namespace) -> int:
    from .claims import CLAIM_KEYS, claims_by_source, claims_table, load_claims
    from .runner import project_root

    directory = Path(args.dir) if args.dir else project_root() / "_build" / "executed"
    if not directory.is_dir():
        return _error(
            f"no build found at {directory} (run `python -m cclib build` first)", EXIT_FAILED
        )
    try:
        claims = load_claims(directory)
    except ValueError as exc:
        return _error(str(exc), EXIT_FAILED)
    if args.json:
        data = [{k: getattr(c, k) for k in CLAIM_KEYS} for c in claims]
        print(json.dumps(data, indent=1, ensure_ascii=False))
    elif args.by_source:
        print(claims_by_source(claims))
    else:
        print(claims_table(claims))
    return EXIT_OK


COMMANDS = {
    "run": _cmd_run,
    "build": _cmd_build,
    "params": _cmd_params,
    "sync": _cmd_sync,
    "claims": _cmd_claims,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except _UsageError as exc:
        return _error(str(exc), EXIT_USAGE)
    except SettingError as exc:  # ParameterError, DeviceError, CacheDirError
        return _error(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `params NAME | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
