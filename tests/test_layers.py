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


def _contract(name_start: str) -> dict[str, Any]:
    (contract,) = [c for c in _contracts() if c["name"].startswith(name_start)]
    return contract


def _members(layers: list[str]) -> list[str]:
    return [m.strip() for layer in layers for m in layer.replace("|", ":").split(":")]


def _packages_on_disk(package: Path) -> set[str]:
    """The modules and sub-packages directly in `package` (a sub-package is one layer member)."""
    found = set()
    for path in package.iterdir():
        if path.suffix == ".py" and path.name not in ("__init__.py", "__main__.py"):
            found.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").is_file():
            found.add(path.name)
    return found


def test_every_module_is_in_exactly_one_layer() -> None:
    listed = _members(_contract("bot layers")["layers"])
    assert sorted(m for m in set(listed) if listed.count(m) > 1) == []
    assert set(listed) == {"evaluators"} | {f"bot.{name}" for name in _packages_on_disk(ROOT / "bot")}


def test_every_core_module_is_in_exactly_one_core_layer() -> None:
    listed = _members(_contract("core layers")["layers"])
    assert sorted(m for m in set(listed) if listed.count(m) > 1) == []
    assert set(listed) == _packages_on_disk(ROOT / "bot" / "core")


def test_every_store_module_is_in_exactly_one_store_layer() -> None:
    listed = _members(_contract("store layers")["layers"])
    assert sorted(m for m in set(listed) if listed.count(m) > 1) == []
    assert set(listed) == _packages_on_disk(ROOT / "bot" / "edges" / "store")


def test_evaluators_may_import_only_the_core_records() -> None:
    forbidden = set(_contract("evaluators import")["forbidden_modules"])
    assert forbidden == {f"bot.core.{name}" for name in _packages_on_disk(ROOT / "bot" / "core")} - {
        "bot.core.scores",
        "bot.core.benchmarks",
        "bot.core.parse",  # benchmarks parses its YAML's flags with it
    }


def test_each_outside_system_has_one_edge_module() -> None:
    independent = set(_contract("edges are independent")["modules"])
    edges = {f"bot.edges.{name}" for name in _packages_on_disk(ROOT / "bot" / "edges") if not name.startswith("_")}
    assert independent == edges | {"bot.sim"}


def test_edge_helpers_are_private_and_kept_below_every_edge() -> None:
    helpers = {f"bot.edges.{name}" for name in _packages_on_disk(ROOT / "bot" / "edges") if name.startswith("_")}
    contract = _contract("edge helpers import no edge")
    assert set(contract["source_modules"]) == helpers
    assert set(contract["forbidden_modules"]) == set(_contract("edges are independent")["modules"]) - {"bot.sim"}


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
        ("bot/core/plan.py", "import bot.edges.hub", "bot layers"),  # the core reaching for an edge (also a cycle)
        ("bot/edges/hub.py", "import bot.app.pipeline", "bot layers"),  # an edge reaching for the app
        ("evaluators/cache.py", "import bot.config.settings", "bot layers"),  # an engine adapter reaching for config
        ("evaluators/_scores.py", "import bot.core.tables", "evaluators import"),  # a core module, not a record
        ("bot/core/scores.py", "import bot.core.plan", "core layers"),  # a record reaching up the core
        ("bot/serve/worker.py", "import bot.cli", "no import cycles"),  # cli registers serve
        ("bot/edges/store/__init__.py", "import bot.edges.hub", "edges are independent"),
        ("bot/edges/store/ledger.py", "import bot.edges.store.queue", "store layers"),  # one part reaching for another
        ("bot/edges/store/_db.py", "import bot.edges.store._schema", "store layers"),  # connections knowing the tables
        ("bot/edges/_http.py", "import bot.edges.github", "edge helpers import no edge"),
        ("bot/core/render.py", "import bot.core.card", "no import cycles"),  # card imports render
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
