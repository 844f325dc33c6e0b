"""Files each notebook saves for the next one, and the checks on reading them back.

One pair of functions per hand-off keeps the file names and array names in one
place. Every ``load_*`` function checks that the files exist and fit together
(image shape, class list) and otherwise raises an error that names the notebook
to run first.

==========================  =============================================
Notebook                    Writes under ``OUTPUT_DIR``
==========================  =============================================
01_preprocess               ``01_preprocess/images.npy``, ``dataset.npz``,
                            ``dataset.json``
02_prepare_dataset          ``02_prepare_dataset/x_train.npy``,
                            ``x_test.npy``, ``split.npz``, ``split.json``
03_train_autoencoder        ``03_train_autoencoder/encoder.keras``,
                            ``decoder.keras``, ``history.csv``, ``training.json``
04_generate_images          ``04_generate_images/synthetic_images.npy``,
                            ``synthetic.npz``, ``synthetic.json``
05_save_images              ``images/<class>/*.png``, ``manifest.csv``,
                            ``summary.json``, ``contact_sheets/``
==========================  =============================================

Images are uint8 ``.npy`` files (:mod:`utils.storage`); labels, paths and
provenance are in the ``.npz`` files. ``dataset.json`` records ``stream``, the
choice made in notebook 01: when it is true, every ``load_*`` function returns
the images as read-only memory maps, read from disk as they are used.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import artifacts, storage
from .paths import step_dir

__all__ = [
    "Split",
    "save_dataset",
    "load_dataset",
    "save_split",
    "load_split",
    "scratch_path",
    "is_streaming",
    "remove_scratch",
    "synthetic_images_path",
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


def save_dataset(output_dir: str | Path, x: np.ndarray | Sequence[np.ndarray], y: np.ndarray,
                 file_paths: list[str], subset: list[str], class_names: list[str], info: dict[str, Any],
                 stream: bool = False) -> Path:
    """Save the loaded images of notebook 01 and return the label file.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, H, W, C), or a sequence of them
        The images. Several arrays (one per subset) are joined in order, and
        memory maps are copied block by block.
    stream : bool
        Recorded for the later notebooks: read the images from disk as needed.
    """
    folder = step_dir(output_dir, 1)
    if len(class_names) < 2:
        raise ValueError(
            f"found {len(class_names)} class folder ({', '.join(map(repr, class_names))}), but DeepSMOTE "
            "balances two or more classes. Give a data folder with one subfolder per class."
        )
    parts = [x] if isinstance(x, np.ndarray) else list(x)
    if any(part.dtype != np.uint8 or part.ndim != 4 for part in parts):
        raise ValueError(f"x must be uint8 images (N, H, W, C), got {[(p.dtype, p.shape) for p in parts]}")
    storage.write_rows(folder / "images.npy", parts)
    artifacts.save_json(folder / "dataset.json", {
        **info, "class_names": list(class_names), "image_shape": list(parts[0].shape[1:]), "stream": bool(stream),
    })
    return artifacts.save_arrays(folder / "dataset.npz", y=y.astype(np.int64),
                                 file_paths=np.array(file_paths, dtype=str),
                                 subset=np.array(subset, dtype=str))


def scratch_path(output_dir: str | Path, name: str) -> Path:
    """Return a ``.npy`` path under notebook 01's scratch folder, where a subset is decoded in streaming mode."""
    return step_dir(output_dir, 1) / "scratch" / f"{name}.npy"


def remove_scratch(output_dir: str | Path) -> None:
    """Delete notebook 01's scratch folder, once its images are saved with :func:`save_dataset`."""
    shutil.rmtree(step_dir(output_dir, 1) / "scratch", ignore_errors=True)


def is_streaming(output_dir: str | Path) -> bool:
    """Return True if notebook 01 chose streaming mode (``STREAM``) for ``output_dir``."""
    return _stream_setting(_dataset_record(output_dir), None)


def _dataset_record(output_dir: str | Path) -> dict[str, Any]:
    """Return notebook 01's ``dataset.json``, or an empty dict when it is missing."""
    path = step_dir(output_dir, 1) / "dataset.json"
    return artifacts.load_json(path) if path.exists() else {}


def _stream_setting(record: dict[str, Any], stream: bool | None) -> bool:
    """Return ``stream``, or when None the choice in notebook 01's ``record`` (False without one)."""
    if stream is not None:
        return bool(stream)
    return bool(record.get("stream", False))


def load_dataset(output_dir: str | Path, stream: bool | None = None) -> dict[str, Any]:
    """Load what notebook 01 saved: ``x``, ``y``, ``file_paths``, ``subset``, ``info`` and ``class_names``.

    ``stream`` (default: as recorded by notebook 01) returns ``x`` as a memory map.
    """
    folder = step_dir(output_dir, 1)
    info = artifacts.load_json(folder / "dataset.json")
    arrays = artifacts.load_arrays(folder / "dataset.npz", ["y", "file_paths", "subset"])
    x = storage.open_images(folder / "images.npy", stream=_stream_setting(info, stream))
    artifacts.check_image_shape(info["image_shape"], x.shape[1:], folder / "images.npy")
    _check_rows(x, arrays["y"], folder / "images.npy")
    return {"x": x, **arrays, "info": info, "class_names": info["class_names"]}


