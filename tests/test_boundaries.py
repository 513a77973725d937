"""The dependency rules of DESIGN.md, checked by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if ".venv" not in p.parts)


def test_only_ui_imports_qt():
    offenders = []
    for path in _modules(ROOT / "stemgui"):
        if (ROOT / "stemgui" / "ui") in path.parents:
            continue
        bad = {n for n in _imports(path) if n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6"}}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_stemgui_never_imports_training():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules(ROOT / "stemgui")
        if any(n.split(".")[0] == "training" for n in _imports(p))
    ]
    assert not offenders


def test_nothing_imports_torchaudio():
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("stemgui", "training", "bench")
        if (ROOT / folder).exists()
        for p in _modules(ROOT / folder)
        if any(n.split(".")[0] == "torchaudio" for n in _imports(p))
    ]
    assert not offenders


def test_walker_sees_a_qt_import(tmp_path):
    """The walker itself must catch an import, or the tests above prove nothing."""
    module = tmp_path / "m.py"
    module.write_text("from PySide6.QtCore import QObject\nimport torch.nn as nn\n")
    assert {"PySide6.QtCore", "torch.nn"} <= _imports(module)
