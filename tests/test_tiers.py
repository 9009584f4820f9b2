"""Imports point down the tiers: math <- layers <- zoo, read from the source (no import)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _modules(package):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("kerasprob/math"), ids=lambda p: p.name)
def test_math_imports_no_layer_no_keras_no_zoo(path):
    allowed = ("kerasprob.math", "kerasprob.validation")
    bad = [m for m in _imports(path)
           if m.split(".")[0] in ("tf_keras", "keras", "zoo")
           or (m.startswith("kerasprob") and not m.startswith(allowed))]
    assert not bad, f"{path.relative_to(ROOT)} imports up a tier: {bad}"


@pytest.mark.parametrize("path", _modules("kerasprob"), ids=lambda p: str(p.relative_to(ROOT)))
def test_kerasprob_never_imports_zoo(path):
    bad = [m for m in _imports(path) if m.split(".")[0] == "zoo"]
    assert not bad, f"{path.relative_to(ROOT)} imports the zoo: {bad}"


def test_the_checks_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import tf_keras\nfrom kerasprob.layers import MLP\n")
    assert list(_imports(bad)) == ["tf_keras", "kerasprob.layers"]
