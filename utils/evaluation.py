"""Does over-sampling help a classifier? Scores, image quality and a copy check.

The protocol of Dablain et al. (2022) trains one classifier per training set
(imbalanced, randomly over-sampled, SMOTE on pixels, DeepSMOTE) with the same
settings and scores it on a balanced and an imbalanced test set:

- ACSA, the average class-specific accuracy, is the mean of the per-class
  recalls, which scikit-learn calls balanced accuracy;
- GM is the geometric mean of the per-class recalls, so one class that is
  never found gives 0;
- F1 is the macro average of the per-class F1 scores.

Image quality is measured without downloaded weights: a classifier trained on
real images gives penultimate-layer features, and the Fréchet distance (FID)
and the kernel distance (KID) compare synthetic with real held-out images in
that feature space, per class. :func:`copy_check` catches a generator that
returns its training images.

TensorFlow is imported only by the functions that build or run a network.

References
----------
.. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE TNNLS, 2022. arXiv:2105.02340.
.. [2] M. Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
   to a Local Nash Equilibrium", NeurIPS 2017 (FID).
.. [3] M. Bińkowski et al., "Demystifying MMD GANs", ICLR 2018 (KID).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, recall_score

from .artifacts import atomic_path
from .datasets import PAPER_IMBALANCED_TEST_COUNTS

__all__ = [
    "CLASSIFIERS",
    "METRICS",
    "classification_scores",
    "imbalanced_test_counts",
    "imbalanced_test_indices",
    "oversample_pixels",
    "deepsmote_settings",
    "oversample_deepsmote",
    "split_reference",
    "build_classifier",
    "train_classifier",
    "predict_labels",
    "penultimate_features",
    "score_classifier",
    "summarize_scores",
    "save_results",
    "frechet_distance",
    "kernel_distance",
    "quality_by_class",
    "copy_check",
    "plot_scores",
    "plot_confusion_matrices",
]

CLASSIFIERS = ("small_cnn", "resnet18")
METRICS = ("acsa", "gm", "macro_f1")
_PIXEL_METHODS = ("imbalanced", "random_oversampling", "pixel_smote")
# Keras' default momentum 0.99 leaves the moving statistics of batch normalisation far from
# the batch statistics after the few hundred steps of a short training; 0.9 (PyTorch's 0.1)
# follows them within tens of steps.
_BN_MOMENTUM = 0.9


# --- Scores -------------------------------------------------------------------------------------

def _check_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1 or len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must be 1-D arrays of equal length, got shapes {y_true.shape} and "
            f"{y_pred.shape}. Pass one predicted label per test image."
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty: scores need at least one test image.")
    return y_true, y_pred


def classification_scores(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> dict[str, Any]:
    """Compute ACSA, GM, macro F1 and the recall of each class.

    Parameters
    ----------
    y_true, y_pred : sequence of int, shape (N,)
        True and predicted class indices in ``[0, n_classes)``.
    n_classes : int
        Number of classes; a class absent from both arrays still counts, with
        recall 0, because it was never found.

    Returns
    -------
    dict
        ``acsa`` (balanced accuracy), ``gm`` (geometric mean of the recalls),
        ``macro_f1``, all floats in [0, 1], and ``recall``, an ndarray of
        float64 with shape (n_classes,). ``gm_macro`` is imbalanced-learn's
        ``geometric_mean_score(average="macro")``: the square root of mean recall
        times mean specificity, which is not bounded by ACSA. It is reported next to
        GM because published GM figures above ACSA cannot be the geometric mean of
        recalls, which never exceeds their arithmetic mean.

    Raises
    ------
    ValueError
        When the arrays differ in length, are empty, or hold a label outside
        ``[0, n_classes)``.
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    labels = np.arange(n_classes)
    outside = np.setdiff1d(np.union1d(y_true, y_pred), labels)
    if len(outside):
        raise ValueError(
            f"labels must be class indices in [0, {n_classes}), found {outside.tolist()}. "
            "Pass class indices, not names, and the full number of classes."
        )
    recall = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0.0)
    # Balanced accuracy averages only the classes present in y_true. A class missing from the
    # test set counts here with recall 0, so ACSA stays the mean of ``recall``.
    present = np.unique(y_true)
    return {
        "acsa": float(balanced_accuracy_score(y_true, y_pred)) if len(present) == n_classes
        else float(recall.mean()),
        "gm": float(geometric_mean_score(y_true, y_pred, labels=labels, average="multiclass")),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0.0)),
        "gm_macro": float(geometric_mean_score(y_true, y_pred, labels=labels, average="macro")),
        "recall": np.asarray(recall, dtype=np.float64),
    }


