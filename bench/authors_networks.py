"""A Keras port of the encoder and decoder that Dablain et al. (2022) use for 28x28 gray images.

The authors' PyTorch code builds these networks for MNIST and Fashion-MNIST.
They are ported here only to compare training speed and reconstruction error
with :mod:`utils.model`, whose ``paper`` preset has the same encoder widths but
a decoder that mirrors the encoder and does about a sixth of the work.

Porting notes:

- PyTorch pads each side by one pixel before a 4x4 stride-2 convolution, which
  maps 7 pixels to 3. Keras ``"same"`` padding maps 7 to 4, so each encoder
  stage here is an explicit ``ZeroPadding2D(1)`` followed by a ``"valid"``
  convolution.
- Batch normalisation uses PyTorch's defaults: momentum 0.1 in PyTorch's
  convention (0.9 in Keras') and epsilon 1e-5.
- PyTorch's ``ConvTranspose2d`` with stride s, kernel k and no padding gives
  ``(n - 1) * s + k`` pixels, as Keras' ``"valid"`` ``Conv2DTranspose`` does.
- Layers have biases where PyTorch's defaults give them (dense layers and
  transposed convolutions), and none in the encoder's convolutions, where the
  authors switch them off.

Run this file to print the layer shapes and the multiply-accumulate counts per
image of both networks and of the ``paper`` preset::

    .venv/bin/python bench/authors_networks.py

References
----------
.. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE Transactions on Neural Networks and
   Learning Systems, 2022. arXiv:2105.02340.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

__all__ = ["IMAGE_SHAPE", "build_authors_encoder", "build_authors_decoder", "count_macs"]

IMAGE_SHAPE = (28, 28, 1)
_WIDTHS = (64, 128, 256, 512)  # 64 filters times 1, 2, 4 and 8, as in the authors' code
_KERNEL = 4
_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5


def build_authors_encoder(latent_dim: int = 300) -> keras.Model:
    """Build the authors' encoder: images (N, 28, 28, 1) in [0, 1] to codes (N, latent_dim).

    Four 4x4 stride-2 convolutions without bias, each after one pixel of zero
    padding, with 64, 128, 256 and 512 filters. Batch normalisation follows
    every convolution but the first, and LeakyReLU(0.2) follows each. The grid
    shrinks 28 -> 14 -> 7 -> 3 -> 1, so the flattened features have 512
    values, and a dense layer without activation maps them to the code.

    Parameters
    ----------
    latent_dim : int
        Size of the code; the authors use 300 for gray images.

    Returns
    -------
    keras.Model
        Input (N, 28, 28, 1), output (N, latent_dim) in float32 under any dtype policy.
    """
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    h = inputs
    for stage, filters in enumerate(_WIDTHS):
        h = layers.ZeroPadding2D(1, name=f"pad_{stage}")(h)
        h = layers.Conv2D(filters, _KERNEL, strides=2, padding="valid", use_bias=False,
                          name=f"conv_{stage}")(h)
        if stage > 0:
            h = layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, name=f"bn_{stage}")(h)
        h = layers.LeakyReLU(0.2, name=f"leaky_relu_{stage}")(h)
    h = layers.Flatten(name="flatten")(h)
    code = layers.Dense(latent_dim, name="code", dtype="float32")(h)
    return keras.Model(inputs, code, name="authors_encoder")


def build_authors_decoder(latent_dim: int = 300) -> keras.Model:
    """Build the authors' decoder: codes (N, latent_dim) to images (N, 28, 28, 1) in [0, 1].

    A dense layer with ReLU gives 7 * 7 * 512 values, reshaped to a 7x7 grid of
    512 channels. Three 4x4 transposed convolutions without padding follow:
    512 -> 256 filters with stride 1 (7 -> 10 pixels), 256 -> 128 with stride 1
    (10 -> 13) and 128 -> 1 with stride 2 (13 -> 28), with batch normalisation
    and ReLU after the first two.

    The authors end with tanh. This port ends with a sigmoid instead, because
    the images here lie in [0, 1]; both cost the same per pixel, so the
    multiply-accumulate count is unchanged.

    Parameters
    ----------
    latent_dim : int
        Size of the code; the authors use 300 for gray images.

    Returns
    -------
    keras.Model
        Input (N, latent_dim), output (N, 28, 28, 1) in float32 under any dtype policy.
    """
    inputs = keras.Input((latent_dim,), name="code")
    h = layers.Dense(7 * 7 * _WIDTHS[-1], activation="relu", name="expand")(inputs)
    h = layers.Reshape((7, 7, _WIDTHS[-1]), name="grid")(h)
    for stage, filters in enumerate((_WIDTHS[2], _WIDTHS[1])):
        h = layers.Conv2DTranspose(filters, _KERNEL, strides=1, padding="valid", name=f"deconv_{stage}")(h)
        h = layers.BatchNormalization(momentum=_BN_MOMENTUM, epsilon=_BN_EPSILON, name=f"bn_{stage}")(h)
        h = layers.ReLU(name=f"relu_{stage}")(h)
    h = layers.Conv2DTranspose(IMAGE_SHAPE[-1], _KERNEL, strides=2, padding="valid", name="deconv_2")(h)
    outputs = layers.Activation("sigmoid", dtype="float32", name="image")(h)
    return keras.Model(inputs, outputs, name="authors_decoder")


def count_macs(model: keras.Model) -> dict[str, int]:
    """Count the multiply-accumulates per image of each convolution and dense layer.

    A convolution costs ``output pixels * kernel area * input channels *
    filters``. A transposed convolution scatters every input pixel through the
    kernel, so it costs ``input pixels * kernel area * input channels *
    filters``, including the products that ``"same"`` padding crops away. A
    dense layer costs ``inputs * units``. Biases, batch normalisation and
    activations are left out: they add one operation per output value, which is
    small next to these.

    Parameters
    ----------
    model : keras.Model
        A functional model, so that every layer has known input and output shapes.

    Returns
    -------
    dict of str to int
        Layer name to multiply-accumulates for one image, in layer order. One
        forward pass costs the sum; one training step costs about three times
        that (forward, gradient with respect to inputs, gradient with respect
        to weights).
    """
    counts = {}
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            _, height, width, channels = layer.input.shape
            counts[layer.name] = height * width * math.prod(layer.kernel_size) * channels * layer.filters
        elif isinstance(layer, layers.Conv2D):
            channels = layer.input.shape[-1]
            _, out_height, out_width, _ = layer.output.shape
            counts[layer.name] = out_height * out_width * math.prod(layer.kernel_size) * channels * layer.filters
        elif isinstance(layer, layers.Dense):
            counts[layer.name] = layer.input.shape[-1] * layer.units
    return counts


def _print_network(model: keras.Model) -> int:
    """Print each layer's output shape and multiply-accumulates, and return the total."""
    counts = count_macs(model)
    print(f"{model.name}:")
    for layer in model.layers:
        macs = f"{counts[layer.name]:>13,} MACs" if layer.name in counts else ""
        print(f"  {layer.name:<14} {str(tuple(layer.output.shape)):<20} {macs}")
    total = sum(counts.values())
    print(f"  {'total':<35}{total:>13,} MACs")
    return total


def main() -> None:
    """Print the shapes and multiply-accumulate counts of the authors' networks and of the paper preset."""
    from utils import model

    preset = model.get_preset("paper", IMAGE_SHAPE)
    networks = {
        "authors' port": (build_authors_encoder(preset.latent_dim), build_authors_decoder(preset.latent_dim)),
        "paper preset": (model.build_encoder(IMAGE_SHAPE, preset.widths, preset.latent_dim),
                         model.build_decoder(IMAGE_SHAPE, preset.decoder_widths, preset.latent_dim)),
    }
    for label, (encoder, decoder) in networks.items():
        print(f"== {label}")
        total = _print_network(encoder) + _print_network(decoder)
        print(f"forward pass, encoder + decoder: {total / 1e6:.1f} million MACs per image")


if __name__ == "__main__":
    main()
