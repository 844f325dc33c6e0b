"""Measure peak memory of training and encoding, with images in memory or streamed from disk.

For each data set size, the script writes random uint8 images to a temporary
``.npy`` file, as notebooks 01 and 02 do. A fresh process then does what
notebooks 03 and 04 do with them: it trains the ``lite`` networks for a number
of steps through :func:`utils.training.make_training_dataset` and encodes
every image with :func:`utils.model.encode_images`. The images are opened with
:func:`utils.storage.open_images`, whole (``memory``) or as a memory map
(``stream``).

``own`` is resident memory not backed by a file: RSS minus shared pages, that
is the process's own arrays and TensorFlow's buffers. ``rss`` also counts the
pages of the memory-mapped image file that are resident. The system drops those file
pages when memory runs short, so ``own`` is what grows into an out-of-memory
error. The child prints ``own`` after training and after encoding; the parent
samples the child every 0.05 s for the peaks, which include short-lived
buffers and so vary more between runs.

Usage::

    .venv/bin/python bench/stream_memory.py                          # 2,000 and 20,000 images of 64x64x3
    .venv/bin/python bench/stream_memory.py --sizes 500 5000 --steps 5
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from machine import describe_machine  # noqa: E402

SAMPLE_SECONDS = 0.05
MODES = ("memory", "stream")


def write_random_images(path: Path, count: int, shape: tuple[int, int, int], seed: int) -> None:
    """Write ``count`` random uint8 images of ``shape`` to ``path``, a block at a time."""
    from utils import storage

    rng = np.random.default_rng(seed)
    storage.write_blocks(path, (count, *shape), np.uint8,
                         lambda rows: rng.integers(0, 256, size=(rows.stop - rows.start, *shape), dtype=np.uint8))


def child(images_path: Path, mode: str, steps: int, seed: int) -> None:
    """Train for ``steps`` steps and encode every image, as notebooks 03 and 04 do."""
    from utils import model, storage, training

    training.set_seed(seed)
    x = storage.open_images(images_path, stream=mode == "stream")
    y = np.arange(len(x)) % 10
    preset = model.get_preset("lite", x.shape[1:])
    autoencoder = training.build_autoencoder(x.shape[1:], preset, seed=seed)
    autoencoder.compile(optimizer="adam")
    dataset = training.make_training_dataset(x, y, preset.batch_size, preset.class_batch_size, seed)
    autoencoder.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    print(f"own_after_training: {own_memory()}")
    codes = model.encode_images(autoencoder.encoder, x)
    print(f"own_after_encoding: {own_memory()} (codes {codes.shape})")


def own_memory() -> int:
    """Return this process's resident memory not backed by a file, in bytes."""
    info = psutil.Process().memory_info()
    return info.rss - info.shared


def measure(command: list[str]) -> tuple[float, int, int, dict[str, int]]:
    """Run ``command``; return its wall time, its peak own and total resident memory in bytes, and its printed figures."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched = psutil.Process(process.pid)
    peak_own = peak_rss = 0
    while process.poll() is None:
        try:
            info = watched.memory_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            break
        peak_own, peak_rss = max(peak_own, info.rss - info.shared), max(peak_rss, info.rss)
        time.sleep(SAMPLE_SECONDS)
    output, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the measured process failed:\n{output[-3000:]}")
    figures = {line.split(":")[0]: int(line.split()[1]) for line in output.splitlines()
               if line.startswith("own_after_")}
    return time.perf_counter() - started, peak_own, peak_rss, figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="numbers of images")
    parser.add_argument("--image-size", type=int, default=64, help="height and width in pixels (default: 64)")
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3)
    parser.add_argument("--steps", type=int, default=20, help="training steps per run (default: 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("IMAGES", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), args.child[1], args.steps, args.seed)
        return

    import tensorflow as tf

    shape = (args.image_size, args.image_size, args.channels)
    print(f"machine: {describe_machine()}, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    print(f"versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, NumPy {np.__version__}")
    print(f"setting: lite preset, images {shape[0]}x{shape[1]}x{shape[2]} uint8, {args.steps} training steps, "
          "then encoding every image")
    print(f"{'mode':<7} {'images':>7} {'data MB':>8} {'own after training':>19} {'own after encoding':>19} "
          f"{'peak own':>9} {'peak rss':>9} {'seconds':>8}   (memory in MB)")
    with tempfile.TemporaryDirectory() as folder:
        for count in args.sizes:
            images_path = Path(folder) / f"images_{count}.npy"
            write_random_images(images_path, count, shape, args.seed)
            for mode in MODES:
                command = [sys.executable, str(Path(__file__).resolve()), "--steps", str(args.steps),
                           "--seed", str(args.seed), "--child", str(images_path), mode]
                seconds, own, rss, figures = measure(command)
                print(f"{mode:<7} {count:>7} {count * np.prod(shape) / 1e6:>8.0f} "
                      f"{figures['own_after_training'] / 1e6:>19.0f} {figures['own_after_encoding'] / 1e6:>19.0f} "
                      f"{own / 1e6:>9.0f} {rss / 1e6:>9.0f} {seconds:>8.1f}")
            images_path.unlink()


if __name__ == "__main__":
    main()