# --- Test sets ----------------------------------------------------------------------------------

def imbalanced_test_counts(train_counts: Sequence[int], test_counts: Sequence[int],
                           base_counts: Sequence[int] | None = None) -> list[int]:
    """Return how many test images of each class the imbalanced test set keeps.

    Parameters
    ----------
    train_counts : sequence of int
        Training images per class index; the largest class gets the largest count.
        Ties keep the lower class index first.
    test_counts : sequence of int
        Test images available per class index.
    base_counts : sequence of int, optional
        Counts from largest to smallest, one per class. By default the counts of
        Dablain et al. (2022) for 10 classes (1000, 500, 250, 187, 125, 87, 50, 25,
        15, 10); for another number of classes, the training counts themselves.

    Returns
    -------
    list of int
        Count per class index. When a class has fewer test images than its base
        count, every count is multiplied by the same factor and rounded down,
        keeping at least 1, so the ratios stay those of ``base_counts``.
    """
    train_counts = [int(c) for c in train_counts]
    test_counts = [int(c) for c in test_counts]
    n_classes = len(train_counts)
    if len(test_counts) != n_classes:
        raise ValueError(
            f"train_counts has {n_classes} classes but test_counts has {len(test_counts)}. "
            "Count both over the same class list."
        )
    if min(test_counts, default=0) < 1:
        raise ValueError(f"every class needs at least 1 test image, got test counts {test_counts}")
    if base_counts is None:
        base_counts = PAPER_IMBALANCED_TEST_COUNTS if n_classes == len(PAPER_IMBALANCED_TEST_COUNTS) \
            else sorted(train_counts, reverse=True)
    base_counts = sorted((int(c) for c in base_counts), reverse=True)
    if len(base_counts) != n_classes or base_counts[-1] < 1:
        raise ValueError(
            f"base_counts must give one positive count per class ({n_classes}), got {base_counts}"
        )
    # A stable sort keeps the lower class index first among classes of equal size.
    by_size = np.argsort(-np.asarray(train_counts), kind="stable")
    requested = np.zeros(n_classes, dtype=np.int64)
    requested[by_size] = base_counts
    factor = min(1.0, min(available / count for available, count in zip(test_counts, requested)))
    # The small epsilon keeps products such as 50 * 0.02 from rounding down to 0 in floating point.
    return [max(1, int(np.floor(count * factor + 1e-9))) for count in requested]


def imbalanced_test_indices(y_train: np.ndarray, y_test: np.ndarray, n_classes: int,
                            random_state: int = 0, base_counts: Sequence[int] | None = None) -> np.ndarray:
    """Draw the imbalanced test set from the test labels; return sorted indices into ``y_test``.

    The counts come from :func:`imbalanced_test_counts`; the images of each class
    are drawn without replacement with ``random_state``.
    """
    train_counts = np.bincount(np.asarray(y_train), minlength=n_classes)
    test_counts = np.bincount(np.asarray(y_test), minlength=n_classes)
    counts = imbalanced_test_counts(train_counts, test_counts, base_counts)
    rng = np.random.default_rng(random_state)
    chosen = [rng.choice(np.flatnonzero(y_test == label), size=count, replace=False)
              for label, count in enumerate(counts)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)


# --- Baseline training sets ---------------------------------------------------------------------

