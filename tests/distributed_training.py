"""Train for a few steps under one distribution strategy and save the losses and weights.

Run by ``tests/test_distribute.py`` in a fresh process for each strategy, because
TensorFlow fixes its devices when it starts and shares random seed generators
between pipelines of one process.

Usage::

    python tests/distributed_training.py --strategy mirrored --out result.npz
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--out", required=True, help=".npz file for the losses and final weights")
    parser.add_argument("--logical-cpus", type=int, default=2, help="split the CPU into this many devices")
    parser.add_argument("--stream", action="store_true", help="read the images through a memory map")
    args = parser.parse_args()

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    import keras

    from utils import distribute, model, storage, training

    training.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 8, 8, 1), dtype=np.uint8)
    y = np.repeat(np.arange(2), 32)
    out = Path(args.out)
    if args.stream:
        x = storage.open_images(storage.write_rows(out.with_suffix(".images.npy"), [x]), stream=True)

    devices = [f"/cpu:{index}" for index in range(args.logical_cpus)] if args.strategy == "mirrored" else None
    strategy = distribute.make_strategy(args.strategy, devices)
    preset = model.get_preset("lite", x.shape[1:], widths=(4, 8), latent_dim=3)
    autoencoder = training.build_autoencoder(x.shape[1:], preset, penalty="code", seed=0, strategy=strategy)

    losses: list[float] = []

    class RecordLoss(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append(float(logs["loss"]))

    training.train_autoencoder(
        autoencoder, x, y, epochs=2, batch_size=16, class_batch_size=8, learning_rate=1e-2, seed=0,
        checkpoint_path=out.with_suffix(".weights.h5"), validation_x=x[:24], verbose=0,
        callbacks=[RecordLoss()],
    )
    if distribute.is_chief(strategy):
        weights = autoencoder.get_weights()
        np.savez(out, losses=np.array(losses), replicas=distribute.replica_count(strategy),
                 **{f"weight_{index}": value for index, value in enumerate(weights)})
    print(f"{args.strategy}: {distribute.replica_count(strategy)} replicas, losses {losses}")


if __name__ == "__main__":
    main()
