"""The layers of [tool.importlinter] in pyproject.toml: every module has a layer, and the contracts bite.

`lint-imports` (in `make lint`) checks the contracts; these tests keep the contracts themselves
honest: a module left out of the layers would be checked by nothing, and a contract that cannot
break would check nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _layered_modules() -> list[str]:
    (layers,) = [c for c in _contracts() if c["type"] == "layers"]
    return [m.strip() for layer in layers["layers"] for m in layer.replace("|", ":").split(":")]


def _modules_on_disk() -> set[str]:
    """bot's modules and sub-packages (a sub-package is one layer member), and the evaluators package."""
    found = {"evaluators"}
    for path in (ROOT / "bot").iterdir():
        if path.suffix == ".py" and path.name != "__init__.py":
            found.add(f"bot.{path.stem}")
        elif path.is_dir() and (path / "__init__.py").is_file():
            found.add(f"bot.{path.name}")
    return found


def test_every_module_is_in_exactly_one_layer() -> None:
    listed = _layered_modules()
    assert sorted(m for m in set(listed) if listed.count(m) > 1) == []
    assert set(listed) == _modules_on_disk()


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None, "lint-imports is part of evalbot[dev] (import-linter)"
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_are_kept() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("bot/plan.py", "import bot.hub", "bot layers"),  # the core reaching for an edge (also a cycle)
        ("bot/hub.py", "import bot.app", "bot layers"),  # an edge reaching for the app
        ("evaluators/cache.py", "import bot.config", "bot layers"),  # an engine adapter reaching for config
        ("evaluators/_scores.py", "import bot.tables", "bot layers"),  # ... or for a core module not a record
        ("bot/store.py", "import bot.hub", "edges are independent"),
        ("bot/render.py", "import bot.card", "no import cycles"),  # card imports render
    ],
)
def test_a_violation_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in ("bot", "evaluators"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "demo_repos"))
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{broken}" in done.stdout.split("Broken contracts", 1)[1], done.stdout
    assert "0 broken." not in done.stdout