def _check_rows(x: np.ndarray, labels: np.ndarray, source: Path) -> None:
    if len(x) != len(labels):
        raise artifacts.IncompatibleArtifactError(
            f"{source} contains {len(x)} images, but its label file has {len(labels)} labels: one of them is from "
            f"another run. Rerun {artifacts.notebook_for(source)}."
        )


def save_split(output_dir: str | Path, x: np.ndarray, y: np.ndarray, file_paths: np.ndarray,
               train_index: np.ndarray, test_index: np.ndarray, class_names: list[str],
               info: dict[str, Any]) -> Path:
    """Save notebook 02's training and test sets, taken from notebook 01's images by row; return the label file.

    Parameters
    ----------
    x : ndarray or np.memmap of uint8, shape (N, H, W, C)
        Notebook 01's images; rows are copied block by block.
    y, file_paths : ndarray, shape (N,)
        Their labels and source files.
    train_index, test_index : ndarray of int
        Rows of ``x`` in each set, disjoint.
    """
    folder = step_dir(output_dir, 2)
    if np.intersect1d(train_index, test_index).size:
        raise ValueError("train_index and test_index share rows: an image cannot be in both sets")
    storage.write_rows(folder / "x_train.npy", [x], train_index)
    storage.write_rows(folder / "x_test.npy", [x], test_index)
    artifacts.save_json(folder / "split.json", {
        **info, "class_names": list(class_names), "image_shape": list(x.shape[1:]),
    })
    return artifacts.save_arrays(
        folder / "split.npz", y_train=y[train_index], train_paths=file_paths[train_index],
        y_test=y[test_index], test_paths=file_paths[test_index],
    )


def load_split(output_dir: str | Path, stream: bool | None = None) -> Split:
    """Load the split of notebook 02, checking it against notebook 01's class list.

    ``stream`` (default: as recorded by notebook 01) returns the images as memory maps.
    """
    folder = step_dir(output_dir, 2)
    info = artifacts.load_json(folder / "split.json")
    arrays = artifacts.load_arrays(folder / "split.npz", ["y_train", "train_paths", "y_test", "test_paths"])
    record = _dataset_record(output_dir)
    if record:
        artifacts.check_same_classes(record["class_names"], info["class_names"], folder / "split.json")
    stream = _stream_setting(record, stream)
    for part in ("train", "test"):
        path = folder / f"x_{part}.npy"
        arrays[f"x_{part}"] = storage.open_images(path, stream=stream)
        artifacts.check_image_shape(info["image_shape"], arrays[f"x_{part}"].shape[1:], path)
        _check_rows(arrays[f"x_{part}"], arrays[f"y_{part}"], path)
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


def synthetic_images_path(output_dir: str | Path) -> Path:
    """Return the file of notebook 04's synthetic images, for :func:`utils.model.decode_codes` (``out=``)."""
    return step_dir(output_dir, 4) / "synthetic_images.npy"


def save_synthetic(output_dir: str | Path, x: np.ndarray, y: np.ndarray, parent_a: np.ndarray,
                   parent_b: np.ndarray, weight: np.ndarray, info: dict[str, Any]) -> Path:
    """Save notebook 04's synthetic images (uint8) and their provenance; return the provenance file.

    ``x`` already in :func:`synthetic_images_path` (decoded there with ``out=``)
    is left in place; any other array is written there.
    """
    folder = step_dir(output_dir, 4)
    target = synthetic_images_path(output_dir)
    if not (isinstance(x, np.memmap) and x.filename and Path(x.filename).resolve() == target.resolve()):
        storage.write_rows(target, [x])
    artifacts.save_json(folder / "synthetic.json", {**info, "image_shape": list(x.shape[1:])})
    return artifacts.save_arrays(folder / "synthetic.npz", y=y.astype(np.int64), parent_a=parent_a,
                                 parent_b=parent_b, weight=weight)


def load_synthetic(output_dir: str | Path, split: Split, stream: bool | None = None) -> dict[str, Any]:
    """Load notebook 04's synthetic images, checking they were made for ``split``.

    ``stream`` (default: as recorded by notebook 01) returns the images as a memory map.
    """
    folder = step_dir(output_dir, 4)
    info = artifacts.load_json(folder / "synthetic.json")
    artifacts.check_same_classes(split.class_names, info["class_names"], folder / "synthetic.json")
    arrays = artifacts.load_arrays(folder / "synthetic.npz", ["y", "parent_a", "parent_b", "weight"])
    path = synthetic_images_path(output_dir)
    arrays["x"] = storage.open_images(path, stream=_stream_setting(_dataset_record(output_dir), stream))
    artifacts.check_image_shape(split.image_shape, arrays["x"].shape[1:], path)
    _check_rows(arrays["x"], arrays["y"], path)
    if len(arrays["parent_a"]) and int(arrays["parent_a"].max()) >= len(split.x_train):
        raise artifacts.IncompatibleArtifactError(
            f"{folder / 'synthetic.npz'} refers to training images that {step_dir(output_dir, 2)} does not "
            "have: the split changed after the images were generated. Rerun notebooks 03 and 04."
        )
    return {**arrays, "info": info}
