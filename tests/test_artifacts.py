"""Hand-off files: complete or absent, checked on reading, never silently replaced."""

import logging

import numpy as np
import pytest

from utils import artifacts, handoff, paths


def test_failed_write_keeps_earlier_file(tmp_path):
    target = tmp_path / "a.json"
    artifacts.save_json(target, {"value": 1})
    with pytest.raises(RuntimeError):
        with artifacts.atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert artifacts.load_json(target) == {"value": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_replacing_file_logs_warning(tmp_path, caplog):
    target = tmp_path / "a.npz"
    artifacts.save_arrays(target, x=np.zeros(2))
    with caplog.at_level(logging.WARNING, logger="utils.artifacts"):
        artifacts.save_arrays(target, x=np.ones(2))
    assert "Replacing" in caplog.text
    assert str(target) in caplog.text


def test_arrays_round_trip_without_pickle(tmp_path):
    target = artifacts.save_arrays(tmp_path / "a.npz", x=np.arange(3), names=np.array(["é", "b"]))
    loaded = artifacts.load_arrays(target, ["x", "names"])
    assert loaded["x"].tolist() == [0, 1, 2]
    assert loaded["names"].tolist() == ["é", "b"]


def test_missing_array_names_notebook(tmp_path):
    target = artifacts.save_arrays(tmp_path / "02_prepare_dataset" / "split.npz", x=np.zeros(1))
    with pytest.raises(artifacts.IncompatibleArtifactError, match="no array named y.*02_prepare_dataset.ipynb"):
        artifacts.load_arrays(target, ["x", "y"])


def test_missing_file_names_notebook(tmp_path):
    with pytest.raises(artifacts.MissingArtifactError, match="written by notebooks/03_train_autoencoder.ipynb"):
        artifacts.require(tmp_path / "03_train_autoencoder" / "training.json")


def test_load_split_before_02_names_notebook(tmp_path):
    with pytest.raises(artifacts.MissingArtifactError, match="02_prepare_dataset.ipynb"):
        handoff.load_split(tmp_path)


def test_different_classes_rejected(tmp_path):
    with pytest.raises(artifacts.IncompatibleArtifactError, match=r"\['a', 'c'\].*expects \['a', 'b'\]"):
        artifacts.check_same_classes(["a", "b"], ["a", "c"], tmp_path / "03_train_autoencoder" / "t.json")


def test_different_shape_rejected(tmp_path):
    with pytest.raises(artifacts.IncompatibleArtifactError, match=r"shape \(32, 32, 3\).*shape \(28, 28, 1\)"):
        artifacts.check_image_shape((28, 28, 1), (32, 32, 3), tmp_path / "03_train_autoencoder" / "t.json")


def test_output_inside_data_rejected(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(ValueError, match="never writes into a data folder"):
        paths.check_outside(tmp_path / "data" / "out", tmp_path / "data")


def test_data_inside_output_rejected(tmp_path):
    (tmp_path / "out" / "data").mkdir(parents=True)
    with pytest.raises(ValueError, match="inside the output folder"):
        paths.check_outside(tmp_path / "out", tmp_path / "out" / "data")


def test_output_beside_zip_allowed(tmp_path):
    (tmp_path / "data.zip").write_bytes(b"PK")
    paths.check_outside(tmp_path / "out", tmp_path / "data.zip")


def test_relative_paths_from_repository_root():
    assert paths.resolve("data/x.zip") == paths.REPO_ROOT / "data" / "x.zip"


def test_new_run_dir_never_reuses(tmp_path):
    first = paths.new_run_dir(tmp_path)
    first.mkdir()
    second = paths.new_run_dir(tmp_path)
    assert second != first
    assert not second.exists()


def test_written_files_have_usual_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        target = artifacts.save_json(tmp_path / "a.json", {"value": 1})
        folder = artifacts.make_staging_dir(tmp_path, "images")
    finally:
        os.umask(mask)
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert oct(folder.stat().st_mode & 0o777) == oct(0o755)


def _save_small_series(output_dir, stream):
    """Save a 01 data set of 6 images (values 0-5) in two classes, and a 02 split of it."""
    x = np.repeat(np.arange(6, dtype=np.uint8), 4).reshape(6, 2, 2, 1)
    y = np.array([0, 0, 0, 1, 1, 1])
    names = np.array([f"{label}/{index}.png" for index, label in enumerate(y)])
    handoff.save_dataset(output_dir, [x[:4], x[4:]], y, list(names), ["train"] * 6, ["a", "b"], {}, stream=stream)
    dataset = handoff.load_dataset(output_dir)
    handoff.save_split(output_dir, dataset["x"], y, names, np.array([5, 0, 3, 1]), np.array([2, 4]), ["a", "b"], {})


@pytest.mark.parametrize("stream", [False, True])
def test_split_taken_by_rows(tmp_path, stream):
    _save_small_series(tmp_path, stream)
    assert handoff.is_streaming(tmp_path) is stream
    split = handoff.load_split(tmp_path)
    assert isinstance(split.x_train, np.memmap) is stream
    assert split.x_train[:, 0, 0, 0].tolist() == [5, 0, 3, 1]
    assert split.y_train.tolist() == [1, 0, 1, 0]
    assert split.test_paths.tolist() == ["0/2.png", "1/4.png"]
    # The caller can always ask for the other mode.
    assert not isinstance(handoff.load_split(tmp_path, stream=False).x_train, np.memmap)


def test_split_rejects_shared_rows(tmp_path):
    x = np.zeros((3, 2, 2, 1), np.uint8)
    with pytest.raises(ValueError, match="cannot be in both sets"):
        handoff.save_split(tmp_path, x, np.zeros(3, int), np.array(["a", "b", "c"]), np.array([0, 1]),
                           np.array([1, 2]), ["a", "b"], {})
    assert not (tmp_path / "02_prepare_dataset" / "x_train.npy").exists()


def test_images_from_another_run_rejected(tmp_path):
    _save_small_series(tmp_path, stream=False)
    np.save(tmp_path / "02_prepare_dataset" / "x_train.npy", np.zeros((3, 2, 2, 1), np.uint8))
    with pytest.raises(artifacts.IncompatibleArtifactError, match=r"x_train.npy contains 3 images, but .* has 4 labels"):
        handoff.load_split(tmp_path)
