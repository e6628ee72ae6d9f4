"""Executing chapters with papermill, and building the book.

A chapter's source of truth is ``book/<name>.py`` (jupytext percent format). Running it
means: validate the parameters (:mod:`cclib.book.params`, nothing is written on bad input),
convert the ``.py`` with jupytext, execute it with papermill into ``*.partial.ipynb``
beside the final output, and rename it into place on success. The kernel gets
``$CCBOOK_CLAIMS_FILE`` so the chapter's :class:`~cclib.book.claims.ClaimRecorder` writes
``<output>.claims.json``. The paired ``book/<name>.ipynb`` is never written.

The book build executes every notebook chapter of ``_toc.yml`` (the Claims page last)
into ``_build/executed/``, stages them with the markdown pages into ``_build/stage/``
and runs ``jupyter-book build`` with warnings as errors into ``_build/html/``.

Heavy imports (papermill, jupytext, yaml) happen inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .claims import CLAIMS_SUFFIX, MANIFEST, write_claims_file
from .html import CLAIMS_ENV, TWINS_ENV
from .params import ChapterConfig, ParameterError, check_profile
from .specs import get_spec

CLAIMS_CHAPTER = "claims"
KERNEL = "python3"

KNOWN_ERRORS = frozenset(
    {
        "ParameterError",
        "SettingError",
        "DeviceError",
        "CacheDirError",
        "ExecutorError",
        "TrainingDiverged",
        "SweepDiverged",
        "KeyboardInterrupt",
    }
)
"""cclib's own error kinds (and an interrupt): when a chapter stops with one of these, its
message already says what went wrong, so the runner reports just that message."""


class ChapterExecutionError(RuntimeError):
    """A chapter raised while executing (or the kernel died)."""


class ChapterInterrupted(ChapterExecutionError):
    """The run was interrupted (Ctrl-C / SIGINT): the kernel stopped, the partial notebook kept."""


class BookBuildError(RuntimeError):
    """``jupyter-book build`` failed (a warning counts as a failure)."""


# --------------------------------------------------------------------------- paths


def project_root() -> Path:
    """``$CCBOOK_ROOT``, else the directory above ``cclib`` if it holds ``_toc.yml``, else cwd."""
    env = os.environ.get("CCBOOK_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parents[2]  # cclib/book/runner.py
    if (here / "_toc.yml").is_file():
        return here
    return Path.cwd().resolve()


def book_dir(root: Path) -> Path:
    return root / "book"


def chapter_source(root: Path, name: str) -> Path:
    return book_dir(root) / f"{name}.py"


def chapter_name(arg: str, root: Path | None = None) -> str:
    """A chapter name from a name (``mixing``) or a path to one of its files, as a shell
    completes it (``book/mixing.py``, ``book/mixing.ipynb``, ``./book/mixing``); a path
    outside ``ROOT/book`` is a :class:`ParameterError`."""
    path = Path(arg)
    if len(path.parts) <= 1 and path.suffix not in (".py", ".ipynb"):
        return arg  # a plain name; get_spec reports unknown ones
    root = Path(root) if root is not None else project_root()
    resolved = (path if path.is_absolute() else Path.cwd() / path).resolve()
    name = resolved.name
    for suffix in (".py", ".ipynb"):
        name = name.removesuffix(suffix)
    if resolved.parent != book_dir(root).resolve():
        raise ParameterError(
            f"chapter path {arg!r}: chapters are the files book/<name>.py under {root}"
        )
    return name


def claims_path_for(notebook: Path) -> Path:
    """``x/quick.ipynb`` -> ``x/quick.claims.json``."""
    return notebook.with_name(notebook.name[: -len(".ipynb")] + CLAIMS_SUFFIX)


def partial_path_for(notebook: Path) -> Path:
    return notebook.with_name(notebook.name[: -len(".ipynb")] + ".partial.ipynb")


_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def _slug(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return _UNSAFE.sub("_", text)


def default_output(root: Path, cfg: ChapterConfig, overrides: Mapping[str, Any]) -> Path:
    """``_build/runs/<chapter>/<profile>[__name-value...].ipynb`` (spec order)."""
    spec = get_spec(cfg.chapter)
    parts = [cfg.profile]
    parts += [f"{n}-{_slug(cfg[n])}" for n in spec.names if overrides.get(n) is not None]
    return root / "_build" / "runs" / cfg.chapter / ("__".join(parts) + ".ipynb")


def toc_files(root: Path) -> list[str]:
    """Every ``file:`` entry of ``_toc.yml``, in order (``root`` first)."""
    import yaml

    toc_path = root / "_toc.yml"
    data = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                out.append(str(node["file"]))
            if "root" in node:
                out.append(str(node["root"]))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return out


def notebook_chapters(root: Path) -> list[str]:
    """Chapters of ``_toc.yml`` that are jupytext notebooks (``book/<name>.py``), Claims last."""
    names = []
    for entry in toc_files(root):
        path = Path(entry)
        stem = path.with_suffix("").name if path.suffix in (".ipynb", ".py") else path.name
        parent = path.parent
        if parent == Path("book") and chapter_source(root, stem).is_file():
            names.append(stem)
    if CLAIMS_CHAPTER in names:
        names.remove(CLAIMS_CHAPTER)
        names.append(CLAIMS_CHAPTER)
    return names


# --------------------------------------------------------------------------- run


@dataclass(frozen=True)
class RunPlan:
    """A validated chapter run: nothing has been written yet."""

    chapter: str
    cfg: ChapterConfig
    parameters: dict[str, Any]  # what papermill injects: profile + explicit overrides
    source: Path
    output: Path
    root: Path

    @property
    def claims_file(self) -> Path:
        return claims_path_for(self.output)


def plan_run(
    chapter: str,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    output: str | os.PathLike | None = None,
    root: Path | None = None,
) -> RunPlan:
    """Validate everything about a run; raise :class:`ParameterError` on bad input."""
    root = Path(root) if root is not None else project_root()
    spec = get_spec(chapter)
    overrides = {k: v for k, v in (overrides or {}).items()}
    cfg = spec.resolve(profile, **overrides)
    source = chapter_source(root, chapter)
    if not source.is_file():
        raise ParameterError(f"chapter {chapter!r}: no source file {source}")
    if output is None:
        out = default_output(root, cfg, overrides)
    else:
        out = Path(output).expanduser()
        if not out.is_absolute():
            out = Path.cwd() / out
        out = out.resolve()
        if out.suffix != ".ipynb" or out.name.endswith(".partial.ipynb"):
            raise ParameterError(
                f"option '--output': must be a path ending in .ipynb "
                f"(not .partial.ipynb), got {str(output)!r}"
            )
        if out.parent == book_dir(root).resolve():
            raise ParameterError(
                f"option '--output': must not be in {book_dir(root)} (the paired notebooks "
                f"there are never written), got {str(output)!r}"
            )
    parameters: dict[str, Any] = {"profile": cfg.profile}
    parameters.update({n: cfg[n] for n in spec.names if overrides.get(n) is not None})
    check_environment(root)
    return RunPlan(chapter, cfg, parameters, source, out, root)


def check_environment(root: Path) -> None:
    """The device (``CCBOOK_DEVICE``) exists, the cache folder (``CCBOOK_CACHE``, else
    ``ROOT/.cache``, as the kernel will see it) is writable and the executor
    (``CCBOOK_EXECUTOR``) is well-formed and its scheduler answers; else a ``SettingError``."""
    from ..engine.cache import check_cache_dir, default_cache_dir
    from ..engine.device import check_device
    from ..engine.executor import check_executor

    check_device()
    check_cache_dir(default_cache_dir(root))
    check_executor()


def kernel_stderr_log(socket_dir: Path) -> Path:
    """Where the kernels of one run write their process stderr."""
    return socket_dir / "kernel-stderr.log"


def _kernel_stderr_tail(socket_dir: Path, lines: int = 5) -> str:
    try:
        text = kernel_stderr_log(socket_dir).read_text(errors="replace").strip()
    except OSError:
        return ""
    tail = " | ".join(text.splitlines()[-lines:])
    return f"; kernel stderr: {tail}" if tail else ""


_RUNNING_MANAGERS: list = []  # kernel managers of this process (for Ctrl-C in a parallel build)


def ipc_kernel_manager(socket_dir: Path, env: Mapping[str, str] | None = None) -> type:
    """A kernel manager whose kernels talk over local IPC sockets in ``socket_dir`` and get
    ``env`` on top of this process's environment (so chapters executing at once in threads
    each get their own claims file without touching ``os.environ``).

    Over TCP without CurveZMQ keys ipykernel warns that its traffic is unencrypted (the
    warning every chapter run used to print). IPC sockets are files in a private folder
    (mode 0700), so the warning does not arise and nothing listens on a network port."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        started: list = []  # the managers of this run (one per chapter execution)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            IPCKernelManager.started.append(self)
            _RUNNING_MANAGERS.append(self)

        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            return str(socket_dir / "kernel")

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["env"] = {**kw.get("env", os.environ), **(env or {})}
            with open(kernel_stderr_log(socket_dir), "ab") as log:  # the child keeps its copy
                kw.setdefault("stderr", log)
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


