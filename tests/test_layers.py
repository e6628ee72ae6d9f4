"""The package's layers import only downwards (ARCHITECTURE.md, "Layers").

``cclib.engine`` imports no other part of cclib; each paper's science
(``cclib.compressed``, ``cclib.universal_and``) imports only the engine and itself; the book
machinery (``cclib.book``) may import everything. Every import statement counts, including
those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cclib"
LAYERS = ("engine", "compressed", "universal_and", "book")
ALLOWED = {
    "engine": {"engine"},
    "compressed": {"engine", "compressed"},
    "universal_and": {"engine", "universal_and"},
    "book": set(LAYERS),
}


def imported_layers(path: Path) -> set[str]:
    """The cclib layers (or ``"cclib"`` for the package root) that ``path`` imports."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]  # ("cclib", layer)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = (node.module or "").split(".") if node.module else []
            full = base + module
            names = [".".join(full + [alias.name]) for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "cclib":
                found.add(parts[1] if len(parts) > 1 and parts[1] in LAYERS else "cclib")
    return found


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).glob("*.py"))


def test_every_module_belongs_to_a_layer():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__") == (
        sorted(LAYERS)
    )


@pytest.mark.parametrize("layer", LAYERS)
def test_imports_run_downwards(layer):
    for path in modules(layer):
        bad = imported_layers(path) - ALLOWED[layer] - ({"cclib"} if layer == "book" else set())
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}"


def test_the_checker_sees_relative_and_lazy_imports(tmp_path, monkeypatch):
    fake = PACKAGE / "engine" / "_layer_probe.py"
    source = "def f():\n    from ..book import report\n    from .cache import Cache\n"
    try:
        fake.write_text(source)
        assert imported_layers(fake) == {"book", "engine"}
    finally:
        fake.unlink()
