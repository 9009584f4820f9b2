"""``python -m zoo``: the zoo's command line (see :mod:`zoo.cli`); also ``kerasprob-zoo``."""

import sys


def main(argv=None):
    """Entry point of ``python -m zoo`` and the ``kerasprob-zoo`` console script."""
    from zoo.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
