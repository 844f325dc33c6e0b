"""Tests of the DeepSMOTE sampler (utils.sampler).

Every test that resamples trains a real network, so the data are tiny: 8x8
gray images, classes of 20, 8 and 4 images, two stride-2 stages of 4 and 8
filters, one epoch.
"""

import pickle
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from imblearn import FunctionSampler
from imblearn.over_sampling import ADASYN, SVMSMOTE, BorderlineSMOTE, KMeansSMOTE, RandomOverSampler
from imblearn.utils.estimator_checks import estimator_checks_generator
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.estimator_checks import parametrize_with_checks as parametrize_with_sklearn_checks

from utils.oversampling import SmallClassWarning
from utils.sampler import DeepSMOTE, LatentSamplerShortfallWarning

IMAGE_SHAPE = (8, 8, 1)
SIZES = (20, 8, 4)
TINY = {"epochs": 1, "widths": (4, 8), "decoder_widths": (8, 4), "batch_size": 16}


def make_images(sizes=SIZES, seed=0, darkest=40, brightest=215):
    """Return uint8 images (N, 8, 8, 1) whose mean brightness depends on the class, and int labels.

    Brightness levels spread evenly from ``darkest`` to ``brightest``, with noise of
    standard deviation 20, so close levels give overlapping classes.
    """
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    levels = np.linspace(darkest, brightest, len(sizes))[y]
    noise = rng.normal(0.0, 20.0, size=(len(y), *IMAGE_SHAPE))
    X = np.clip(levels[:, None, None, None] + noise, 0, 255).astype(np.uint8)
    return X, y


def sampler(**params):
    """Return a DeepSMOTE with tiny settings, overridden by ``params``."""
    settings = {**TINY, "random_state": 0, "k_neighbors": 3}
    settings.update(params)
    return DeepSMOTE(**settings)


@pytest.fixture(scope="module")
def resampled():
    X, y = make_images()
    fitted = sampler()
    X_res, y_res = fitted.fit_resample(X, y)
    return X, y, fitted, X_res, y_res


# --- counts and layout ---------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("auto", {0: 20, 1: 20, 2: 20}),
        ("minority", {0: 20, 1: 8, 2: 20}),
        ("not minority", {0: 20, 1: 20, 2: 4}),
        ("not majority", {0: 20, 1: 20, 2: 20}),
        ("all", {0: 20, 1: 20, 2: 20}),
        ({1: 10, 2: 9}, {0: 20, 1: 10, 2: 9}),
        (lambda labels: {2: 6}, {0: 20, 1: 8, 2: 6}),
    ],
    ids=["auto", "minority", "not-minority", "not-majority", "all", "dict", "callable"],
)
def test_counts_follow_sampling_strategy(strategy, expected):
    X, y = make_images()
    _, y_res = sampler(sampling_strategy=strategy).fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == expected


def test_counts_float_strategy():
    X, y = make_images(sizes=(20, 5))
    # 0.5 of the majority count 20 is 10 images of class 1.
    _, y_res = sampler(sampling_strategy=0.5).fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == {0: 20, 1: 10}


def test_real_images_first_unchanged(resampled):
    X, y, _, X_res, y_res = resampled
    np.testing.assert_array_equal(X_res[:len(X)], X)
    np.testing.assert_array_equal(y_res[:len(y)], y)


def test_uint8_output(resampled):
    X, _, _, X_res, y_res = resampled
    assert X_res.dtype == np.uint8
    assert X_res.shape == (60, *IMAGE_SHAPE)
    assert y_res.dtype == np.int64


def test_synthetic_labels_in_class_order(resampled):
    X, _, _, _, y_res = resampled
    assert y_res[len(X):].tolist() == [1] * 12 + [2] * 16


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_input_returns_float(resampled, dtype):
    X, y, _, X_res_uint8, _ = resampled
    X_float = X.astype(dtype) / 255.0
    X_res, _ = sampler().fit_resample(X_float, y)
    assert X_res.dtype == dtype
    np.testing.assert_array_equal(X_res[:len(X)], X_float)
    synthetic = X_res[len(X):]
    assert synthetic.min() >= 0.0
    assert synthetic.max() <= 1.0
    # Float pixels are rounded to uint8 for training, so the result matches uint8 input.
    np.testing.assert_array_equal(np.round(synthetic * 255.0).astype(np.uint8), X_res_uint8[len(X):])


