"""Hand-offs between the notebooks: files written whole, read with checks.

Each notebook saves what the next one reads under ``OUTPUT_DIR/<step folder>/``.
Writes go to a temporary file in the same folder and are renamed into place, so
a file is either complete or absent. Replacing an earlier file logs a warning
that names it, so no result is overwritten silently.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .paths import STEP_DIRS

__all__ = [
    "MissingArtifactError",
    "IncompatibleArtifactError",
    "atomic_path",
    "save_arrays",
    "load_arrays",
    "save_json",
    "load_json",
    "require",
    "check_same_classes",
    "check_image_shape",
    "make_staging_dir",
    "replace_dir",
]

logger = logging.getLogger(__name__)


class MissingArtifactError(FileNotFoundError):
    """A file that an earlier notebook writes is not there."""


class IncompatibleArtifactError(ValueError):
    """A file from an earlier notebook does not fit what this notebook was given."""


def notebook_for(path: Path) -> str:
    """Name the notebook that writes ``path``, from the step folder it sits in."""
    for folder in STEP_DIRS.values():
        if folder in path.parts:
            return f"notebooks/{folder}.ipynb"
    return "the notebook that writes it"


def require(path: str | Path) -> Path:
    """Return ``path`` if it exists, else raise ``MissingArtifactError`` naming its notebook."""
    path = Path(path)
    if not path.exists():
        raise MissingArtifactError(
            f"{path} not found. It is written by {notebook_for(path)}: run that notebook "
            "first with the same OUTPUT_DIR, or check OUTPUT_DIR."
        )
    return path


def _umask() -> int:
    """Return the process's file mode creation mask without changing it."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_staging_dir(parent: Path, name: str) -> Path:
    """Create an empty hidden folder in ``parent`` to fill and then rename to ``name``.

    ``tempfile.mkdtemp`` creates folders readable by their owner only; this one
    gets the usual permissions, so the renamed result looks like any other folder.
    """
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}."))
    os.chmod(staging, 0o777 & ~_umask())
    return staging


def replace_dir(staging: Path, target: Path) -> None:
    """Rename the filled folder ``staging`` to ``target``, replacing an earlier ``target`` with a warning."""
    if target.exists():
        logger.warning("Replacing %s, written by an earlier run.", target)
        shutil.rmtree(target)
    staging.rename(target)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    The temporary name keeps the suffix of ``path`` because some writers (NumPy,
    Keras) choose the format from it. On an exception the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        written = _dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
        logger.warning("Replacing %s (written %s).", path, written)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix="".join(path.suffixes) or None
    )
    os.close(handle)
    temporary = Path(temporary)
    # mkstemp makes the file readable by its owner only; results should be as readable as any file.
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_arrays(path: str | Path, **arrays: np.ndarray) -> Path:
    """Save named arrays to an uncompressed ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or Path
        Target file; must end in ``.npz``.
    **arrays : ndarray
        Arrays to store. Strings are stored as Unicode arrays, never as pickled objects.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"array files must end in .npz, got {path.name!r}")
    with atomic_path(path) as temporary:
        np.savez(temporary, **{name: np.asarray(value) for name, value in arrays.items()})
    return path


def load_arrays(path: str | Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Load the arrays ``names`` from an ``.npz`` file written by :func:`save_arrays`.

    Raises
    ------
    MissingArtifactError
        When the file is absent.
    IncompatibleArtifactError
        When one of ``names`` is not in the file (it was written by another version).
    """
    path = require(path)
    with np.load(path, allow_pickle=False) as stored:
        missing = [name for name in names if name not in stored.files]
        if missing:
            raise IncompatibleArtifactError(
                f"{path} has no array named {', '.join(missing)} (it contains {', '.join(stored.files)}). "
                f"Rerun {notebook_for(path)} to write it again."
            )
        return {name: stored[name] for name in names}


def save_json(path: str | Path, content: dict[str, Any]) -> Path:
    """Write ``content`` as indented UTF-8 JSON, atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_json(path: str | Path) -> dict[str, Any]:
    """Read a JSON file written by :func:`save_json`."""
    return json.loads(require(path).read_text(encoding="utf-8"))


def check_same_classes(expected: Sequence[str], found: Sequence[str], source: str | Path) -> None:
    """Raise ``IncompatibleArtifactError`` unless both class lists are equal, in order."""
    expected, found = list(expected), list(found)
    if expected != found:
        raise IncompatibleArtifactError(
            f"The classes in {source} are {found}, but this notebook expects {expected}. "
            f"The two files come from different runs: rerun {notebook_for(Path(source))} "
            "and the notebooks after it with the same OUTPUT_DIR."
        )


def check_image_shape(expected: Sequence[int], found: Sequence[int], source: str | Path) -> None:
    """Raise ``IncompatibleArtifactError`` unless the (H, W, C) shapes are equal."""
    expected, found = tuple(int(v) for v in expected), tuple(int(v) for v in found)
    if expected != found:
        raise IncompatibleArtifactError(
            f"{source} was made for images of shape {found} (height, width, channels), "
            f"but the data here has shape {expected}. Rerun {notebook_for(Path(source))} "
            "on this data, or use the OUTPUT_DIR of the run that made it."
        )
