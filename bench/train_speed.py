"""Measure training speed of the DeepSMOTE encoder-decoder on the shipped data.

Trains on the shipped Fashion-MNIST training set (9,000 gray 28x28 images with the
class counts of Dablain et al., 2022) and prints one ``seconds_per_epoch:`` line, timed after one
warm-up step so that start-up and graph tracing are not counted, plus images
per second and the reconstruction MSE reached on the first 2,000 training images.

``--architecture authors`` trains a Keras port of the authors' encoder and
decoder (``bench/authors_networks.py``) with the same training step, input
pipeline and paper settings (batch 100, Adam 2e-4, latent 300).

``--compare`` trains several settings one after the other in one process, each
from the same seed, and prints a table of seconds per epoch, images per second,
the reconstruction MSE on 2,000 images of the shipped test set, and the time
relative to the first setting.

Usage::

    .venv/bin/python bench/train_speed.py --preset paper --epochs 1
    .venv/bin/python bench/train_speed.py --preset paper --epochs 1 --precision mixed_bfloat16
    .venv/bin/python bench/train_speed.py --preset lite --penalty none --epochs 3
    .venv/bin/python bench/train_speed.py --architecture authors --epochs 1
    .venv/bin/python bench/train_speed.py --preset paper --epochs 2 --jit-compile
    .venv/bin/python bench/train_speed.py --compare --epochs 2

Compare figures from one run of the machine only: on shared machines the same
command varies by up to 2x between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
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

ARCHITECTURES = ("ours", "authors")
PRECISIONS = ("float32", "mixed_bfloat16")
TRAINING_MSE_IMAGES = 2000
TEST_MSE_IMAGES = 2000


@dataclasses.dataclass(frozen=True)
class Setting:
    """Network architecture and Keras dtype policy of one training run."""

    architecture: str
    precision: str

    @property
    def name(self) -> str:
        return f"{self.architecture}_{self.precision}"


# The first setting is the baseline of the comparison: the authors' networks in float32.
COMPARE_SETTINGS = (
    Setting("authors", "float32"),
    Setting("ours", "float32"),
    Setting("ours", "mixed_bfloat16"),
    Setting("authors", "mixed_bfloat16"),
)


@dataclasses.dataclass(frozen=True)
class Result:
    """Timing and reconstruction error of one training run."""

    setting: Setting
    epoch_seconds: tuple[float, ...]
    n_images: int
    mse: float

    @property
    def seconds_per_epoch(self) -> float:
        """Median epoch time in seconds. Of two epochs it is the mean, so compilation in the first one counts."""
        return statistics.median(self.epoch_seconds)

    @property
    def images_per_second(self) -> float:
        return self.n_images / self.seconds_per_epoch


def load_images(split: str, max_images: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Load a split of the shipped Fashion-MNIST zip as uint8 (N, 28, 28, 1) and class indices.

    Parameters
    ----------
    split : {"train", "test"}
        Folder of ``data/fashion_mnist.zip`` to load.
    max_images : int, optional
        Keep this many images, drawn at random with seed 0 and kept in folder order.
    """
    from utils.images import load_image_folder

    prefix = f"fashion_mnist/{split}/"
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(REPO_ROOT / "data" / "fashion_mnist.zip") as archive:
            archive.extractall(folder, members=[name for name in archive.namelist() if name.startswith(prefix)])
        loaded = load_image_folder(Path(folder) / prefix, image_size=28, dtype="uint8")
    x, y = loaded.x, loaded.y
    if max_images is not None and max_images < len(x):
        keep = np.sort(np.random.default_rng(0).choice(len(x), size=max_images, replace=False))
        x, y = x[keep], y[keep]
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


def build_networks(architecture: str, preset) -> tuple:
    """Build the encoder and decoder of ``architecture`` for 28x28 gray images.

    ``preset`` is a :class:`utils.model.Preset`. The authors' networks take only its latent size.
    """
    from authors_networks import IMAGE_SHAPE, build_authors_decoder, build_authors_encoder

    from utils import model

    if architecture == "authors":
        return build_authors_encoder(preset.latent_dim), build_authors_decoder(preset.latent_dim)
    return (model.build_encoder(IMAGE_SHAPE, preset.widths, preset.latent_dim),
            model.build_decoder(IMAGE_SHAPE, preset.decoder_widths, preset.latent_dim))


def seed_everything(seed: int, op_determinism: bool) -> None:
    """Seed Python, NumPy and TensorFlow, and turn on TensorFlow's op determinism if requested."""
    import keras

    from utils import training

    if op_determinism:
        training.set_seed(seed)
    else:
        keras.utils.set_random_seed(seed)


def describe_setting(setting: Setting, preset, args: argparse.Namespace, n_images: int) -> str:
    """Return the one-line description that the output of each run starts with."""
    if setting.architecture == "authors":
        networks = "authors' networks"
    else:
        networks = f"preset {preset.name} (encoder widths {preset.widths}, decoder widths {preset.decoder_widths})"
    return (f"setting: {networks}, latent {preset.latent_dim}, batch {preset.batch_size}, "
            f"penalty {args.penalty}, {setting.precision}, op determinism {args.op_determinism}, "
            f"jit_compile requested {args.jit_compile}, {n_images} images")


