"""Files each notebook saves for the next one, and the checks on reading them back.

One pair of functions per hand-off keeps the file names and array names in one
place. Every ``load_*`` function checks that the files exist and fit together
(image shape, class list) and otherwise raises an error that names the notebook
to run first.

==========================  =============================================
Notebook                    Writes under ``OUTPUT_DIR``
==========================  =============================================
01_preprocess               ``01_preprocess/dataset.npz``, ``dataset.json``
02_prepare_dataset          ``02_prepare_dataset/split.npz``, ``split.json``
03_train_autoencoder        ``03_train_autoencoder/encoder.keras``,
                            ``decoder.keras``, ``history.csv``, ``training.json``
04_generate_images          ``04_generate_images/synthetic.npz``
05_save_images              ``images/<class>/*.png``, ``manifest.csv``,
                            ``summary.json``, ``contact_sheets/``
==========================  =============================================
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from . import artifacts
from .paths import step_dir

__all__ = [
    "Split",
    "save_dataset",
    "load_dataset",
    "save_split",
    "load_split",
    "load_training",
    "load_models",
    "save_synthetic",
    "load_synthetic",
]


@dataclasses.dataclass(frozen=True)
class Split:
    """Training and test images with their labels and source files.

    ``x_*`` are uint8 arrays (N, H, W, C) with values 0-255; ``y_*`` int64 class
    indices into ``class_names``; ``*_paths`` file paths relative to the data folder.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    train_paths: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_paths: np.ndarray
    class_names: list[str]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])


def save_dataset(output_dir: str | Path, x: np.ndarray, y: np.ndarray, file_paths: list[str],
                 subset: list[str], class_names: list[str], info: dict[str, Any]) -> Path:
    """Save the loaded images of notebook 01; return the array file."""
    folder = step_dir(output_dir, 1)
    if len(class_names) < 2:
        raise ValueError(
            f"found {len(class_names)} class folder ({', '.join(map(repr, class_names))}), but DeepSMOTE "
            "balances two or more classes. Give a data folder with one subfolder per class."
        )
    if x.dtype != np.uint8 or x.ndim != 4:
        raise ValueError(f"x must be uint8 images (N, H, W, C), got {x.dtype} {x.shape}")
    artifacts.save_json(folder / "dataset.json", {
        **info, "class_names": list(class_names), "image_shape": list(x.shape[1:]),
    })
    return artifacts.save_arrays(folder / "dataset.npz", x=x, y=y.astype(np.int64),
                                 file_paths=np.array(file_paths, dtype=str),
                                 subset=np.array(subset, dtype=str))


def load_dataset(output_dir: str | Path) -> dict[str, Any]:
    """Load what notebook 01 saved: arrays ``x``, ``y``, ``file_paths``, ``subset`` and ``info``."""
    folder = step_dir(output_dir, 1)
    info = artifacts.load_json(folder / "dataset.json")
    arrays = artifacts.load_arrays(folder / "dataset.npz", ["x", "y", "file_paths", "subset"])
    artifacts.check_image_shape(info["image_shape"], arrays["x"].shape[1:], folder / "dataset.npz")
    return {**arrays, "info": info, "class_names": info["class_names"]}


def save_split(output_dir: str | Path, split: Split, info: dict[str, Any]) -> Path:
    """Save the train/test split of notebook 02; return the array file."""
    folder = step_dir(output_dir, 2)
    artifacts.save_json(folder / "split.json", {
        **info, "class_names": split.class_names, "image_shape": list(split.image_shape),
    })
    return artifacts.save_arrays(
        folder / "split.npz", x_train=split.x_train, y_train=split.y_train, train_paths=split.train_paths,
        x_test=split.x_test, y_test=split.y_test, test_paths=split.test_paths,
    )


def load_split(output_dir: str | Path) -> Split:
    """Load the split of notebook 02, checking it against notebook 01's class list."""
    folder = step_dir(output_dir, 2)
    info = artifacts.load_json(folder / "split.json")
    names = ["x_train", "y_train", "train_paths", "x_test", "y_test", "test_paths"]
    arrays = artifacts.load_arrays(folder / "split.npz", names)
    dataset_info = step_dir(output_dir, 1) / "dataset.json"
    if dataset_info.exists():
        artifacts.check_same_classes(artifacts.load_json(dataset_info)["class_names"], info["class_names"],
                                     folder / "split.json")
    artifacts.check_image_shape(info["image_shape"], arrays["x_train"].shape[1:], folder / "split.npz")
    return Split(**arrays, class_names=list(info["class_names"]))


def load_training(output_dir: str | Path, split: Split) -> dict[str, Any]:
    """Load notebook 03's ``training.json``, checking it was made for ``split``'s images and classes."""
    path = step_dir(output_dir, 3) / "training.json"
    training = artifacts.load_json(path)
    artifacts.check_image_shape(split.image_shape, training["image_shape"], path)
    artifacts.check_same_classes(split.class_names, training["class_names"], path)
    return training


def load_models(output_dir: str | Path, split: Split):
    """Load notebook 03's encoder and decoder, checking they fit ``split``'s images and classes.

    Returns
    -------
    encoder, decoder : keras.Model
    training : dict
        The settings and results saved with the models.
    """
    import keras

    folder = step_dir(output_dir, 3)
    training = load_training(output_dir, split)
    encoder = keras.models.load_model(artifacts.require(folder / "encoder.keras"))
    decoder = keras.models.load_model(artifacts.require(folder / "decoder.keras"))
    artifacts.check_image_shape(split.image_shape, encoder.input_shape[1:], folder / "encoder.keras")
    return encoder, decoder, training


def save_synthetic(output_dir: str | Path, x: np.ndarray, y: np.ndarray, parent_a: np.ndarray,
                   parent_b: np.ndarray, weight: np.ndarray, info: dict[str, Any]) -> Path:
    """Save notebook 04's synthetic images (uint8) and their provenance; return the array file."""
    folder = step_dir(output_dir, 4)
    artifacts.save_json(folder / "synthetic.json", {**info, "image_shape": list(x.shape[1:])})
    return artifacts.save_arrays(folder / "synthetic.npz", x=x, y=y.astype(np.int64), parent_a=parent_a,
                                 parent_b=parent_b, weight=weight)


def load_synthetic(output_dir: str | Path, split: Split) -> dict[str, Any]:
    """Load notebook 04's synthetic images, checking they were made for ``split``."""
    folder = step_dir(output_dir, 4)
    info = artifacts.load_json(folder / "synthetic.json")
    artifacts.check_same_classes(split.class_names, info["class_names"], folder / "synthetic.json")
    arrays = artifacts.load_arrays(folder / "synthetic.npz", ["x", "y", "parent_a", "parent_b", "weight"])
    artifacts.check_image_shape(split.image_shape, arrays["x"].shape[1:], folder / "synthetic.npz")
    if len(arrays["parent_a"]) and int(arrays["parent_a"].max()) >= len(split.x_train):
        raise artifacts.IncompatibleArtifactError(
            f"{folder / 'synthetic.npz'} refers to training images that {step_dir(output_dir, 2)} does not "
            "have: the split changed after the images were generated. Rerun notebooks 03 and 04."
        )
    return {**arrays, "info": info}