def oversample_pixels(x: np.ndarray, y: np.ndarray, method: str, random_state: int = 0,
                      k_neighbors: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Return a baseline training set: as it is, randomly over-sampled, or SMOTE on pixels.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, H, W, C)
        Training images, 0-255.
    y : ndarray of int, shape (N,)
        Class indices.
    method : {"imbalanced", "random_oversampling", "pixel_smote"}
        ``"random_oversampling"`` repeats images of the smaller classes
        (:class:`imblearn.over_sampling.RandomOverSampler`); ``"pixel_smote"``
        interpolates flattened images (:class:`imblearn.over_sampling.SMOTE`) and
        rounds the result to uint8. Both grow every class to the largest.
    random_state : int
        Seed of the sampler.
    k_neighbors : int
        Neighbours of SMOTE, lowered to the smallest class size minus 1 when a class is smaller.

    Returns
    -------
    x, y : ndarray
        uint8 images (M, H, W, C) and int64 labels (M,), the real images first.
    """
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    if x.dtype != np.uint8 or x.ndim != 4:
        raise ValueError(f"x must be uint8 images (N, H, W, C), got {x.dtype} {x.shape}")
    y = np.asarray(y, dtype=np.int64)
    if method == "imbalanced":
        return x, y
    if method == "random_oversampling":
        # Resampling row indices keeps the images in their shape and dtype.
        rows, y_new = RandomOverSampler(random_state=random_state).fit_resample(np.arange(len(x))[:, None], y)
        return x[rows[:, 0]], y_new.astype(np.int64)
    if method == "pixel_smote":
        neighbours = min(k_neighbors, int(np.bincount(y)[np.unique(y)].min()) - 1)
        if neighbours < 1:
            raise ValueError("pixel SMOTE needs at least 2 images in every class")
        flat = x.reshape(len(x), -1).astype(np.float32)
        flat_new, y_new = SMOTE(k_neighbors=neighbours, random_state=random_state).fit_resample(flat, y)
        images = np.clip(np.round(flat_new), 0, 255).astype(np.uint8).reshape(-1, *x.shape[1:])
        return images, y_new.astype(np.int64)
    raise ValueError(f"method must be one of {_PIXEL_METHODS}, got {method!r}")


def deepsmote_settings(training: Mapping[str, Any]) -> dict[str, Any]:
    """Return :class:`utils.DeepSMOTE` arguments that repeat notebook 03's training.

    ``training`` is the content of ``training.json`` (:func:`utils.handoff.load_training`).
    The penalty is left out so that the caller chooses it. Augmentation (``AUGMENT``
    in 03) has no counterpart in the sampler and is not repeated.
    """
    return {
        "preset": training["preset"], "epochs": int(training["epochs"]),
        "batch_size": int(training["batch_size"]), "learning_rate": float(training["learning_rate"]),
        "latent_dim": int(training["latent_dim"]), "widths": tuple(int(w) for w in training["widths"]),
        "penalty_weight": float(training.get("penalty_weight", 1.0)),
    }


def oversample_deepsmote(x: np.ndarray, y: np.ndarray, penalty: str, random_state: int = 0,
                         k_neighbors: int = 5, **settings: Any) -> tuple[np.ndarray, np.ndarray]:
    """Train DeepSMOTE with one penalty and return the balanced training set.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, H, W, C)
        Training images, 0-255.
    y : ndarray of int, shape (N,)
        Class indices.
    penalty : {"code", "paper", "none"}
        Penalty term of the DeepSMOTE loss.
    random_state : int
        Seeds the network and the latent SMOTE.
    k_neighbors : int
        Neighbours of latent SMOTE.
    **settings
        Further :class:`utils.DeepSMOTE` arguments, such as those of :func:`deepsmote_settings`.

    Returns
    -------
    x, y : ndarray
        uint8 images (M, H, W, C) and int64 labels (M,): the N real images first,
        then the synthetic ones.
    """
    from .sampler import DeepSMOTE

    sampler = DeepSMOTE(penalty=penalty, random_state=random_state, k_neighbors=k_neighbors, **settings)
    x_new, y_new = sampler.fit_resample(x, np.asarray(y, dtype=np.int64))
    return x_new, np.asarray(y_new, dtype=np.int64)


def split_reference(y_test: np.ndarray, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the test images in two stratified halves for the image-quality measures.

    The first half trains the feature classifier, the second is the real
    reference that synthetic images are compared with, so the features are
    learnt from images that no generator and no compared set contains.

    Returns
    -------
    feature_rows, reference_rows : ndarray of int64
        Sorted indices into ``y_test``.
    """
    from sklearn.model_selection import train_test_split

    counts = np.bincount(np.asarray(y_test))
    if counts[counts > 0].min() < 2:
        raise ValueError(
            f"every class needs at least 2 test images to split them in halves, got counts {counts.tolist()}"
        )
    rows = np.arange(len(y_test))
    first, second = train_test_split(rows, test_size=0.5, stratify=y_test, random_state=random_state)
    return np.sort(first).astype(np.int64), np.sort(second).astype(np.int64)


