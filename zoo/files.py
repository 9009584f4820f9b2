"""Files written whole or not at all: one atomic writer for ``ZooModel.save`` and the command
line's outputs.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "x.txt")
>>> with atomic_path(path) as tmp:
...     _ = open(tmp, "w").write("done")
>>> open(path).read()
'done'
"""

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """A temporary path beside ``path`` to write; renamed onto ``path`` when the block ends
    without an error, removed otherwise, so an interrupted write never leaves a partial file
    at ``path`` nor touches an existing one. The new file gets the old file's permissions,
    else those ``open`` would give.

    Args:
      path: the file to write.
      suffix: the temporary file's suffix (writers that choose a format by it, e.g.
        ``".keras"`` or ``".npy"``); default ``path``'s extension.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial" + suffix,
                               dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _file_mode(path))  # mkstemp's 0600 would make the file private
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _file_mode(path):
    """Permission bits for a file written at ``path``: the old file's, else what ``open``
    would give (``0o666`` less the process umask)."""
    if os.path.exists(path):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
