"""Training the encoder-decoder with the DeepSMOTE loss.

The loss of one step is the mean squared reconstruction error of a shuffled
batch plus a penalty term computed on a batch of one class. The input pipeline
(:func:`make_training_dataset`) supplies both batches, so the training step
runs without a host round trip.

Penalty variants (``penalty=``):

``"code"``
    As the authors' code computes it: encode a one-class batch, stop the
    gradient at the codes, decode, and take the MSE against the same batch. The
    authors shift images and codes cyclically by one before comparing. Both get
    the same shift, so each image is compared with the decoding of its own code,
    and that is what is computed here.
``"paper"``
    As the paper's text describes it: the codes of the one-class batch are
    permuted before decoding, so each image is compared with the decoding of
    another code of the same class. The gradient also stops at the codes.
``"none"``
    Reconstruction only.

Unlike the authors' code, the penalty pass runs batch normalisation in inference
mode (with its moving statistics). TensorFlow does not order two updates of the
moving statistics in one step, so the saved networks would differ between runs
with the same seed. This way only the reconstruction batches, which are drawn
from all classes, update them.

References
----------
.. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE TNNLS, 2022. arXiv:2105.02340.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import distribute
from .model import Preset, build_decoder, build_encoder

__all__ = [
    "build_autoencoder",
    "PENALTIES",
    "DeepSMOTEAutoencoder",
    "make_training_dataset",
    "steps_per_epoch",
    "penalty_loss",
    "set_seed",
    "train_autoencoder",
    "reconstruction_mse",
]

logger = logging.getLogger(__name__)

PENALTIES = ("code", "paper", "none")


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow's kernels deterministic.

    With this, the same seed gives the same weights and images on the same machine
    and library versions. Deterministic kernels cost some speed on a GPU.
    """
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def _to_float(images: tf.Tensor) -> tf.Tensor:
    """Convert uint8 images in [0, 255] to float32 in [0, 1]."""
    return tf.cast(images, tf.float32) / 255.0


