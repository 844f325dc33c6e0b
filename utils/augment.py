"""Random image augmentation with Keras preprocessing layers.

DeepSMOTE trains on the images as they are, so augmentation is off by default.
It is offered for small data sets, where a few rotated or shifted copies can
help the encoder-decoder generalise.
"""

from __future__ import annotations

import keras

__all__ = ["build_augmentation"]


def build_augmentation(rotation: float = 0.05, shift: float = 0.1, flip: bool = True,
                       seed: int = 0) -> keras.Sequential:
    """Build a model that randomly rotates, shifts and flips a batch of images.

    Parameters
    ----------
    rotation : float
        Largest rotation, as a fraction of a full turn (0.05 is 18 degrees).
    shift : float
        Largest shift, as a fraction of the height and of the width.
    flip : bool
        Flip left-right with probability 0.5. Leave it off for images whose
        class depends on the side (digits, text).
    seed : int
        Seed of the random draws.

    Returns
    -------
    keras.Sequential
        Maps float images (N, H, W, C) in [0, 1] to images of the same shape;
        it changes them only when called with ``training=True``. Areas moved in
        from outside the image are filled by reflection.
    """
    steps = [
        keras.layers.RandomRotation(rotation, fill_mode="reflect", seed=seed),
        keras.layers.RandomTranslation(shift, shift, fill_mode="reflect", seed=seed + 1),
    ]
    if flip:
        steps.append(keras.layers.RandomFlip("horizontal", seed=seed + 2))
    return keras.Sequential(steps, name="augmentation")
