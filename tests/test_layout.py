"""The folders show the layers: every subpackage says what it holds, imports flow one way (the
contracts in pyproject.toml, checked by import-linter), and the README's code map is the tree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "steward"


def _subpackages() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/__init__.py")}


def _contract_layers() -> list[list[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in layers]


def _code_map_rows() -> list[list[str]]:
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("### Code map", 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            rows.append(re.findall(r"`(\w+)/`", first_cell))
    return rows


def test_the_layers_contract_names_every_subpackage_once() -> None:
    named = [name for layer in _contract_layers() for name in layer]
    assert sorted(named) == sorted(_subpackages())


def test_the_code_map_lists_the_subpackages_in_layer_order() -> None:
    assert _code_map_rows() == _contract_layers()


def test_every_subpackage_init_is_a_docstring_saying_what_it_may_import() -> None:
    for name in sorted(_subpackages()):
        module = ast.parse((PACKAGE / name / "__init__.py").read_text("utf-8"))
        docstring = ast.get_docstring(module)
        assert docstring, f"steward.{name} has no docstring"
        assert len(module.body) == 1, f"steward.{name}: code in __init__.py"
        assert "import" in docstring, f"steward.{name} does not say what it may import"


def test_no_subpackage_imports_a_higher_one_and_no_module_cycle() -> None:
    """import-linter's contracts, run as CI runs them (lazy imports inside functions count)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")
