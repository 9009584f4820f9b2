"""What every command of ``python -m zoo`` shares: the error it reports and the choices it
offers."""

KINDS = ("unsupervised", "supervised", "conditional", "two_sample")
SCALINGS = ("none", "unit", "standardize")
TUNERS = ("random", "bayes", "hyperband", "kg")
DEFAULT_EPOCHS = 10


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""
