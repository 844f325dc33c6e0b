"""Measure latent SMOTE and image generation speed.

Prints, for a growing number of latent codes, the time latent SMOTE takes to
balance them, and how many synthetic images per second go from code to PNG
file (decoding with the ``lite`` decoder, then writing the files).

Usage::

    .venv/bin/python bench/generate_speed.py
    .venv/bin/python bench/generate_speed.py --sizes 1000 10000 100000 1000000
    .venv/bin/python bench/generate_speed.py --quick

The codes are random normal vectors with the class counts of the shipped data
scaled to each size (imbalance ratio 100), so every size does the same
relative amount of work. Timing covers the neighbour search, the draws and the
interpolation; the networks are untrained, which does not change their speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from machine import describe_machine  # noqa: E402

# Share of each class in the shipped training set (4000 ... 40 of 9,000).
_CLASS_SHARES = np.array([4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]) / 9000


def make_codes(n_codes: int, latent_dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return random codes (n, latent_dim) and labels with the shipped class proportions."""
    counts = np.maximum(2, np.round(_CLASS_SHARES * n_codes).astype(int))
    labels = np.repeat(np.arange(len(counts)), counts)
    codes = np.random.default_rng(seed).normal(size=(len(labels), latent_dim)).astype(np.float32)
    return codes, labels


def time_latent_smote(sizes: list[int], latent_dim: int) -> None:
    """Print the seconds latent SMOTE takes to balance each number of codes."""
    import warnings

    from utils.oversampling import SmallClassWarning, latent_smote

    # The smallest classes of the small sizes have fewer than k + 1 codes; that is expected here.
    warnings.simplefilter("ignore", SmallClassWarning)
    for size in sizes:
        codes, labels = make_codes(size, latent_dim, seed=0)
        started = time.perf_counter()
        synthetic = latent_smote(codes, labels, k_neighbors=5, random_state=0)
        seconds = time.perf_counter() - started
        print(f"latent_smote: {len(codes):>9,} codes of {latent_dim} -> {len(synthetic):>9,} new in {seconds:.2f} s")


def time_generation(n_images: int) -> None:
    """Print how many images per second go from code to PNG file with the lite decoder."""
    from utils import export, model

    preset = model.get_preset("lite", (28, 28, 1))
    decoder = model.build_decoder((28, 28, 1), preset.decoder_widths, preset.latent_dim)
    codes = np.random.default_rng(0).normal(size=(n_images, preset.latent_dim)).astype(np.float32)
    model.decode_codes(decoder, codes[:8])
    started = time.perf_counter()
    images = model.decode_codes(decoder, codes)
    decoded = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        labels = np.arange(n_images) % 10
        names = [str(label) for label in range(10)]
        export.write_images(folder, images, labels, names, ["a"] * n_images, ["b"] * n_images,
                            np.zeros(n_images, np.float32))
    written = time.perf_counter()
    print(f"decode: {n_images / (decoded - started):,.0f} images/s; write PNG + manifest: "
          f"{n_images / (written - decoded):,.0f} images/s; code to file: {n_images / (written - started):,.0f} images/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                        help="numbers of codes to balance (default: 1000 10000 100000)")
    parser.add_argument("--latent-dim", type=int, default=32, help="code length (default: 32, the lite preset's)")
    parser.add_argument("--images", type=int, default=10_000, help="images to generate (default: 10000)")
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.images = [1_000], 500

    import sklearn
    import tensorflow as tf

    print(f"machine: {describe_machine()}; Python {platform.python_version()}, NumPy {np.__version__}, scikit-learn {sklearn.__version__}, "
          f"TensorFlow {tf.__version__}")
    time_latent_smote(args.sizes, args.latent_dim)
    time_generation(args.images)


if __name__ == "__main__":
    main()
