"""Rebuild the shipped presets: ``python -m zoo.presets.make [NAME ...]``.

Each preset is one ``python -m zoo fit`` run (the recipe below: model, data, epochs and
constructor arguments); its ``model.keras`` is copied here as ``NAME.keras`` and its
``run.json`` and validation metrics are recorded in ``presets.json``. Runs are seeded (split,
initial weights through ``tf_keras.utils.set_random_seed``), each trains in under a minute on
2 CPU cores, and each file stays well under 1 MB.
"""

import json
import os
import shlex
import shutil
import sys
import tempfile

from zoo.presets import DIRECTORY, INDEX

RECIPES = {
    "vae-digits": {
        "description": "VAE, 2-d latent, on the 8x8 digits scaled to [0, 1] (Bernoulli decoder)",
        "argv": ["fit", "VAE", "--data", "digits", "--epochs", "60", "--batch-size", "100",
                 "--set", "hidden_units=[256]", "--set", "learning_rate=0.002"],
    },
    "realnvp-banana": {
        "description": "RealNVP, 4 affine couplings, on the banana density (raw data: the "
                       "model standardizes it)",
        "argv": ["fit", "RealNVP", "--data", "banana", "--epochs", "60", "--batch-size",
                 "128", "--set", "num_layers=4", "--set", "hidden_units=[64, 64]",
                 "--set", "learning_rate=0.003"],
    },
    "naive-bayes-iris": {
        "description": "Gaussian naive Bayes on the four iris measurements (cm), three species",
        "argv": ["fit", "GaussianNaiveBayes", "--data", "iris"],
    },
}


def make(name, seed=0):
    """Train preset ``name`` and return its ``presets.json`` entry."""
    import tf_keras

    from zoo.cli import main

    recipe = RECIPES[name]
    tf_keras.utils.set_random_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        status = main([*recipe["argv"], "--out", out, "--seed", str(seed), "--no-plots",
                       "--verbose", "0"])
        if status != 0:
            raise RuntimeError(f"preset {name!r}: the fit exited with status {status}")
        with open(os.path.join(out, "run.json")) as f:
            run = json.load(f)
        shutil.copyfile(os.path.join(out, "model.keras"), os.path.join(DIRECTORY, f"{name}.keras"))
    metrics = run.pop("metrics")
    return {"file": f"{name}.keras", "description": recipe["description"],
            "command": shlex.join(["python", "-m", "zoo", *recipe["argv"]]), "run": run,
            "metrics": metrics}


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(RECIPES)
    index = {}
    if os.path.isfile(INDEX):
        with open(INDEX) as f:
            index = json.load(f)
    for name in names:
        index[name] = make(name)
        print(f"{name}: {index[name]['metrics']} "
              f"({os.path.getsize(os.path.join(DIRECTORY, index[name]['file'])) / 1e3:.0f} kB)")
        with open(INDEX, "w") as f:
            json.dump(dict(sorted(index.items())), f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
