"""Build the shipped Fashion-MNIST subset from a local copy of the full set.

The project ships ``data/fashion_mnist.zip`` so that the notebook series runs
offline. This script documents and reproduces how that file was made; the
series never runs it.

Usage::

    python data/build_fashion_mnist.py SOURCE.npz data/fashion_mnist.zip

``SOURCE.npz`` contains ``x`` (uint8, shape (70000, 28, 28)) and ``y`` (uint8,
shape (70000,)) with the ten Fashion-MNIST classes in their usual index order.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

# Folder names in Fashion-MNIST index order ("T-shirt/top" cannot be a folder name).
CLASS_FOLDERS = (
    "tshirt_top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle_boot",
)
# Training counts per class index of Dablain et al. (2022): imbalance ratio 100.
TRAIN_COUNTS = (4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40)
TEST_PER_CLASS = 1000
SEED = 2022
# A fixed timestamp keeps the archive byte-identical between rebuilds.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


def encode_png(image: np.ndarray) -> bytes:
    """Encode one (28, 28) uint8 image as an 8-bit gray PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def split_indices(y: np.ndarray, rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """Draw disjoint train and test indices per class, in class index order."""
    split: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    for label, n_train in enumerate(TRAIN_COUNTS):
        indices = rng.permutation(np.flatnonzero(y == label))
        split["train"].append(np.sort(indices[:n_train]))
        split["test"].append(np.sort(indices[n_train:n_train + TEST_PER_CLASS]))
    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="fashion_mnist.npz with arrays x and y")
    parser.add_argument("target", type=Path, help="zip file to write")
    args = parser.parse_args()

    with np.load(args.source) as arrays:
        x, y = arrays["x"], arrays["y"]
    split = split_indices(y, np.random.default_rng(SEED))

    with zipfile.ZipFile(args.target, "w", compression=zipfile.ZIP_STORED) as archive:
        for subset, per_class in split.items():
            for label, indices in enumerate(per_class):
                for index in indices:
                    name = f"fashion_mnist/{subset}/{CLASS_FOLDERS[label]}/{index:05d}.png"
                    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                    archive.writestr(info, encode_png(x[index]))
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
