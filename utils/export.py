"""Writing the synthetic images as PNG files with a manifest and a summary."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import artifacts
from .images import save_png

__all__ = ["write_images", "class_counts"]



def class_counts(y: np.ndarray, class_names: Sequence[str]) -> dict[str, int]:
    """Return class name -> number of labels ``y`` (int class indices) of that class."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(class_names))
    return {name: int(count) for name, count in zip(class_names, counts)}


def write_images(
    output_dir: str | Path,
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    parent_a: Sequence[str],
    parent_b: Sequence[str],
    weight: np.ndarray,
) -> pd.DataFrame:
    """Write each image as ``OUTPUT_DIR/images/<class name>/synthetic_<n>.png`` and the manifest.

    The folder is filled under a temporary name and renamed into place, so
    ``images/`` contains all the files of one call or none. An earlier ``images/``
    folder is replaced, with a warning.

    Parameters
    ----------
    output_dir : str or Path
        Output folder of the run.
    x : ndarray of uint8, shape (M, H, W, C)
        Images, 0-255; C = 1 gives 8-bit gray PNGs, C = 3 RGB PNGs.
    y : ndarray of int, shape (M,)
        Class index per image.
    class_names : sequence of str
        Folder name per class index.
    parent_a, parent_b : sequence of str, length M
        The two real images each one was interpolated between (paths relative to the data folder).
    weight : ndarray of float, shape (M,)
        Interpolation weight in [0, 1) towards ``parent_b``.

    Returns
    -------
    pandas.DataFrame
        The manifest, also written to ``OUTPUT_DIR/manifest.csv``: one row per PNG
        with ``path`` (relative to OUTPUT_DIR), ``class_name``, ``parent_a``,
        ``parent_b`` and ``weight``.
    """
    output_dir = Path(output_dir)
    if not len(x) == len(y) == len(parent_a) == len(parent_b) == len(weight):
        raise ValueError(
            f"x, y, parent_a, parent_b and weight must have one entry per image; got lengths "
            f"{len(x)}, {len(y)}, {len(parent_a)}, {len(parent_b)}, {len(weight)}"
        )
    target = output_dir / "images"
    staging = artifacts.make_staging_dir(output_dir, "images")
    rows = []
    try:
        numbers = {name: 0 for name in class_names}
        for index in range(len(x)):
            name = class_names[int(y[index])]
            numbers[name] += 1
            relative = Path("images") / name / f"synthetic_{numbers[name]:06d}.png"
            save_png(staging / relative.relative_to("images"), x[index], durable=False)
            rows.append((relative.as_posix(), name, parent_a[index], parent_b[index], float(weight[index])))
        for name in class_names:
            (staging / name).mkdir(exist_ok=True)
        artifacts.replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    manifest = pd.DataFrame(rows, columns=["path", "class_name", "parent_a", "parent_b", "weight"])
    with artifacts.atomic_path(output_dir / "manifest.csv") as temporary:
        manifest.to_csv(temporary, index=False)
    return manifest
