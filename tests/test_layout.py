"""The house's layout, checked: layers import only downwards, modules and functions stay small.

The layers of ``harness`` (see ``harness/__init__``), lowest first.  A module of a layer may
import its own layer, any layer listed before it, the leaf modules ``harness._exit``, ``harness._findings`` and
``harness._loading``, and the
packages ``models``, ``stores`` and ``fleet``; ``check`` may import ``models`` only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("runtime", "check", "backends", "explore", "conformance", "report", "cli")
#: What each layer may import besides itself and harness's leaf modules.
ALLOWED: dict[str, set[str]] = {
    "runtime": {"stores"},
    "check": {"models"},
    "backends": {"runtime", "stores"},
    "explore": {"runtime", "check", "backends", "models", "stores", "fleet"},
    "conformance": {"runtime", "check", "backends", "explore", "models", "stores", "fleet"},
    "report": {"explore", "check"},
    "cli": set(LAYERS) | {"models", "stores", "fleet"},
}
LEAVES = {"_exit", "_findings", "_loading"}
PACKAGES = ("harness", "models", "stores", "fleet")


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute dotted names this file imports (relative imports resolved), with line numbers."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if parts[-1] == "__init__":
        package = parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            out.append((name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
    return out


def _target(name: str) -> str | None:
    """The first-party package or harness layer a dotted name belongs to (None: third party)."""
    parts = name.split(".")
    if parts[0] in {"models", "stores", "fleet"}:
        return parts[0]
    if parts[0] != "harness" or len(parts) == 1:
        return None if parts[0] != "harness" else "harness"
    return parts[1]


@pytest.mark.parametrize("layer", LAYERS)
def test_each_harness_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = []
    for path in _modules(f"harness/{layer}"):
        for name, line in _imports(path):
            target = _target(name)
            if target is None or target == layer or target in LEAVES:
                continue
            if target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_another_packages_private_module(package: str) -> None:
    wrong = []
    for path in _modules(package):
        own = path.relative_to(ROOT).parts[:-1]
        for name, line in _imports(path):
            parts = name.split(".")
            if parts[0] not in PACKAGES:
                continue
            # The package that holds the private module must be this file's own package or one
            # that contains it (``stores.cosmos`` may use ``stores._contract``).
            for i, part in enumerate(parts):
                if part.startswith("_") and part not in LEAVES:
                    holder = tuple(parts[:i])
                    if holder != own[: len(holder)]:
                        wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
                    break
    assert not wrong, "\n".join(wrong)


def test_models_stay_pure() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules("models")
        for name, line in _imports(path)
        if name.split(".")[0] in {"trio", "azure", "time", "random", "harness", "stores", "fleet"}
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_600_lines_and_no_function_over_120(package: str) -> None:
    wrong = []
    for path in _modules(package):
        text = path.read_text()
        lines = text.count("\n")
        if lines > 600:
            wrong.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 120:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length}")
    assert not wrong, "\n".join(wrong)