@contextmanager
def _interrupt_forwarded(managers: list) -> Iterator[dict[str, bool]]:
    """While a chapter executes, a first SIGINT (Ctrl-C) interrupts the kernel, as Jupyter's
    "interrupt" button does: the running cell raises ``KeyboardInterrupt`` (training stops
    between steps; cache writes are atomic, so none is left half-written), papermill saves
    the partial notebook and shuts the kernel down. A second SIGINT raises
    ``KeyboardInterrupt`` here at once (papermill then kills the kernel)."""
    state = {"interrupted": False}

    def handler(signum: int, frame: Any) -> None:
        process = None
        for manager in managers:
            provisioner = getattr(manager, "provisioner", None)
            process = getattr(provisioner, "process", None) or process
        if state["interrupted"] or process is None:
            raise KeyboardInterrupt
        state["interrupted"] = True
        try:
            os.killpg(os.getpgid(process.pid), signal.SIGINT)
        except (ProcessLookupError, PermissionError, OSError):
            raise KeyboardInterrupt from None

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield state
        return
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


KERNELSPEC = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python"}


def add_kernel_metadata(notebook: Path) -> bool:
    """Give a paired ``book/<name>.ipynb`` the ``kernelspec`` and ``language_info`` that
    papermill's own command line needs (the ``.py`` twin stays clean: jupytext's
    ``notebook_metadata_filter = "-all"`` keeps notebook metadata out of it, and
    ``jupytext --sync`` preserves the notebook's). Returns whether the file changed."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    if nb.metadata.get("kernelspec") == KERNELSPEC and "language_info" in nb.metadata:
        return False
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", dict(LANGUAGE_INFO))
    nbformat.write(nb, notebook)
    return True


def sync_pair(source: Path) -> None:
    """``jupytext --sync`` of ``book/<name>.py`` with its ``.ipynb`` (created if missing),
    then :func:`add_kernel_metadata` on the notebook."""
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--quiet", "--sync", str(source)])
    add_kernel_metadata(source.with_suffix(".ipynb"))


def read_chapter(source: Path):
    """The chapter ``.py`` as an nbformat notebook ready for papermill."""
    import jupytext

    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)  # the executed copy is not paired with anything
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", dict(LANGUAGE_INFO))
    return nb


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _progress_bar(label: str | None) -> dict[str, Any] | bool:
    """papermill's cell progress bar on a terminal (cleared when done), else none."""
    if label is None or not sys.stderr.isatty():
        return False
    return {"desc": label, "leave": False, "file": sys.stderr, "dynamic_ncols": True}


