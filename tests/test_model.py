"""Shapes of the encoder and decoder, and the presets."""

import numpy as np
import pytest

from utils import model, training

WIDTHS = (4, 8, 8)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3), (48, 64, 3), (29, 31, 1)])
def test_round_trip_keeps_shape(shape):
    encoder = model.build_encoder(shape, WIDTHS, 16)
    decoder = model.build_decoder(shape, WIDTHS, 16)
    images = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    reconstructed = decoder(encoder(images))
    assert tuple(reconstructed.shape) == (2, *shape)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_decoder_output_in_unit_range(shape):
    decoder = model.build_decoder(shape, WIDTHS, 16)
    codes = np.random.default_rng(1).normal(0, 100, size=(4, 16)).astype(np.float32)
    images = np.asarray(decoder(codes))
    assert images.min() >= 0.0
    assert images.max() <= 1.0


def test_too_small_image_rejected_with_rule():
    with pytest.raises(ValueError, match=r"at least 8 pixels.*image_size=\(8, 8\)"):
        model.build_encoder((6, 6, 1), WIDTHS, 16)


def test_two_channels_rejected():
    with pytest.raises(ValueError, match="1 \\(gray\\) or 3 \\(RGB\\) channels, got 2"):
        model.build_encoder((28, 28, 2), WIDTHS, 16)


def test_latent_grid_ceils_each_stage():
    assert model.latent_grid((28, 28, 1), 3) == (4, 4)
    assert model.latent_grid((29, 31, 1), 3) == (4, 4)
    assert model.latent_grid((48, 64, 3), 4) == (3, 4)


def test_paper_preset_latent_sizes():
    assert model.get_preset("paper", (28, 28, 1)).latent_dim == 300
    assert model.get_preset("paper", (32, 32, 3)).latent_dim == 600
    assert model.get_preset("paper", (28, 28, 1)).widths == (64, 128, 256, 512)


def test_lite_latent_grows_with_pixels():
    assert model.get_preset("lite", (28, 28, 1)).latent_dim == 32
    assert model.get_preset("lite", (32, 32, 3)).latent_dim == 128
    assert model.get_preset("lite", (128, 128, 3)).latent_dim == 256


def test_preset_overrides_and_none_keeps_value():
    preset = model.get_preset("lite", (28, 28, 1), epochs=3, batch_size=None)
    assert preset.epochs == 3
    assert preset.batch_size == model.PRESETS["lite"].batch_size


def test_unknown_preset_rejected():
    with pytest.raises(ValueError, match="preset must be one of"):
        model.get_preset("huge", (28, 28, 1))


def test_decode_codes_rounds_to_uint8():
    decoder = model.build_decoder((8, 8, 1), (4,), 2)
    images = model.decode_codes(decoder, np.zeros((3, 2), np.float32))
    assert images.dtype == np.uint8
    assert images.shape == (3, 8, 8, 1)


def test_flat_gray_image_reconstructs_flat(tmp_path):
    training.set_seed(0)
    shape = (16, 16, 1)
    x = np.full((64, *shape), 128, np.uint8)
    y = np.zeros(64, np.int64)
    encoder = model.build_encoder(shape, (8, 16), 8)
    decoder = model.build_decoder(shape, (8, 16), 8)
    autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder, penalty="none")
    training.train_autoencoder(autoencoder, x, y, epochs=30, batch_size=16, class_batch_size=16,
                               learning_rate=1e-2, seed=0, checkpoint_path=tmp_path / "w.weights.h5",
                               verbose=0)
    reconstructed = model.decode_codes(decoder, model.encode_images(encoder, x[:4])).astype(np.float32) / 255
    assert reconstructed.max() - reconstructed.min() < 0.05
    assert abs(float(reconstructed.mean()) - 128 / 255) < 0.05


def test_decoder_grows_a_quarter_size_grid():
    decoder = model.build_decoder((28, 28, 1), (64, 32), 8)
    assert tuple(decoder.get_layer("grid").output.shape[1:]) == (7, 7, 64)
    assert tuple(decoder.get_layer("deconv_0").output.shape[1:]) == (14, 14, 32)
    assert tuple(decoder.output.shape[1:]) == (28, 28, 1)


def test_presets_give_decoder_widths():
    assert model.get_preset("lite", (28, 28, 1)).decoder_widths == (64, 32)
    assert model.get_preset("paper", (28, 28, 1)).decoder_widths == (256, 128)
    assert model.get_preset("lite", (28, 28, 1), decoder_widths=(8, 4)).decoder_widths == (8, 4)
