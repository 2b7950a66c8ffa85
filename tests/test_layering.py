"""The layering of DESIGN.md, enforced: import-linter's contracts (pyproject.toml) and no private name imported
across modules.

``lint-imports`` checks the contracts in ``[tool.importlinter]``: the layers (ground, models, planning,
data / coverage / generators, algorithms, front ends), no cycles between siblings at any depth, the library never
importing the experiments, deep, runner, plotting, torch, dask or matplotlib, and runner / bounds / plotting
standing alone. The AST scan below adds what import-linter cannot see: a name with a leading underscore
(``_max_ratio``) imported from, or read off, another theory_rl module. Private *modules* (``theory_rl._validation``)
are the ground layer's public entry points and are fine; private *names* are not.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "theory_rl"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def private_imports() -> list[str]:
    """Every ``importer -> source.name`` where a theory_rl module imports (or reads off an imported theory_rl
    module) a private name defined in another module."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        module_aliases: dict[str, str] = {}  # local name -> theory_rl module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("theory_rl"):
                        local = alias.asname or alias.name.split(".")[0]
                        module_aliases[local] = alias.name if alias.asname else "theory_rl"
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, node, path.name == "__init__.py")
                if not source.startswith("theory_rl") or source == module:
                    continue
                for alias in node.names:
                    if _is_private(alias.name):
                        if _is_module(f"{source}.{alias.name}"):
                            module_aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                            continue  # a private module: fine
                        found.append(f"{module} -> {source}.{alias.name}")
                    elif _is_module(f"{source}.{alias.name}"):
                        module_aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_aliases and _is_private(node.attr)):
                source = module_aliases[node.value.id]
                if source != module and not _is_module(f"{source}.{node.attr}"):
                    found.append(f"{module} -> {source}.{node.attr}")
    return sorted(set(found))


def test_no_private_name_imported_across_modules():
    violations = private_imports()
    assert not violations, "private names imported across modules:\n" + "\n".join(violations)


def test_private_import_scan_can_fail(tmp_path):
    """The scan sees ``from theory_rl.coverage import _max_ratio``-style imports (a check that could fail)."""
    source = "from theory_rl.results import _summary\nfrom theory_rl import results\nresults._summary(1)\n"
    tree = ast.parse(source)
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert [n for n in names if _is_private(n)] == ["_summary"]
    assert _is_module("theory_rl._validation") and not _is_module("theory_rl.results._summary")


def test_import_contracts():
    """Runs ``lint-imports`` (import-linter, the venv's, next to the interpreter) from the repository root."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail(f"lint-imports not found next to {sys.executable}: pip install import-linter (extra 'dev')")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    report = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return
    pytest.fail("broken import contracts (lint-imports):\n" + report)
