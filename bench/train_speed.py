"""Measure training speed of the DeepSMOTE encoder-decoder on the shipped data.

Trains on the shipped Fashion-MNIST training set (9,000 gray 28x28 images with the
class counts of Dablain et al., 2022) and prints one ``seconds_per_epoch:`` line, timed after one
warm-up step so that start-up and graph tracing are not counted, plus images
per second and the reconstruction MSE reached.

Usage::

    .venv/bin/python bench/train_speed.py --preset paper --epochs 1
    .venv/bin/python bench/train_speed.py --preset paper --epochs 1 --precision mixed_bfloat16
    .venv/bin/python bench/train_speed.py --preset lite --penalty none --epochs 3

Compare figures from one run of the machine only: on shared machines the same
command varies by up to 2x between runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from machine import describe_machine  # noqa: E402

def load_training_set(max_images: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Load the shipped training images as uint8 (N, 28, 28, 1) and their class indices."""
    from utils.images import load_image_folder

    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(REPO_ROOT / "data" / "fashion_mnist.zip") as archive:
            archive.extractall(folder)
        loaded = load_image_folder(Path(folder) / "fashion_mnist" / "train", image_size=28, dtype="uint8")
    x, y = loaded.x, loaded.y
    if max_images is not None and max_images < len(x):
        keep = np.random.default_rng(0).choice(len(x), size=max_images, replace=False)
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    return x, y


class EpochTimer:
    """Keras callback that records the wall time of each epoch."""

    def __init__(self):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self, seconds):
                super().__init__()
                self.seconds = seconds

            def on_epoch_begin(self, epoch, logs=None):
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self.started)

        self.seconds: list[float] = []
        self.callback = _Timer(self.seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("lite", "paper"), default="paper")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs (default: 1)")
    parser.add_argument("--penalty", choices=("code", "paper", "none"), default="code")
    parser.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                        help="Keras dtype policy (default: float32)")
    parser.add_argument("--max-images", type=int, default=None,
                        help="train on this many images only, for a quick check (default: all 9,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from utils import model, training

    print(f"machine: {describe_machine()}")
    print(f"versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"NumPy {np.__version__}")
    x, y = load_training_set(args.max_images)
    training.set_seed(args.seed)
    keras.mixed_precision.set_dtype_policy(args.precision)
    preset = model.get_preset(args.preset, x.shape[1:])
    print(f"setting: preset {args.preset} (widths {preset.widths}, latent {preset.latent_dim}, batch "
          f"{preset.batch_size}), penalty {args.penalty}, {args.precision}, {len(x)} images")

    encoder = model.build_encoder(x.shape[1:], preset.widths, preset.latent_dim)
    decoder = model.build_decoder(x.shape[1:], preset.widths, preset.latent_dim)
    autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder, penalty=args.penalty, seed=args.seed)
    autoencoder.compile(optimizer=keras.optimizers.Adam(preset.learning_rate, epsilon=1e-8))
    dataset = training.make_training_dataset(x, y, preset.batch_size, preset.class_batch_size, args.seed)
    autoencoder.fit(dataset.take(1), epochs=1, verbose=0, shuffle=False)

    timer = EpochTimer()
    autoencoder.fit(dataset, epochs=args.epochs, steps_per_epoch=training.steps_per_epoch(len(x), preset.batch_size),
                    verbose=0, callbacks=[timer.callback], shuffle=False)
    seconds = statistics.median(timer.seconds)
    mse = training.reconstruction_mse(encoder, decoder, x[:2000])
    print(f"epoch times (s): {', '.join(f'{s:.1f}' for s in timer.seconds)}")
    print(f"images_per_second: {len(x) / seconds:.0f}")
    print(f"reconstruction_mse_after_{args.epochs}_epochs: {mse:.5f}")
    print(f"seconds_per_epoch: {seconds:.1f}")


if __name__ == "__main__":
    main()
