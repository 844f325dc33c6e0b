"""The DeepSMOTE encoder and decoder, built from the image shape.

The encoder is a stack of stride-2 convolutions followed by a dense layer to the
latent code. The decoder expands the code to a small grid, a quarter of the
image's size in the presets, and doubles it with stride-2 transposed
convolutions. Any image of at least ``2 ** n_stages`` pixels a side
round-trips: the encoder uses ``"same"`` padding (ceil(size / 2) at each stage)
and the decoder crops its output back to the input size.

References
----------
.. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE Transactions on Neural Networks and
   Learning Systems, 2022. arXiv:2105.02340.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers

from . import storage

__all__ = [
    "Preset",
    "PRESETS",
    "get_preset",
    "latent_grid",
    "build_encoder",
    "build_decoder",
    "encode_images",
    "decode_codes",
]

# PyTorch's batch-norm defaults, which the authors' code uses: momentum 0.1 there
# is 0.9 in Keras' convention.
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5
_KERNEL = 4  # a multiple of the stride 2, so transposed convolutions leave no checkerboard


@dataclasses.dataclass(frozen=True)
class Preset:
    """Network size and training settings, chosen together.

    Attributes
    ----------
    name : str
        ``"lite"`` or ``"paper"``.
    widths : tuple of int
        Filters of each stride-2 convolution of the encoder.
    decoder_widths : tuple of int
        Channels of the decoder's grids, coarse to fine: the first fills the grid
        at ``1 / 2**len(decoder_widths)`` of the image size, and each stride-2
        transposed convolution doubles it (see :func:`build_decoder`).
    latent_dim : int or None
        Size of the latent code. ``None`` derives it from the image shape (see :func:`get_preset`).
    epochs : int
        Training epochs.
    batch_size : int
        Images per reconstruction batch.
    class_batch_size : int
        Maximum images of the one class drawn for the penalty term at each step.
    learning_rate : float
        Adam learning rate.
    """

    name: str
    widths: tuple[int, ...]
    decoder_widths: tuple[int, ...]
    latent_dim: int | None
    epochs: int
    batch_size: int
    class_batch_size: int
    learning_rate: float


PRESETS = {
    # The authors' settings: dim_h 64 (encoder filters 64, 128, 256, 512), Adam
    # 2e-4, batch 100, 200 epochs, and latent 300 for gray or 600 for colour images.
    # Their decoder also starts from a quarter-size grid (7x7 for 28x28), then grows
    # it with two stride-1 transposed convolutions. The two stride-2 ones here need
    # under a fifth of the multiply-adds and reconstructed better after 2 epochs.
    "paper": Preset("paper", (64, 128, 256, 512), (256, 128), None, 200, 100, 100, 2e-4),
    # A network about 20 times cheaper per image than paper's, sized so that the series
    # on the shipped 9,000 training images runs in minutes on a 2-core CPU.
    "lite": Preset("lite", (16, 32, 64), (64, 32), None, 15, 64, 64, 2e-3),
}


def get_preset(name: str, image_shape: Sequence[int], **overrides) -> Preset:
    """Return the preset ``name`` with its latent size resolved for ``image_shape``.

    Parameters
    ----------
    name : {"lite", "paper"}
        Preset name.
    image_shape : sequence of int
        ``(height, width, channels)`` of the images.
    **overrides
        Fields of :class:`Preset` to replace, for example ``epochs=3``. A value of
        ``None`` keeps the preset's value.

    Returns
    -------
    Preset
        With ``latent_dim`` set. ``paper`` uses 300 for one channel and 600 for three,
        as Dablain et al. (2022) do. ``lite`` uses one latent unit per 24 input values,
        between 16 and 256, so its cost grows about linearly with the pixel count.
    """
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    preset = PRESETS[name]
    unknown = set(overrides) - {field.name for field in dataclasses.fields(Preset)}
    if unknown:
        raise TypeError(f"unknown preset fields {sorted(unknown)}")
    preset = dataclasses.replace(preset, **{k: v for k, v in overrides.items() if v is not None})
    if preset.latent_dim is None:
        height, width, channels = _check_shape(image_shape, preset.widths)
        if name == "paper":
            latent_dim = 300 if channels == 1 else 600
        else:
            latent_dim = min(256, max(16, height * width * channels // 24))
        preset = dataclasses.replace(preset, latent_dim=latent_dim)
    return preset


def _check_shape(image_shape: Sequence[int], widths: Sequence[int]) -> tuple[int, int, int]:
    """Validate ``(H, W, C)`` for a network with ``len(widths)`` stride-2 stages."""
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels), got {tuple(image_shape)}")
    height, width, channels = (int(v) for v in image_shape)
    if channels not in (1, 3):
        raise ValueError(f"images must have 1 (gray) or 3 (RGB) channels, got {channels}")
    smallest = 2 ** len(widths)
    if min(height, width) < smallest:
        raise ValueError(
            f"images of {height}x{width} pixels are too small for {len(widths)} stride-2 stages: "
            f"each side needs at least {smallest} pixels. Load the images at image_size="
            f"({max(height, smallest)}, {max(width, smallest)}) or larger."
        )
    return height, width, channels


def latent_grid(image_shape: Sequence[int], n_stages: int) -> tuple[int, int]:
    """Return the spatial size after ``n_stages`` stride-2 ``"same"`` convolutions.

    Each stage maps a side of ``s`` pixels to ``ceil(s / 2)``; for example 28 -> 14
    -> 7 -> 4 and 29 -> 15 -> 8 -> 4.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    for _ in range(n_stages):
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return height, width


