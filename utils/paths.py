"""Paths the series reads from and writes to, all defined in this one module.

Paths given by a user or a notebook parameter are taken relative to the
repository root, so the same value works from a terminal at the root and from
a notebook running in ``notebooks/``.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

__all__ = [
    "REPO_ROOT",
    "DEFAULT_DATA",
    "OUTPUTS_ROOT",
    "NOTEBOOKS_DIR",
    "STEP_DIRS",
    "resolve",
    "step_dir",
    "new_run_dir",
    "check_outside",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT / "data" / "fashion_mnist.zip"
OUTPUTS_ROOT = REPO_ROOT / "outputs"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

# Each notebook writes into its own subfolder of OUTPUT_DIR, named after it.
STEP_DIRS = {
    1: "01_preprocess",
    2: "02_prepare_dataset",
    3: "03_train_autoencoder",
    4: "04_generate_images",
    5: "05_save_images",
    6: "06_evaluate",
}


def resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path, taking a relative one from the repository root."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path.resolve()


def step_dir(output_dir: str | Path, step: int) -> Path:
    """Return the folder of notebook ``step`` (1-6) under ``output_dir``, without creating it."""
    if step not in STEP_DIRS:
        raise ValueError(f"step must be one of {sorted(STEP_DIRS)}, got {step!r}")
    return resolve(output_dir) / STEP_DIRS[step]


def new_run_dir(root: str | Path = OUTPUTS_ROOT) -> Path:
    """Return a new, not yet existing folder ``root/run-YYYYmmdd-HHMMSS`` for one run.

    A suffix ``-2``, ``-3``, ... is added when two runs start within the same second,
    so an earlier run is never written into.
    """
    stamp = _dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")
    root = resolve(root)
    candidate = root / stamp
    suffix = 2
    while candidate.exists():
        candidate = root / f"{stamp}-{suffix}"
        suffix += 1
    return candidate


def check_outside(output_dir: str | Path, data_dir: str | Path) -> None:
    """Raise ``ValueError`` when ``output_dir`` lies inside ``data_dir`` or the other way round.

    The series never writes into a user's data folder, and an output folder that
    contains the data folder could be mistaken for it by a later clean-up.
    """
    output_dir, data_dir = resolve(output_dir), resolve(data_dir)
    if data_dir.is_file():
        # A zip archive is only read; folders next to it are not part of the data.
        return
    if output_dir == data_dir or data_dir in output_dir.parents:
        raise ValueError(
            f"The output folder {output_dir} is inside the data folder {data_dir}. "
            "The series never writes into a data folder: choose an output folder elsewhere "
            "(for example under outputs/)."
        )
    if output_dir in data_dir.parents:
        raise ValueError(
            f"The data folder {data_dir} is inside the output folder {output_dir}. "
            "Choose an output folder that does not contain the data."
        )