def test_nothing_to_grow_returns_input():
    X, y = make_images()
    fitted = sampler(sampling_strategy={0: 20})
    X_res, y_res = fitted.fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X)
    np.testing.assert_array_equal(y_res, y)
    assert len(fitted.provenance_) == 0


def test_flattened_input_with_image_shape(resampled):
    X, y, _, X_res, y_res = resampled
    X_flat_res, y_flat_res = sampler(image_shape=IMAGE_SHAPE).fit_resample(X.reshape(len(X), -1), y)
    assert X_flat_res.shape == (60, 64)
    np.testing.assert_array_equal(X_flat_res, X_res.reshape(60, -1))
    np.testing.assert_array_equal(y_flat_res, y_res)


def test_matching_image_shape_accepted_for_4d(resampled):
    X, y, _, X_res, _ = resampled
    X_again, _ = sampler(image_shape=list(IMAGE_SHAPE)).fit_resample(X, y)
    np.testing.assert_array_equal(X_again, X_res)


def test_reproducible_bytes(resampled):
    X, y, first, X_res, y_res = resampled
    second = sampler()
    X_again, y_again = second.fit_resample(X, y)
    assert X_again.tobytes() == X_res.tobytes()
    assert y_again.tobytes() == y_res.tobytes()
    pd.testing.assert_frame_equal(second.provenance_, first.provenance_)


def test_other_seed_differs(resampled):
    X, y, _, X_res, _ = resampled
    X_other, _ = sampler(random_state=1).fit_resample(X, y)
    assert not np.array_equal(X_other[len(X):], X_res[len(X):])


# --- fitted attributes and provenance ------------------------------------------


def test_fitted_attributes(resampled):
    X, _, fitted, _, _ = resampled
    assert fitted.sampling_strategy_ == {1: 12, 2: 16}
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])
    assert fitted.image_shape_ == IMAGE_SHAPE
    assert fitted.n_features_in_ == 64
    assert fitted.preset_.widths == (4, 8)
    assert fitted.preset_.decoder_widths == (8, 4)
    assert fitted.encoder_.input_shape == (None, *IMAGE_SHAPE)
    assert fitted.decoder_.output_shape == (None, *IMAGE_SHAPE)
    assert set(fitted.history_) >= {"loss", "reconstruction", "penalty"}
    assert len(fitted.history_["loss"]) == 1
    assert not hasattr(fitted, "sample_indices_")


def test_fit_trains_without_resampling():
    X, y = make_images()
    fitted = sampler().fit(X, y)
    assert fitted.encoder_ is not None
    assert fitted.sampling_strategy_ == {1: 12, 2: 16}
    assert not hasattr(fitted, "provenance_")


def test_provenance_columns(resampled):
    X, y, fitted, _, y_res = resampled
    provenance = fitted.provenance_
    assert list(provenance.columns) == ["row", "label", "method", "parent_a", "parent_b", "weight"]
    assert provenance["row"].tolist() == list(range(len(X), len(y_res)))
    assert provenance["label"].tolist() == y_res[len(X):].tolist()
    assert set(provenance["method"]) == {"SMOTE"}
    assert (y[provenance["parent_a"]] == provenance["label"].to_numpy()).all()
    assert (y[provenance["parent_b"]] == provenance["label"].to_numpy()).all()
    assert (provenance["parent_a"] != provenance["parent_b"]).all()
    assert provenance["weight"].between(0.0, 1.0, inclusive="left").all()


def test_provenance_reproduces_images(resampled):
    from utils.model import decode_codes, encode_images

    X, _, fitted, X_res, _ = resampled
    provenance = fitted.provenance_
    codes = encode_images(fitted.encoder_, X)
    start = codes[provenance["parent_a"]]
    weight = provenance["weight"].to_numpy(np.float32)[:, None]
    rebuilt = decode_codes(fitted.decoder_, start + weight * (codes[provenance["parent_b"]] - start))
    difference = np.abs(rebuilt.astype(int) - X_res[len(X):].astype(int))
    assert difference.max() <= 1


def test_small_class_warns_naming_class():
    X, y = make_images()
    with pytest.warns(SmallClassWarning, match=r"Class 2 has 4 samples"):
        sampler(k_neighbors=5).fit_resample(X, y)


