"""Scores, test-set counts, image-quality distances and the copy check of utils.evaluation."""

import numpy as np
import pandas as pd
import pytest

from utils import evaluation

Y_TRUE = [0, 0, 1, 1, 2, 2]
Y_PRED = [0, 1, 1, 1, 2, 0]


def test_scores_of_hand_made_predictions():
    scores = evaluation.classification_scores(Y_TRUE, Y_PRED, n_classes=3)
    np.testing.assert_allclose(scores["recall"], [0.5, 1.0, 0.5])
    assert scores["acsa"] == pytest.approx(2 / 3, abs=1e-12)
    assert scores["gm"] == pytest.approx(0.25 ** (1 / 3), abs=1e-12)
    # Per-class F1: 2*0.5*0.5/1 = 1/2, 2*(2/3)*1/(5/3) = 4/5, 2*1*0.5/1.5 = 2/3.
    assert scores["macro_f1"] == pytest.approx(59 / 90, abs=1e-12)
    # Mean recall 2/3, mean specificity (3/4 + 3/4 + 1) / 3 = 5/6.
    assert scores["gm_macro"] == pytest.approx(np.sqrt(5 / 9), abs=1e-12)


def test_scores_of_perfect_predictions():
    scores = evaluation.classification_scores(Y_TRUE, Y_TRUE, n_classes=3)
    assert (scores["acsa"], scores["gm"], scores["macro_f1"]) == (1.0, 1.0, 1.0)


def test_gm_zero_when_class_never_found():
    scores = evaluation.classification_scores([0, 0, 1, 1], [0, 0, 0, 0], n_classes=2)
    assert scores["gm"] == 0.0
    assert scores["acsa"] == pytest.approx(0.5)


def test_class_missing_from_test_counts_as_zero_recall():
    scores = evaluation.classification_scores([0, 1], [0, 1], n_classes=3)
    np.testing.assert_allclose(scores["recall"], [1.0, 1.0, 0.0])
    assert scores["acsa"] == pytest.approx(2 / 3)


def test_scores_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="equal length"):
        evaluation.classification_scores([0, 1, 1], [0, 1], n_classes=2)


def test_scores_reject_empty_input():
    with pytest.raises(ValueError, match="empty"):
        evaluation.classification_scores([], [], n_classes=2)


def test_scores_reject_label_outside_classes():
    with pytest.raises(ValueError, match=r"\[0, 2\), found \[5\]"):
        evaluation.classification_scores([0, 1], [0, 5], n_classes=2)


def test_imbalanced_counts_follow_paper():
    train = [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]
    counts = evaluation.imbalanced_test_counts(train, [1000] * 10)
    assert counts == [1000, 500, 250, 187, 125, 87, 50, 25, 15, 10]


def test_imbalanced_counts_largest_train_class_first():
    train = [40, 60, 100, 200, 350, 500, 750, 1000, 2000, 4000]
    counts = evaluation.imbalanced_test_counts(train, [1000] * 10)
    assert counts == [10, 15, 25, 50, 87, 125, 187, 250, 500, 1000]


def test_imbalanced_counts_scaled_down():
    train = [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]
    counts = evaluation.imbalanced_test_counts(train, [20] * 10)
    # factor 20 / 1000: 20, 10, 5, 3.74, 2.5, 1.74, 1, 0.5, 0.3, 0.2, rounded down, at least 1.
    assert counts == [20, 10, 5, 3, 2, 1, 1, 1, 1, 1]


def test_imbalanced_counts_other_class_number_mirror_training():
    assert evaluation.imbalanced_test_counts([30, 10, 20], [15, 15, 15]) == [15, 5, 10]


def test_imbalanced_counts_reject_mismatched_classes():
    with pytest.raises(ValueError, match="3 classes but test_counts has 2"):
        evaluation.imbalanced_test_counts([3, 2, 1], [5, 5])


def test_imbalanced_indices_have_exact_counts():
    y_train = np.repeat(np.arange(10), [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40])
    y_test = np.repeat(np.arange(10), 1000)
    rows = evaluation.imbalanced_test_indices(y_train, y_test, 10, random_state=0)
    assert np.bincount(y_test[rows]).tolist() == [1000, 500, 250, 187, 125, 87, 50, 25, 15, 10]
    assert len(np.unique(rows)) == len(rows)


def test_fid_identical_sets_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 8))
    assert evaluation.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_fid_shifted_gaussians_is_squared_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(20000, 4))
    b = rng.normal(size=(20000, 4)) + np.array([1.0, 2.0, 0.0, 0.0])
    assert evaluation.frechet_distance(a, b) == pytest.approx(5.0, abs=0.05)


def test_fid_rejects_different_feature_sizes():
    with pytest.raises(ValueError, match="same n_features"):
        evaluation.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_kid_near_zero_for_one_distribution():
    rng = np.random.default_rng(2)
    same = evaluation.kernel_distance(rng.normal(size=(400, 6)), rng.normal(size=(400, 6)))
    assert abs(same) < 0.05


def test_kid_positive_for_shifted_distribution():
    rng = np.random.default_rng(3)
    shifted = evaluation.kernel_distance(rng.normal(size=(400, 6)), rng.normal(size=(400, 6)) + 1.0)
    same = evaluation.kernel_distance(rng.normal(size=(400, 6)), rng.normal(size=(400, 6)))
    assert shifted > 0.5
    assert shifted > 10 * abs(same)