def execute(
    plan: RunPlan, extra_env: Mapping[str, str] | None = None, progress: str | None = None
) -> Path:
    """Execute a validated plan; return the output notebook path.

    On failure the partial notebook is kept (``*.partial.ipynb``) for inspection and a
    :class:`ChapterExecutionError` summarises the failing cell; the earlier output, if
    any, is left as it was. ``progress`` labels a cell progress bar shown on a terminal.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = plan.output
    partial = partial_path_for(out)
    partial_claims = claims_path_for(partial)
    out.parent.mkdir(parents=True, exist_ok=True)
    _unlink(partial)
    _unlink(partial_claims)
    nb = read_chapter(plan.source)
    env = {
        "CCBOOK_CLAIMS_FILE": str(partial_claims),
        "CCBOOK_ROOT": str(plan.root),
        # training progress bars would fill the executed notebook with stream outputs;
        # papermill's own progress bar reports the run in the terminal instead
        "CCBOOK_PROGRESS": os.environ.get("CCBOOK_PROGRESS", "0"),
        # figures render as images in the notebook whatever the caller's MPLBACKEND (the
        # test suite sets Agg for itself; inherited, it left the book without figures)
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        **(extra_env or {}),
    }
    socket_dir = Path(tempfile.mkdtemp(prefix="ccbook-kernel-"))  # short: socket paths < 108
    manager_class = ipc_kernel_manager(socket_dir, env)
    try:
        with _interrupt_forwarded(manager_class.started) as interrupt:
            papermill.execute_notebook(
                nb,
                str(partial),
                parameters=plan.parameters,
                kernel_name=KERNEL,
                language="python",
                cwd=str(book_dir(plan.root)),
                progress_bar=_progress_bar(progress),
                log_output=False,
                request_save_on_cell_execute=True,
                kernel_manager_class=manager_class,
            )
    except PapermillExecutionError as exc:
        evalue = str(exc.evalue).strip().splitlines()
        first = evalue[0] if evalue else ""
        if interrupt["interrupted"] or exc.ename == "KeyboardInterrupt":
            raise ChapterInterrupted(
                f"interrupted: chapter {plan.chapter!r} stopped in cell {exc.cell_index}; "
                f"nothing was cached half-written, and a re-run resumes from the last "
                f"checkpoint (partial notebook: {partial})"
            ) from None
        if exc.ename in KNOWN_ERRORS:
            what = first or exc.ename
            raise ChapterExecutionError(
                f"chapter {plan.chapter!r} stopped in cell {exc.cell_index}: {what} "
                f"(partial notebook: {partial})"
            ) from None
        raise ChapterExecutionError(
            f"chapter {plan.chapter!r} failed in cell {exc.cell_index} "
            f"(In [{exc.exec_count}]): {exc.ename}: {first} "
            f"(partial notebook: {partial})"
        ) from None
    except KeyboardInterrupt:
        raise ChapterInterrupted(
            f"interrupted: chapter {plan.chapter!r} stopped; the kernel was shut down "
            f"(partial notebook: {partial})"
        ) from None
    except Exception as exc:  # kernel death, timeouts, ...
        raise ChapterExecutionError(
            f"chapter {plan.chapter!r} failed: {type(exc).__name__}: {exc}"
            f"{_kernel_stderr_tail(socket_dir)} (partial notebook: {partial})"
        ) from exc
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    _tag_injected_cell(partial)
    if not partial_claims.exists():  # a chapter without claims still gets its (empty) file
        write_claims_file(
            partial_claims,
            {
                "chapter": plan.chapter,
                "profile": plan.cfg.profile,
                "claims": [],
            },
        )
    os.replace(partial_claims, plan.claims_file)
    os.replace(partial, out)
    return out


def _tag_injected_cell(path: Path) -> None:
    """Give papermill's injected-parameters cell the display tags of the parameters cell
    (e.g. ``remove-cell`` or ``hide-input``), so a chapter that hides its parameters cell
    in the book hides the injected values too."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    tags_of = [c.metadata.get("tags", []) for c in nb.cells]
    params = next((t for t in tags_of if "parameters" in t), None)
    display = [t for t in (params or []) if t != "parameters"]
    if not display:
        return
    for cell, tags in zip(nb.cells, tags_of, strict=False):
        if "injected-parameters" in tags:
            cell.metadata["tags"] = [*tags, *(t for t in display if t not in tags)]
    nbformat.write(nb, path)