def test_neighbors_estimator_accepted():
    X, y = make_images()
    fitted = sampler(k_neighbors=NearestNeighbors(n_neighbors=2))
    _, y_res = fitted.fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == {0: 20, 1: 20, 2: 20}


# --- label types ---------------------------------------------------------------


def _labels(kind, y):
    names = np.array(["cat", "dog", "owl"])
    if kind == "int":
        return y
    if kind == "str":
        return names[y]
    if kind == "series":
        return pd.Series(names[y], name="animal")
    return pd.Series(pd.Categorical(names[y], categories=["owl", "cat", "dog", "unused"]), name="animal")


@pytest.mark.parametrize("kind", ["int", "str", "series", "categorical"])
def test_label_types_preserved(kind):
    X, y = make_images()
    labels = _labels(kind, y)
    X_res, y_res = sampler().fit_resample(X, labels)
    assert type(y_res) is type(labels)
    assert len(y_res) == len(X_res) == 60
    values = np.asarray(y_res)
    np.testing.assert_array_equal(values[:len(y)], np.asarray(labels))
    expected_new = np.asarray(_labels("str" if kind != "int" else "int", np.repeat([1, 2], [12, 16])))
    np.testing.assert_array_equal(values[len(y):], expected_new)
    if kind in ("series", "categorical"):
        assert y_res.name == "animal"
        assert y_res.dtype == labels.dtype
    if kind == "str":
        assert y_res.dtype.kind == "U"


# --- latent samplers and shortfall ---------------------------------------------


@pytest.mark.parametrize(
    "latent_sampler",
    [
        BorderlineSMOTE(k_neighbors=2, m_neighbors=4),
        SVMSMOTE(k_neighbors=2, m_neighbors=4),
        ADASYN(n_neighbors=2),
        KMeansSMOTE(k_neighbors=2, kmeans_estimator=2, cluster_balance_threshold=0.0),
        RandomOverSampler(),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_latent_sampler_counts(latent_sampler):
    # Overlapping classes give borderline images, without which BorderlineSMOTE
    # and ADASYN make no codes at all.
    X, y = make_images(darkest=110, brightest=140)
    fitted = sampler(latent_sampler=latent_sampler)
    with warnings.catch_warnings():
        # SVMSMOTE falls short on these tiny classes, and the top-up has its own tests below.
        warnings.simplefilter("ignore", LatentSamplerShortfallWarning)
        X_res, y_res = fitted.fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == {0: 20, 1: 20, 2: 20}
    np.testing.assert_array_equal(X_res[:len(X)], X)
    methods = set(fitted.provenance_["method"])
    assert type(latent_sampler).__name__ in methods
    assert methods <= {type(latent_sampler).__name__, "SMOTE (fill)"}
    assert latent_sampler.get_params()["sampling_strategy"] == "auto", "the instance given must not change"


def test_latent_sampler_provenance_unknown_parents():
    X, y = make_images()
    fitted = sampler(latent_sampler=RandomOverSampler())
    with warnings.catch_warnings():
        warnings.simplefilter("error", LatentSamplerShortfallWarning)
        fitted.fit_resample(X, y)
    provenance = fitted.provenance_
    assert set(provenance["method"]) == {"RandomOverSampler"}
    assert (provenance["parent_a"] == -1).all()
    assert (provenance["parent_b"] == -1).all()
    assert provenance["weight"].isna().all()


def test_shortfall_fill_warns_and_tops_up():
    X, y = make_images()
    # FunctionSampler() returns its input unchanged, so it makes no new codes at all.
    fitted = sampler(latent_sampler=FunctionSampler(), shortfall="fill")
    with pytest.warns(LatentSamplerShortfallWarning, match=r"FunctionSampler .*class 1: 0 of 12"):
        _, y_res = fitted.fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == {0: 20, 1: 20, 2: 20}
    assert set(fitted.provenance_["method"]) == {"SMOTE (fill)"}


def test_shortfall_raise_names_method_and_class():
    X, y = make_images()
    with pytest.raises(ValueError, match=r"FunctionSampler .*class 1: 0 of 12 requested; class 2: 0 of 16"):
        sampler(latent_sampler=FunctionSampler(), shortfall="raise").fit_resample(X, y)


def test_shortfall_raise_after_sampler_error():
    X, y = make_images()
    # A threshold above 1 leaves no cluster with enough minority images, so KMeansSMOTE raises.
    latent = KMeansSMOTE(k_neighbors=2, kmeans_estimator=2, cluster_balance_threshold=2.0)
    with pytest.raises(ValueError, match=r"KMeansSMOTE .*class 1: 0 of 12.*RuntimeError") as raised:
        sampler(latent_sampler=latent, shortfall="raise").fit_resample(X, y)
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_latent_sampler_dropping_rows_rejected():
    X, y = make_images()
    dropping = FunctionSampler(func=lambda codes, labels: (codes[1:], labels[1:]))
    with pytest.raises(ValueError, match="original codes first"):
        sampler(latent_sampler=dropping).fit_resample(X, y)


# --- a class of one image ------------------------------------------------------


def test_single_image_class_raises_before_training():
    X, y = make_images(sizes=(20, 8, 1))
    fitted = sampler()
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"single image.*: 2 \(needs 19 new\).*single_sample='duplicate'"):
        fitted.fit_resample(X, y)
    # Training takes over a second even at this size, and the check runs before it.
    assert time.perf_counter() - start < 1.0
    assert not hasattr(fitted, "encoder_")


def test_single_image_class_names_str_label():
    X, y = make_images(sizes=(20, 8, 1))
    labels = np.array(["cat", "dog", "owl"])[y]
    with pytest.raises(ValueError, match=r"single image.*: 'owl' \(needs 19 new\)"):
        sampler().fit_resample(X, labels)


def test_single_image_class_raises_in_fit():
    X, y = make_images(sizes=(20, 8, 1))
    fitted = sampler()
    with pytest.raises(ValueError, match="single image"):
        fitted.fit(X, y)
    assert not hasattr(fitted, "encoder_")


def test_single_image_class_duplicate():
    X, y = make_images(sizes=(20, 8, 1))
    fitted = sampler(single_sample="duplicate")
    X_res, y_res = fitted.fit_resample(X, y)
    assert dict(Counter(y_res.tolist())) == {0: 20, 1: 20, 2: 20}
    copies = X_res[y_res == 2]
    assert len(copies) == 20
    assert (copies == X[y == 2]).all()
    duplicates = fitted.provenance_[fitted.provenance_["method"] == "duplicate"]
    assert len(duplicates) == 19
    assert (duplicates["parent_a"] == 28).all()
    assert (duplicates["weight"] == 0.0).all()


# --- scikit-learn conventions --------------------------------------------------


def test_clone_unfitted_copy(resampled):
    _, _, fitted, _, _ = resampled
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "encoder_")


