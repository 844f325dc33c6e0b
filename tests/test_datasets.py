"""Data sources, splits and imposed imbalance."""

import zipfile

import numpy as np
import pytest

from utils import datasets


def test_paper_counts_for_ten_classes():
    counts = datasets.imbalance_counts([5000] * 10, "fashion_mnist")
    assert counts == [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]


def test_cifar10_counts():
    counts = datasets.imbalance_counts([5000] * 10, "cifar10")
    assert counts == [4500, 2000, 1000, 800, 600, 500, 400, 250, 150, 80]


def test_ratio_falls_geometrically():
    assert datasets.imbalance_counts([100, 100, 100], 100) == [100, 10, 1]
    assert datasets.imbalance_counts([90, 100, 100], 9) == [90, 30, 10]


def test_counts_list_and_mapping():
    assert datasets.imbalance_counts([10, 10, 10], [5, 4, 3]) == [5, 4, 3]
    assert datasets.imbalance_counts([10, 10, 10], {1: 2}) == [10, 2, 10]


def test_count_above_available_names_class():
    with pytest.raises(ValueError, match="class index 1 has 10 images, fewer than the 20 requested"):
        datasets.imbalance_counts([30, 10], [30, 20])


def test_paper_counts_wrong_class_number():
    with pytest.raises(ValueError, match="for 10 classes, but the data has 3"):
        datasets.imbalance_counts([5000] * 3, "mnist")


def test_unknown_paper_name():
    with pytest.raises(ValueError, match="imbalance name must be one of"):
        datasets.imbalance_counts([10] * 10, "imagenet")


def test_ratio_below_one_rejected():
    with pytest.raises(ValueError, match="at least 1"):
        datasets.imbalance_counts([10, 10], 0.5)


def test_subsample_exact_counts_and_seeded():
    y = np.array([0] * 10 + [1] * 5)
    first = datasets.subsample_per_class(y, [3, 2], random_state=0)
    second = datasets.subsample_per_class(y, [3, 2], random_state=0)
    assert np.array_equal(first, second)
    assert np.bincount(y[first]).tolist() == [3, 2]
    assert np.all(np.diff(first) > 0)


def test_stratified_split_keeps_proportions():
    y = np.array([0] * 50 + [1] * 10)
    train, test = datasets.stratified_split(y, 0.2, random_state=0)
    assert np.bincount(y[test]).tolist() == [10, 2]
    assert np.bincount(y[train]).tolist() == [40, 8]
    assert not set(train) & set(test)


def test_stratified_split_one_image_class():
    with pytest.raises(ValueError, match="class index 1 has 1 image"):
        datasets.stratified_split(np.array([0, 0, 0, 1]), 0.5, random_state=0)


def make_zip(path, names):
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"x")
    return path


def test_unpack_zip_descends_into_single_folder(tmp_path):
    source = make_zip(tmp_path / "data.zip", ["set/train/a/1.png", "set/test/a/2.png"])
    folder = datasets.unpack_source(source, tmp_path / "out" / "source")
    assert folder == tmp_path / "out" / "source" / "set"
    assert datasets.find_subsets(folder) == {"train": folder / "train", "test": folder / "test"}


def test_unpack_folder_is_only_read(tmp_path):
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "data" / "dog").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    folder = datasets.unpack_source(tmp_path / "data", tmp_path / "unused")
    assert folder == tmp_path / "data"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert datasets.find_subsets(folder) == {"all": folder}


def test_unpack_missing_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="one subfolder per class"):
        datasets.unpack_source(tmp_path / "nowhere", tmp_path / "out")


def test_unpack_non_zip_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a zip archive"):
        datasets.unpack_source(tmp_path / "notes.txt", tmp_path / "out")


def test_train_without_test_folder(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no test/ folder"):
        datasets.find_subsets(tmp_path)


def test_counts_list_length_names_classes():
    with pytest.raises(ValueError, match=r"gives 2 counts, but the data has 3 classes \(a, b, c\)"):
        datasets.imbalance_counts([10, 10, 10], [5, 4], class_names=["a", "b", "c"])


def test_count_error_names_class():
    with pytest.raises(ValueError, match="class 'dog' has 10 images"):
        datasets.imbalance_counts([30, 10], [30, 20], class_names=["cat", "dog"])


def test_single_subfolder_not_descended(tmp_path):
    (tmp_path / "data" / "bag").mkdir(parents=True)
    assert datasets.unpack_source(tmp_path / "data", tmp_path / "out") == tmp_path / "data"


def test_smote_counts_need_two_per_class():
    with pytest.raises(ValueError, match=r"'dog' \(1\)"):
        datasets.check_smote_counts([5, 1], ["cat", "dog"])
    datasets.check_smote_counts([5, 2], ["cat", "dog"])


def fake_mnist():
    x_train = np.stack([np.full((28, 28), v, np.uint8) for v in (0, 100, 200)])
    x_test = np.full((1, 28, 28), 50, np.uint8)
    return (x_train, np.array([3, 1, 3], np.uint8)), (x_test, np.array([1], np.uint8))


def test_keras_dataset_exported_as_folders(tmp_path, monkeypatch):
    import keras
    from PIL import Image

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_mnist)
    folder = datasets.unpack_source("keras:mnist", tmp_path / "source")
    assert datasets.find_subsets(folder) == {"train": folder / "train", "test": folder / "test"}
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png")) == [
        "test/1/00000.png", "train/1/00001.png", "train/3/00000.png", "train/3/00002.png"]
    with Image.open(folder / "train" / "3" / "00002.png") as image:
        assert np.asarray(image).max() == 200


def test_keras_download_failure_explains_offline_route(tmp_path, monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(RuntimeError, match="network access once.*data/fashion_mnist.zip"):
        datasets.unpack_source("keras:mnist", tmp_path / "source")
    assert list(tmp_path.iterdir()) == []


def test_unknown_keras_name(tmp_path):
    with pytest.raises(ValueError, match="unknown Keras data set 'keras:imagenet'"):
        datasets.unpack_source("keras:imagenet", tmp_path / "source")
