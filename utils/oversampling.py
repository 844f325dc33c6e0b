"""SMOTE in the latent space, recording where each new code comes from.

SMOTE makes a new sample by choosing a base sample of a class, choosing one of
its ``k`` nearest neighbours of the same class, and interpolating between them:
``new = base + u * (neighbour - base)`` with ``u`` drawn uniformly from [0, 1).
DeepSMOTE applies it to the encoder's codes instead of the pixels, then decodes
the new codes into images.

The two steps are separate functions, :func:`smote_pairs` (choose) and
:func:`interpolate`, and :func:`latent_smote` applies them class by class.
Unlike :class:`imblearn.over_sampling.SMOTE`, it returns the two parents and
the weight of every new code, so each synthetic image can be traced back to two
real images.

References
----------
.. [1] N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE:
   Synthetic Minority Over-sampling Technique", JAIR 16, 2002.
.. [2] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE TNNLS, 2022. arXiv:2105.02340.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

__all__ = [
    "SyntheticCodes",
    "SmallClassWarning",
    "samples_to_generate",
    "smote_pairs",
    "interpolate",
    "latent_smote",
]


class SmallClassWarning(UserWarning):
    """A class has too few samples for the requested number of neighbours."""


@dataclasses.dataclass(frozen=True)
class SyntheticCodes:
    """New latent codes and their provenance.

    Attributes
    ----------
    codes : ndarray of float32, shape (M, latent_dim)
        The new codes.
    labels : ndarray, shape (M,)
        Class label of each code, of the same dtype as the ``y`` given.
    parent_a : ndarray of int64, shape (M,)
        Index of the base sample in the arrays given to :func:`latent_smote`.
    parent_b : ndarray of int64, shape (M,)
        Index of the neighbour it was interpolated towards.
    weight : ndarray of float32, shape (M,)
        Interpolation weight ``u`` in [0, 1): ``codes = z[parent_a] + u * (z[parent_b] - z[parent_a])``.
    """

    codes: np.ndarray
    labels: np.ndarray
    parent_a: np.ndarray
    parent_b: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)


def samples_to_generate(
    y: np.ndarray, sampling_strategy: str | float | Mapping[Any, int] | Callable = "auto"
) -> dict[Any, int]:
    """Return how many new samples each class needs, as imbalanced-learn computes it.

    Parameters
    ----------
    y : array-like, shape (N,)
        Class labels.
    sampling_strategy : str, float, dict or callable
        Any form :class:`imblearn.over_sampling.SMOTE` accepts. The default
        ``"auto"`` brings every class up to the size of the largest.

    Returns
    -------
    dict
        Class label -> number of new samples, in label order. Classes that the
        strategy does not grow may be left out (imbalanced-learn leaves out the
        majority class for ``"auto"``).
    """
    counts = check_sampling_strategy(sampling_strategy, np.asarray(y), "over-sampling")
    return dict(sorted(counts.items()))


def smote_pairs(
    codes: np.ndarray,
    n_new: int,
    k_neighbors: int | NearestNeighbors,
    random_state: int | np.random.RandomState | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose base and neighbour for each new sample of one class.

    Parameters
    ----------
    codes : ndarray of float, shape (n, latent_dim)
        Codes of the class, n >= 2.
    n_new : int
        Number of pairs to draw.
    k_neighbors : int or NearestNeighbors
        Number of neighbours to choose from, or an unfitted estimator with an
        ``n_neighbors`` attribute (cloned before fitting). It is used as
        ``min(k, n - 1)``.
    random_state : int, RandomState or None
        Source of the choices, as in scikit-learn.

    Returns
    -------
    base, neighbour : ndarray of int64, shape (n_new,)
        Row indices into ``codes``. Each base is drawn uniformly, with
        replacement; its neighbour uniformly among its ``k`` nearest other rows.
    """
    n = len(codes)
    if n < 2:
        raise ValueError(f"SMOTE needs at least 2 samples of a class to interpolate, got {n}")
    if isinstance(k_neighbors, (int, np.integer)):
        if k_neighbors < 1:
            raise ValueError(f"k_neighbors must be at least 1, got {k_neighbors}")
        estimator = NearestNeighbors(n_neighbors=int(k_neighbors))
    else:
        estimator = clone(k_neighbors)
    k = min(int(estimator.n_neighbors), n - 1)
    estimator.set_params(n_neighbors=k)
    # kneighbors() without a query leaves each point out of its own neighbours,
    # even when another code is an exact duplicate of it.
    neighbours = estimator.fit(codes).kneighbors(return_distance=False)
    rng = check_random_state(random_state)
    base = rng.randint(0, n, size=n_new)
    pick = rng.randint(0, k, size=n_new)
    return base.astype(np.int64), neighbours[base, pick].astype(np.int64)