def test_clone_deep_copies_latent_sampler():
    original = sampler(latent_sampler=BorderlineSMOTE(k_neighbors=2))
    copy = clone(original)
    assert copy.latent_sampler is not original.latent_sampler
    assert copy.get_params()["latent_sampler__k_neighbors"] == 2


def test_pickle_unfitted():
    restored = pickle.loads(pickle.dumps(sampler()))
    assert restored.get_params() == sampler().get_params()


def test_dataframe_and_series_round_trip():
    X, y = make_images()
    columns = [f"pixel_{i}" for i in range(64)]
    X_frame = pd.DataFrame(X.reshape(len(X), -1).astype(np.float32) / 255.0, columns=columns)
    y_series = pd.Series(y, name="class")
    fitted = sampler(image_shape=IMAGE_SHAPE)
    X_res, y_res = fitted.fit_resample(X_frame, y_series)
    assert isinstance(X_res, pd.DataFrame)
    assert list(X_res.columns) == columns
    assert (X_res.dtypes == np.float32).all()
    assert isinstance(y_res, pd.Series)
    assert y_res.name == "class"
    pd.testing.assert_frame_equal(X_res.iloc[:len(X)], X_frame)
    np.testing.assert_array_equal(fitted.feature_names_in_, columns)
    np.testing.assert_array_equal(fitted.get_feature_names_out(), columns)


def test_list_round_trip():
    X, y = make_images(sizes=(10, 6))
    X_list = (X.reshape(len(X), -1) / 255.0).tolist()
    X_res, y_res = sampler(image_shape=IMAGE_SHAPE).fit_resample(X_list, y.tolist())
    assert isinstance(X_res, list)
    assert isinstance(y_res, list)
    assert len(X_res) == len(y_res) == 20
    assert X_res[:len(X)] == X_list


