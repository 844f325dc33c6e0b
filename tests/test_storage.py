"""Image arrays on disk: writing rows in blocks, memory maps, and loading a folder straight to disk."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from utils import images, storage


def rows(start: int, count: int) -> np.ndarray:
    """Images (count, 2, 2, 1) whose pixels all equal their row number plus ``start``."""
    return np.repeat(np.arange(start, start + count, dtype=np.uint8), 4).reshape(count, 2, 2, 1)


def test_write_rows_joins_sources_in_blocks(tmp_path):
    path = storage.write_rows(tmp_path / "x.npy", [rows(0, 5), rows(5, 4)], rows_per_block=2)
    stored = np.load(path)
    assert stored.shape == (9, 2, 2, 1)
    assert stored.dtype == np.uint8
    assert stored[:, 0, 0, 0].tolist() == list(range(9))


def test_write_rows_takes_index_in_its_order(tmp_path):
    path = storage.write_rows(tmp_path / "x.npy", [rows(0, 5), rows(5, 4)], index=np.array([7, 1, 8, 0]),
                              rows_per_block=3)
    assert np.load(path)[:, 0, 0, 0].tolist() == [7, 1, 8, 0]


def test_write_rows_of_empty_index(tmp_path):
    path = storage.write_rows(tmp_path / "x.npy", [rows(0, 3)], index=np.array([], dtype=np.int64))
    assert np.load(path).shape == (0, 2, 2, 1)


def test_open_images_streams_or_loads(tmp_path):
    path = storage.write_rows(tmp_path / "x.npy", [rows(0, 3)])
    mapped = storage.open_images(path, stream=True)
    loaded = storage.open_images(path)
    assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
    assert not isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(mapped, loaded)


def test_open_images_names_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        storage.open_images(tmp_path / "missing.npy")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": "x.npz"}, "must end in .npy, got 'x.npz'"),
    ({"sources": []}, "at least one array"),
    ({"sources": [rows(0, 2), rows(0, 2).astype(np.float32)]}, "must share dtype and row shape"),
    ({"index": np.array([0, 5])}, r"rows in \[0, 3\)"),
    ({"index": np.array([[0]])}, "1-D array"),
    ({"rows_per_block": 0}, "at least 1"),
])
def test_write_rows_rejects_bad_arguments(tmp_path, kwargs, message):
    arguments = {"path": "x.npy", "sources": [rows(0, 3)], **kwargs}
    arguments["path"] = tmp_path / arguments["path"]
    with pytest.raises(ValueError, match=message):
        storage.write_rows(**arguments)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# load_image_folder(out=...)


@pytest.fixture
def folder(tmp_path):
    """Two classes of five 4x4 gray images, values 10 * i (+ 100 for class b), and one broken file."""
    for name in "ab":
        (tmp_path / "data" / name).mkdir(parents=True)
        for index in range(5):
            value = 10 * index + (100 if name == "b" else 0)
            Image.fromarray(np.full((4, 4), value, np.uint8)).save(tmp_path / "data" / name / f"{index}.png")
    (tmp_path / "data" / "a" / "broken.png").write_bytes(b"not a png")
    return tmp_path / "data"


def test_load_to_disk_equals_load_to_memory(folder, tmp_path):
    in_memory = images.load_image_folder(folder, image_size=4, dtype="uint8")
    on_disk = images.load_image_folder(folder, image_size=4, dtype="uint8", out=tmp_path / "out" / "x.npy")
    assert isinstance(on_disk.x, np.memmap)
    np.testing.assert_array_equal(on_disk.x, in_memory.x)
    assert on_disk.x[:, 0, 0, 0].tolist() == [0, 10, 20, 30, 40, 100, 110, 120, 130, 140]
    assert [path.name for path, _ in on_disk.skipped] == ["broken.png"]
    # The skipped row is gone from the file, and no scratch file is left.
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["x.npy"]
    assert np.load(tmp_path / "out" / "x.npy").shape == (10, 4, 4, 1)


def test_load_to_disk_refuses_the_data_folder(folder):
    with pytest.raises(ValueError, match="lies inside the data folder"):
        images.load_image_folder(folder, image_size=4, dtype="uint8", out=folder / "a" / "x.npy")
    assert not (folder / "a" / "x.npy").exists()


def test_load_to_disk_needs_npy(folder, tmp_path):
    with pytest.raises(ValueError, match="out must be a .npy file"):
        images.load_image_folder(folder, image_size=4, dtype="uint8", out=tmp_path / "x.npz")


def test_load_to_disk_leaves_nothing_on_error(folder, tmp_path):
    (folder / "c").mkdir()
    (folder / "c" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(images.ImageFolderError, match="c"):
        images.load_image_folder(folder, image_size=4, dtype="uint8", out=tmp_path / "out" / "x.npy")
    assert list((tmp_path / "out").iterdir()) == []


def test_load_to_disk_checks_free_space(folder, tmp_path, monkeypatch):
    full_disk = images.shutil.disk_usage(tmp_path)._replace(free=100)
    monkeypatch.setattr(images.shutil, "disk_usage", lambda path: full_disk)
    with pytest.raises(images.ImageFolderError, match=r"needs about .* MB of disk .* has 0 MB free"):
        images.load_image_folder(folder, image_size=4, dtype="uint8", out=tmp_path / "out" / "x.npy")
    assert list((tmp_path / "out").iterdir()) == []
