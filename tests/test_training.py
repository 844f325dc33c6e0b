"""The DeepSMOTE loss, the input pipeline and reproducible training."""

import numpy as np
import pytest
import keras
import tensorflow as tf

from utils import model, storage, training

SHAPE = (8, 8, 1)
WIDTHS = (4, 8)


def networks(seed=0):
    training.set_seed(seed)
    return model.build_encoder(SHAPE, WIDTHS, 4), model.build_decoder(SHAPE, WIDTHS, 4)


def class_batch():
    rng = np.random.default_rng(3)
    return tf.constant(rng.random((6, *SHAPE), dtype=np.float32))


def identity_networks():
    """An encoder that flattens and a decoder that reshapes: a perfect reconstruction."""
    encoder = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten()])
    decoder = keras.Sequential([keras.Input((int(np.prod(SHAPE)),)), keras.layers.Reshape(SHAPE)])
    return encoder, decoder


def test_paper_penalty_differs_from_reconstruction():
    encoder, decoder = identity_networks()
    batch = class_batch()
    reconstruction = float(tf.reduce_mean(tf.square(decoder(encoder(batch)) - batch)))
    paper = float(training.penalty_loss(encoder, decoder, batch, "paper",
                                        seed_generator=keras.random.SeedGenerator(1)))
    assert reconstruction == 0.0
    # Uniform images in [0, 1): the mean squared difference of two of them is about 1/6.
    assert paper > 0.05


def test_code_penalty_is_zero_for_perfect_networks():
    encoder, decoder = identity_networks()
    assert float(training.penalty_loss(encoder, decoder, class_batch(), "code")) == 0.0


def test_code_penalty_equals_reconstruction_of_class_batch():
    encoder, decoder = networks()
    batch = class_batch()
    reconstruction = float(tf.reduce_mean(tf.square(decoder(encoder(batch, training=False), training=False) - batch)))
    code = float(training.penalty_loss(encoder, decoder, batch, "code", training=False))
    assert code == pytest.approx(reconstruction, rel=1e-6)


def test_none_penalty_is_zero():
    encoder, decoder = networks()
    assert float(training.penalty_loss(encoder, decoder, class_batch(), "none")) == 0.0


def test_code_penalty_trains_decoder_only():
    encoder, decoder = networks()
    with tf.GradientTape() as tape:
        loss = training.penalty_loss(encoder, decoder, class_batch(), "code")
    gradients = tape.gradient(loss, encoder.trainable_variables + decoder.trainable_variables)
    encoder_gradients = gradients[: len(encoder.trainable_variables)]
    decoder_gradients = gradients[len(encoder.trainable_variables):]
    assert all(g is None for g in encoder_gradients)
    assert any(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in decoder_gradients)


def test_unknown_penalty_rejected():
    encoder, decoder = networks()
    with pytest.raises(ValueError, match="penalty must be one of"):
        training.DeepSMOTEAutoencoder(encoder, decoder, penalty="gan")


def tiny_data():
    # Image i is filled with the value 8 * i, so a pixel shows which image it came from.
    x = np.repeat(np.arange(30, dtype=np.uint8) * 8, 64).reshape(30, 8, 8, 1)
    y = np.array([0] * 20 + [1] * 7 + [2] * 3)
    return x, y


def test_pipeline_batches_and_one_class_batches():
    x, y = tiny_data()
    dataset = training.make_training_dataset(x, y, batch_size=8, class_batch_size=5, seed=0)
    assert training.steps_per_epoch(len(x), 8) == 4
    steps = list(dataset.take(8))
    assert [int(batch.shape[0]) for batch, _ in steps] == [8, 8, 8, 6, 8, 8, 8, 6]
    first_epoch = np.sort(np.concatenate([batch.numpy()[:, 0, 0, 0] for batch, _ in steps[:4]]))
    assert np.array_equal(np.round(first_epoch * 255), np.sort(x[:, 0, 0, 0]).astype(float))
    for batch, class_images in steps:
        sources = np.round(class_images.numpy()[:, 0, 0, 0] * 255 / 8).astype(int)
        labels = set(y[sources].tolist())
        assert len(labels) == 1
        expected_size = min(5, int(np.sum(y == labels.pop())))
        assert int(class_images.shape[0]) == expected_size
        assert float(tf.reduce_max(batch)) <= 1.0


def _pipeline_sources(dataset, steps=8):
    """Return, per step, the image numbers of the batch and of the class batch."""
    return [(np.round(batch.numpy()[:, 0, 0, 0] * 255 / 8).astype(int).tolist(),
             np.round(class_images.numpy()[:, 0, 0, 0] * 255 / 8).astype(int).tolist())
            for batch, class_images in dataset.take(steps)]