def interpolate(codes: np.ndarray, base: np.ndarray, neighbour: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Return ``codes[base] + weight * (codes[neighbour] - codes[base])``, row by row.

    Parameters
    ----------
    codes : ndarray of float, shape (n, latent_dim)
    base, neighbour : ndarray of int, shape (m,)
    weight : ndarray of float, shape (m,)
        Values in [0, 1]: 0 gives the base, 1 the neighbour.

    Returns
    -------
    ndarray of float32, shape (m, latent_dim)
    """
    codes = np.asarray(codes, dtype=np.float32)
    start = codes[base]
    return start + np.asarray(weight, dtype=np.float32)[:, None] * (codes[neighbour] - start)


def latent_smote(
    codes: np.ndarray,
    y: np.ndarray,
    sampling_strategy: str | float | Mapping[Any, int] | Callable = "auto",
    k_neighbors: int | NearestNeighbors = 5,
    random_state: int | np.random.RandomState | None = None,
    class_names: Mapping[Any, str] | None = None,
) -> SyntheticCodes:
    """Make new codes for every class that ``sampling_strategy`` grows.

    Parameters
    ----------
    codes : ndarray of float, shape (N, latent_dim)
        Codes of the real images.
    y : ndarray, shape (N,)
        Class label of each code.
    sampling_strategy : str, float, dict or callable
        As in imbalanced-learn; ``"auto"`` brings every class to the majority count.
    k_neighbors : int or NearestNeighbors
        Neighbours to interpolate towards; the paper uses 5.
    random_state : int, RandomState or None
        Seed of all choices; the same seed gives the same codes.
    class_names : mapping, optional
        Label -> display name, used in warnings and errors.

    Returns
    -------
    SyntheticCodes
        Classes in label order; within a class, in the order drawn.

    Raises
    ------
    ValueError
        When a class that must grow has a single sample, before anything is drawn.

    Warns
    -----
    SmallClassWarning
        When a class has ``k_neighbors`` samples or fewer, so fewer neighbours are used.
    """
    codes = np.asarray(codes)
    y = np.asarray(y)
    if codes.ndim != 2 or len(codes) != len(y):
        raise ValueError(f"codes must be (N, latent_dim) with N == len(y); got {codes.shape} and {y.shape}")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes contain NaN or infinite values; the encoder diverged or the images hold NaN")
    targets = samples_to_generate(y, sampling_strategy)
    names = dict(class_names or {})
    k_requested = k_neighbors if isinstance(k_neighbors, (int, np.integer)) else k_neighbors.n_neighbors
    for label, n_new in targets.items():
        size = int(np.sum(y == label))
        name = names.get(label, label.item() if isinstance(label, np.generic) else label)
        if n_new > 0 and size < 2:
            raise ValueError(
                f"Class {name!r} has {size} sample and needs {n_new} new ones, but SMOTE interpolates "
                "between two samples of a class. Add images to this class, or leave it out of "
                "sampling_strategy (for example with a dict of the classes to grow)."
            )
        if n_new > 0 and size <= k_requested:
            warnings.warn(
                f"Class {name!r} has {size} samples, so each is interpolated with one of its "
                f"{size - 1} nearest neighbours only, instead of k_neighbors={k_requested}.",
                SmallClassWarning,
                stacklevel=2,
            )
    rng = check_random_state(random_state)
    parts = []
    for label, n_new in targets.items():
        if n_new == 0:
            continue
        members = np.flatnonzero(y == label)
        base, neighbour = smote_pairs(codes[members], n_new, k_neighbors, rng)
        weight = rng.uniform(0.0, 1.0, size=n_new).astype(np.float32)
        new_codes = interpolate(codes[members], base, neighbour, weight)
        parts.append((new_codes, np.full(n_new, label, dtype=y.dtype), members[base], members[neighbour], weight))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return SyntheticCodes(np.zeros((0, codes.shape[1]), np.float32), y[:0], empty, empty.copy(),
                              np.zeros(0, np.float32))
    columns = [np.concatenate(column) for column in zip(*parts)]
    return SyntheticCodes(*columns)
