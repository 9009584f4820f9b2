"""Every script in examples/ runs in its fast mode, and examples/README.md lists each one.

The convention (examples/README.md): an example is ``examples/<name>.py`` with a docstring and a
``main(argv=None)``; with the environment variable ``KERASPROB_FAST=1`` its defaults shrink
(epochs, steps, sample counts) so that it runs in seconds (an example that has a ``--fast``
flag is given it too: it means the same), and it writes its figures under
``runs/`` relative to the working directory. Here each runs in-process (TensorFlow is imported
once) from a temporary directory. Full-size runs and their reference figures are in
``tests/test_flows_examples.py`` and the benchmarks.
"""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_"))

#: Examples another test runs end to end and checks the figures of (one run of each example):
#: tests/test_flows_examples.py, tests/zoo/test_density_ratio_examples.py and
#: tests/zoo/test_classifier_examples.py.
RUN_ELSEWHERE = {
    "custom_bijectors", "flows_sinh_arcsinh", "flows_banana", "flows_conditional",
    "density_ratio_kl", "density_ratio_implicit_generator", "vae_adversarial_kl_digits",
    "naive_bayes_iris", "polya_gamma_logistic",
}


def _main_signature(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            return [a.arg for a in node.args.args], [ast.literal_eval(d)
                                                     for d in node.args.defaults]
    return None


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_follows_the_convention(name):
    path = EXAMPLES / f"{name}.py"
    assert ast.get_docstring(ast.parse(path.read_text())), f"{name}.py has no docstring"
    assert _main_signature(path) == (["argv"], [None]), f"{name}.py needs main(argv=None)"
    readme = (EXAMPLES / "README.md").read_text()
    assert f"{name}.py" in readme, f"examples/README.md does not list {name}.py"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(SCRIPTS) - RUN_ELSEWHERE))
def test_example_runs_in_fast_mode(name, tmp_path, monkeypatch):
    monkeypatch.setenv("KERASPROB_FAST", "1")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for module in [m for m in sys.modules if m in SCRIPTS]:  # examples import each other
        monkeypatch.delitem(sys.modules, module)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = (EXAMPLES / f"{name}.py").read_text()
    module.main(["--fast"] if '"--fast"' in source else [])  # a --fast flag means the same
    import matplotlib.pyplot as plt

    plt.close("all")
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert path.stat().st_size > 0, f"{name} wrote an empty {path.name}"
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
