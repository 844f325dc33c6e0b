"""Measure how many images per second utils.images.load_image_folder loads.

With no arguments it times two folders:

* ``fashion_mnist/train`` from ``data/fashion_mnist.zip`` (28x28 grayscale
  PNG files), extracted to a temporary folder first;
* ``shared/datasets/cifar10_sample`` next to the repository (10 classes x
  100 RGB 32x32 JPEG files), when that folder exists.

Usage::

    .venv/bin/python bench/load_speed.py
    .venv/bin/python bench/load_speed.py --quick
    .venv/bin/python bench/load_speed.py --data-dir path/to/train --image-size 64 --color-mode rgb

The first load of each folder is a warm-up (it fills the OS file cache) and
is not counted. Each figure is the best of ``--repeat`` timed loads, with the
median next to it.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import PIL

REPO_ROOT = Path(__file__).resolve().parents[1]
# Run as a plain script, Python puts bench/ on sys.path but not the repository root.
sys.path.insert(0, str(REPO_ROOT))

from machine import describe_machine  # noqa: E402
from utils.images import load_image_folder  # noqa: E402

FASHION_ZIP = REPO_ROOT / "data" / "fashion_mnist.zip"
FASHION_TRAIN = "fashion_mnist/train"
CIFAR10_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cifar10_sample"
QUICK_FILES_PER_CLASS = 30


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder with one subfolder per class to time instead of the two default folders",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        help="output height and width in pixels (default: 28 for Fashion-MNIST, 32 for CIFAR-10, "
        "28 for --data-dir)",
    )
    parser.add_argument(
        "--color-mode",
        choices=["grayscale", "rgb"],
        help="output channels (default: grayscale for Fashion-MNIST and --data-dir, "
        "rgb for CIFAR-10)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed loads per folder (default: 3)")
    parser.add_argument(
        "--num-workers",
        type=int,
        help="decoding threads passed to load_image_folder (default: its own choice)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"time only the first {QUICK_FILES_PER_CLASS} files of each class, for smoke tests",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    return args


def print_machine() -> None:
    print(f"machine: {describe_machine()}")
    print(f"Python {platform.python_version()}, Pillow {PIL.__version__}, NumPy {np.__version__}")


def extract_fashion_train(target: Path, files_per_class: int | None) -> Path:
    """Extract the Fashion-MNIST training images from the zip and return their folder."""
    with zipfile.ZipFile(FASHION_ZIP) as archive:
        members = [name for name in archive.namelist() if name.startswith(FASHION_TRAIN + "/")]
        if files_per_class is not None:
            members = first_per_class(members, files_per_class)
        archive.extractall(target, members=members)
    return target / FASHION_TRAIN


def first_per_class(members: list[str], files_per_class: int) -> list[str]:
    """Keep the first `files_per_class` archive files of each class folder, in sorted order."""
    selected: list[str] = []
    counts: dict[str, int] = {}
    for name in sorted(members):
        if name.endswith("/"):
            continue
        class_name = name.split("/")[2]
        if counts.get(class_name, 0) < files_per_class:
            counts[class_name] = counts.get(class_name, 0) + 1
            selected.append(name)
    return selected


def copy_subset(source: Path, target: Path, files_per_class: int) -> Path:
    """Copy the first `files_per_class` files of each class folder of `source` into `target`."""
    for class_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.is_file())[:files_per_class]
        (target / class_dir.name).mkdir(parents=True)
        for file in files:
            shutil.copy2(file, target / class_dir.name / file.name)
    return target


def time_folder(
    label: str, folder: Path, image_size: int, color_mode: str, args: argparse.Namespace
) -> None:
    """Load `folder` once as warm-up, then `args.repeat` times, and print images per second."""
    options = {"image_size": image_size, "color_mode": color_mode, "num_workers": args.num_workers}
    data = load_image_folder(folder, **options)
    seconds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        load_image_folder(folder, **options)
        seconds.append(time.perf_counter() - start)

    count = len(data.x)
    best = min(seconds)
    median = statistics.median(seconds)
    workers = "auto" if args.num_workers is None else args.num_workers
    print(
        f"{label}: {count} images -> {data.x.shape[1:]} {data.x.dtype}, {color_mode}, "
        f"num_workers={workers}, {len(data.skipped)} skipped"
    )
    print(
        f"  best of {args.repeat}: {best:.3f} s = {count / best:,.0f} images/s "
        f"(median {median:.3f} s = {count / median:,.0f} images/s)"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    files_per_class = QUICK_FILES_PER_CLASS if args.quick else None
    print_machine()

    with tempfile.TemporaryDirectory(prefix="load_speed_") as scratch:
        scratch_dir = Path(scratch)
        if args.data_dir is not None:
            folder = args.data_dir
            if files_per_class is not None:
                folder = copy_subset(args.data_dir, scratch_dir / "subset", files_per_class)
            image_size = args.image_size or 28
            color_mode = args.color_mode or "grayscale"
            time_folder(str(args.data_dir), folder, image_size, color_mode, args)
            return

        fashion = extract_fashion_train(scratch_dir / "fashion", files_per_class)
        label = f"{FASHION_ZIP.name}: {FASHION_TRAIN} (PNG)"
        image_size = args.image_size or 28
        color_mode = args.color_mode or "grayscale"
        time_folder(label, fashion, image_size, color_mode, args)

        if not CIFAR10_SAMPLE.is_dir():
            print(f"{CIFAR10_SAMPLE} not found; skipping the JPEG folder")
            return
        cifar = CIFAR10_SAMPLE
        if files_per_class is not None:
            cifar = copy_subset(CIFAR10_SAMPLE, scratch_dir / "cifar", files_per_class)
        label = f"{CIFAR10_SAMPLE.name} (JPEG)"
        time_folder(label, cifar, args.image_size or 32, args.color_mode or "rgb", args)


if __name__ == "__main__":
    main()
