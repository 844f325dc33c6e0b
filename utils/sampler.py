"""DeepSMOTE as an imbalanced-learn over-sampler of images.

:class:`DeepSMOTE` trains the encoder-decoder of :mod:`utils.model` with the
loss of :mod:`utils.training`, over-samples the latent codes, and decodes the
new codes into images. It follows imbalanced-learn's sampler API, so
``fit_resample`` returns the real images first, in their original order,
followed by the synthetic ones.

TensorFlow is imported when a network is trained, not when this module is
imported, so that building, cloning and validating the sampler stays cheap.

References
----------
.. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep Learning
   and SMOTE for Imbalanced Data", IEEE Transactions on Neural Networks and
   Learning Systems, 2022. arXiv:2105.02340.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from scipy import sparse
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from utils.oversampling import latent_smote

__all__ = ["DeepSMOTE", "LatentSamplerShortfallWarning"]

logger = logging.getLogger(__name__)

_PROVENANCE_COLUMNS = ["row", "label", "method", "parent_a", "parent_b", "weight"]


class LatentSamplerShortfallWarning(UserWarning):
    """The latent sampler made fewer codes than requested, and built-in SMOTE made the rest."""


@dataclasses.dataclass
class _Block:
    """Synthetic rows of one class from one method, before decoding.

    Exactly one of ``codes`` (decoded later) and ``images`` (returned as they are) is set.
    """

    label: Any
    method: str
    parent_a: np.ndarray
    parent_b: np.ndarray
    weight: np.ndarray
    codes: np.ndarray | None = None
    images: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.parent_a)


class DeepSMOTE(BaseOverSampler):
    """Over-sample image classes with DeepSMOTE: SMOTE on the codes of an autoencoder.

    ``fit`` trains a convolutional encoder-decoder on all images with the
    DeepSMOTE loss (reconstruction error plus a penalty term on batches of one
    class). ``fit_resample`` also encodes the images, draws new codes for each
    class that ``sampling_strategy`` selects, and decodes them into images.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many images each class should have after resampling, in any form
        that :class:`imblearn.over_sampling.SMOTE` accepts: ``"auto"``,
        ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``, a
        float (minority / majority ratio, two classes only), a dict of target
        counts per label, or a callable ``y -> dict``.
    k_neighbors : int or estimator, default=5
        Neighbours of the same class that built-in latent SMOTE interpolates
        towards, or an unfitted estimator with ``kneighbors`` (for example
        :class:`sklearn.neighbors.NearestNeighbors`) that is cloned. It is not
        passed to ``latent_sampler``, which keeps its own settings. It is used for
        the top-up of ``shortfall="fill"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the network weights, the training batches and the sampling. An int
        gives byte-identical output on the same machine and library versions.
    latent_sampler : imbalanced-learn over-sampler or None, default=None
        ``None`` uses the built-in latent SMOTE of :mod:`utils.oversampling`,
        which records the two parents and the weight of each new code. Otherwise
        an over-sampler instance, such as ``BorderlineSMOTE``, ``SVMSMOTE``,
        ``ADASYN``, ``KMeansSMOTE`` or ``RandomOverSampler``, which is cloned and
        run on the codes. The clone gets ``sampling_strategy`` as a dict of target
        counts per class and a ``random_state`` drawn from this sampler's, for
        each of the two parameters that it has. Only the rows it appends after
        the original codes are decoded.
    shortfall : {"fill", "raise"}, default="fill"
        What to do when ``latent_sampler`` makes fewer codes for a class than
        requested, or raises ``ValueError`` or ``RuntimeError`` (ADASYN's "No
        samples will be generated", KMeansSMOTE's "No clusters found"):
        ``"fill"`` makes the missing codes with built-in latent SMOTE and emits
        :class:`LatentSamplerShortfallWarning`; ``"raise"`` raises ``ValueError``.
        Surplus codes (ADASYN rounds its counts per sample) are dropped, keeping
        the first ones of each class.
    single_sample : {"raise", "duplicate"}, default="raise"
        What to do with a class of one image that must grow, since SMOTE
        interpolates between two images. ``"raise"`` raises ``ValueError`` before
        any training. ``"duplicate"`` fills the class with exact copies of its
        image, which are not decoded, and leaves it out of latent sampling.
    preset : {"lite", "paper"}, default="lite"
        Network size and training settings from :func:`utils.model.get_preset`.
    epochs, batch_size : int or None, default=None
        Override the preset's number of epochs and images per batch.
    learning_rate : float or None, default=None
        Overrides the preset's Adam learning rate.
    latent_dim : int or None, default=None
        Overrides the preset's code size, which by default depends on the image shape.
    widths : sequence of int or None, default=None
        Overrides the preset's filters per stride-2 stage, for example ``(8, 16)``.
        Each side of the images must have at least ``2 ** len(widths)`` pixels.
    decoder_widths : sequence of int or None, default=None
        Overrides the preset's decoder channels, coarse to fine, for example
        ``(16, 8)``; see :func:`utils.model.build_decoder`.
    penalty : {"code", "paper", "none"}, default="code"
        Penalty term of the loss; see :mod:`utils.training`.
    penalty_weight : float, default=1.0
        Weight of the penalty term.
    image_shape : tuple of int or None, default=None
        ``(height, width, channels)`` with 1 or 3 channels. Required when ``X``
        is flattened to (N, height * width * channels). With (N, H, W, C) input it
        may be left ``None``; if set, it must match ``X.shape[1:]``.
    verbose : int, default=0
        Keras progress output during training: 0 silent, 1 progress bar, 2 one
        line per epoch.

    Attributes
    ----------
    sampling_strategy_ : dict
        Label -> number of new images, as imbalanced-learn computes it.
    classes_ : ndarray, shape (n_classes,)
        Sorted class labels.
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images seen in ``fit``.
    preset_ : utils.model.Preset
        Settings used, with the overrides and the latent size applied.
    encoder_, decoder_ : keras.Model
        The trained networks: float32 images in [0, 1] to codes, and back.
    history_ : dict of str to list of float
        Per-epoch ``loss``, ``reconstruction`` and ``penalty``.
    provenance_ : pandas.DataFrame
        Set by ``fit_resample``, one row per synthetic image: ``row`` (its index
        in the output), ``label``, ``method`` (``"SMOTE"``, the latent sampler's
        class name, ``"SMOTE (fill)"`` or ``"duplicate"``), ``parent_a``,
        ``parent_b`` (indices into ``X``) and ``weight`` in [0, 1). The decoded
        code is ``z[parent_a] + weight * (z[parent_b] - z[parent_a])``. Rows made by
        a ``latent_sampler`` have parents -1 and weight NaN; duplicates have both
        parents equal to the copied image and weight 0.
    n_features_in_ : int
        Values per image, ``height * width * channels``.
    feature_names_in_ : ndarray of str
        Column names, set only when ``X`` is a DataFrame with string column names.

    Notes
    -----
    Accepted images are uint8 in [0, 255] or float (any precision) in [0, 1],
    either as (N, H, W, C) or flattened to (N, H * W * C) with ``image_shape``.
    The output has the layout and dtype of ``X``. Float images are rounded to
    uint8 for training, so the decoded images take the values ``k / 255``.
    Real images are returned unchanged.

    ``fit_resample`` trains a new network, as imbalanced-learn's samplers refit
    on each call; it does not reuse the networks of an earlier ``fit``.

    Training calls :func:`utils.training.set_seed`, which seeds Python's,
    NumPy's and TensorFlow's global generators and turns on TensorFlow's
    deterministic kernels for the rest of the process.

    Limitations:

    - The network must be trained for each dataset. With the default ``"lite"``
      preset this takes minutes on a CPU for thousands of 28x28 images.
    - Sparse matrices are not accepted, because images are dense.
    - Only 1 or 3 channels, and each side needs ``2 ** len(widths)`` pixels.
    - ``latent_sampler`` must return the original rows first and unchanged, as
      imbalanced-learn's over-samplers do; samplers that remove rows (SMOTEENN,
      SMOTETomek) are rejected.

    References
    ----------
    .. [1] D. Dablain, B. Krawczyk, N. V. Chawla, "DeepSMOTE: Fusing Deep
       Learning and SMOTE for Imbalanced Data", IEEE Transactions on Neural
       Networks and Learning Systems, 2022. arXiv:2105.02340.
    .. [2] N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer, "SMOTE:
       Synthetic Minority Over-sampling Technique", JAIR 16, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from utils.sampler import DeepSMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(40, 16, 16, 1), dtype=np.uint8)
    >>> y = np.array([0] * 30 + [1] * 10)
    >>> sampler = DeepSMOTE(epochs=1, widths=(8, 16), random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)  # doctest: +SKIP
    >>> X_res.shape, np.bincount(y_res)  # doctest: +SKIP
    ((60, 16, 16, 1), array([30, 30]))
    >>> sampler.provenance_.head(2)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "k_neighbors": [
            Interval(numbers.Integral, 1, None, closed="left"),
            HasMethods(["kneighbors", "kneighbors_graph"]),
        ],
        "latent_sampler": [HasMethods(["fit_resample"]), None],
        "shortfall": [StrOptions({"fill", "raise"})],
        "single_sample": [StrOptions({"raise", "duplicate"})],
        # get_preset validates the name, so the list of presets lives in one place.
        "preset": [str],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "widths": ["array-like", None],
        "decoder_widths": ["array-like", None],
        "penalty": [StrOptions({"code", "paper", "none"})],
        "penalty_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "image_shape": ["array-like", None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        k_neighbors=5,
        random_state=None,
        latent_sampler=None,
        shortfall="fill",
        single_sample="raise",
        preset="lite",
        epochs=None,
        batch_size=None,
        learning_rate=None,
        latent_dim=None,
        widths=None,
        decoder_widths=None,
        penalty="code",
        penalty_weight=1.0,
        image_shape=None,
        verbose=0,
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.k_neighbors = k_neighbors
        self.random_state = random_state
        self.latent_sampler = latent_sampler
        self.shortfall = shortfall
        self.single_sample = single_sample
        self.preset = preset
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.latent_dim = latent_dim
        self.widths = widths
        self.decoder_widths = decoder_widths
        self.penalty = penalty
        self.penalty_weight = penalty_weight
        self.image_shape = image_shape
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    def fit(self, X, y):
        """Validate the images and train the encoder-decoder.

        Parameters
        ----------
        X : array-like, shape (N, H, W, C) or (N, H * W * C)
            uint8 images in [0, 255] or float images in [0, 1]. Flattened images
            need ``image_shape``.
        y : array-like, shape (N,)
            Class labels of any type; one-hot (N, n_classes) is also accepted.

        Returns
        -------
        self : DeepSMOTE
            The fitted sampler, with ``encoder_``, ``decoder_`` and ``history_``.
        """
        self._validate_params()
        check_classification_targets(y)
        X, y, _ = self._check_X_y(X, y)
        self.sampling_strategy_ = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        self._check_single_sample_classes(y)
        train_seed, _ = self._draw_seeds()
        self._train(self._as_images(X), y, train_seed)
        return self

    def _check_X_y(self, X, y, accept_sparse=None):
        """Validate ``y`` and the images in ``X``, and record ``image_shape_``.

        Returns ``X`` as an ndarray in its input layout, (N, H, W, C) or
        (N, H * W * C), ``y`` as a 1-D ndarray, and whether ``y`` was one-hot.
        ``accept_sparse`` is ignored, because images are dense.
        """
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        flat, shape_from_x = _flatten_images(X)
        flat, y = validate_data(self, X=flat, y=y, reset=True, accept_sparse=False, dtype=None,
                                ensure_all_finite=False)
        n_classes = len(np.unique(y))
        if n_classes < 2:
            raise ValueError(
                f"y contains {n_classes} class, but over-sampling needs at least 2 classes "
                "to balance. Pass the labels of every class."
            )
        _check_pixel_values(flat)
        self.image_shape_ = _resolve_image_shape(self.image_shape, shape_from_x, flat.shape[1])
        if shape_from_x is not None:
            return flat.reshape(len(flat), *shape_from_x), y, binarize_y
        return flat, y, binarize_y

    def _fit_resample(self, X, y):
        self._check_single_sample_classes(y)
        train_seed, sample_seed = self._draw_seeds()
        images = self._as_images(X)
        x_uint8 = self._train(images, y, train_seed)

        from utils.model import decode_codes, encode_images

        codes = encode_images(self.encoder_, x_uint8)
        blocks = self._synthesize(codes, images, y, check_random_state(sample_seed))
        to_decode = [block.codes for block in blocks if block.codes is not None]
        decoded = decode_codes(self.decoder_, np.concatenate(to_decode)) if to_decode else None
        new_images = _assemble_images(blocks, decoded, images)
        new_images = new_images.reshape(len(new_images), *X.shape[1:])
        self.provenance_ = _provenance_frame(blocks, first_row=len(X))

        labels = [np.full(len(block), block.label, dtype=y.dtype) for block in blocks]
        y_new = np.concatenate(labels) if labels else y[:0]
        return np.concatenate([X, new_images]), np.concatenate([y, y_new])

    def resample_codes(self, codes, y) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """Make synthetic latent codes from given codes, without training a network.

        This is the latent step of :meth:`fit_resample` on its own, with the same
        ``sampling_strategy``, ``latent_sampler``, ``k_neighbors``, ``shortfall``,
        ``single_sample`` and ``random_state``. It serves codes from an encoder
        trained elsewhere, for example to compare latent samplers on one network.

        Parameters
        ----------
        codes : array-like of float, shape (N, latent_dim)
            Latent codes of the real images.
        y : array-like, shape (N,)
            Class label of each code.

        Returns
        -------
        new_codes : ndarray of float32, shape (M, latent_dim)
            Synthetic codes, grouped by class in label order.
        new_labels : ndarray, shape (M,)
            Their labels, of the dtype of ``y``.
        provenance : pandas.DataFrame
            As :attr:`provenance_`, with ``row`` counted from N.
        """
        codes = np.asarray(codes, dtype=np.float32)
        y = np.asarray(y)
        if codes.ndim != 2 or len(codes) != len(y):
            raise ValueError(
                f"codes must be a 2-D array (N, latent_dim) with one row per label; got codes of "
                f"shape {codes.shape} and {len(y)} labels"
            )
        self.sampling_strategy_ = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        self.classes_ = np.unique(y)
        self._check_single_sample_classes(y)
        # A class of one code is filled with copies of that code, so codes stand in for images here.
        blocks = self._synthesize(codes, codes, y, check_random_state(self._draw_seeds()[1]))
        rows = [block.codes if block.codes is not None else block.images for block in blocks]
        new_codes = np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, codes.shape[1]), np.float32)
        labels = [np.full(len(block), block.label, dtype=y.dtype) for block in blocks]
        new_labels = np.concatenate(labels) if labels else y[:0]
        return new_codes, new_labels, _provenance_frame(blocks, first_row=len(codes))

    def _as_images(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), *self.image_shape_)

    def _draw_seeds(self) -> tuple[int, int]:
        """Derive the training seed and the sampling seed from ``random_state``."""
        rng = check_random_state(self.random_state)
        train_seed, sample_seed = rng.randint(0, np.iinfo(np.int32).max, size=2)
        return int(train_seed), int(sample_seed)

    def _check_single_sample_classes(self, y: np.ndarray) -> None:
        """Raise, when ``single_sample="raise"``, for classes of one image that must grow."""
        if self.single_sample != "raise":
            return
        counts = _class_counts(y)
        lonely = {label: n_new for label, n_new in self.sampling_strategy_.items()
                  if n_new > 0 and counts[label] == 1}
        if lonely:
            described = ", ".join(f"{_plain_label(label)!r} (needs {n_new} new)" for label, n_new in lonely.items())
            raise ValueError(
                f"Classes with a single image cannot be over-sampled by SMOTE, which interpolates "
                f"between two images of a class: {described}. Add images to these classes, leave "
                "them out of sampling_strategy, or set single_sample='duplicate' to fill them "
                "with copies of their image."
            )

    def _train(self, images: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        """Train the encoder-decoder and return the images as uint8."""
        from utils.model import build_decoder, build_encoder, get_preset
        from utils.training import DeepSMOTEAutoencoder, set_seed, train_autoencoder

        self.classes_, y_index = np.unique(y, return_inverse=True)
        x_uint8 = _to_uint8(images)
        widths = None if self.widths is None else tuple(int(w) for w in self.widths)
        decoder_widths = None if self.decoder_widths is None else tuple(int(w) for w in self.decoder_widths)
        preset = get_preset(self.preset, self.image_shape_, widths=widths, decoder_widths=decoder_widths,
                            latent_dim=self.latent_dim,
                            epochs=self.epochs, batch_size=self.batch_size,
                            learning_rate=self.learning_rate)
        set_seed(seed)
        encoder = build_encoder(self.image_shape_, preset.widths, preset.latent_dim)
        decoder = build_decoder(self.image_shape_, preset.decoder_widths, preset.latent_dim)
        autoencoder = DeepSMOTEAutoencoder(encoder, decoder, penalty=self.penalty,
                                           penalty_weight=self.penalty_weight, seed=seed)
        logger.info("Training DeepSMOTE on %d images of shape %s for %d epochs (preset %r)",
                    len(x_uint8), self.image_shape_, preset.epochs, preset.name)
        # The checkpoint of the best epoch is only needed until the weights are reloaded.
        with tempfile.TemporaryDirectory(prefix="deepsmote-") as folder:
            history = train_autoencoder(
                autoencoder, x_uint8, y_index.astype(np.int64), epochs=preset.epochs,
                batch_size=preset.batch_size, class_batch_size=preset.class_batch_size,
                learning_rate=preset.learning_rate, seed=seed,
                checkpoint_path=Path(folder) / "autoencoder.weights.h5", verbose=self.verbose,
            )
        self.preset_ = preset
        self.encoder_ = encoder
        self.decoder_ = decoder
        self.history_ = {name: [float(value) for value in values] for name, values in history.history.items()}
        logger.info("Trained DeepSMOTE: final loss %.5f", self.history_["loss"][-1])
        return x_uint8

    def _synthesize(self, codes: np.ndarray, images: np.ndarray, y: np.ndarray,
                    rng: np.random.RandomState) -> list[_Block]:
        """Make the synthetic rows of every class, in class order."""
        counts = _class_counts(y)
        to_grow = {label: n_new for label, n_new in self.sampling_strategy_.items() if n_new > 0}
        copied = {label: n_new for label, n_new in to_grow.items() if counts[label] == 1}
        interpolated = {label: n_new for label, n_new in to_grow.items() if label not in copied}

        if self.latent_sampler is None:
            blocks = _smote_blocks(codes, y, interpolated, self.k_neighbors, rng, "SMOTE")
        else:
            blocks = self._latent_sampler_blocks(codes, y, interpolated, rng)
        blocks += [_duplicate_block(images, y, label, n_new) for label, n_new in copied.items()]

        order = {label: position for position, label in enumerate(self.classes_)}
        return sorted(blocks, key=lambda block: order[block.label])

    def _latent_sampler_blocks(self, codes: np.ndarray, y: np.ndarray, requested: dict[Any, int],
                               rng: np.random.RandomState) -> list[_Block]:
        """Run ``latent_sampler`` on the codes and handle any shortfall."""
        if not requested:
            return []
        sampler = clone(self.latent_sampler)
        method = type(sampler).__name__
        counts = _class_counts(y)
        accepted = sampler.get_params(deep=False)
        params = {}
        if "sampling_strategy" in accepted:
            params["sampling_strategy"] = {label: counts[label] + n_new for label, n_new in requested.items()}
        if "random_state" in accepted:
            params["random_state"] = int(rng.randint(0, np.iinfo(np.int32).max))
        sampler.set_params(**params)

        failure = None
        try:
            codes_res, y_res = sampler.fit_resample(codes, y)
        except (ValueError, RuntimeError) as error:
            failure = error
            codes_res, y_res = codes, y
        _check_originals_first(method, codes, codes_res)
        new_codes = np.asarray(codes_res[len(codes):], dtype=np.float32)
        new_labels = np.asarray(y_res[len(codes):])

        blocks, missing = [], {}
        for label, n_new in requested.items():
            rows = new_codes[new_labels == label][:n_new]
            if len(rows):
                unknown = np.full(len(rows), -1, dtype=np.int64)
                blocks.append(_Block(label, method, unknown, unknown.copy(),
                                     np.full(len(rows), np.nan, np.float32), codes=rows))
            if len(rows) < n_new:
                missing[label] = (len(rows), n_new)
        if missing:
            self._report_shortfall(method, missing, failure)
            top_up = {label: expected - got for label, (got, expected) in missing.items()}
            blocks += _smote_blocks(codes, y, top_up, self.k_neighbors, rng, "SMOTE (fill)")
        return blocks

    def _report_shortfall(self, method: str, missing: dict[Any, tuple[int, int]],
                          failure: Exception | None) -> None:
        """Raise or warn about classes for which the latent sampler made too few codes."""
        described = "; ".join(f"class {_plain_label(label)!r}: {got} of {expected} requested"
                              for label, (got, expected) in missing.items())
        cause = f" It raised {type(failure).__name__}: {failure}" if failure is not None else ""
        if self.shortfall == "raise":
            raise ValueError(
                f"latent_sampler {method} generated too few codes ({described}).{cause} Set "
                "shortfall='fill' to make the missing codes with built-in latent SMOTE, or "
                "choose another latent_sampler."
            ) from failure
        warnings.warn(
            f"latent_sampler {method} generated too few codes ({described}).{cause} Built-in "
            "latent SMOTE made the missing codes.",
            LatentSamplerShortfallWarning,
            stacklevel=2,
        )


def _flatten_images(X) -> tuple[Any, tuple[int, int, int] | None]:
    """Return ``X`` as 2-D samples and, for (N, H, W, C) input, the image shape."""
    if sparse.issparse(X) or hasattr(X, "columns"):
        return X, None
    array = np.asarray(X)
    if array.ndim == 4:
        return array.reshape(len(array), -1), tuple(int(side) for side in array.shape[1:])
    if array.ndim == 2:
        return X, None
    hint = " For grayscale images of shape (N, H, W), add a channel axis with X[..., np.newaxis]." \
        if array.ndim == 3 else ""
    raise ValueError(
        f"X must be images of shape (N, height, width, channels) or flattened images of shape "
        f"(N, height * width * channels), but it has shape {array.shape}.{hint}"
    )


def _check_pixel_values(flat: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``flat`` is uint8, or float without NaN and within [0, 1]."""
    if flat.dtype == np.uint8:
        return
    if not np.issubdtype(flat.dtype, np.floating):
        raise ValueError(
            f"X has dtype {flat.dtype}, but DeepSMOTE expects uint8 images in [0, 255] or float "
            "images in [0, 1]. Convert 0-255 pixel values with X.astype(np.uint8)."
        )
    finite = np.isfinite(flat)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise ValueError(
            f"X contains {int((~finite).sum())} NaN or infinite values in {len(bad_rows)} images "
            f"(first at index {bad_rows[0]}), but images must have a finite value at every pixel. "
            "Drop or repair those images before resampling."
        )
    low, high = float(flat.min()), float(flat.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"X has float values from {low:g} to {high:g}, but float images must lie in [0, 1]. "
            "Divide 0-255 pixel values by 255, or pass them as uint8."
        )


def _resolve_image_shape(image_shape, shape_from_x: tuple[int, int, int] | None,
                         n_features: int) -> tuple[int, int, int]:
    """Return ``(height, width, channels)`` from the parameter and the shape of ``X``."""
    if image_shape is None:
        if shape_from_x is None:
            raise ValueError(
                f"X is flattened to {n_features} values per image, but image_shape is None. Pass "
                "image_shape=(height, width, channels) whose product is "
                f"{n_features}, or pass X as (N, height, width, channels)."
            )
        return shape_from_x
    shape = tuple(int(side) for side in image_shape)
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels), got {tuple(image_shape)}")
    if shape_from_x is not None and shape != shape_from_x:
        raise ValueError(
            f"image_shape is {shape}, but X contains images of shape {shape_from_x}. "
            "Leave image_shape as None for (N, H, W, C) input, or make them match."
        )
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"image_shape {shape} has {int(np.prod(shape))} values, but X has {n_features} values "
            "per image. Pass the shape of the flattened images."
        )
    return shape


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """Convert validated images to uint8 in [0, 255], rounding float pixels."""
    if images.dtype == np.uint8:
        return images
    return np.round(images.astype(np.float32) * 255.0).astype(np.uint8)


def _convert_decoded(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert uint8 images to ``dtype``: unchanged for uint8, divided by 255 for floats."""
    if dtype == np.uint8:
        return images
    return (images.astype(np.float32) / 255.0).astype(dtype)


def _class_counts(y: np.ndarray) -> dict[Any, int]:
    labels, counts = np.unique(y, return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


def _plain_label(label):
    """Convert a NumPy scalar label to a Python one, whose repr is ``'cat'`` and not ``np.str_('cat')``."""
    return label.item() if isinstance(label, np.generic) else label


def _smote_blocks(codes: np.ndarray, y: np.ndarray, requested: dict[Any, int], k_neighbors,
                  rng: np.random.RandomState, method: str) -> list[_Block]:
    """Make ``requested[label]`` codes per class with built-in latent SMOTE."""
    if not requested:
        return []
    counts = _class_counts(y)
    totals = {label: counts[label] + n_new for label, n_new in requested.items()}
    names = {label: _plain_label(label) for label in counts}
    synthetic = latent_smote(codes, y, sampling_strategy=totals, k_neighbors=k_neighbors,
                             random_state=rng, class_names=names)
    blocks = []
    for label in requested:
        rows = np.flatnonzero(synthetic.labels == label)
        blocks.append(_Block(label, method, synthetic.parent_a[rows], synthetic.parent_b[rows],
                             synthetic.weight[rows], codes=synthetic.codes[rows]))
    return blocks


def _duplicate_block(images: np.ndarray, y: np.ndarray, label, n_new: int) -> _Block:
    """Fill a class of one image with ``n_new`` copies of it."""
    index = int(np.flatnonzero(y == label)[0])
    parents = np.full(n_new, index, dtype=np.int64)
    return _Block(label, "duplicate", parents, parents.copy(), np.zeros(n_new, np.float32),
                  images=np.repeat(images[index:index + 1], n_new, axis=0))


def _check_originals_first(method: str, codes: np.ndarray, codes_res: np.ndarray) -> None:
    """Raise unless the latent sampler returned the original codes first and unchanged."""
    if len(codes_res) < len(codes) or not np.array_equal(np.asarray(codes_res[:len(codes)]), codes):
        raise ValueError(
            f"latent_sampler {method} did not return the original codes first and unchanged, so "
            "its new rows cannot be told apart. Use an over-sampler that appends new samples, "
            "such as SMOTE, BorderlineSMOTE, SVMSMOTE, ADASYN, KMeansSMOTE or RandomOverSampler."
        )


def _assemble_images(blocks: list[_Block], decoded: np.ndarray | None, images: np.ndarray) -> np.ndarray:
    """Concatenate the synthetic images of ``blocks`` in order, in the dtype of ``images``.

    ``decoded`` holds the uint8 decodings of all code blocks, in block order.
    """
    parts, position = [], 0
    for block in blocks:
        if block.codes is not None:
            parts.append(_convert_decoded(decoded[position:position + len(block)], images.dtype))
            position += len(block)
        else:
            parts.append(block.images)
    if not parts:
        return np.zeros((0, *images.shape[1:]), images.dtype)
    return np.concatenate(parts)


def _provenance_frame(blocks: list[_Block], first_row: int) -> pd.DataFrame:
    """Tabulate label, method, parents and weight of each synthetic row."""
    if not blocks:
        return pd.DataFrame({column: [] for column in _PROVENANCE_COLUMNS})
    n_rows = sum(len(block) for block in blocks)
    return pd.DataFrame({
        "row": np.arange(first_row, first_row + n_rows, dtype=np.int64),
        "label": np.concatenate([np.full(len(block), block.label, dtype=object) for block in blocks]),
        "method": np.concatenate([np.full(len(block), block.method, dtype=object) for block in blocks]),
        "parent_a": np.concatenate([block.parent_a for block in blocks]).astype(np.int64),
        "parent_b": np.concatenate([block.parent_b for block in blocks]).astype(np.int64),
        "weight": np.concatenate([block.weight for block in blocks]).astype(np.float32),
    })