def run_chapter(
    chapter: str,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    output: str | os.PathLike | None = None,
    root: Path | None = None,
) -> Path:
    """Validate, then execute one chapter (see :func:`plan_run`, :func:`execute`)."""
    plan = plan_run(chapter, profile, overrides, output, root)
    with executor_session(log=False) as env:
        return execute(plan, extra_env=env)


# --------------------------------------------------------------------------- build


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stage_book(root: Path, executed: Path, stage: Path, chapters: list[str]) -> None:
    """Copy config, markdown/bib/assets and the executed notebooks into ``stage``."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage / name)
    src = book_dir(root)
    shutil.copytree(
        src,
        stage / "book",
        ignore=shutil.ignore_patterns(
            "*.py", "*.ipynb", "__pycache__", ".ipynb_checkpoints", "*.pyc"
        ),
    )
    for name in chapters:
        shutil.copy2(executed / f"{name}.ipynb", stage / "book" / f"{name}.ipynb")


def jupyter_book_build(
    stage: Path, html: Path, twins: Path | None = None, claims: Path | None = None
) -> None:
    """``jupyter-book build`` with warnings as errors; the HTML ends up in ``html``.
    ``twins``: the folder of the chapters' ``.py`` twins, offered for download; ``claims``:
    the executed build's claims files, whose cells get anchors (cclib.book.html)."""
    work = html.parent / "jupyter-book"
    if work.exists():
        shutil.rmtree(work)
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(stage),
        "--path-output",
        str(work),
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--builder",
        "html",
    ]
    # Sphinx's status output (and jupyter-book's closing message, which names its own
    # output folder) is shown only when the build fails; warnings go straight to stderr.
    env = dict(os.environ)
    for name, path in ((TWINS_ENV, twins), (CLAIMS_ENV, claims)):
        if path is not None:
            env[name] = str(path)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout or "")
        raise BookBuildError(
            f"jupyter-book build failed with exit code {proc.returncode} "
            "(warnings are errors; see the log above)"
        )
    built = work / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)
    os.replace(built, html)
    shutil.rmtree(work, ignore_errors=True)


