"""Rebuild the shipped presets: ``python -m zoo.presets.make [NAME ...]``.

Each preset is one ``python -m zoo fit`` run (the recipe below: its family, model, data,
epochs and constructor arguments); its ``model.keras`` is copied to the family's presets folder
as ``NAME.keras`` and its ``run.json`` and validation metrics are recorded in that folder's
``presets.json``. Runs are seeded (split,
initial weights through ``tf_keras.utils.set_random_seed``), each trains in under a minute on
2 CPU cores, and each file stays well under 1 MB.
"""

import json
import os
import shlex
import shutil
import sys
import tempfile

from zoo.presets import directory, index_path

RECIPES = {
    "vae-digits": {
        "family": "vae",
        "description": "VAE, 2-d latent, on the 8x8 digits scaled to [0, 1] (Bernoulli decoder)",
        "argv": ["fit", "VAE", "--data", "digits", "--epochs", "60", "--batch-size", "100",
                 "--set", "hidden_units=[256]", "--set", "learning_rate=0.002"],
    },
    "realnvp-banana": {
        "family": "flows",
        "description": "RealNVP, 4 affine couplings, on the banana density (raw data: the "
                       "model standardizes it)",
        "argv": ["fit", "RealNVP", "--data", "banana", "--epochs", "60", "--batch-size",
                 "128", "--set", "num_layers=4", "--set", "hidden_units=[64, 64]",
                 "--set", "learning_rate=0.003"],
    },
    "naive-bayes-iris": {
        "family": "classifiers",
        "description": "Gaussian naive Bayes on the four iris measurements (cm), three species",
        "argv": ["fit", "GaussianNaiveBayes", "--data", "iris"],
    },
    "svgp-co2": {
        "family": "gp",
        "description": "SVGP regressor, 50 inducing inputs, on monthly Mauna Loa CO2 (decimal "
                       "year -> ppm, raw units), trained until converged",
        "argv": ["fit", "SVGPRegressor", "--data", "co2"],
    },
    "density-ratio-gaussians": {
        "family": "density_ratio",
        "description": "log p/q of the density-ratio post's pair, p = N(1, 1), q = N(0, 2^2) "
                       "(KL 0.4431), cross-fitted",
        "argv": ["fit", "DensityRatioEstimator", "--data", "gaussian_pair"],
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
        shutil.copyfile(os.path.join(out, "model.keras"),
                        os.path.join(directory(recipe["family"]), f"{name}.keras"))
    metrics = run.pop("metrics")
    return {"file": f"{name}.keras", "description": recipe["description"],
            "command": shlex.join(["python", "-m", "zoo", *recipe["argv"]]), "run": run,
            "metrics": metrics}


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(RECIPES)
    for name in names:
        family = RECIPES[name]["family"]
        index = {}
        if os.path.isfile(index_path(family)):
            with open(index_path(family)) as f:
                index = json.load(f)
        index[name] = make(name)
        size = os.path.getsize(os.path.join(directory(family), index[name]["file"]))
        print(f"{name}: {index[name]['metrics']} ({size / 1e3:.0f} kB)")
        with open(index_path(family), "w") as f:
            json.dump(dict(sorted(index.items())), f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