def build_encoder(image_shape: Sequence[int], widths: Sequence[int], latent_dim: int,
                  sync_batch_norm: bool = False) -> keras.Model:
    """Build the encoder: images (N, H, W, C) in [0, 1] to codes (N, latent_dim).

    Each stage is a 4x4 convolution with stride 2 and no bias, then batch
    normalisation (except after the first, as in the authors' network) and
    LeakyReLU(0.2). A dense layer without activation gives the code.

    ``sync_batch_norm=True`` makes batch normalisation use the statistics of
    the global batch when training on several devices (see
    :mod:`utils.distribute`); on one device it only adds work.
    """
    height, width, channels = _check_shape(image_shape, widths)
    inputs = keras.Input((height, width, channels), name="image")
    h = inputs
    for stage, filters in enumerate(widths):
        h = layers.Conv2D(filters, _KERNEL, strides=2, padding="same", use_bias=False,
                          name=f"conv_{stage}")(h)
        if stage > 0:
            h = layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON,
                                          synchronized=sync_batch_norm, name=f"bn_{stage}")(h)
        h = layers.LeakyReLU(0.2, name=f"leaky_relu_{stage}")(h)
    h = layers.Flatten(name="flatten")(h)
    code = layers.Dense(latent_dim, name="code", dtype="float32")(h)
    return keras.Model(inputs, code, name="encoder")


def build_decoder(image_shape: Sequence[int], widths: Sequence[int], latent_dim: int,
                  sync_batch_norm: bool = False) -> keras.Model:
    """Build the decoder: codes (N, latent_dim) to images (N, H, W, C) in [0, 1].

    With ``m = len(widths)``, a dense layer with ReLU fills a grid of
    ``ceil(H / 2**m) x ceil(W / 2**m)`` cells with ``widths[0]`` channels. Each
    further width is a 4x4 transposed convolution of stride 2, which doubles
    the grid, followed by batch normalisation and ReLU. A last stride-2
    transposed convolution gives the C image channels, and a sigmoid keeps
    outputs in [0, 1] like the inputs. A crop removes the rows and columns that
    the doubling adds beyond the input size (``m = 3`` on 28x28: 4 -> 8 -> 16 ->
    32, cropped to 28). ``sync_batch_norm`` is as in :func:`build_encoder`.

    Parameters
    ----------
    image_shape : sequence of int
        (H, W, C) of the images.
    widths : sequence of int
        Channels of the grids, coarse to fine, such as ``Preset.decoder_widths``.
    latent_dim : int
        Length of the codes.
    """
    height, width, channels = _check_shape(image_shape, widths)
    stages = len(widths)
    grid_h, grid_w = latent_grid(image_shape, stages)
    inputs = keras.Input((latent_dim,), name="code")
    h = layers.Dense(grid_h * grid_w * widths[0], activation="relu", name="expand")(inputs)
    h = layers.Reshape((grid_h, grid_w, widths[0]), name="grid")(h)
    for stage, filters in enumerate(widths[1:]):
        h = layers.Conv2DTranspose(filters, _KERNEL, strides=2, padding="same", use_bias=False,
                                   name=f"deconv_{stage}")(h)
        h = layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON,
                                      synchronized=sync_batch_norm, name=f"bn_{stage}")(h)
        h = layers.ReLU(name=f"relu_{stage}")(h)
    h = layers.Conv2DTranspose(channels, _KERNEL, strides=2, padding="same", name=f"deconv_{stages - 1}")(h)
    extra_h, extra_w = grid_h * 2 ** stages - height, grid_w * 2 ** stages - width
    h = layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)),
                          name="crop")(h)
    outputs = layers.Activation("sigmoid", dtype="float32", name="image")(h)
    return keras.Model(inputs, outputs, name="decoder")


def encode_images(encoder: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Encode uint8 images (N, H, W, C), 0-255, into float32 codes (N, latent_dim), batch by batch."""
    if x.dtype != np.uint8:
        raise TypeError(
            f"encode_images expects uint8 images with values 0-255, got dtype {x.dtype}. "
            "Convert float images in [0, 1] with np.round(x * 255).astype(np.uint8)."
        )
    parts = [
        np.asarray(encoder(x[start:start + batch_size].astype(np.float32) / 255.0, training=False))
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.output_shape[-1]), np.float32)


def decode_codes(decoder: keras.Model, codes: np.ndarray, batch_size: int = 1024,
                 out: str | Path | None = None) -> np.ndarray:
    """Decode codes (M, latent_dim) into uint8 images (M, H, W, C), 0-255, batch by batch.

    Decoder outputs are clipped to [0, 1] and rounded, so a value of 200/255
    comes back as 200. With ``out``, a ``.npy`` file, the images are written
    there batch by batch and returned as a read-only memory map, so memory contains
    one batch of images at a time.
    """
    codes = np.asarray(codes, np.float32)
    shape = (len(codes), *decoder.output_shape[1:])

    def decode(rows: slice) -> np.ndarray:
        images = np.asarray(decoder(codes[rows], training=False))
        return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)

    if out is None:
        images = np.empty(shape, np.uint8)
        for rows in storage.iter_blocks(len(codes), batch_size):
            images[rows] = decode(rows)
        return images
    return storage.open_images(storage.write_blocks(out, shape, np.uint8, decode, batch_size), stream=True)