def train_setting(setting: Setting, args: argparse.Namespace, x: np.ndarray, y: np.ndarray,
                  x_mse: np.ndarray) -> Result:
    """Train one setting from ``args.seed`` for ``args.epochs`` timed epochs and measure it.

    Clears the Keras session, then sets the global dtype policy to
    ``setting.precision`` for the run and back to float32 afterwards, so that
    settings run one after the other do not leak into each other.

    Parameters
    ----------
    setting : Setting
        Architecture and precision.
    args : argparse.Namespace
        Parsed command line: preset, penalty, epochs, seed, op_determinism and jit_compile are used.
    x : ndarray of uint8, shape (N, 28, 28, 1)
        Training images, 0-255.
    y : ndarray of int, shape (N,)
        Class index per training image.
    x_mse : ndarray of uint8, shape (M, 28, 28, 1)
        Images on which the reconstruction MSE is measured after training.

    Returns
    -------
    Result
        Epoch times (without the warm-up step) and the reconstruction MSE.
    """
    import keras

    from utils import model, training

    preset = model.get_preset(args.preset, x.shape[1:])
    # clear_session also resets the dtype policy, so it has to come first.
    keras.backend.clear_session()
    keras.mixed_precision.set_dtype_policy(setting.precision)
    try:
        seed_everything(args.seed, args.op_determinism)
        print(describe_setting(setting, preset, args, len(x)))
        encoder, decoder = build_networks(setting.architecture, preset)
        autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder, penalty=args.penalty, seed=args.seed)
        autoencoder.compile(optimizer=keras.optimizers.Adam(preset.learning_rate, epsilon=1e-8),
                            jit_compile=args.jit_compile)
        print(f"jit_compile in effect: {autoencoder.jit_compile}")
        dataset = training.make_training_dataset(x, y, preset.batch_size, preset.class_batch_size, args.seed)
        autoencoder.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)

        timer = EpochTimer()
        autoencoder.fit(dataset, epochs=args.epochs,
                        steps_per_epoch=training.steps_per_epoch(len(x), preset.batch_size),
                        verbose=0, callbacks=[timer.callback], shuffle=False)
        mse = training.reconstruction_mse(encoder, decoder, x_mse)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    print(f"epoch times (s): {', '.join(f'{s:.1f}' for s in timer.seconds)}")
    return Result(setting, tuple(timer.seconds), len(x), mse)


def format_table(results: list[Result], epochs: int, n_mse_images: int) -> str:
    """Format the comparison as a Markdown table. The first result is the baseline of the time ratio."""
    baseline = results[0].seconds_per_epoch
    lines = [
        f"| Setting | Seconds per epoch | Images per second | Reconstruction MSE after {epochs} epochs "
        f"({n_mse_images:,} test images) | Time relative to {results[0].setting.name} |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        lines.append(f"| {result.setting.name} | {result.seconds_per_epoch:.1f} | {result.images_per_second:.0f} "
                     f"| {result.mse:.5f} | {result.seconds_per_epoch / baseline:.2f} |")
    return "\n".join(lines)


def run_single(args: argparse.Namespace) -> None:
    """Train one setting and print its figures, ending with ``seconds_per_epoch:``."""
    x, y = load_images("train", args.max_images)
    # NOTE: the images are in class-folder order, so these are mostly the first five
    # classes by name. The comparison measures on the test set instead.
    result = train_setting(Setting(args.architecture, args.precision), args, x, y, x[:TRAINING_MSE_IMAGES])
    print(f"images_per_second: {result.images_per_second:.0f}")
    print(f"reconstruction_mse_after_{args.epochs}_epochs: {result.mse:.5f}")
    print(f"seconds_per_epoch: {result.seconds_per_epoch:.1f}")


def run_compare(args: argparse.Namespace) -> None:
    """Train each chosen setting in turn and print the comparison table."""
    x, y = load_images("train", args.max_images)
    x_test, _ = load_images("test", TEST_MSE_IMAGES)
    results = [train_setting(setting, args, x, y, x_test) for setting in args.settings]
    print()
    print(format_table(results, args.epochs, len(x_test)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("lite", "paper"), default="paper",
                        help="network size and training settings (default: paper). "
                             "--compare and --architecture authors need paper")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="ours",
                        help="ours: utils.model; authors: the Keras port of the authors' networks "
                             "(default: ours)")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs (default: 1)")
    parser.add_argument("--penalty", choices=("code", "paper", "none"), default="code")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="Keras dtype policy (default: float32)")
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile the training step with XLA; implies --no-op-determinism")
    parser.add_argument("--no-op-determinism", action="store_true",
                        help="seed without TensorFlow's op determinism, as --jit-compile must, "
                             "to time the same run without XLA")
    parser.add_argument("--compare", action="store_true",
                        help="train each of --settings in turn at the paper preset and print a table. "
                             "Ignores --architecture and --precision")
    settings = {setting.name: setting for setting in COMPARE_SETTINGS}
    parser.add_argument("--settings", nargs="+", choices=list(settings), default=list(settings), metavar="SETTING",
                        help=f"with --compare: the settings to train, in this order, from {', '.join(settings)}. "
                             "The first is the baseline of the time ratio (default: all four, in that order)")
    parser.add_argument("--max-images", type=int, default=None,
                        help="train on this many images only, for a quick check (default: all 9,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    args.settings = [settings[name] for name in args.settings]
    # Keras 3.15 turns jit_compile=True off, with only a warning, while op determinism is
    # on, and TensorFlow 2.21 has no public call to turn determinism off again.
    args.op_determinism = not (args.no_op_determinism or args.jit_compile)
    if args.preset != "paper" and (args.compare or args.architecture == "authors"):
        parser.error(f"--compare and --architecture authors train with the paper preset's settings, "
                     f"but --preset is {args.preset!r}; use --preset paper")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    import keras
    import tensorflow as tf

    print(f"machine: {describe_machine()}")
    print(f"versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"NumPy {np.__version__}")
    if args.compare:
        run_compare(args)
    else:
        run_single(args)


if __name__ == "__main__":
    main()
