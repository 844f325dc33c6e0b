"""Tests of latent SMOTE with provenance (utils.oversampling)."""

import contextlib
import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from utils.oversampling import (
    SmallClassWarning,
    interpolate,
    latent_smote,
    samples_to_generate,
    smote_pairs,
)

# Class sizes 10, 6 and 3 leave class 2 with fewer samples than k_neighbors=5.
SIZES = {0: 10, 1: 6, 2: 3}


@pytest.fixture
def codes_and_labels():
    rng = np.random.RandomState(0)
    y = np.repeat(list(SIZES), list(SIZES.values()))
    # Separate clusters per class, so a wrong-class neighbour would also be far away.
    codes = rng.normal(size=(len(y), 4)) + 5.0 * y[:, None]
    return codes.astype(np.float32), y


def _nearest_same_class(codes, y, index, k):
    """Return the indices of the k nearest other samples of the class of ``codes[index]``."""
    members = np.flatnonzero(y == y[index])
    members = members[members != index]
    distances = np.linalg.norm(codes[members] - codes[index], axis=1)
    return set(members[np.argsort(distances)[:k]].tolist())


@contextlib.contextmanager
def _no_warning():
    """Turn any warning inside the block into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _quiet_latent_smote(*args, **kwargs):
    with pytest.warns(SmallClassWarning):
        return latent_smote(*args, **kwargs)


def test_codes_lie_between_parents(codes_and_labels):
    codes, y = codes_and_labels
    synthetic = _quiet_latent_smote(codes, y, k_neighbors=5, random_state=1)
    start = codes[synthetic.parent_a]
    expected = start + synthetic.weight[:, None] * (codes[synthetic.parent_b] - start)
    np.testing.assert_allclose(synthetic.codes, expected, atol=1e-6)
    assert np.all(synthetic.weight >= 0.0)
    assert np.all(synthetic.weight < 1.0)


def test_parent_b_among_nearest_neighbours(codes_and_labels):
    codes, y = codes_and_labels
    k = 2
    synthetic = latent_smote(codes, y, k_neighbors=k, random_state=2)
    assert len(synthetic) > 0
    for a, b in zip(synthetic.parent_a, synthetic.parent_b):
        assert b in _nearest_same_class(codes, y, a, k), (a, b)


def test_parents_have_synthetic_class(codes_and_labels):
    codes, y = codes_and_labels
    synthetic = _quiet_latent_smote(codes, y, random_state=3)
    np.testing.assert_array_equal(y[synthetic.parent_a], synthetic.labels)
    np.testing.assert_array_equal(y[synthetic.parent_b], synthetic.labels)


def test_parents_are_distinct(codes_and_labels):
    codes, y = codes_and_labels
    synthetic = _quiet_latent_smote(codes, y, random_state=4)
    assert np.all(synthetic.parent_a != synthetic.parent_b)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("auto", {1: 4, 2: 7}),
        ("not majority", {1: 4, 2: 7}),
        ("minority", {2: 7}),
        ("not minority", {0: 0, 1: 4}),
        ("all", {0: 0, 1: 4, 2: 7}),
        ({1: 8, 2: 5}, {1: 2, 2: 2}),
        (lambda labels: {2: 9}, {2: 6}),
    ],
    ids=["auto", "not-majority", "minority", "not-minority", "all", "dict", "callable"],
)
def test_counts_follow_sampling_strategy(codes_and_labels, strategy, expected):
    codes, y = codes_and_labels
    assert samples_to_generate(y, strategy) == expected
    with pytest.warns(SmallClassWarning) if expected.get(2, 0) > 0 else _no_warning():
        synthetic = latent_smote(codes, y, sampling_strategy=strategy, random_state=5)
    generated = Counter(synthetic.labels.tolist())
    assert generated == Counter({label: n for label, n in expected.items() if n > 0})


def test_counts_float_strategy_two_classes(codes_and_labels):
    codes, y = codes_and_labels
    keep = y != 2
    # 0.8 of the majority count 10 is 8, so class 1 needs 2 more.
    assert samples_to_generate(y[keep], 0.8) == {1: 2}
    synthetic = latent_smote(codes[keep], y[keep], sampling_strategy=0.8, random_state=6)
    assert Counter(synthetic.labels.tolist()) == Counter({1: 2})


def test_same_seed_identical(codes_and_labels):
    codes, y = codes_and_labels
    first = _quiet_latent_smote(codes, y, random_state=7)
    second = _quiet_latent_smote(codes, y, random_state=7)
    for field in ("codes", "labels", "parent_a", "parent_b", "weight"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


def test_different_seed_differs(codes_and_labels):
    codes, y = codes_and_labels
    first = _quiet_latent_smote(codes, y, random_state=7)
    second = _quiet_latent_smote(codes, y, random_state=8)
    assert not np.array_equal(first.codes, second.codes)


def test_single_sample_class_raises():
    codes = np.arange(6, dtype=np.float32).reshape(6, 1)
    y = np.array(["big"] * 5 + ["lonely"])
    with pytest.raises(ValueError, match=r"Class \S*'lonely'\S* has 1 sample") as raised:
        latent_smote(codes, y, random_state=0)
    assert "needs 4 new ones" in str(raised.value)


def test_single_sample_class_uses_display_name():
    codes = np.arange(6, dtype=np.float32).reshape(6, 1)
    y = np.array([0] * 5 + [1])
    with pytest.raises(ValueError, match=r"Class 'cat' has 1 sample"):
        latent_smote(codes, y, random_state=0, class_names={1: "cat"})


def test_single_sample_class_left_alone_is_fine():
    codes = np.arange(6, dtype=np.float32).reshape(6, 1)
    y = np.array([0] * 3 + [1] * 2 + [2])
    synthetic = latent_smote(codes, y, sampling_strategy={1: 3}, k_neighbors=1, random_state=0)
    assert synthetic.labels.tolist() == [1]


def test_small_class_warns_naming_class(codes_and_labels):
    codes, y = codes_and_labels
    with pytest.warns(SmallClassWarning, match=r"Class 2 has 3 samples"):
        latent_smote(codes, y, k_neighbors=5, random_state=0)


def test_messages_print_labels_plainly(codes_and_labels):
    codes, y = codes_and_labels
    with pytest.warns(SmallClassWarning) as caught:
        latent_smote(codes, y, k_neighbors=5, random_state=0)
    assert str(caught[0].message).startswith("Class 2 has 3 samples")


def test_small_class_warning_needs_growth(codes_and_labels):
    codes, y = codes_and_labels
    # Class 2 is small but not grown here, so nothing warns.
    with _no_warning():
        latent_smote(codes, y, sampling_strategy={1: 8}, k_neighbors=5, random_state=0)


def test_interpolate_hand_values():
    codes = np.array([[0.0], [1.0], [3.0]], dtype=np.float32)
    result = interpolate(codes, np.array([0, 2]), np.array([1, 1]), np.array([0.5, 0.25]))
    np.testing.assert_array_equal(result, np.array([[0.5], [2.5]], dtype=np.float32))
    assert result.dtype == np.float32


def test_smote_pairs_fixed_neighbours():
    codes = np.array([[0.0], [1.0], [3.0]])
    # With k=1 the nearest other code is fixed: 0 -> 1, 1 -> 0 (1 closer than 3), 3 -> 1.
    nearest = {0: 1, 1: 0, 2: 1}
    base, neighbour = smote_pairs(codes, 50, 1, np.random.RandomState(0))
    assert set(base.tolist()) == {0, 1, 2}
    for a, b in zip(base, neighbour):
        assert b == nearest[a]


def test_latent_smote_hand_case():
    codes = np.array([[0.0], [1.0], [3.0], [10.0], [11.0], [12.0], [13.0]], dtype=np.float32)
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    nearest = {0: 1, 1: 0, 2: 1}
    synthetic = latent_smote(codes, y, k_neighbors=1, random_state=0)
    assert synthetic.labels.tolist() == [0]
    a, b, weight = int(synthetic.parent_a[0]), int(synthetic.parent_b[0]), synthetic.weight[0]
    assert b == nearest[a]
    expected = codes[a, 0] + weight * (codes[b, 0] - codes[a, 0])
    assert synthetic.codes[0, 0] == pytest.approx(expected, abs=1e-6)
    assert codes[[a, b], 0].min() <= synthetic.codes[0, 0] <= codes[[a, b], 0].max()


def test_duplicate_codes_not_self_paired():
    codes = np.array([[0.0], [0.0], [0.0], [5.0], [9.0], [9.0], [9.0], [9.0], [9.0], [9.0]], dtype=np.float32)
    y = np.array([0] * 4 + [1] * 6)
    synthetic = latent_smote(codes, y, k_neighbors=1, random_state=0)
    assert len(synthetic) == 2
    assert np.all(synthetic.parent_a != synthetic.parent_b)


def test_smote_pairs_all_duplicates_not_self():
    codes = np.zeros((4, 2))
    base, neighbour = smote_pairs(codes, 40, 2, np.random.RandomState(0))
    assert np.all(base != neighbour)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_codes_raise(codes_and_labels, bad):
    codes, y = codes_and_labels
    codes = codes.copy()
    codes[3, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        latent_smote(codes, y, random_state=0)


def test_mismatched_lengths_raise(codes_and_labels):
    codes, y = codes_and_labels
    with pytest.raises(ValueError, match=r"N == len\(y\)"):
        latent_smote(codes, y[:-1], random_state=0)


def test_labels_keep_dtype():
    codes = np.arange(8, dtype=np.float32).reshape(8, 1)
    y = np.array(["cat"] * 5 + ["dog"] * 3)
    synthetic = latent_smote(codes, y, k_neighbors=2, random_state=0)
    assert synthetic.labels.dtype == y.dtype
    assert synthetic.labels.tolist() == ["dog", "dog"]


def test_nothing_to_grow_is_empty(codes_and_labels):
    codes, y = codes_and_labels
    synthetic = latent_smote(codes, y, sampling_strategy={1: 6}, random_state=0)
    assert len(synthetic) == 0
    assert synthetic.codes.shape == (0, codes.shape[1])


def test_neighbors_estimator_accepted(codes_and_labels):
    codes, y = codes_and_labels
    estimator = NearestNeighbors(n_neighbors=1)
    synthetic = latent_smote(codes, y, sampling_strategy={1: 9}, k_neighbors=estimator, random_state=0)
    for a, b in zip(synthetic.parent_a, synthetic.parent_b):
        assert b in _nearest_same_class(codes, y, a, 1)
    assert not hasattr(estimator, "n_samples_fit_"), "the estimator given should be cloned, not fitted"


def test_zero_neighbours_rejected():
    with pytest.raises(ValueError, match="k_neighbors must be at least 1"):
        smote_pairs(np.zeros((3, 1)), 2, 0, 0)