def make_training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    class_batch_size: int,
    seed: int,
    augment: keras.Model | None = None,
) -> tf.data.Dataset:
    """Build the pipeline of (batch, one-class batch) pairs for one epoch.

    Parameters
    ----------
    x : ndarray or np.memmap of uint8, shape (N, H, W, C)
        Training images, values 0-255. The pipeline shuffles row numbers and
        reads each batch's rows from ``x`` when it is needed, so a memory map
        (:func:`utils.storage.open_images` with ``stream=True``) is read from
        disk batch by batch and never copied whole.
    y : ndarray of int, shape (N,)
        Class index of each image, 0 to n_classes - 1.
    batch_size : int
        Images per reconstruction batch; the last batch of an epoch may be smaller.
        Under a distribution strategy this is the global batch, split between replicas.
    class_batch_size : int
        Images per penalty batch; a class with fewer images gives all of them.
    seed : int
        Seeds the shuffling and the choice of class.
    augment : keras.Model, optional
        Applied with ``training=True`` to each reconstruction batch, for example
        :func:`utils.augment.build_augmentation`; the penalty batches stay as they are.

    Returns
    -------
    tf.data.Dataset
        Yields ``(batch, class_batch)``, float32 tensors of shapes (b, H, W, C) and
        (m, H, W, C), without end: an epoch is ``steps_per_epoch(N, batch_size)``
        steps, after which the images are reshuffled. The class of each penalty
        batch is drawn uniformly at random among the classes, as in the authors' code.

    Notes
    -----
    Every random choice is stateless, a function of ``seed`` and the pass or
    step number, so each iterator of the pipeline yields the same batches. With
    TensorFlow's seeded ``shuffle`` a second iterator drew new seeds from a
    generator shared across the process, so a second training with the same
    seed, or the copy a distribution strategy iterates, saw other batches.

    Only row numbers (8 bytes per image) enter TensorFlow; the images stay in
    ``x``. Copying ``x`` into the pipeline instead would hold it two more times.
    """
    if x.dtype != np.uint8:
        raise TypeError(f"x must be uint8 images in [0, 255], got dtype {x.dtype}")
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"x must be (N, H, W, C) with N == len(y); got x {x.shape} and y {np.shape(y)}")
    read = _row_reader(x)
    classes = np.unique(y)
    batches = _shuffled_batches(np.arange(len(x)), batch_size, seed, drop_remainder=False).map(
        read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    if augment is not None:
        batches = batches.map(lambda batch: augment(batch, training=True), deterministic=True)
    per_class = [
        _shuffled_batches(np.flatnonzero(y == label), min(class_batch_size, int(np.sum(y == label))),
                          seed + 1 + offset, drop_remainder=True)
        for offset, label in enumerate(classes)
    ]
    choice = tf.data.Dataset.counter().map(
        lambda step: tf.random.stateless_uniform((), seed=tf.stack([tf.constant(seed, tf.int64), step]),
                                                 maxval=len(classes), dtype=tf.int64)
    )
    class_batches = tf.data.Dataset.choose_from_datasets(per_class, choice).map(
        read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return tf.data.Dataset.zip(batches, class_batches).prefetch(tf.data.AUTOTUNE)


def _shuffled_batches(rows: np.ndarray, batch_size: int, seed: int, drop_remainder: bool) -> tf.data.Dataset:
    """Return an endless stream of batches of ``rows``, in a new order in each pass.

    The order of pass ``e`` depends only on ``(seed, e)``: stateless shuffles
    give every iterator of the stream the same batches, which a distribution
    strategy needs, as it iterates a copy of the pipeline.
    """
    rows = tf.constant(rows, tf.int64)

    def one_pass(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(rows, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=drop_remainder)

    return tf.data.Dataset.counter().flat_map(one_pass)


def _row_reader(x: np.ndarray):
    """Return a tf.data map function from a vector of row numbers to those images as float32 in [0, 1]."""
    row_shape = x.shape[1:]

    def take(rows: np.ndarray) -> np.ndarray:
        # Ascending reads keep a memory map's disk access sequential. The loss is a mean
        # over the batch, so the order inside a batch does not matter.
        return x[np.sort(rows)]

    def read(rows: tf.Tensor) -> tf.Tensor:
        images = tf.numpy_function(take, [rows], tf.uint8, stateful=False)
        images.set_shape((None, *row_shape))
        return _to_float(images)

    return read


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Return the number of batches in one pass over ``n_images`` images."""
    return math.ceil(n_images / batch_size)


def penalty_loss(
    encoder: keras.Model,
    decoder: keras.Model,
    class_batch: tf.Tensor,
    penalty: str,
    seed_generator: keras.random.SeedGenerator | None = None,
    training: bool = True,
) -> tf.Tensor:
    """Compute the penalty term on a batch of one class.

    Parameters
    ----------
    encoder, decoder : keras.Model
        The networks.
    class_batch : tensor of float32, shape (m, H, W, C)
        Images of one class, values in [0, 1].
    penalty : {"code", "paper", "none"}
        Variant; see the module docstring.
    seed_generator : keras.random.SeedGenerator, optional
        Source of the permutation for ``"paper"``; needed for that variant.
    training : bool
        Passed to the networks (batch normalisation uses batch statistics when True).

    Returns
    -------
    scalar tensor of float32
        Mean squared error, 0.0 for ``"none"``.
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    if penalty == "none":
        return tf.constant(0.0)
    codes = tf.stop_gradient(encoder(class_batch, training=training))
    if penalty == "paper":
        if seed_generator is None:
            raise ValueError('penalty="paper" needs a seed_generator for its permutation')
        order = keras.random.shuffle(tf.range(tf.shape(codes)[0]), seed=seed_generator)
        codes = tf.gather(codes, order)
    decoded = decoder(codes, training=training)
    return tf.reduce_mean(tf.square(tf.cast(decoded, tf.float32) - class_batch))


class DeepSMOTEAutoencoder(keras.Model):
    """Encoder and decoder trained together with the DeepSMOTE loss.

    ``fit`` expects a dataset from :func:`make_training_dataset`. The logged
    metrics are ``loss`` (reconstruction + penalty_weight * penalty),
    ``reconstruction`` and ``penalty``; ``evaluate`` on plain images reports
    ``reconstruction``.

    Parameters
    ----------
    encoder, decoder : keras.Model
        From :func:`utils.model.build_encoder` and :func:`utils.model.build_decoder`.
    penalty : {"code", "paper", "none"}
        Penalty variant; see the module docstring.
    penalty_weight : float
        Weight of the penalty term; the authors use 1.
    seed : int
        Seeds the permutation of the ``"paper"`` variant.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, penalty: str = "code",
                 penalty_weight: float = 1.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.penalty = penalty
        self.penalty_weight = float(penalty_weight)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.penalty_tracker = keras.metrics.Mean(name="penalty")
        # The two networks are built already, and this model has no weights of its own.
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.penalty_tracker]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3 (3.15 here) averages a sample input batch across replicas before the
        # first step, which fails under MultiWorkerMirroredStrategy (keras-team/keras#20585).
        # Once the networks are built, only the optimizer is left, and it needs no data.
        if not all(layer.built for layer in self._flatten_layers()):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        with self.distribute_strategy.scope():
            self._symbolic_build(iterator=None, data_batch=None)

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def train_step(self, data):
        batch, class_batch = data
        with tf.GradientTape() as tape:
            reconstructed = self(batch, training=True)
            reconstruction = tf.reduce_mean(tf.square(tf.cast(reconstructed, tf.float32) - batch))
            # Batch normalisation runs in inference mode for the penalty pass: a second
            # update of the moving statistics in the same step races with the first, and
            # made the saved networks differ between runs with the same seed.
            penalty = penalty_loss(self.encoder, self.decoder, class_batch, self.penalty,
                                   self.seed_generator, training=False)
            loss = reconstruction + self.penalty_weight * penalty
            # Replicas' gradients are summed, so each replica contributes its share of
            # the mean; scale_loss multiplies by the loss scale under mixed_float16.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled_loss = self.optimizer.scale_loss(loss / replicas)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(reconstruction)
        self.penalty_tracker.update_state(penalty)
        return _logged({metric.name: metric.result() for metric in self.metrics})

    def test_step(self, data):
        batch = data[0] if isinstance(data, (tuple, list)) else data
        reconstructed = self(batch, training=False)
        reconstruction = tf.reduce_mean(tf.square(tf.cast(reconstructed, tf.float32) - batch))
        self.reconstruction_tracker.update_state(reconstruction)
        return _logged({"reconstruction": self.reconstruction_tracker.result()})


def _logged(results: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Return metric results in the shape Keras can average across replicas.

    Under MultiWorkerMirroredStrategy, Keras 3 averages each logged value across
    workers along axis 0, and a scalar has no axis 0. A vector of one value
    averages to a scalar.
    """
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: tf.reshape(value, (1,)) for name, value in results.items()}
    return results


def build_autoencoder(
    image_shape: Sequence[int],
    preset: Preset,
    penalty: str = "code",
    penalty_weight: float = 1.0,
    seed: int = 0,
    strategy: tf.distribute.Strategy | None = None,
) -> DeepSMOTEAutoencoder:
    """Build the encoder, the decoder and the model that trains them, under ``strategy``.

    Parameters
    ----------
    image_shape : sequence of int
        (H, W, C) of the images.
    preset : Preset
        Supplies ``widths`` and ``latent_dim``; see :func:`utils.model.get_preset`.
    penalty, penalty_weight, seed
        As in :class:`DeepSMOTEAutoencoder`.
    strategy : tf.distribute.Strategy, optional
        From :func:`utils.distribute.make_strategy`; by default the current one
        (one device). With several replicas, batch normalisation is synchronised
        across them, so a step computes what it would on one device.

    Returns
    -------
    DeepSMOTEAutoencoder
        With ``.encoder`` and ``.decoder``; not yet compiled.
    """
    strategy = strategy or tf.distribute.get_strategy()
    sync = distribute.replica_count(strategy) > 1
    with strategy.scope():
        encoder = build_encoder(image_shape, preset.widths, preset.latent_dim, sync_batch_norm=sync)
        decoder = build_decoder(image_shape, preset.decoder_widths, preset.latent_dim, sync_batch_norm=sync)
        return DeepSMOTEAutoencoder(encoder, decoder, penalty=penalty, penalty_weight=penalty_weight, seed=seed)


def train_autoencoder(
    autoencoder: DeepSMOTEAutoencoder,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    class_batch_size: int,
    learning_rate: float,
    seed: int,
    checkpoint_path: str | Path,
    validation_x: np.ndarray | None = None,
    augment: keras.Model | None = None,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> keras.callbacks.History:
    """Train ``autoencoder`` and leave it with the weights of its lowest training loss.

    Like the authors' code, which has no validation set, this keeps the weights
    of the epoch with the lowest training loss. ``validation_x`` is only
    monitored, as ``val_reconstruction``.

    Parameters
    ----------
    autoencoder : DeepSMOTEAutoencoder
        Model to train, compiled here with Adam(``learning_rate``). Trained under
        the distribution strategy it was built in (see :func:`build_autoencoder`).
    x : ndarray of uint8, shape (N, H, W, C)
        Training images, 0-255.
    y : ndarray of int, shape (N,)
        Class index per image.
    epochs, batch_size, class_batch_size : int
        Training length and batch sizes.
    learning_rate : float
        Adam learning rate.
    seed : int
        Seeds the input pipeline.
    checkpoint_path : str or Path
        File for the best weights; must end in ``.weights.h5``. On a worker other
        than the chief of a multi-worker cluster, a temporary folder is used instead.
    validation_x : ndarray of uint8, shape (M, H, W, C), optional
        Held-out images whose reconstruction MSE is logged after each epoch.
    augment : keras.Model, optional
        Random augmentation of the reconstruction batches; see :func:`make_training_dataset`.
    verbose : int or "auto"
        Keras progress output: 1 shows a progress bar, 2 one line per epoch.
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.

    Returns
    -------
    keras.callbacks.History
        Per-epoch ``loss``, ``reconstruction``, ``penalty`` and, with
        ``validation_x``, ``val_reconstruction``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    checkpoint_path = Path(checkpoint_path)
    if not checkpoint_path.name.endswith(".weights.h5"):
        raise ValueError(f"checkpoint_path must end in .weights.h5, got {checkpoint_path.name!r}")
    strategy = autoencoder.distribute_strategy
    with strategy.scope():
        autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8))
    dataset = make_training_dataset(x, y, batch_size, class_batch_size, seed, augment)
    validation = None
    if validation_x is not None:
        validation = tf.data.Dataset.range(len(validation_x)).batch(512).map(_row_reader(validation_x))
    with tempfile.TemporaryDirectory(prefix="deepsmote-") as scratch:
        if not distribute.is_chief(strategy):
            # All workers have the same weights, so only the chief's checkpoint is kept.
            checkpoint_path = Path(scratch) / checkpoint_path.name
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        keep_best = keras.callbacks.ModelCheckpoint(
            checkpoint_path, monitor="loss", mode="min", save_best_only=True, save_weights_only=True
        )
        history = autoencoder.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch(len(x), batch_size),
                                  validation_data=validation, callbacks=[keep_best, *callbacks],
                                  verbose=verbose, shuffle=False)
        autoencoder.load_weights(checkpoint_path)
    return history


def reconstruction_mse(encoder: keras.Model, decoder: keras.Model, x: np.ndarray,
                       batch_size: int = 512) -> float:
    """Return the mean squared error between images and their reconstructions.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, H, W, C)
        Images, 0-255; the error is computed in [0, 1] units.
    """
    total, count = 0.0, 0
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size].astype(np.float32) / 255.0
        # A direct call, because predict_on_batch under a multi-worker strategy returns the
        # predictions of every worker joined together.
        reconstructed = decoder(encoder(batch, training=False), training=False)
        total += float(np.sum((np.asarray(reconstructed, dtype=np.float64) - batch) ** 2))
        count += batch.size
    return total / count
