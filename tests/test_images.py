"""Tests for utils.images: load_image_folder, ImageFolder.inventory and save_png.

Every fixture image is written by the test itself with Pillow into tmp_path.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

import utils.images as images_module
from utils.images import (
    NOT_AN_IMAGE_REASON,
    ROOT_FILE_REASON,
    ImageFolder,
    ImageFolderError,
    load_image_folder,
    save_png,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CIFAR10_SAMPLE = REPO_ROOT.parent / "shared" / "datasets" / "cifar10_sample"

V200 = np.float32(200 / 255)


def _save(image: Image.Image, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def _gray(path: Path, value: int = 200, size: tuple[int, int] = (4, 4), **options) -> Path:
    """Write a uniform 8-bit gray image; `size` is Pillow's (width, height)."""
    return _save(Image.new("L", size, value), path, **options)


def _noise_bytes(format_name: str) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray((rng.random((64, 64)) * 255).astype(np.uint8)).save(buffer, format_name)
    return buffer.getvalue()


def _write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _file_mode(path: Path) -> str:
    with Image.open(path) as image:
        return image.mode


def _frame_count(path: Path) -> int:
    with Image.open(path) as image:
        return image.n_frames


def _load_one(path: Path, **options) -> np.ndarray:
    """Load the folder two levels above `path` and return its only image."""
    options.setdefault("image_size", 4)
    data = load_image_folder(path.parent.parent, **options)
    assert len(data.x) == 1
    return data.x[0]


# ---------------------------------------------------------------------------
# Basic layout and values


def test_load_shapes_labels_paths(tmp_path):
    a0 = _gray(tmp_path / "a" / "0.png", 10)
    a1 = _gray(tmp_path / "a" / "1.png", 20)
    b0 = _gray(tmp_path / "b" / "0.png", 30)

    data = load_image_folder(tmp_path, image_size=4)

    assert data.x.shape == (3, 4, 4, 1)
    assert data.x.dtype == np.float32
    assert data.y.dtype == np.int64
    assert data.y.tolist() == [0, 0, 1]
    assert data.class_names == ["a", "b"]
    assert data.file_paths == [a0, a1, b0]
    assert data.skipped == []
    assert data.x[:, 0, 0, 0].tolist() == [np.float32(v / 255) for v in [10, 20, 30]]


def test_load_x_c_contiguous(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _write_bytes(tmp_path / "a" / "1.png", b"")
    _gray(tmp_path / "a" / "2.png")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.x.flags.c_contiguous


def test_load_every_8bit_value_exact(tmp_path):
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    _save(Image.fromarray(values), tmp_path / "a" / "ramp.png")

    x = _load_one(tmp_path / "a" / "ramp.png", image_size=16)

    expected = (np.arange(256) / 255).astype(np.float32).reshape(16, 16, 1)
    np.testing.assert_array_equal(x, expected)


def test_load_uint8_dtype_every_value(tmp_path):
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    _save(Image.fromarray(values), tmp_path / "a" / "ramp.png")

    x = _load_one(tmp_path / "a" / "ramp.png", image_size=16, dtype="uint8")

    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x[:, :, 0], values)


def test_load_int_image_size_square(tmp_path):
    _gray(tmp_path / "a" / "0.png", size=(10, 30))

    data = load_image_folder(tmp_path, image_size=7)

    assert data.x.shape == (1, 7, 7, 1)


def test_load_image_size_height_width(tmp_path):
    _gray(tmp_path / "a" / "0.png", size=(10, 10))

    data = load_image_folder(tmp_path, image_size=(3, 5))

    assert data.x.shape == (1, 3, 5, 1)


def test_load_rgb_from_gray_repeats(tmp_path):
    path = _gray(tmp_path / "a" / "0.png", 200)

    x = _load_one(path, color_mode="rgb")

    assert x.shape == (4, 4, 3)
    assert x[0, 0].tolist() == [V200, V200, V200]


def test_load_grayscale_from_rgb_luma(tmp_path):
    path = _save(Image.new("RGB", (4, 4), (255, 0, 0)), tmp_path / "a" / "red.png")

    x = _load_one(path)

    # ITU-R 601-2: 255 * 299 / 1000 = 76.2, which Pillow rounds to 76.
    assert x[0, 0, 0] == np.float32(76 / 255)


# ---------------------------------------------------------------------------
# Pixel range: an 8-bit 200 is exactly float32(200 / 255) on every path