def test_one_hot_target_round_trip():
    X, y = make_images(sizes=(10, 6, 4))
    one_hot = np.eye(3, dtype=np.int64)[y]
    _, y_res = sampler().fit_resample(X, one_hot)
    assert y_res.shape == (30, 3)
    np.testing.assert_array_equal(y_res.sum(axis=1), np.ones(30))
    assert dict(Counter(y_res.argmax(axis=1).tolist())) == {0: 10, 1: 10, 2: 10}


def test_dtypes_preserved_and_column_target():
    X, y = make_images(sizes=(10, 6))
    X_res, y_res = sampler().fit_resample(X.astype(np.float32) / 255.0, y.astype(np.int32).reshape(-1, 1))
    assert X_res.dtype == np.float32
    assert y_res.dtype == np.int32
    assert y_res.shape == (20,)


# --- invalid input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "params", "message"),
    [
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X / 255.0), {},
         r"1 NaN or infinite values in 1 images \(first at index 0\).*Drop or repair"),
        (lambda X: X / 255.0 * 2.0, {}, r"from 0 to 2, but float images must lie in \[0, 1\]. Divide"),
        (lambda X: X / 255.0 - 0.5, {}, r"from -0\.\d+ to .*must lie in \[0, 1\]"),
        (lambda X: X[..., 0], {}, r"shape \(32, 8, 8\).*X\[\.\.\., np\.newaxis\]"),
        (lambda X: X[:, :, :, :, None], {}, r"\(N, height, width, channels\).*shape \(32, 8, 8, 1, 1\)"),
        (lambda X: X.reshape(len(X), -1), {}, r"flattened to 64 values.*image_shape is None.*image_shape="),
        (lambda X: X.reshape(len(X), -1), {"image_shape": (4, 4, 1)}, r"\(4, 4, 1\) has 16 values, but X has 64"),
        (lambda X: X, {"image_shape": (4, 16, 1)}, r"image_shape is \(4, 16, 1\), but X contains images of shape \(8, 8, 1\)"),
        (lambda X: X.astype(np.int64), {}, r"dtype int64.*uint8 images in \[0, 255\] or float images in \[0, 1\].*astype"),
    ],
    ids=["nan", "above-one", "negative", "three-dims", "five-dims", "flat-no-shape", "shape-product", "shape-mismatch",
         "int64"],
)
def test_invalid_images_rejected(change, params, message):
    X, y = make_images()
    fitted = sampler(**params)
    with pytest.raises(ValueError, match=message):
        fitted.fit_resample(change(X), y)
    assert not hasattr(fitted, "encoder_")


def test_single_class_rejected():
    X, _ = make_images()
    with pytest.raises(ValueError, match="at least 2 classes"):
        sampler().fit_resample(X, np.zeros(len(X), dtype=int))


def test_invalid_parameter_rejected():
    X, y = make_images()
    with pytest.raises(ValueError, match="shortfall"):
        sampler(shortfall="ignore").fit_resample(X, y)


def test_unknown_preset_rejected():
    X, y = make_images()
    with pytest.raises(ValueError, match=r"preset must be one of \['lite', 'paper'\]"):
        sampler(preset="huge").fit_resample(X, y)


# --- estimator checks ----------------------------------------------------------

# The generic checks feed tabular data: make_classification (20 features, values
# about -7 to 7), make_blobs scaled to zero mean, or 1 to 3 uniform features. An
# image sampler rejects all of it, because float images must lie in [0, 1] and 2
# or 3 features fit no image that two stride-2 stages can encode. The tests above
# check the same properties on image data: dataframe, list, one-hot and column
# targets, dtypes, feature names, n_features_in_, and no sample_indices_.
OUT_OF_RANGE = "feeds tabular data outside [0, 1], which float images must not have"
TOO_FEW_FEATURES = "feeds 1 to 3 features, which match no image shape (4 pixels a side at least)"
CHECK_IMAGE_SHAPE = (4, 5, 1)

