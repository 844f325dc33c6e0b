"""Data sources, train/test splits and imposed imbalance.

A data source is a folder with one subfolder per class, a folder with
``train/`` and ``test/`` subfolders that each have one subfolder per class (a
shipped split), or a ``.zip`` archive of either. Archives are unpacked into the
output folder; the source itself is only read.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .artifacts import make_staging_dir, replace_dir

__all__ = [
    "PAPER_TRAIN_COUNTS",
    "PAPER_IMBALANCED_TEST_COUNTS",
    "unpack_source",
    "find_subsets",
    "stratified_split",
    "imbalance_counts",
    "check_smote_counts",
    "KERAS_PREFIX",
    "KERAS_CLASS_NAMES",
    "is_keras_name",
    "export_keras_dataset",
    "subsample_per_class",
]


# Training images per class in Dablain et al. (2022), largest class first.
PAPER_TRAIN_COUNTS = {
    "mnist": (4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40),
    "fashion_mnist": (4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40),
    "cifar10": (4500, 2000, 1000, 800, 600, 500, 400, 250, 150, 80),
    "svhn": (4500, 2000, 1000, 800, 600, 500, 400, 250, 150, 80),
    "celeba": (9000, 4500, 1000, 500, 160),
}
# Their imbalanced test set for the 10-class data sets.
PAPER_IMBALANCED_TEST_COUNTS = (1000, 500, 250, 187, 125, 87, 50, 25, 15, 10)

_SUBSET_NAMES = ("train", "test")

# A data source written "keras:<name>" is loaded with keras.datasets.<name>.load_data().
KERAS_PREFIX = "keras:"
KERAS_CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": ("tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                      "bag", "ankle_boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}


def is_keras_name(source: str | Path) -> bool:
    """Return whether ``source`` names a ``keras.datasets`` set, like ``"keras:mnist"``."""
    return isinstance(source, str) and source.startswith(KERAS_PREFIX)


def export_keras_dataset(source: str, target: str | Path) -> Path:
    """Load a ``keras.datasets`` set and write it as ``train/`` and ``test/`` folders of PNG files.

    Parameters
    ----------
    source : str
        ``"keras:mnist"``, ``"keras:fashion_mnist"`` or ``"keras:cifar10"``.
    target : str or Path
        Folder to create; filled through a temporary folder and renamed, so it is
        complete or absent. An earlier copy is replaced.

    Returns
    -------
    Path
        ``target``, holding ``train/<class>/<index>.png`` and ``test/<class>/<index>.png``.

    Notes
    -----
    Keras downloads the set on first use into ``~/.keras/datasets`` and reads it
    from there afterwards, so this needs network access only once. Offline and
    without that cache it raises an error saying so.
    """
    import keras

    from .images import save_png

    name = source[len(KERAS_PREFIX):]
    if name not in KERAS_CLASS_NAMES:
        raise ValueError(
            f"unknown Keras data set {source!r}; use one of "
            f"{', '.join(KERAS_PREFIX + known for known in KERAS_CLASS_NAMES)}, or a folder of images"
        )
    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    # Keras reports a failed download as a bare Exception.
    except Exception as error:
        raise RuntimeError(
            f"keras.datasets.{name} could not be loaded ({error}). Keras downloads it on first use "
            "into ~/.keras/datasets, which needs network access once. Offline, give a folder of "
            "images instead, such as the shipped data/fashion_mnist.zip."
        ) from error
    target = Path(target)
    staging = make_staging_dir(target.parent, target.name)
    try:
        for subset, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            labels = np.asarray(y).reshape(-1)
            images = x[..., None] if x.ndim == 3 else x
            for index, (image, label) in enumerate(zip(images, labels)):
                class_name = KERAS_CLASS_NAMES[name][int(label)]
                save_png(staging / subset / class_name / f"{index:05d}.png", image, durable=False)
        replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def unpack_source(source: str | Path, target: str | Path) -> Path:
    """Return the folder to load images from, unpacking ``source`` first if it is a zip file.

    Parameters
    ----------
    source : str or Path
        A folder (returned as is), a ``.zip`` archive, or a Keras data set name
        such as ``"keras:mnist"`` (see :func:`export_keras_dataset`).
    target : str or Path
        Folder to unpack an archive into. It is filled through a temporary folder
        and renamed, so it is complete or absent; an earlier unpacked copy is replaced.

    Returns
    -------
    Path
        The folder. A folder given directly is returned as is. Inside an unpacked
        archive, the folder is descended into while it contains a single
        subfolder and nothing else, because archives usually wrap their content
        in one folder.
    """
    if is_keras_name(source):
        return export_keras_dataset(source, target)
    source, target = Path(source), Path(target)
    if not source.exists():
        raise FileNotFoundError(
            f"Data source {source} not found. Give a folder with one subfolder per class, "
            "or a .zip archive of one."
        )
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise ValueError(
                f"Data source {source} is a file but not a zip archive. Give a folder with one "
                "subfolder per class, or a .zip archive of one."
            )
        staging = make_staging_dir(target.parent, target.name)
        try:
            with zipfile.ZipFile(source) as archive:
                # extractall() drops absolute paths and ".." parts, so nothing lands outside.
                archive.extractall(staging)
            replace_dir(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        return source
    folder = target
    while True:
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith((".", "__MACOSX"))]
        if len(entries) == 1 and entries[0].is_dir():
            folder = entries[0]
        else:
            return folder


def find_subsets(folder: str | Path) -> dict[str, Path]:
    """Return ``{"train": ..., "test": ...}`` for a shipped split, else ``{"all": folder}``.

    A folder is a shipped split when its only visible subfolders are ``train``
    and ``test``.
    """
    folder = Path(folder)
    subfolders = {entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")}
    if subfolders == set(_SUBSET_NAMES):
        return {name: folder / name for name in _SUBSET_NAMES}
    if subfolders & set(_SUBSET_NAMES) and len(subfolders) <= 2:
        raise ValueError(
            f"{folder} has a {'train' if 'train' in subfolders else 'test'}/ folder but no "
            f"{'test' if 'train' in subfolders else 'train'}/ folder. A shipped split needs both; "
            "otherwise put one subfolder per class directly in the data folder."
        )
    return {"all": folder}


def stratified_split(
    y: np.ndarray, test_size: float, random_state: int | None, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train and test with the same class proportions.

    Parameters
    ----------
    y : ndarray of int, shape (N,)
        Class index per image.
    test_size : float
        Fraction in (0, 1) of each class held out.
    random_state : int or None
        Seed of the split.
    class_names : sequence of str, optional
        Name per class index, used in error messages.

    Returns
    -------
    train_index, test_index : ndarray of int64
        Sorted indices into ``y``.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction between 0 and 1, got {test_size}")
    counts = np.bincount(y)
    smallest = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
    if counts[smallest] < 2:
        raise ValueError(
            f"class {_name(smallest, class_names)} has {counts[smallest]} image; a stratified split needs at "
            "least 2 per class (one for training, one for testing). Add images to that class."
        )
    train_index, test_index = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=random_state
    )
    return np.sort(train_index), np.sort(test_index)


def _name(index: int, class_names: Sequence[str] | None) -> str:
    """Return ``'name'`` for a class index when names are known, else ``index N``."""
    return repr(class_names[index]) if class_names is not None else f"index {index}"


def imbalance_counts(
    class_counts: Sequence[int],
    imbalance: str | float | Sequence[int] | Mapping[int, int],
    class_names: Sequence[str] | None = None,
) -> list[int]:
    """Return how many training images to keep per class to impose an imbalance.

    Parameters
    ----------
    class_counts : sequence of int
        Images available per class index.
    imbalance : str, float, sequence or mapping
        - a name in :data:`PAPER_TRAIN_COUNTS` (``"mnist"``, ``"cifar10"``, ...): the
          paper's counts, first count for class index 0;
        - a float ratio ``r >= 1``: counts fall geometrically from the smallest
          available count ``n`` for class 0 to ``n / r`` for the last class;
        - a sequence of counts, one per class index, or a mapping of class index to
          count (classes left out keep all their images).
    class_names : sequence of str, optional
        Name per class index, used in error messages.

    Returns
    -------
    list of int
        Count per class index; never more than is available.

    Raises
    ------
    ValueError
        When a requested count exceeds the images of its class, naming both.
    """
    class_counts = [int(c) for c in class_counts]
    n_classes = len(class_counts)
    if isinstance(imbalance, str):
        if imbalance not in PAPER_TRAIN_COUNTS:
            raise ValueError(f"imbalance name must be one of {sorted(PAPER_TRAIN_COUNTS)}, got {imbalance!r}")
        requested = list(PAPER_TRAIN_COUNTS[imbalance])
        if len(requested) != n_classes:
            raise ValueError(
                f"the paper's {imbalance!r} counts are for {len(requested)} classes, but the data "
                f"has {n_classes}. Give a list of {n_classes} counts instead."
            )
    elif isinstance(imbalance, (int, float)) and not isinstance(imbalance, bool):
        if imbalance < 1:
            raise ValueError(f"an imbalance ratio must be at least 1, got {imbalance}")
        top = min(class_counts)
        steps = np.arange(n_classes) / max(n_classes - 1, 1)
        requested = [max(1, int(round(top * imbalance ** -step))) for step in steps]
    elif isinstance(imbalance, Mapping):
        requested = list(class_counts)
        for index, count in imbalance.items():
            requested[int(index)] = int(count)
    else:
        requested = [int(c) for c in imbalance]
        if len(requested) != n_classes:
            order = f" ({', '.join(class_names)})" if class_names is not None else ""
            raise ValueError(
                f"the imbalance gives {len(requested)} counts, but the data has {n_classes} classes{order}. "
                "Give one count per class, in that order."
            )
    for index, (wanted, available) in enumerate(zip(requested, class_counts)):
        if wanted > available:
            raise ValueError(
                f"class {_name(index, class_names)} has {available} images, fewer than the {wanted} requested. "
                "Lower that count, or use a data set with more images of that class."
            )
        if wanted < 1:
            raise ValueError(f"class {_name(index, class_names)}: counts must be at least 1, got {wanted}")
    return requested


def check_smote_counts(counts: Sequence[int], class_names: Sequence[str]) -> None:
    """Raise ``ValueError`` when a class has fewer than 2 training images.

    SMOTE interpolates between two images of a class, so a class of one image
    cannot grow, and a class of none cannot be learnt.
    """
    too_small = [f"{name!r} ({count})" for name, count in zip(class_names, counts) if count < 2]
    if too_small:
        raise ValueError(
            f"DeepSMOTE needs at least 2 training images per class, but these classes have fewer: "
            f"{', '.join(too_small)}. Add images, or raise the smallest counts of IMBALANCE / "
            "MAX_PER_CLASS (runner options --imbalance and --max-per-class)."
        )


def subsample_per_class(y: np.ndarray, counts: Sequence[int], random_state: int | None) -> np.ndarray:
    """Draw ``counts[c]`` indices of each class ``c`` without replacement; return them sorted."""
    rng = check_random_state(random_state)
    chosen = [
        rng.choice(np.flatnonzero(y == label), size=count, replace=False)
        for label, count in enumerate(counts)
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)