# --- Classifiers --------------------------------------------------------------------------------

def _residual_block(x, filters: int, stride: int):
    from keras import layers

    shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM)(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM)(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization(momentum=_BN_MOMENTUM)(shortcut)
    return layers.ReLU()(layers.Add()([x, shortcut]))


def build_classifier(image_shape: Sequence[int], n_classes: int, kind: str = "small_cnn",
                     learning_rate: float = 1e-3):
    """Build and compile an image classifier whose last hidden layer is named ``features``.

    Parameters
    ----------
    image_shape : sequence of int
        ``(height, width, channels)``; the model takes uint8 or float images in
        0-255 and scales them to [0, 1] itself.
    n_classes : int
        Outputs of the softmax layer.
    kind : {"small_cnn", "resnet18"}
        ``"small_cnn"``: two 3x3 convolutions of 16 and 32 filters, each followed
        by ReLU and 2x2 max pooling, then a dense layer of 128 units (the
        features) and dropout 0.3; meant for a CPU.
        ``"resnet18"``: the ResNet-18 layout (basic blocks 2-2-2-2 of 64, 128,
        256, 512 filters) with a 3x3 stride-1 stem and no max pooling, as is
        usual for images of 32 pixels, and global average pooling (512 features);
        meant for a GPU.
    learning_rate : float
        Adam learning rate.

    Returns
    -------
    keras.Model
        Compiled with sparse categorical cross-entropy and accuracy.
    """
    import keras
    from keras import layers

    if kind not in CLASSIFIERS:
        raise ValueError(f"kind must be one of {CLASSIFIERS}, got {kind!r}")
    inputs = keras.Input(shape=tuple(int(v) for v in image_shape))
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    if kind == "small_cnn":
        # No batch normalisation: after a few hundred steps its moving statistics still
        # lag the batch statistics, and predictions in inference mode collapsed to one class.
        for filters in (16, 32):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
        features = layers.Dense(128, activation="relu", name="features")(x)
        x = layers.Dropout(0.3)(features)
    else:
        x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=_BN_MOMENTUM)(x))
        for stage, filters in enumerate((64, 128, 256, 512)):
            x = _residual_block(x, filters, 1 if stage == 0 else 2)
            x = _residual_block(x, filters, 1)
        x = layers.GlobalAveragePooling2D(name="features")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classes")(x)
    model = keras.Model(inputs, outputs, name=kind)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def train_classifier(x: np.ndarray, y: np.ndarray, n_classes: int, kind: str = "small_cnn",
                     epochs: int = 5, batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0,
                     verbose: int = 0):
    """Train a new classifier from :func:`build_classifier` for a fixed number of epochs.

    There is no validation split and no early stopping, so that no setting is
    chosen by looking at the test images. :func:`utils.training.set_seed` seeds
    the weights and the shuffling.

    Parameters
    ----------
    x : ndarray of uint8, shape (N, H, W, C)
        Training images, 0-255.
    y : ndarray of int, shape (N,)
        Class indices in ``[0, n_classes)``.

    Returns
    -------
    keras.Model
        The trained classifier.
    """
    from .training import set_seed

    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels; pass one label per image.")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    set_seed(seed)
    model = build_classifier(x.shape[1:], n_classes, kind, learning_rate)
    model.fit(x, np.asarray(y, dtype=np.int64), epochs=epochs, batch_size=batch_size, shuffle=True,
              verbose=verbose)
    return model


def _run_in_batches(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    # Calling the model directly, not ``predict``, avoids a new tf.function per model, which
    # TensorFlow reports as retracing when a notebook trains many classifiers in a loop.
    parts = [np.asarray(model(x[start:start + batch_size], training=False))
             for start in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]), np.float32)