IMBLEARN_EXPECTED_FAILURES = {
    "check_samplers_fit": TOO_FEW_FEATURES,
    "check_samplers_fit_resample": OUT_OF_RANGE,
    "check_samplers_sampling_strategy_fit_resample": OUT_OF_RANGE,
    "check_samplers_pandas": OUT_OF_RANGE,
    "check_samplers_pandas_sparse": "feeds a sparse dataframe, and images are dense so sparse input is rejected",
    "check_samplers_list": OUT_OF_RANGE,
    "check_samplers_multiclass_ova": OUT_OF_RANGE,
    "check_samplers_preserve_dtype": OUT_OF_RANGE,
    "check_samplers_sample_indices": OUT_OF_RANGE,
    "check_samplers_2d_target": OUT_OF_RANGE,
    "check_sampler_get_feature_names_out": OUT_OF_RANGE,
    "check_sampler_get_feature_names_out_pandas": OUT_OF_RANGE,
}

SKLEARN_EXPECTED_FAILURES = {
    "check_fit_score_takes_y": TOO_FEW_FEATURES,
    "check_estimators_overwrite_params": OUT_OF_RANGE,
    "check_dont_overwrite_parameters": OUT_OF_RANGE,
    "check_estimators_fit_returns_self": OUT_OF_RANGE,
    "check_readonly_memmap_input": OUT_OF_RANGE,
    "check_n_features_in_after_fitting": OUT_OF_RANGE,
    "check_positive_only_tag_during_fit": OUT_OF_RANGE,
    "check_estimators_dtypes": OUT_OF_RANGE,
    "check_dtype_object": "feeds object arrays, and only uint8 or float images are accepted",
    "check_pipeline_consistency": OUT_OF_RANGE,
    "check_estimators_nan_inf": TOO_FEW_FEATURES,
    "check_estimators_pickle": OUT_OF_RANGE,
    "check_f_contiguous_array_estimator": OUT_OF_RANGE,
    "check_methods_sample_order_invariance": OUT_OF_RANGE,
    "check_methods_subset_invariance": OUT_OF_RANGE,
    "check_fit2d_1feature": "expects 'n_features = 1' in the error, but the value range is checked first",
    "check_dict_unchanged": OUT_OF_RANGE,
    "check_fit_idempotent": OUT_OF_RANGE,
    "check_fit_check_is_fitted": OUT_OF_RANGE,
    "check_n_features_in": OUT_OF_RANGE,
    "check_fit2d_predict1d": OUT_OF_RANGE,
}


def _check_id(value):
    """Name a check by its function, and leave other parameters to pytest's default ids."""
    function = getattr(value, "func", value)
    return getattr(function, "__name__", None)


# imblearn's parametrize_with_checks hands pytest a generator, which pytest 9
# deprecates, so the list of checks is built here.
@pytest.mark.parametrize(
    ("estimator", "check"),
    list(estimator_checks_generator(sampler(image_shape=CHECK_IMAGE_SHAPE, widths=(4,)),
                                    expected_failed_checks=IMBLEARN_EXPECTED_FAILURES, mark="xfail")),
    ids=lambda value: _check_id(value),
)
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


@parametrize_with_sklearn_checks(
    [sampler(image_shape=CHECK_IMAGE_SHAPE, widths=(4,))],
    expected_failed_checks=lambda estimator: SKLEARN_EXPECTED_FAILURES,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_resample_codes_matches_built_in_smote():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(14, 3)).astype(np.float32)
    y = np.array([0] * 8 + [1] * 6)
    new_codes, new_labels, provenance = DeepSMOTE(k_neighbors=2, random_state=1).resample_codes(codes, y)
    assert new_labels.tolist() == [1, 1]
    assert provenance["row"].tolist() == [14, 15]
    for row, code in zip(provenance.itertuples(), new_codes):
        expected = codes[row.parent_a] + row.weight * (codes[row.parent_b] - codes[row.parent_a])
        np.testing.assert_allclose(code, expected, atol=1e-6)


def test_resample_codes_with_latent_sampler():
    from imblearn.over_sampling import RandomOverSampler

    codes = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.array([0] * 7 + [1] * 3)
    sampler = DeepSMOTE(latent_sampler=RandomOverSampler(), random_state=0)
    new_codes, new_labels, provenance = sampler.resample_codes(codes, y)
    assert new_labels.tolist() == [1] * 4
    assert set(provenance["method"]) == {"RandomOverSampler"}
    assert all(any(np.array_equal(code, real) for real in codes[7:]) for code in new_codes)


def test_resample_codes_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="one row per label"):
        DeepSMOTE().resample_codes(np.zeros((3, 2)), [0, 1])
