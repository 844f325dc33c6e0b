"""PNG export: files match the manifest, gray stays gray, values survive."""

import logging

import numpy as np
import pandas as pd
from PIL import Image

from utils import export


def test_files_match_manifest(tmp_path):
    x = np.stack([np.full((4, 5, 1), v, np.uint8) for v in (0, 200, 255)])
    manifest = export.write_images(tmp_path, x, np.array([1, 0, 1]), ["cat", "dög"], ["a.png"] * 3,
                                   ["b.png"] * 3, np.array([0.1, 0.2, 0.3]))
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "images").rglob("*.png"))
    assert on_disk == sorted(manifest["path"])
    assert manifest["path"].tolist() == ["images/dög/synthetic_000001.png", "images/cat/synthetic_000001.png",
                                         "images/dög/synthetic_000002.png"]
    assert pd.read_csv(tmp_path / "manifest.csv")["weight"].tolist() == [0.1, 0.2, 0.3]


def test_gray_png_keeps_values(tmp_path):
    x = np.full((1, 4, 5, 1), 200, np.uint8)
    export.write_images(tmp_path, x, np.array([0]), ["a"], ["p"], ["q"], np.array([0.5]))
    with Image.open(tmp_path / "images" / "a" / "synthetic_000001.png") as image:
        assert image.mode == "L"
        assert image.size == (5, 4)
        assert np.asarray(image).max() == 200


def test_colour_png_is_rgb(tmp_path):
    x = np.zeros((1, 4, 4, 3), np.uint8)
    x[..., 0] = 255
    export.write_images(tmp_path, x, np.array([0]), ["a"], ["p"], ["q"], np.array([0.5]))
    with Image.open(tmp_path / "images" / "a" / "synthetic_000001.png") as image:
        assert image.mode == "RGB"
        assert np.asarray(image)[0, 0].tolist() == [255, 0, 0]


def test_rerun_replaces_with_warning(tmp_path, caplog):
    x = np.zeros((2, 4, 4, 1), np.uint8)
    export.write_images(tmp_path, x, np.array([0, 0]), ["a"], ["p"] * 2, ["q"] * 2, np.zeros(2))
    with caplog.at_level(logging.WARNING, logger="utils.artifacts"):
        export.write_images(tmp_path, x[:1], np.array([0]), ["a"], ["p"], ["q"], np.zeros(1))
    assert "Replacing" in caplog.text
    assert len(list((tmp_path / "images").rglob("*.png"))) == 1


def test_length_mismatch_rejected(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="one entry per image"):
        export.write_images(tmp_path, np.zeros((2, 4, 4, 1), np.uint8), np.array([0]), ["a"], ["p"], ["q"],
                            np.zeros(1))
    assert not (tmp_path / "images").exists()


def test_class_counts_include_empty_classes():
    assert export.class_counts(np.array([0, 2, 2]), ["a", "b", "c"]) == {"a": 1, "b": 0, "c": 2}