def _mode_image_200(mode: str) -> Image.Image:
    if mode == "P":
        image = Image.new("P", (4, 4), 0)
        image.putpalette([200, 200, 200] + [0, 0, 0] * 255)
        return image
    if mode == "LA":
        return Image.new("LA", (4, 4), (200, 255))
    if mode == "RGBA":
        return Image.new("RGBA", (4, 4), (200, 200, 200, 255))
    if mode == "RGB":
        return Image.new("RGB", (4, 4), (200, 200, 200))
    return Image.new("L", (4, 4), 200)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "LA", "RGBA"])
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb"])
def test_value_200_float_exact(tmp_path, mode, color_mode):
    path = _save(_mode_image_200(mode), tmp_path / "a" / "0.png")

    x = _load_one(path, color_mode=color_mode)

    assert np.all(x == V200)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "LA", "RGBA"])
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb"])
def test_value_200_uint8_exact(tmp_path, mode, color_mode):
    path = _save(_mode_image_200(mode), tmp_path / "a" / "0.png")

    x = _load_one(path, color_mode=color_mode, dtype="uint8")

    assert x.dtype == np.uint8
    assert np.all(x == 200)


# ---------------------------------------------------------------------------
# Broken files


def test_zero_byte_file_skipped(tmp_path):
    _gray(tmp_path / "a" / "good.png")
    empty = _write_bytes(tmp_path / "a" / "empty.png", b"")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.skipped == [(empty, "empty file (0 bytes)")]
    assert len(data.x) == 1