def test_kid_subsets_reject_too_few_rows():
    with pytest.raises(ValueError, match="at least 2 rows"):
        evaluation.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def make_images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 6, 6, 1), dtype=np.uint8)


def test_copy_check_flags_exact_copies():
    x_train = make_images(20, 0)
    y_train = np.array([0] * 10 + [1] * 10)
    x_synthetic = x_train[[0, 1, 2, 12]].copy()
    y_synthetic = np.array([0, 0, 0, 1])
    check = evaluation.copy_check(x_synthetic, y_synthetic, x_train, y_train, ["a", "b"])
    assert check["exact_copies"].tolist() == [3, 1]
    assert check["too_close"].tolist() == [1.0, 1.0]
    assert (check["synthetic_median"] == 0.0).all()


def test_copy_check_passes_new_images():
    x_train, x_synthetic = make_images(20, 0), make_images(8, 1)
    y_train, y_synthetic = np.array([0] * 10 + [1] * 10), np.array([0] * 4 + [1] * 4)
    check = evaluation.copy_check(x_synthetic, y_synthetic, x_train, y_train, ["a", "b"])
    assert check["exact_copies"].sum() == 0
    assert (check["synthetic_median"] > 0).all()


def test_copy_check_rejects_other_image_shape():
    with pytest.raises(ValueError, match="compare images of one data set"):
        evaluation.copy_check(make_images(2, 0)[:, :4], np.zeros(2, int), make_images(4, 1), np.zeros(4, int), ["a"])


def test_copy_check_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="one label per image"):
        evaluation.copy_check(make_images(3, 0), np.zeros(2, int), make_images(4, 1), np.zeros(4, int), ["a"])


def test_oversample_pixels_balances_classes():
    x = make_images(12, 0)
    y = np.array([0] * 8 + [1] * 4)
    for method in ("random_oversampling", "pixel_smote"):
        x_new, y_new = evaluation.oversample_pixels(x, y, method, random_state=0)
        assert np.bincount(y_new).tolist() == [8, 8], method
        assert x_new.dtype == np.uint8, method
        np.testing.assert_array_equal(x_new[:12], x)


def test_oversample_pixels_rejects_unknown_method():
    with pytest.raises(ValueError, match="method must be one of"):
        evaluation.oversample_pixels(make_images(4, 0), np.array([0, 0, 1, 1]), "adasyn")


def test_summary_mean_and_spread():
    results = pd.DataFrame({
        "method": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "test_set": ["balanced"] * 4,
        "acsa": [0.5, 0.7, 0.9, 0.9], "gm": [0.4, 0.6, 0.8, 0.8], "macro_f1": [0.3, 0.5, 0.7, 0.7],
    })
    summary = evaluation.summarize_scores(results)
    assert summary["method"].tolist() == ["a", "b"]
    assert summary["acsa_mean"].tolist() == pytest.approx([0.6, 0.9])
    assert summary["acsa_std"].tolist() == pytest.approx([np.sqrt(0.02), 0.0])
    assert summary["seeds"].tolist() == [2, 2]


def test_summary_rejects_missing_columns():
    with pytest.raises(ValueError, match=r"lacks the columns \['gm'"):
        evaluation.summarize_scores(pd.DataFrame({"method": ["a"], "seed": [0], "test_set": ["b"], "acsa": [1.0],
                                                  "macro_f1": [1.0]}))


def test_save_results_writes_csv(tmp_path):
    results = pd.DataFrame({"method": ["a"], "acsa": [0.5]})
    path = evaluation.save_results(results, tmp_path / "evaluation.csv")
    pd.testing.assert_frame_equal(pd.read_csv(path), results)
    assert [p.name for p in tmp_path.iterdir()] == ["evaluation.csv"]


def test_reference_halves_are_disjoint_and_stratified():
    y_test = np.repeat(np.arange(3), 10)
    first, second = evaluation.split_reference(y_test, random_state=0)
    assert len(np.intersect1d(first, second)) == 0
    assert np.bincount(y_test[first]).tolist() == [5, 5, 5]
    assert np.bincount(y_test[second]).tolist() == [5, 5, 5]


def test_deepsmote_settings_from_training_record():
    record = {"preset": "lite", "epochs": 8, "batch_size": 64, "learning_rate": 0.002, "latent_dim": 32,
              "widths": [16, 32, 64], "penalty": "code", "penalty_weight": 1.0}
    settings = evaluation.deepsmote_settings(record)
    assert settings == {"preset": "lite", "epochs": 8, "batch_size": 64, "learning_rate": 0.002, "latent_dim": 32,
                        "widths": (16, 32, 64), "penalty_weight": 1.0}


def test_classifier_features_layer_shapes():
    for kind, n_features in (("small_cnn", 128), ("resnet18", 512)):
        model = evaluation.build_classifier((16, 16, 1), 3, kind)
        assert model.output_shape == (None, 3), kind
        assert model.get_layer("features").output.shape[-1] == n_features, kind


def test_classifier_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        evaluation.build_classifier((16, 16, 1), 3, "vgg")