READS_SWEEPS_OF: dict[str, tuple[str, ...]] = {
    "mechanism": ("mixing",),
    "semi_nmf": ("mixing",),
    "uand_readout": ("uand_training",),
    "uand_variance": ("uand_training",),
}
"""Chapters that load sweeps another chapter trains (the mixing chapter's condition sweep,
uand_training's runs). ``build --jobs`` starts them after that chapter: no job slot then
waits on a lock, and sweeps not yet trained through the executor (whose compute lock makes
a second asker wait instead of training again) are not trained twice at once."""


@contextmanager
def executor_session(log: bool = True) -> Iterator[dict[str, str]]:
    """The environment that gives chapter kernels the executor of ``$CCBOOK_EXECUTOR``:
    for ``local:N`` one Dask ``LocalCluster`` is started here for every chapter of the run
    (its address handed to the kernels, ``local:N`` their label) and closed afterwards."""
    from ..engine import executor

    setting = executor.executor_setting()
    if setting.kind != "local":
        yield {executor.ENV: str(setting)}
        return
    start = time.perf_counter()
    cluster = executor.start_local_cluster(setting.workers)
    try:
        if log:
            _log(
                f"executor {setting}: Dask LocalCluster at {cluster.scheduler_address} "
                f"({time.perf_counter() - start:.1f} s to start)"
            )
        yield {executor.ENV: cluster.scheduler_address, executor.LABEL_ENV: str(setting)}
    finally:
        cluster.close()


def _execution_order(chapters: list[str]) -> list[str]:
    """Chapters that others read first, then the rest in book order (Claims stays last)."""
    needed = {dep for deps in READS_SWEEPS_OF.values() for dep in deps}
    return sorted(chapters, key=lambda c: (c == CLAIMS_CHAPTER, c not in needed))