@pytest.mark.parametrize(("format_name", "name"), [("JPEG", "cut.jpg"), ("PNG", "cut.png")])
def test_truncated_file_skipped(tmp_path, format_name, name):
    _gray(tmp_path / "a" / "good.png")
    encoded = _noise_bytes(format_name)
    broken = _write_bytes(tmp_path / "a" / name, encoded[: len(encoded) // 2])

    data = load_image_folder(tmp_path, image_size=4)

    assert [path for path, _ in data.skipped] == [broken]
    assert "truncated" in data.skipped[0][1]


def test_text_named_png_skipped(tmp_path):
    _gray(tmp_path / "a" / "good.png")
    text = _write_bytes(tmp_path / "a" / "notes.png", b"not an image\n")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.skipped == [(text, NOT_AN_IMAGE_REASON)]


def test_png_bytes_named_jpg_load(tmp_path):
    png_path = _gray(tmp_path / "a" / "0.jpg", 200, format="PNG")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.file_paths == [png_path]
    assert np.all(data.x == V200)


def test_fifo_skipped(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("os.mkfifo is not available on this platform")
    _gray(tmp_path / "a" / "good.png")
    fifo = tmp_path / "a" / "pipe.png"
    os.mkfifo(fifo)

    data = load_image_folder(tmp_path, image_size=4)

    assert data.skipped == [(fifo, "not a regular file")]


def test_broken_symlink_skipped(tmp_path):
    _gray(tmp_path / "a" / "good.png")
    link = tmp_path / "a" / "gone.png"
    link.symlink_to(tmp_path / "missing.png")

    data = load_image_folder(tmp_path, image_size=4)

    assert [path for path, _ in data.skipped] == [link]
    assert data.skipped[0][1].startswith("cannot read file")


def test_decompression_bomb_skipped(tmp_path, monkeypatch):
    _gray(tmp_path / "a" / "small.png", size=(2, 2))
    big = _gray(tmp_path / "a" / "big.png", size=(20, 20))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)

    data = load_image_folder(tmp_path, image_size=2)

    assert [path for path, _ in data.skipped] == [big]
    assert data.skipped[0][1].startswith("image too large")


def _write_broken(kind: str, folder: Path) -> Path:
    if kind == "empty":
        return _write_bytes(folder / "bad.png", b"")
    if kind == "truncated":
        jpeg = _noise_bytes("JPEG")
        return _write_bytes(folder / "bad.jpg", jpeg[: len(jpeg) // 2])
    return _write_bytes(folder / "bad.png", b"plain text")


@pytest.mark.parametrize("kind", ["empty", "truncated", "text"])
def test_broken_file_raise_names_file(tmp_path, kind):
    _gray(tmp_path / "a" / "good.png")
    broken = _write_broken(kind, tmp_path / "a")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4, on_error="raise")

    assert str(broken) in str(caught.value)
    assert "on_error='skip'" in str(caught.value)


@pytest.mark.parametrize("num_workers", [1, 2])
def test_raise_first_bad_in_order(tmp_path, num_workers):
    for index in range(6):
        _gray(tmp_path / "a" / f"{index}.png")
    _write_bytes(tmp_path / "a" / "3.png", b"")
    _write_bytes(tmp_path / "a" / "5.png", b"")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4, on_error="raise", num_workers=num_workers)

    assert str(tmp_path / "a" / "3.png") in str(caught.value)
    assert str(tmp_path / "a" / "5.png") not in str(caught.value)


def test_skips_logged_not_printed(tmp_path, caplog, capsys):
    _gray(tmp_path / "a" / "good.png")
    _write_bytes(tmp_path / "a" / "empty.png", b"")

    with caplog.at_level(logging.WARNING, logger="utils.images"):
        load_image_folder(tmp_path, image_size=4)

    assert "Skipped 1 of 2 files" in caplog.text
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------
# Inventory


def test_inventory_counts(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _gray(tmp_path / "a" / "1.png")
    _write_bytes(tmp_path / "a" / "2.png", b"")
    _gray(tmp_path / "b" / "0.png")
    _write_bytes(tmp_path / "stray.txt", b"hello")

    table = load_image_folder(tmp_path, image_size=4).inventory()

    assert table.columns.tolist() == ["class_name", "found", "loaded", "skipped", "reasons"]
    assert table["class_name"].tolist() == ["a", "b"]
    assert table["found"].tolist() == [3, 1]
    assert table["loaded"].tolist() == [2, 1]
    assert table["skipped"].tolist() == [1, 0]
    assert table["reasons"].tolist() == ["empty file (0 bytes) (1x)", ""]


def test_inventory_nested_skip_counted(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _write_bytes(tmp_path / "a" / "sub" / "bad.png", b"")

    table = load_image_folder(tmp_path, image_size=4).inventory()

    assert table["skipped"].tolist() == [1]


def test_image_folder_length_mismatch(tmp_path):
    with pytest.raises(ValueError, match="same length"):
        ImageFolder(
            x=np.zeros((2, 1, 1, 1), np.float32),
            y=np.zeros(1, np.int64),
            class_names=["a"],
            file_paths=[tmp_path / "a"],
            skipped=[],
            root=tmp_path,
        )


# ---------------------------------------------------------------------------
# Formats and extensions


FORMATS = [
    ("0.PNG", "PNG", {}, True),
    ("0.Jpeg", "JPEG", {"quality": 95}, False),
    ("0.jpg", "JPEG", {"quality": 95}, False),
    ("0.BMP", "BMP", {}, True),
    ("0.gif", "GIF", {}, True),
    ("0.TIF", "TIFF", {}, True),
    ("0.tiff", "TIFF", {"compression": "tiff_lzw"}, True),
    ("0.WebP", "WEBP", {"lossless": True}, True),
    ("0.ppm", "PPM", {}, True),
    ("0.tga", "TGA", {}, True),
    ("0.ico", "ICO", {"sizes": [(16, 16)]}, True),
    ("0.dib", "DIB", {}, True),
    ("0.pcx", "PCX", {}, True),
]


@pytest.mark.parametrize(("name", "format_name", "options", "lossless"), FORMATS)
def test_format_loads(tmp_path, name, format_name, options, lossless):
    if format_name == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow was built without WebP support")
    image = Image.new("RGB", (16, 16), (200, 200, 200))
    path = _save(image, tmp_path / "a" / name, format=format_name, **options)

    x = _load_one(path, image_size=16)

    if lossless:
        assert np.all(x == V200)
    else:
        np.testing.assert_allclose(x, V200, atol=2 / 255)


# ---------------------------------------------------------------------------
# Modes


def test_mode_1_black_white(tmp_path):
    image = Image.new("1", (4, 4), 0)
    image.putpixel((1, 0), 1)
    path = _save(image, tmp_path / "a" / "0.png")

    x = _load_one(path)

    assert x[0, 0, 0] == 0.0
    assert x[0, 1, 0] == 1.0


def test_mode_p_transparency_white(tmp_path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([10, 10, 10, 200, 200, 200] + [0, 0, 0] * 254)
    image.putpixel((0, 0), 0)
    path = _save(image, tmp_path / "a" / "0.png", transparency=0)

    x = _load_one(path)

    assert x[0, 0, 0] == 1.0
    assert x[0, 1, 0] == V200


def test_mode_la_transparent_background(tmp_path):
    image = Image.new("LA", (4, 4), (200, 255))
    image.putpixel((0, 0), (50, 0))
    path = _save(image, tmp_path / "a" / "0.png")

    white = _load_one(path)
    black = _load_one(path, background=(0, 0, 0))

    assert white[0, 0, 0] == 1.0
    assert black[0, 0, 0] == 0.0
    assert black[0, 1, 0] == V200


def test_mode_rgba_transparent_red_background(tmp_path):
    image = Image.new("RGBA", (4, 4), (200, 200, 200, 255))
    image.putpixel((0, 0), (0, 0, 255, 0))
    path = _save(image, tmp_path / "a" / "0.png")

    x = _load_one(path, color_mode="rgb", background=(255, 0, 0))

    assert x[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert x[0, 1].tolist() == [V200, V200, V200]


def test_mode_rgba_half_alpha(tmp_path):
    path = _save(Image.new("RGBA", (4, 4), (0, 0, 0, 51)), tmp_path / "a" / "0.png")

    x = _load_one(path, dtype="uint8")

    # 20% black over white: 255 * (1 - 0.2) = 204.
    assert x[0, 0, 0] == 204


def test_mode_cmyk_tiff(tmp_path):
    path = _save(Image.new("CMYK", (4, 4), (0, 0, 0, 55)), tmp_path / "a" / "0.tif")

    x = _load_one(path, color_mode="rgb")

    assert x[0, 0].tolist() == [V200, V200, V200]


def _unit16(values) -> list[np.float32]:
    return [np.float32(v) / np.float32(65535) for v in values]


def test_mode_i16_png_rescaled(tmp_path):
    values = np.array([[0, 16384, 32768, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.png")
    assert _file_mode(path) == "I;16"

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == _unit16([0, 16384, 32768, 65535])
    np.testing.assert_allclose(x[0, :, 0], [0.0, 0.25, 0.5, 1.0], atol=1e-4)


def test_mode_i16b_tiff_rescaled(tmp_path):
    values = np.array([[0, 16384, 32768, 65535]], dtype=">u2")
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.tif")
    assert _file_mode(path) == "I;16B"

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == _unit16([0, 16384, 32768, 65535])


def test_mode_i16_uint8_dtype(tmp_path):
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=(1, 3), dtype="uint8")

    assert x[0, :, 0].tolist() == [0, 128, 255]


def test_mode_i16_rgb_repeats(tmp_path):
    values = np.full((2, 2), 65535, dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=2, color_mode="rgb")

    assert x.shape == (2, 2, 3)
    assert np.all(x == 1.0)


def _save_int32(path: Path, values) -> Path:
    path = _save(Image.fromarray(np.array([values], dtype=np.int32)), path)
    assert _file_mode(path) == "I"
    return path


def test_mode_i32_16bit_range(tmp_path):
    path = _save_int32(tmp_path / "a" / "0.tif", [0, 100, 1000, 65535])

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == _unit16([0, 100, 1000, 65535])


def test_mode_i32_full_range(tmp_path):
    values = [0, 70000, 2**30, 2**31 - 1]
    path = _save_int32(tmp_path / "a" / "0.tif", values)

    x = _load_one(path, image_size=(1, 4))

    expected = [np.float32(v / (2**31 - 1)) for v in values]
    assert x[0, :, 0].tolist() == expected


def test_mode_i32_negative_min_max(tmp_path):
    path = _save_int32(tmp_path / "a" / "0.tif", [-100, 0, 100, 300])

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == [0.0, 0.25, 0.5, 1.0]


def _save_float(path: Path, values) -> Path:
    path = _save(Image.fromarray(np.array([values], dtype=np.float32)), path)
    assert _file_mode(path) == "F"
    return path


def test_mode_f_unit_range_kept(tmp_path):
    path = _save_float(tmp_path / "a" / "0.tif", [0.0, 0.1, 0.5, 1.0])

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == [0.0, np.float32(0.1), 0.5, 1.0]


def test_mode_f_out_of_range_min_max(tmp_path):
    path = _save_float(tmp_path / "a" / "0.tif", [-1.0, 0.0, 1.0, 3.0])

    x = _load_one(path, image_size=(1, 4))

    assert x[0, :, 0].tolist() == [0.0, 0.25, 0.5, 1.0]


def test_mode_f_constant_out_of_range_zeros(tmp_path):
    path = _save_float(tmp_path / "a" / "0.tif", [5.0, 5.0])

    x = _load_one(path, image_size=(1, 2))

    assert x[0, :, 0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_mode_f_non_finite_skipped(tmp_path, bad_value):
    _gray(tmp_path / "a" / "good.png")
    bad = _save_float(tmp_path / "a" / "nan.tif", [0.0, bad_value])

    data = load_image_folder(tmp_path, image_size=4)

    assert data.skipped == [(bad, "float image contains NaN or infinite pixel values")]
    assert np.isfinite(data.x).all()


def test_mode_f_nan_raise_names_file(tmp_path):
    _gray(tmp_path / "a" / "good.png")
    bad = _save_float(tmp_path / "a" / "nan.tif", [0.0, np.nan])

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4, on_error="raise")

    assert str(bad) in str(caught.value)
    assert "NaN" in str(caught.value)


def test_high_depth_resize_stays_in_range(tmp_path):
    values = np.full((8, 8), 32768, dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=3)

    np.testing.assert_allclose(x, 32768 / 65535, rtol=1e-6)


def test_high_depth_pad_uses_background(tmp_path):
    values = np.full((2, 4), 65535, dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=4, resize="pad", background=(0, 0, 0))

    assert x[:, 0, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


# ---------------------------------------------------------------------------
# EXIF orientation and multi-frame files


def test_exif_orientation_6_rotated(tmp_path):
    # 40 wide x 20 high, left half black, right half white. Orientation 6 means
    # "rotate 90 degrees clockwise to display", which puts the black half on top.
    image = Image.new("L", (40, 20), 255)
    image.paste(0, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(image, tmp_path / "a" / "0.jpg", exif=exif, quality=95)

    x = _load_one(path, image_size=(40, 20))

    assert x[5, 2, 0] < 0.1
    assert x[5, 17, 0] < 0.1
    assert x[35, 2, 0] > 0.9
    assert x[35, 17, 0] > 0.9


def test_gif_first_frame(tmp_path):
    frames = [Image.new("L", (4, 4), 200), Image.new("L", (4, 4), 50)]
    path = tmp_path / "a" / "anim.gif"
    path.parent.mkdir()
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    assert _frame_count(path) == 2

    x = _load_one(path)

    assert np.all(x == V200)


def test_tiff_first_page(tmp_path):
    pages = [Image.new("L", (4, 4), 200), Image.new("L", (4, 4), 50)]
    path = tmp_path / "a" / "pages.tif"
    path.parent.mkdir()
    pages[0].save(path, save_all=True, append_images=pages[1:])
    assert _frame_count(path) == 2

    x = _load_one(path)

    assert np.all(x == V200)


# ---------------------------------------------------------------------------
# Folder structure


def test_hidden_and_system_names_ignored(tmp_path):
    good = _gray(tmp_path / "a" / "0.png")
    _gray(tmp_path / ".ipynb_checkpoints" / "0.png")
    _gray(tmp_path / "__MACOSX" / "a" / "0.png")
    _gray(tmp_path / "a" / ".hidden.png")
    _gray(tmp_path / "a" / ".ipynb_checkpoints" / "0.png")
    for name in [".DS_Store", "Thumbs.db", "desktop.ini"]:
        _write_bytes(tmp_path / name, b"x")
        _write_bytes(tmp_path / "a" / name, b"x")
    _write_bytes(tmp_path / "a" / "THUMBS.DB", b"x")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.class_names == ["a"]
    assert data.file_paths == [good]
    assert data.skipped == []


def test_empty_class_folder_raises(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    (tmp_path / "empty_class").mkdir()

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4)

    assert str(tmp_path / "empty_class") in str(caught.value)
    assert "add images to these folders or remove them" in str(caught.value)


def test_class_all_broken_raises(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _write_bytes(tmp_path / "b" / "bad.png", b"")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4)

    assert str(tmp_path / "b") in str(caught.value)
    assert "bad.png: empty file (0 bytes)" in str(caught.value)


def test_class_only_hidden_files_raises(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _write_bytes(tmp_path / "b" / ".DS_Store", b"x")

    with pytest.raises(ImageFolderError, match="0 files found"):
        load_image_folder(tmp_path, image_size=4)


def test_root_file_skipped(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    stray_image = _gray(tmp_path / "loose.png")
    stray_text = _write_bytes(tmp_path / "README.txt", b"notes")

    data = load_image_folder(tmp_path, image_size=4)

    # Code-point order puts "R" before "l".
    assert data.skipped == [(stray_text, ROOT_FILE_REASON), (stray_image, ROOT_FILE_REASON)]
    assert len(data.x) == 1


def test_root_file_raise_mode(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    stray = _gray(tmp_path / "loose.png")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4, on_error="raise")

    assert str(stray) in str(caught.value)


def test_nested_folders_loaded(tmp_path):
    top = _gray(tmp_path / "a" / "0.png", 10)
    deep = _gray(tmp_path / "a" / "sub" / "deeper" / "1.png", 20)
    other = _gray(tmp_path / "b" / "x" / "2.png", 30)

    data = load_image_folder(tmp_path, image_size=4)

    assert data.class_names == ["a", "b"]
    assert data.file_paths == [top, deep, other]
    assert data.y.tolist() == [0, 0, 1]


def test_symlink_loop_read_once(tmp_path):
    good = _gray(tmp_path / "a" / "0.png")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)

    data = load_image_folder(tmp_path, image_size=4)

    assert data.file_paths == [good]


def test_root_missing_raises(tmp_path):
    with pytest.raises(ImageFolderError, match="not found"):
        load_image_folder(tmp_path / "nowhere")


def test_root_is_file_raises(tmp_path):
    path = _gray(tmp_path / "0.png")

    with pytest.raises(ImageFolderError, match="is not a folder"):
        load_image_folder(path)


def test_root_without_classes_raises(tmp_path):
    _gray(tmp_path / "0.png")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path)

    assert "no class subfolders (found 1 files directly under it)" in str(caught.value)
    assert "one subfolder per class" in str(caught.value)


def test_root_empty_raises(tmp_path):
    with pytest.raises(ImageFolderError, match="no class subfolders"):
        load_image_folder(tmp_path)


# ---------------------------------------------------------------------------
# Class order and names


def test_class_order_code_point(tmp_path):
    for value, name in enumerate(["猫", "été", "Zebra", "apple"]):
        _gray(tmp_path / name / "0.png", value)

    data = load_image_folder(tmp_path, image_size=4)

    assert data.class_names == ["Zebra", "apple", "été", "猫"]
    assert data.x[:, 0, 0, 0].tolist() == [np.float32(v / 255) for v in [2, 3, 1, 0]]


def test_order_ignores_listdir_order(tmp_path, monkeypatch):
    for name in ["b", "a", "c"]:
        for index in range(3):
            _gray(tmp_path / name / f"{index}.png", index)
    expected = load_image_folder(tmp_path, image_size=4)
    listed = images_module._list_dir
    monkeypatch.setattr(images_module, "_list_dir", lambda folder: listed(folder)[::-1])

    reversed_listing = load_image_folder(tmp_path, image_size=4)

    assert reversed_listing.class_names == expected.class_names
    assert reversed_listing.file_paths == expected.file_paths
    np.testing.assert_array_equal(reversed_listing.x, expected.x)


def test_nfd_folder_name_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "été")
    path = _gray(tmp_path / nfd / "0.png")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.class_names == ["été"]
    assert data.file_paths == [path]


def test_nfc_duplicate_folders_raise(tmp_path):
    _gray(tmp_path / "été" / "0.png")
    nfd_folder = tmp_path / unicodedata.normalize("NFD", "été")
    if nfd_folder.exists():
        pytest.skip("this filesystem normalizes file names, so both spellings are one folder")
    _gray(nfd_folder / "0.png")

    with pytest.raises(ImageFolderError, match="same name after Unicode NFC normalization"):
        load_image_folder(tmp_path, image_size=4)


def test_non_ascii_names_kept(tmp_path):
    cat = _gray(tmp_path / "猫" / "写真.png")
    summer = _gray(tmp_path / "été" / "ça.PNG")

    data = load_image_folder(tmp_path, image_size=4)

    assert data.class_names == ["été", "猫"]
    assert data.file_paths == [summer, cat]


def test_class_names_order_used(tmp_path):
    _gray(tmp_path / "a" / "0.png", 10)
    _gray(tmp_path / "b" / "0.png", 20)

    data = load_image_folder(tmp_path, image_size=4, class_names=["b", "a"])

    assert data.class_names == ["b", "a"]
    assert data.y.tolist() == [0, 1]
    assert data.x[0, 0, 0, 0] == np.float32(20 / 255)


def test_class_names_mismatch_raises(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _gray(tmp_path / "extra" / "0.png")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=4, class_names=["a", "gone"])

    assert "Missing folders: ['gone']" in str(caught.value)
    assert "Folders not in class_names: ['extra']" in str(caught.value)


def test_class_names_duplicates_raise(tmp_path):
    _gray(tmp_path / "a" / "0.png")

    with pytest.raises(ValueError, match="duplicates"):
        load_image_folder(tmp_path, image_size=4, class_names=["a", "a"])


def test_class_names_nfd_matches(tmp_path):
    _gray(tmp_path / "été" / "0.png")

    nfd = unicodedata.normalize("NFD", "été")

    data = load_image_folder(tmp_path, image_size=4, class_names=[nfd])

    assert data.class_names == ["été"]


# ---------------------------------------------------------------------------
# Resize rules


def _half_black_image() -> Image.Image:
    """40 wide x 20 high: columns 0-19 black, 20-39 white."""
    image = Image.new("L", (40, 20), 255)
    image.paste(0, (0, 0, 20, 20))
    return image


def test_resize_stretch_keeps_halves(tmp_path):
    path = _save(_half_black_image(), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=(10, 20), resize="stretch")

    assert x[5, 0, 0] == 0.0
    assert x[5, 19, 0] == 1.0


def test_resize_crop_center(tmp_path):
    image = Image.new("L", (40, 20), 0)
    image.paste(255, (10, 0, 30, 20))
    path = _save(image, tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=20, resize="crop")

    assert np.all(x == 1.0)


def test_resize_pad_black_borders(tmp_path):
    path = _save(Image.new("L", (40, 20), 255), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=40, resize="pad", background=0)

    assert x[9, 0, 0] == 0.0
    assert x[10, 0, 0] == 1.0
    assert x[29, 0, 0] == 1.0
    assert x[30, 0, 0] == 0.0


def test_resize_pad_rgb_background(tmp_path):
    path = _save(Image.new("RGB", (40, 20), (0, 0, 0)), tmp_path / "a" / "0.png")

    x = _load_one(path, image_size=40, resize="pad", color_mode="rgb", background=(255, 0, 0))

    assert x[0, 0].tolist() == [1.0, 0.0, 0.0]
    assert x[20, 0].tolist() == [0.0, 0.0, 0.0]


def test_resize_large_jpeg_draft(tmp_path):
    image = Image.new("RGB", (800, 600), (200, 200, 200))
    path = _save(image, tmp_path / "a" / "0.jpg", quality=95)

    x = _load_one(path, image_size=28, color_mode="rgb")

    np.testing.assert_allclose(x, V200, atol=2 / 255)


# ---------------------------------------------------------------------------
# Memory budget


def test_memory_budget_raises(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _gray(tmp_path / "a" / "1.png")

    with pytest.raises(ImageFolderError) as caught:
        load_image_folder(tmp_path, image_size=28, max_bytes=6271)

    message = str(caught.value)
    assert "0.01 MB (6,272 bytes)" in message
    assert "dtype='uint8'" in message
    assert "smaller image_size" in message
    assert "larger max_bytes" in message


def test_memory_budget_exact_fits(tmp_path):
    _gray(tmp_path / "a" / "0.png")
    _gray(tmp_path / "a" / "1.png")

    data = load_image_folder(tmp_path, image_size=28, max_bytes=6272)

    assert data.x.nbytes == 6272


def test_memory_budget_none_disables(tmp_path):
    _gray(tmp_path / "a" / "0.png")

    data = load_image_folder(tmp_path, image_size=4, max_bytes=None)

    assert len(data.x) == 1


# ---------------------------------------------------------------------------
# Arguments, threads and progress


@pytest.mark.parametrize(
    "options",
    [
        {"color_mode": "bgr"},
        {"on_error": "ignore"},
        {"resize": "zoom"},
        {"dtype": "float64"},
        {"dtype": "not a dtype"},
        {"image_size": 0},
        {"image_size": (28,)},
        {"image_size": True},
        {"background": (0, 0, 300)},
        {"background": (0, 0)},
        {"num_workers": 0},
        {"max_bytes": 0},
        {"class_names": "a"},
    ],
)
def test_invalid_argument_raises(tmp_path, options):
    _gray(tmp_path / "a" / "0.png")

    with pytest.raises(ValueError):
        load_image_folder(tmp_path, **options)


def test_threads_same_result(tmp_path):
    for name in ["a", "b"]:
        for index in range(20):
            _gray(tmp_path / name / f"{index:02d}.png", index * 10)
    _write_bytes(tmp_path / "a" / "07.png", b"")
    _write_bytes(tmp_path / "b" / "13.png", b"text")

    single = load_image_folder(tmp_path, image_size=4, num_workers=1)
    threaded = load_image_folder(tmp_path, image_size=4, num_workers=3)

    np.testing.assert_array_equal(threaded.x, single.x)
    assert threaded.y.tolist() == single.y.tolist()
    assert threaded.file_paths == single.file_paths
    assert threaded.skipped == single.skipped
    assert len(single.x) == 38


def test_progress_bar_on_stderr(tmp_path, capsys):
    _gray(tmp_path / "a" / "0.png")

    load_image_folder(tmp_path, image_size=4, progress=True)

    captured = capsys.readouterr()
    assert "Loading images" in captured.err
    assert captured.out == ""


def test_import_skips_heavy_modules():
    code = (
        "import sys, utils.images; "
        "print(sorted(m for m in ('tensorflow', 'pandas', 'tqdm') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# save_png


def test_save_png_gray_float(tmp_path):
    image = (np.arange(256, dtype=np.float32) / 255).reshape(16, 16, 1)
    path = tmp_path / "gray.png"

    save_png(path, image)

    with Image.open(path) as saved:
        assert saved.mode == "L"
        np.testing.assert_array_equal(np.asarray(saved), np.arange(256).reshape(16, 16))


def test_save_png_2d_gray(tmp_path):
    save_png(tmp_path / "flat.png", np.full((3, 5), 0.5))

    with Image.open(tmp_path / "flat.png") as saved:
        assert saved.mode == "L"
        assert saved.size == (5, 3)
        assert saved.getpixel((0, 0)) == 128


def test_save_png_rgb_float(tmp_path):
    image = np.zeros((2, 2, 3), dtype=np.float32)
    image[..., 0] = 1.0
    save_png(tmp_path / "red.png", image)

    with Image.open(tmp_path / "red.png") as saved:
        assert saved.mode == "RGB"
        assert saved.getpixel((1, 1)) == (255, 0, 0)


def test_save_png_uint8_unchanged(tmp_path):
    image = np.array([[[0], [7]], [[200], [255]]], dtype=np.uint8)

    save_png(tmp_path / "u8.png", image)

    with Image.open(tmp_path / "u8.png") as saved:
        np.testing.assert_array_equal(np.asarray(saved), image[:, :, 0])


def test_save_png_clips(tmp_path):
    save_png(tmp_path / "clip.png", np.array([[-0.5, 1.5]], dtype=np.float64))

    with Image.open(tmp_path / "clip.png") as saved:
        assert np.asarray(saved).tolist() == [[0, 255]]


def test_save_png_creates_parent(tmp_path):
    path = tmp_path / "new" / "deeper" / "0.png"

    save_png(path, np.zeros((2, 2, 1)))

    assert path.is_file()


def test_save_png_no_temp_left(tmp_path):
    save_png(tmp_path / "0.png", np.zeros((2, 2, 1)))
    save_png(tmp_path / "0.png", np.ones((2, 2, 1)))

    assert [p.name for p in tmp_path.iterdir()] == ["0.png"]


def test_save_png_default_permissions(tmp_path):
    reference = tmp_path / "plain.bin"
    reference.write_bytes(b"")

    save_png(tmp_path / "0.png", np.zeros((2, 2, 1)))

    assert (tmp_path / "0.png").stat().st_mode == reference.stat().st_mode


def test_save_png_failure_keeps_old(tmp_path, monkeypatch):
    path = tmp_path / "0.png"
    save_png(path, np.zeros((2, 2, 1)))
    original = path.read_bytes()

    def fail_halfway(self, stream, *args, **kwargs):
        stream.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_png(path, np.ones((2, 2, 1)))

    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["0.png"]


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((2, 2, 4)),
        np.zeros((2,)),
        np.zeros((2, 2, 1), dtype=np.int32),
        np.array([[0.0, np.nan]]),
    ],
    ids=["four-channels", "one-dimension", "int32", "nan"],
)
def test_save_png_invalid_raises(tmp_path, image):
    with pytest.raises(ValueError):
        save_png(tmp_path / "bad.png", image)

    assert list(tmp_path.iterdir()) == []


def test_save_then_load_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 5, 6, 3)).astype(np.float32) / 255
    for index, image in enumerate(images):
        save_png(tmp_path / "a" / f"{index}.png", image)

    data = load_image_folder(tmp_path, image_size=(5, 6), color_mode="rgb")

    np.testing.assert_array_equal(data.x, images)


# ---------------------------------------------------------------------------
# Real JPEG sample


def test_cifar10_sample_with_broken_files(tmp_path):
    if not CIFAR10_SAMPLE.is_dir():
        pytest.skip(f"{CIFAR10_SAMPLE} not found")
    root = tmp_path / "cifar"
    shutil.copytree(CIFAR10_SAMPLE, root)
    jpeg = _noise_bytes("JPEG")
    broken = {
        _write_bytes(root / "airplane" / "zero.jpg", b""),
        _write_bytes(root / "cat" / "notes.jpg", b"not a picture"),
        _write_bytes(root / "dog" / "cut.jpg", jpeg[: len(jpeg) // 2]),
    }

    data = load_image_folder(root, image_size=32, color_mode="rgb")

    assert {path for path, _ in data.skipped} == broken
    assert len(data.skipped) == 3
    assert data.x.shape == (1000, 32, 32, 3)
    assert np.bincount(data.y).tolist() == [100] * 10
