import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One process per core (pytest -n auto): each runs its ops on one thread, so that the workers do
    # not fight over the cores (must run before TensorFlow's runtime starts).
    tf.config.threading.set_intra_op_parallelism_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)  # noqa: NPY002 - some libraries draw from the legacy global state
    tf.random.set_seed(0)
    yield
