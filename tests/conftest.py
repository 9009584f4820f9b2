import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)  # noqa: NPY002 - some libraries draw from the legacy global state
    tf.random.set_seed(0)
    yield
