"""The package declares what it imports (issue 10, D14); its docstring lists every module."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "weightreg"
# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn"}


def _imported_top_level_modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in deps}
    missing = {
        f"{DISTRIBUTION.get(mod, mod)} (imported by {sorted(where)[0]})"
        for mod, where in _imported_top_level_modules().items()
        if mod not in sys.stdlib_module_names
        and mod not in {"weightreg", "__future__"}
        and DISTRIBUTION.get(mod, mod).lower() not in declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def test_the_package_docstring_lists_every_module():
    import weightreg

    modules = {
        ".".join(p.relative_to(SRC.parent).with_suffix("").parts)
        for p in SRC.rglob("*.py")
        if p.name != "__init__.py" and not p.name.startswith("_") and p.parent.name != "check"
    }  # weightreg.check lists its own modules
    missing = sorted(m for m in modules if f":mod:`{m}`" not in weightreg.__doc__)
    assert not missing, f"weightreg/__init__.py does not list: {missing}"