def _execute_parallel(
    plans: list[RunPlan], env: Mapping[str, str], jobs: int, profile: str
) -> None:
    """Execute ``plans`` with up to ``jobs`` chapters at once, each in its own kernel and
    output path. A chapter starts once the chapters it reads (``READS_SWEEPS_OF``) are
    done; the Claims page starts last. The first failure stops new starts; the running
    chapters finish, then that failure is raised. Ctrl-C interrupts every running kernel."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    names = [p.chapter for p in plans]
    by_name = {p.chapter: p for p in plans}
    index = {name: i for i, name in enumerate(names, 1)}
    pending = _execution_order(names)
    done: set[str] = set()
    running: dict = {}
    failure: BaseException | None = None

    def ready(name: str) -> bool:
        if name == CLAIMS_CHAPTER:
            return len(done) == len(names) - 1
        return all(d in done or d not in by_name for d in READS_SWEEPS_OF.get(name, ()))

    def timed(plan: RunPlan, label: str) -> float:
        start = time.perf_counter()
        execute(plan, extra_env=env, progress=None)
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        try:
            while pending or running:
                while failure is None and len(running) < jobs:
                    name = next((n for n in pending if ready(n)), None)
                    if name is None:
                        break
                    pending.remove(name)
                    label = f"[{index[name]}/{len(names)}] {name}"
                    running[pool.submit(timed, by_name[name], label)] = (name, label)
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name, label = running.pop(future)
                    try:
                        seconds = future.result()
                    except BaseException as exc:  # noqa: BLE001  (reported after the others)
                        failure = failure or exc
                        continue
                    done.add(name)
                    _log(f"{label} ({profile}) done in {seconds:.1f} s")
        except KeyboardInterrupt:
            _interrupt_running_kernels()
            wait(running)
            raise ChapterInterrupted(
                "interrupted: the running chapters' kernels were stopped; nothing was cached "
                "half-written, and a re-run resumes from the last checkpoints"
            ) from None
    if failure is not None:
        raise failure


def _interrupt_running_kernels() -> None:
    """SIGINT to the process group of every kernel this process started (as Ctrl-C does)."""
    for manager in _RUNNING_MANAGERS:
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is None:
            continue
        try:
            os.killpg(os.getpgid(process.pid), signal.SIGINT)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def build(
    profile: str | None = None,
    root: Path | None = None,
    build_dir: Path | None = None,
    html: bool = True,
    jobs: int = 1,
) -> Path:
    """Execute every chapter (``jobs`` at once, each into its own notebook), then build the
    book once. Returns the path of ``index.html`` (or of the executed directory when
    ``html`` is False). The executor (``$CCBOOK_EXECUTOR``) serves every chapter."""
    root = Path(root) if root is not None else project_root()
    build_dir = Path(build_dir).resolve() if build_dir is not None else root / "_build"
    profile = check_profile(profile)
    if jobs < 1:
        raise ParameterError(f"option '--jobs': must be >= 1, got {jobs}")
    chapters = notebook_chapters(root)
    plans = []
    executed = build_dir / "executed"
    for name in chapters:  # validate every chapter before executing any
        plans.append(plan_run(name, profile, output=executed / f"{name}.ipynb", root=root))
    executed.mkdir(parents=True, exist_ok=True)
    manifest = {"profile": profile, "chapters": chapters}
    write_claims_file(executed / MANIFEST, manifest)
    with executor_session() as executor_env:
        env = {"CCBOOK_CLAIMS_DIR": str(executed), **executor_env}
        if jobs > 1:
            _execute_parallel(plans, env, jobs, profile)
        for i, plan in enumerate(plans if jobs == 1 else [], 1):
            label = f"[{i}/{len(plans)}] {plan.chapter}"
            start = time.perf_counter()
            execute(plan, extra_env=env, progress=label)
            _log(f"{label} ({profile}) done in {time.perf_counter() - start:.1f} s")
    if not html:
        return executed
    stage = build_dir / "stage"
    stage_book(root, executed, stage, chapters)
    _log("building the HTML with jupyter-book (warnings are errors) ...")
    jupyter_book_build(stage, build_dir / "html", twins=book_dir(root), claims=executed)
    index = build_dir / "html" / "index.html"
    if not index.is_file():
        raise BookBuildError(f"jupyter-book reported success but {index} is missing")
    return index


def read_manifest(executed: Path) -> dict[str, Any]:
    path = Path(executed) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