def test_every_iterator_gives_the_same_batches():
    x, y = tiny_data()
    dataset = training.make_training_dataset(x, y, batch_size=8, class_batch_size=5, seed=0)
    first = _pipeline_sources(dataset)
    assert _pipeline_sources(dataset) == first
    assert _pipeline_sources(training.make_training_dataset(x, y, 8, 5, seed=0)) == first
    assert _pipeline_sources(training.make_training_dataset(x, y, 8, 5, seed=1)) != first
    # A new pass over the images comes in a new order.
    assert sorted(first[0][0] + first[1][0] + first[2][0] + first[3][0]) == list(range(30))
    assert first[4][0] != first[0][0]


def test_memory_mapped_images_give_the_same_batches(tmp_path):
    x, y = tiny_data()
    mapped = storage.open_images(storage.write_rows(tmp_path / "x.npy", [x]), stream=True)
    assert isinstance(mapped, np.memmap)
    in_memory = training.make_training_dataset(x, y, 8, 5, seed=0)
    streamed = training.make_training_dataset(mapped, y, 8, 5, seed=0)
    assert _pipeline_sources(streamed) == _pipeline_sources(in_memory)


def test_pipeline_rejects_float_images():
    x, y = tiny_data()
    with pytest.raises(TypeError, match="must be uint8"):
        training.make_training_dataset(x.astype(np.float32), y, 8, 5, 0)


def train_once(tmp_path, penalty):
    x, y = tiny_data()
    encoder, decoder = networks(seed=7)
    autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder, penalty=penalty, seed=7)
    history = training.train_autoencoder(autoencoder, x, y, epochs=2, batch_size=8, class_batch_size=5,
                                         learning_rate=1e-3, seed=7, checkpoint_path=tmp_path / "w.weights.h5",
                                         validation_x=x[:4], verbose=0)
    return history.history, [w.copy() for w in decoder.get_weights()]


@pytest.mark.parametrize("penalty", ["code", "paper"])
def test_same_seed_same_weights(tmp_path, penalty):
    first_history, first_weights = train_once(tmp_path, penalty)
    second_history, second_weights = train_once(tmp_path, penalty)
    assert all(np.array_equal(a, b) for a, b in zip(first_weights, second_weights))
    # The logged means may differ in the last bit: Keras sums them in float32 across steps.
    for name, values in first_history.items():
        assert second_history[name] == pytest.approx(values, rel=1e-6)


def test_history_has_both_terms(tmp_path):
    history, _ = train_once(tmp_path, "code")
    assert set(history) >= {"loss", "reconstruction", "penalty", "val_reconstruction"}
    assert history["loss"][0] == pytest.approx(history["reconstruction"][0] + history["penalty"][0], rel=1e-5)


def test_checkpoint_name_checked(tmp_path):
    x, y = tiny_data()
    encoder, decoder = networks()
    autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder)
    with pytest.raises(ValueError, match=r"must end in \.weights\.h5"):
        training.train_autoencoder(autoencoder, x, y, epochs=1, batch_size=8, class_batch_size=5,
                                   learning_rate=1e-3, seed=0, checkpoint_path=tmp_path / "w.h5")


def test_reconstruction_mse_of_perfect_decoder_is_zero():
    x, _ = tiny_data()

    def identity(batch, training=False):
        return batch

    assert training.reconstruction_mse(identity, identity, x) == 0.0


def _first_update_size(policy):
    """Return the mean absolute change of the decoder's weights after two SGD steps under ``policy``."""
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        x, y = tiny_data()
        encoder, decoder = networks(seed=7)
        before = [w.copy() for w in decoder.get_weights()]
        autoencoder = training.DeepSMOTEAutoencoder(encoder, decoder, penalty="none", seed=7)
        # SGD, unlike Adam, moves the weights in proportion to the gradient, so a missing
        # loss scale shows in the update size.
        autoencoder.compile(optimizer=keras.optimizers.SGD(0.1))
        autoencoder.fit(training.make_training_dataset(x, y, 8, 5, seed=7), epochs=1, steps_per_epoch=2, verbose=0,
                        shuffle=False)
        return np.mean([np.abs(a - b).mean() for a, b in zip(decoder.get_weights(), before)])
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_mixed_float16_updates_like_float32():
    # Keras wraps the optimizer in a loss scaler under mixed_float16. Without
    # optimizer.scale_loss in the training step, the update was 6% smaller than in float32.
    ratio = _first_update_size("mixed_float16") / _first_update_size("float32")
    assert abs(ratio - 1) < 0.01