def predict_labels(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Return the predicted class index of each image, int64 (N,)."""
    return np.argmax(_run_in_batches(model, x, batch_size), axis=1).astype(np.int64)


def penultimate_features(model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Return the output of the layer named ``features``, float64 (N, n_features)."""
    import keras

    extractor = keras.Model(model.input, model.get_layer("features").output)
    return _run_in_batches(extractor, x, batch_size).astype(np.float64)


# --- Tables -------------------------------------------------------------------------------------

def score_classifier(model, test_sets: Mapping[str, tuple[np.ndarray, np.ndarray]], class_names: Sequence[str],
                     **labels: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Score one trained classifier on every test set.

    Parameters
    ----------
    test_sets : mapping
        Test set name -> (uint8 images (N, H, W, C), class indices (N,)).
    class_names : sequence of str
        One name per class index; the per-class recall columns are ``recall_<name>``.
    **labels
        Columns that identify the run, such as ``method="pixel_smote", seed=0``.

    Returns
    -------
    rows : list of dict
        One row per test set: ``labels``, ``test_set``, ``acsa``, ``gm``,
        ``macro_f1`` and the per-class recalls.
    matrices : dict of str to ndarray of int64, shape (n_classes, n_classes)
        Confusion matrix per test set, true classes in rows.
    """
    rows, matrices = [], {}
    n_classes = len(class_names)
    for name, (x, y) in test_sets.items():
        predicted = predict_labels(model, x)
        scores = classification_scores(y, predicted, n_classes)
        row = {**labels, "test_set": name, **{metric: scores[metric] for metric in (*METRICS, "gm_macro")}}
        row.update({f"recall_{cls}": value for cls, value in zip(class_names, scores["recall"])})
        rows.append(row)
        matrices[name] = confusion_matrix(y, predicted, labels=np.arange(n_classes)).astype(np.int64)
    return rows, matrices


def summarize_scores(results: pd.DataFrame) -> pd.DataFrame:
    """Return mean and standard deviation over seeds of each metric, per test set and method.

    The metrics are ACSA, GM and macro F1, and ``gm_macro`` when ``results`` has it.

    The standard deviation is the sample one (ddof=1); it is NaN for a single seed.
    Methods keep the order in which they first appear in ``results``.
    """
    missing = {"method", "test_set", "seed", *METRICS} - set(results.columns)
    if missing:
        raise ValueError(f"results lacks the columns {sorted(missing)}; pass the rows of score_classifier.")
    order = list(dict.fromkeys(results["method"]))
    metrics = [*METRICS, "gm_macro"] if "gm_macro" in results.columns else list(METRICS)
    summary = results.groupby(["test_set", "method"], sort=False)[metrics].agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary["seeds"] = results.groupby(["test_set", "method"], sort=False)["seed"].nunique()
    summary = summary.reset_index()
    summary["method"] = pd.Categorical(summary["method"], categories=order, ordered=True)
    return summary.sort_values(["test_set", "method"]).reset_index(drop=True)


def save_results(results: pd.DataFrame, path: str | Path) -> Path:
    """Write ``results`` to a CSV file atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as temporary:
        results.to_csv(temporary, index=False)
    return path


# --- Image quality ------------------------------------------------------------------------------

def _check_features(a: np.ndarray, b: np.ndarray, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features must be 2-D arrays (N, n_features) with the same n_features, got {a.shape} and {b.shape}"
        )
    if len(a) < minimum or len(b) < minimum:
        raise ValueError(f"each feature set needs at least {minimum} rows, got {len(a)} and {len(b)}")
    return a, b


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Compute the Fréchet distance between Gaussians fitted to two feature sets (FID).

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with the sample
    means and covariances of ``a`` (N, d) and ``b`` (M, d). 0 for identical sets.
    With fewer rows than features the covariances are singular and the value is
    biased upwards; compare only distances computed from equal numbers of rows.
    """
    from scipy import linalg

    a, b = _check_features(a, b, minimum=2)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # Covariances of fewer rows than features are singular; sqrtm warns but still returns a root.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            # A small ridge on both covariances is the usual fix when sqrtm fails outright.
            ridge = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    # Rounding leaves tiny imaginary parts in the square root of a product of covariances.
    root = np.real(root)
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return float(max(distance, 0.0))


def _mmd2_unbiased(a: np.ndarray, b: np.ndarray) -> float:
    dim = a.shape[1]
    k_aa = (a @ a.T / dim + 1.0) ** 3
    k_bb = (b @ b.T / dim + 1.0) ** 3
    k_ab = (a @ b.T / dim + 1.0) ** 3
    n, m = len(a), len(b)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (n * (n - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within_a + within_b - 2.0 * k_ab.mean())


def kernel_distance(a: np.ndarray, b: np.ndarray, n_subsets: int = 10, subset_size: int = 1000,
                    random_state: int = 0) -> float:
    """Compute the kernel distance (KID): unbiased squared MMD with a cubic polynomial kernel.

    The kernel is ``k(x, y) = (x . y / d + 1) ** 3`` for d features. The estimate is
    averaged over ``n_subsets`` random subsets of ``min(subset_size, N, M)`` rows of
    each set, drawn without replacement. It is unbiased, so it is near 0 for two
    samples of one distribution and can then be slightly negative.
    """
    a, b = _check_features(a, b, minimum=2)
    size = min(subset_size, len(a), len(b))
    if size == len(a) == len(b):
        return _mmd2_unbiased(a, b)
    rng = np.random.default_rng(random_state)
    estimates = [_mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                                b[rng.choice(len(b), size, replace=False)]) for _ in range(n_subsets)]
    return float(np.mean(estimates))


def quality_by_class(features: Mapping[str, tuple[np.ndarray, np.ndarray]], reference: tuple[np.ndarray, np.ndarray],
                     class_names: Sequence[str], random_state: int = 0) -> pd.DataFrame:
    """Compute FID and KID of each image set against real reference features, per class.

    Parameters
    ----------
    features : mapping
        Set name (for example ``"deepsmote"``, ``"real_train"``) -> (features (N, d),
        class indices (N,)). Classes with fewer than 2 rows in a set are skipped.
    reference : tuple
        Features (M, d) and class indices (M,) of real images that no generator saw.
    class_names : sequence of str
        One name per class index.

    Returns
    -------
    pandas.DataFrame
        One row per set and class: ``set``, ``class_name``, ``n_images``,
        ``n_reference``, ``fid``, ``kid``.
    """
    reference_x, reference_y = reference
    rows = []
    for name, (x, y) in features.items():
        for label, class_name in enumerate(class_names):
            mine, theirs = x[y == label], reference_x[reference_y == label]
            if len(mine) < 2 or len(theirs) < 2:
                continue
            rows.append({"set": name, "class_name": class_name, "n_images": len(mine), "n_reference": len(theirs),
                         "fid": frechet_distance(mine, theirs),
                         "kid": kernel_distance(mine, theirs, random_state=random_state)})
    return pd.DataFrame(rows, columns=["set", "class_name", "n_images", "n_reference", "fid", "kid"])


def copy_check(x_synthetic: np.ndarray, y_synthetic: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
               class_names: Sequence[str], quantile: float = 0.01) -> pd.DataFrame:
    """Measure how close synthetic images are to real training images of their class.

    Distances are Euclidean on pixels scaled to [0, 1]. For the real images of a
    class, the distance of each to its nearest *other* real image is the
    reference: a generator that copies makes synthetic images closer to a real
    one than real images are to each other.

    Parameters
    ----------
    x_synthetic, x_train : ndarray of uint8, shape (N, H, W, C)
        Synthetic and real training images, 0-255, of the same shape.
    y_synthetic, y_train : ndarray of int, shape (N,)
        Their class indices.
    class_names : sequence of str
        One name per class index.
    quantile : float
        The ``too_close`` threshold is this quantile of the real-to-real distances.

    Returns
    -------
    pandas.DataFrame
        One row per class with synthetic images: ``class_name``, ``n_synthetic``,
        ``synthetic_median`` (median distance to the nearest real image),
        ``real_median`` (median real-to-real nearest distance), ``exact_copies``
        (synthetic images equal to a real image), ``too_close`` (fraction of
        synthetic images below the threshold) and ``threshold``. Classes with fewer
        than 2 real images get NaN for the real-to-real columns.
    """
    from sklearn.neighbors import NearestNeighbors

    if x_synthetic.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            f"synthetic images have shape {x_synthetic.shape[1:]} but training images {x_train.shape[1:]}; "
            "compare images of one data set."
        )
    if len(x_synthetic) != len(y_synthetic) or len(x_train) != len(y_train):
        raise ValueError(
            f"got {len(x_synthetic)} synthetic images for {len(y_synthetic)} labels and {len(x_train)} "
            f"training images for {len(y_train)} labels; pass one label per image."
        )
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {quantile}")
    rows = []
    for label in np.unique(y_synthetic):
        real = x_train[y_train == label].reshape(int(np.sum(y_train == label)), -1).astype(np.float32) / 255.0
        synthetic = x_synthetic[y_synthetic == label].reshape(int(np.sum(y_synthetic == label)), -1)
        synthetic = synthetic.astype(np.float32) / 255.0
        if len(real) == 0:
            raise ValueError(f"class {class_names[label]!r} has synthetic images but no real training image")
        index = NearestNeighbors(n_neighbors=min(2, len(real))).fit(real)
        synthetic_distance, nearest = index.kneighbors(synthetic, n_neighbors=1)
        # NearestNeighbors computes distances from dot products, so a copy can come out
        # slightly above 0; copies are found by comparing pixels with the nearest real image.
        copies = np.all(synthetic == real[nearest[:, 0]], axis=1)
        synthetic_distance = np.where(copies, 0.0, synthetic_distance[:, 0])
        if len(real) >= 2:
            # The nearest neighbour of a real image in its own set is itself, so take the second.
            real_distance = index.kneighbors(real, n_neighbors=2)[0][:, 1]
            threshold, real_median = float(np.quantile(real_distance, quantile)), float(np.median(real_distance))
        else:
            threshold, real_median = np.nan, np.nan
        rows.append({
            "class_name": class_names[label], "n_synthetic": len(synthetic),
            "synthetic_median": float(np.median(synthetic_distance)), "real_median": real_median,
            "exact_copies": int(np.sum(copies)),
            "too_close": float(np.mean(synthetic_distance < threshold)) if np.isfinite(threshold) else np.nan,
            "threshold": threshold,
        })
    return pd.DataFrame(rows, columns=["class_name", "n_synthetic", "synthetic_median", "real_median",
                                       "exact_copies", "too_close", "threshold"])


# --- Figures ------------------------------------------------------------------------------------

def plot_scores(summary: pd.DataFrame, test_set: str | None = None):
    """Draw bars of mean ACSA, GM and macro F1 per method with the spread over seeds as error bars.

    ``summary`` is the output of :func:`summarize_scores`; one panel per test set,
    or only ``test_set`` when given. Each bar is labelled with its value, so that
    a score of 0 is visible too. Returns the figure.
    """
    import matplotlib.pyplot as plt

    test_sets = [test_set] if test_set is not None else list(dict.fromkeys(summary["test_set"]))
    figure, axes = plt.subplots(1, len(test_sets), figsize=(6.5 * len(test_sets), 3.8), squeeze=False)
    for axis, name in zip(axes[0], test_sets):
        part = summary[summary["test_set"] == name]
        methods = [str(m) for m in part["method"]]
        positions = np.arange(len(methods))
        width = 0.8 / len(METRICS)
        for offset, metric in enumerate(METRICS):
            errors = part[f"{metric}_std"].fillna(0.0).to_numpy()
            bars = axis.bar(positions + (offset - 1) * width, part[f"{metric}_mean"], width, yerr=errors,
                            capsize=2, label=metric.upper().replace("MACRO_F1", "macro F1"))
            axis.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90, padding=3)
        axis.set_xticks(positions, methods, rotation=30, ha="right")
        # Room above a score of 1 for its label.
        axis.set_ylim(0, 1.15)
        axis.set_title(f"{name} test set")
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("score (mean over seeds)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.tight_layout()
    return figure


def plot_confusion_matrices(matrices: Mapping[str, np.ndarray], class_names: Sequence[str], title: str = ""):
    """Draw row-normalised confusion matrices side by side, one per method; return the figure.

    Each row is a true class and sums to 1, so the diagonal is the recall of that
    class. One colour bar on the right gives the scale, shared by all matrices.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(matrices), figsize=(3.3 * len(matrices), 3.6), squeeze=False)
    for axis, (name, matrix) in zip(axes[0], matrices.items()):
        totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        image = axis.imshow(matrix / totals, vmin=0, vmax=1, cmap="Blues")
        axis.set_title(name, fontsize="small")
        ticks = np.arange(len(class_names))
        axis.set_xticks(ticks, class_names, rotation=90, fontsize="x-small")
        axis.set_yticks(ticks, class_names if axis is axes[0][0] else [], fontsize="x-small")
        axis.set_xlabel("predicted", fontsize="small")
    axes[0][0].set_ylabel("true class", fontsize="small")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    colorbar = figure.colorbar(image, ax=axes[0].tolist(), fraction=0.015, pad=0.02)
    colorbar.set_label("share of the true class's test images", fontsize="small")
    colorbar.ax.tick_params(labelsize="small")
    return figure
