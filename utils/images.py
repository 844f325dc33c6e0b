"""Load a folder of class subfolders into NumPy arrays, and save images as PNG.

`load_image_folder` reads this layout::

    root/
        <class name>/          one subfolder per class, the name is the label
            0001.png
            more/0002.jpg      nested subfolders are read too
        <class name>/
            ...

and returns an `ImageFolder` with ``x`` of shape (N, H, W, C) and integer
labels ``y``. Every decision about odd input (broken files, 16-bit images,
transparency, EXIF orientation, class order) is listed in the Notes of
`load_image_folder`.

`save_png` writes one float or uint8 image as an 8-bit PNG, atomically.

Apart from the standard library, this module imports only NumPy and Pillow at
import time. It imports pandas in `ImageFolder.inventory` and tqdm when
``progress=True``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import secrets
import shutil
import stat
import struct
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn

import numpy as np
from numpy.lib.format import open_memmap
from PIL import Image, ImageOps, UnidentifiedImageError

from . import storage

if TYPE_CHECKING:
    import pandas as pd
    from tqdm import tqdm

__all__ = [
    "IGNORED_NAMES",
    "NOT_AN_IMAGE_REASON",
    "ROOT_FILE_REASON",
    "ImageFolder",
    "ImageFolderError",
    "load_image_folder",
    "save_png",
]

logger = logging.getLogger(__name__)

#: Names (compared case-insensitively) that are never a class or an image,
#: on top of every name that starts with ".".
IGNORED_NAMES = frozenset(
    {
        "__macosx",
        "thumbs.db",
        "ehthumbs.db",
        "desktop.ini",
        "$recycle.bin",
        "system volume information",
    }
)

ROOT_FILE_REASON = (
    "file directly under the root folder; images must be in one subfolder per class"
)
NOT_AN_IMAGE_REASON = "not an image Pillow can read (file content matches no known format)"

# Pillow's BILINEAR (Resample.c) widens its kernel by the scale factor when
# shrinking, so every source pixel counts. Its weights are non-negative, so
# outputs stay inside the input range.
_RESAMPLE = Image.Resampling.BILINEAR
# Shrink by an integer factor with a box filter first while the image is more
# than 3x the target. The Image.resize docstring (Pillow 13) calls the result of
# 3.0 "indistinguishable from fair resampling in most cases", and it is faster.
_REDUCING_GAP = 3.0

# Pillow holds the GIL in its Python code (about 60 us per 28x28 PNG on a
# 2-core AMD EPYC) and releases it only while decoding, so threads help only
# for large files.
# NOTE: the 32 KB threshold is a measurement on one 2-core machine: 0.6 KB PNG
# and 1 KB JPEG files loaded 25-50% slower with 2 threads, 13 KB JPEG files
# the same, and 300 KB JPEG files twice as fast.
_THREADED_MEAN_FILE_BYTES = 32_000
_WORKER_SAMPLE_FILES = 64
_MAX_DEFAULT_WORKERS = 8

_MAX_UINT16 = 65535
_MAX_INT32 = 2**31 - 1
_MODES_16_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})

# Errors that Pillow raises for unreadable, truncated, oversized or
# unsupported files. Besides OSError and ValueError, some format plugins can
# raise SyntaxError, EOFError or struct.error on malformed data.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)

ColorMode = Literal["grayscale", "rgb"]
OnError = Literal["skip", "raise"]
ResizeRule = Literal["stretch", "crop", "pad"]


class ImageFolderError(ValueError):
    """Invalid folder layout, an unreadable image file, or an array larger than max_bytes."""


class _InvalidPixelsError(ValueError):
    """Pixel values that cannot be mapped to [0, 1], such as NaN."""


# eq=False because a generated __eq__ would compare arrays with == and fail.
@dataclass(frozen=True, eq=False)
class ImageFolder:
    """Images and labels loaded by `load_image_folder`.

    Attributes
    ----------
    x : numpy.ndarray
        Images, shape (N, H, W, C), C-contiguous. float32 with values in
        [0, 1] and no NaN or infinity, or uint8 in [0, 255] when loaded with
        ``dtype="uint8"``. C is 1 for grayscale and 3 for RGB.
    y : numpy.ndarray
        int64 labels, shape (N,). ``class_names[y[i]]`` is the class folder of
        image i.
    class_names : list of str
        Class folder names (NFC-normalized) in label order.
    file_paths : list of pathlib.Path
        Source file of each image, in the order of `x`. Each path is the
        ``path`` argument joined with the path below it, so nested
        subfolders stay visible.
    skipped : list of tuple of (pathlib.Path, str)
        Files that were found but not loaded, with the reason. Always empty
        when loaded with ``on_error="raise"``.
    root : pathlib.Path
        The folder passed to `load_image_folder`.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    file_paths: list[Path]
    skipped: list[tuple[Path, str]]
    root: Path

    def __post_init__(self) -> None:
        if not (len(self.x) == len(self.y) == len(self.file_paths)):
            raise ValueError(
                f"x, y and file_paths must have the same length, got {len(self.x)}, "
                f"{len(self.y)} and {len(self.file_paths)}"
            )

    def inventory(self) -> pd.DataFrame:
        """Count found, loaded and skipped files per class.

        Returns
        -------
        pandas.DataFrame
            One row per class, in label order, with columns ``class_name``,
            ``found``, ``loaded``, ``skipped`` (int64 counts, ``found == loaded
            + skipped``) and ``reasons`` (str, each distinct skip reason with
            its count, "" when nothing was skipped).

        Notes
        -----
        Files directly under the root folder belong to no class, so they are
        listed in `skipped` but counted in no row.
        """
        import pandas as pd

        index_by_name = {name: index for index, name in enumerate(self.class_names)}
        loaded = np.bincount(self.y, minlength=len(self.class_names))
        reasons_by_class: list[list[str]] = [[] for _ in self.class_names]
        for path, reason in self.skipped:
            class_index = self._class_index_of(path, index_by_name)
            if class_index is not None:
                reasons_by_class[class_index].append(reason)

        rows = []
        for index, name in enumerate(self.class_names):
            reasons = reasons_by_class[index]
            rows.append(
                {
                    "class_name": name,
                    "found": int(loaded[index]) + len(reasons),
                    "loaded": int(loaded[index]),
                    "skipped": len(reasons),
                    "reasons": _summarize_reasons(reasons),
                }
            )
        columns = ["class_name", "found", "loaded", "skipped", "reasons"]
        return pd.DataFrame(rows, columns=columns)

    def _class_index_of(self, path: Path, index_by_name: dict[str, int]) -> int | None:
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return None
        if len(parts) < 2:
            return None
        return index_by_name.get(_normalize_name(parts[0]))


@dataclass(frozen=True)
class _Settings:
    height: int
    width: int
    channels: int
    resize: str
    background: tuple[int, int, int]
    background_gray: int
    dtype: np.dtype

    @property
    def size_wh(self) -> tuple[int, int]:
        """Target size as Pillow's (width, height)."""
        return (self.width, self.height)


def load_image_folder(
    path: str | os.PathLike[str],
    image_size: int | tuple[int, int] = (28, 28),
    color_mode: ColorMode = "grayscale",
    on_error: OnError = "skip",
    resize: ResizeRule = "stretch",
    dtype: Literal["float32", "uint8"] | np.dtype | type = "float32",
    class_names: Sequence[str] | None = None,
    max_bytes: int | None = 1_000_000_000,
    background: int | tuple[int, int, int] = (255, 255, 255),
    num_workers: int | None = None,
    progress: bool = False,
    out: str | os.PathLike[str] | None = None,
) -> ImageFolder:
    """Load every image under ``path/<class name>/`` into one array.

    Parameters
    ----------
    path : str or os.PathLike
        Root folder with one subfolder per class.
    image_size : int or tuple of (int, int), default (28, 28)
        Output (height, width) in pixels. An int gives a square.
    color_mode : {"grayscale", "rgb"}, default "grayscale"
        "grayscale" gives C=1 and "rgb" gives C=3, whatever the file holds.
    on_error : {"skip", "raise"}, default "skip"
        "skip" lists each file that cannot be loaded in ``skipped`` with the
        reason. "raise" raises `ImageFolderError` at the first such file (in
        load order) and also for files directly under the root.
    resize : {"stretch", "crop", "pad"}, default "stretch"
        How an image whose size differs from `image_size` is fitted.
        "stretch" resizes to `image_size` and ignores the aspect ratio.
        "crop" keeps the aspect ratio, cuts the center to the target aspect
        ratio, then resizes (``PIL.ImageOps.fit``). "pad" keeps the whole
        image, resizes it to fit inside and fills the borders with
        `background` (``PIL.ImageOps.pad``).
    dtype : {"float32", "uint8"}, default "float32"
        "float32" stores v / 255 for an 8-bit value v, in [0, 1]. "uint8"
        stores round(value * 255) and uses 4x less memory.
    class_names : sequence of str, optional
        Label order to use, for example the order saved by an earlier run.
        The class folders must match these names exactly (after NFC
        normalization). By default the folders are sorted by name.
    max_bytes : int or None, default 1_000_000_000
        Maximum size of `x` in bytes, checked before anything is allocated.
        None disables the check. 1 GB leaves room for a model on a 4 GB
        machine.
    background : int or tuple of (int, int, int), default (255, 255, 255)
        RGB colour (0-255 per channel, an int means gray) under transparent
        pixels and around padded images. White by default.
    num_workers : int or None, default None
        Threads that decode files. None uses 1 thread when the sampled files
        average under 32 KB, where threads only add overhead, and
        ``min(8, os.cpu_count())`` otherwise. The output does not depend on
        it.
    progress : bool, default False
        Show a tqdm progress bar on stderr.
    out : str or os.PathLike, optional
        A ``.npy`` file to decode into instead of memory, for data sets larger
        than memory. ``x`` is then a read-only ``np.memmap`` of that file,
        `max_bytes` is not checked, and a scratch file of the same size lies
        next to it while loading. The folder must be outside `path`.

    Returns
    -------
    ImageFolder
        ``x`` (N, H, W, C), ``y`` (N,), ``class_names``, ``file_paths`` and
        ``skipped``. Images are ordered by class, then by path inside the
        class folder.

    Raises
    ------
    ImageFolderError
        In each of these cases:

        * the root is missing or contains no class folder;
        * a class folder has no loadable image;
        * `class_names` does not match the folders;
        * `x` would exceed `max_bytes`;
        * with ``on_error="raise"``, at the first file that cannot be loaded.
    ValueError
        If an argument has an invalid value.

    Notes
    -----
    Which files are read:

    * Names starting with "." and the names in `IGNORED_NAMES`
      (``__MACOSX``, ``Thumbs.db``, ``desktop.ini`` ...) are never a class
      or an image. Windows "hidden" attributes are not checked.
    * Every other file inside a class folder is tried, whatever its
      extension. Pillow detects the format from the file content, so PNG
      bytes named ``.jpg`` load as PNG, and a file Pillow cannot read is
      listed in ``skipped``.
    * Nested subfolders inside a class folder are read recursively, and
      their images get the label of the class folder. Symbolic links are
      followed, and a link back to a folder already read is ignored.
    * A file directly under the root is listed in ``skipped`` with the
      reason ``ROOT_FILE_REASON``.
    * A class folder with no loadable image raises `ImageFolderError`
      naming the folder, even with ``on_error="skip"``, because its label
      would have no sample.

    Class order: folder names are NFC-normalized and sorted by code point,
    so the order does not depend on the filesystem or on ``os.listdir``
    ("Zebra" < "apple" < "été" < "猫"). ``class_names`` contains the NFC
    form, which equals the folder name except on filesystems that store
    names decomposed (NFD), such as macOS HFS+. Two folders whose names
    are equal after normalization raise an error.

    Decoding: only the first frame of animated GIF, WebP or multi-page TIFF
    files is used. The EXIF orientation tag is applied
    (``PIL.ImageOps.exif_transpose``) before resizing. Large JPEG files are
    decoded at a reduced scale (``Image.draft``) when that still gives at
    least ``max(image_size)`` pixels per side, as Pillow's ``thumbnail``
    does.

    Pixel values:

    * 8-bit modes ("1", "L", "P", "RGB", "CMYK", "YCbCr" ...) are converted
      with Pillow to "L" or "RGB", then v becomes exactly
      ``np.float32(v) / np.float32(255)``. Grayscale from colour uses
      Pillow's ITU-R 601-2 luma, L = R * 299/1000 + G * 587/1000 +
      B * 114/1000. CMYK is converted without a colour profile.
    * Transparency (modes "LA", "RGBA", "PA", or a "P", "L" or "RGB" image
      with a transparent colour) is composited on `background`.
    * "I;16" (any byte order) is divided by 65535.
    * "I" (32-bit signed): divided by 65535 when all values lie in
      [0, 65535], which is how Pillow returns many 16-bit files; divided by
      2**31 - 1 when all are non-negative but some exceed 65535; scaled
      per image as (v - min) / (max - min) when some are negative.
    * "F" (32-bit float): used as is when all values lie in [0, 1], else
      scaled per image as (v - min) / (max - min). An image holding NaN or
      infinity is skipped (or raises).
    * A constant image that needs per-image scaling becomes all zeros.
    * High bit depth modes ignore transparency and are resized as 32-bit
      float, so no precision is lost before the final step.
    * Pillow 13 opens 16-bit RGB, RGBA and LA PNG files as 8-bit modes, so
      only single-channel files keep 16-bit precision.

    Resizing uses Pillow's BILINEAR filter, which averages all covered
    pixels when shrinking, with ``reducing_gap=3.0`` for "stretch". An
    image that already has `image_size` is not resampled.

    Memory: the size of `x` is estimated as N * H * W * C * itemsize before
    allocation, with N the number of candidate files, and checked against
    `max_bytes`. Skipped files are dropped afterwards in place. Decoding one
    image needs extra memory for its full-size pixels.

    Pillow's own limits stay in force: an image over ``Image.MAX_IMAGE_PIXELS``
    pixels (about 89 million by default) warns, and one over twice that is
    skipped as a decompression bomb. If a caller sets
    ``ImageFile.LOAD_TRUNCATED_IMAGES = True``, truncated files load with
    gray fill instead of being skipped.

    Examples
    --------
    >>> data = load_image_folder("data/train", image_size=32, color_mode="rgb")
    ... # doctest: +SKIP
    >>> data.x.shape, data.class_names[:2]  # doctest: +SKIP
    ((5000, 32, 32, 3), ['airplane', 'automobile'])
    """
    settings = _make_settings(image_size, color_mode, resize, dtype, background)
    _check_choice("on_error", on_error, ("skip", "raise"))
    _check_workers(num_workers)
    if max_bytes is not None and max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")

    root = Path(path).expanduser()
    class_dirs, root_files = _scan_root(root)
    ordered_names = _order_classes(class_dirs, class_names, root)
    skipped = [(file, ROOT_FILE_REASON) for file in root_files]
    if skipped and on_error == "raise":
        _raise_for_file(skipped[0][0], ROOT_FILE_REASON)

    paths, labels = _gather_files(ordered_names, class_dirs)
    found_per_class = np.bincount(labels, minlength=len(ordered_names))
    # A folder without candidate files fails here, before any decoding.
    _check_classes_not_empty(ordered_names, class_dirs, found_per_class, found_per_class, [])

    shape = (len(paths), settings.height, settings.width, settings.channels)
    workers = _choose_workers(paths, num_workers)
    if out is None:
        _check_memory(len(paths), settings, max_bytes)
        x = np.empty(shape, settings.dtype)
        reasons = _decode_all(paths, settings, x, on_error, workers, progress)
    else:
        out, scratch = _check_out(out, root, shape, settings.dtype)
        try:
            x = open_memmap(scratch, mode="w+", dtype=settings.dtype, shape=shape)
            reasons = _decode_all(paths, settings, x, on_error, workers, progress)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise

    keep = np.array([index for index, reason in enumerate(reasons) if reason is None], np.int64)
    file_skips = [(file, reason) for file, reason in zip(paths, reasons) if reason is not None]
    loaded_per_class = np.bincount(labels[keep], minlength=len(ordered_names))
    if out is None:
        _check_classes_not_empty(ordered_names, class_dirs, found_per_class, loaded_per_class, file_skips)
        x = _compact_rows(x, keep)
    else:
        try:
            _check_classes_not_empty(ordered_names, class_dirs, found_per_class, loaded_per_class, file_skips)
            x.flush()
            storage.write_rows(out, [x], keep)
        finally:
            del x
            scratch.unlink(missing_ok=True)
        x = storage.open_images(out, stream=True)

    skipped.extend(file_skips)
    if skipped:
        logger.warning(
            "Skipped %d of %d files under %s. ImageFolder.skipped lists each file with the reason",
            len(skipped),
            len(paths) + len(root_files),
            root,
        )
    return ImageFolder(
        x=x,
        y=labels[keep],
        class_names=list(ordered_names),
        file_paths=[paths[index] for index in keep],
        skipped=skipped,
        root=root,
    )


def save_png(path: str | os.PathLike[str], image: np.ndarray, durable: bool = True) -> None:
    """Write one image as an 8-bit PNG, replacing `path` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file. Missing parent folders are created.
    image : numpy.ndarray
        Shape (H, W), (H, W, 1) or (H, W, 3). A float array is clipped to
        [0, 1] and stored as round(v * 255), rounding halves to even. A uint8
        array is stored unchanged. One channel gives a mode "L" PNG and three
        channels an "RGB" PNG.
    durable : bool
        Flush the file to disk before the rename. Callers that write many files
        into a staging folder and rename the folder at the end can pass False:
        the rename already makes the set complete or absent.

    Raises
    ------
    ValueError
        If `image` has another shape or dtype, or contains NaN.

    Notes
    -----
    The PNG is written to a hidden temporary file in the same folder,
    flushed to disk with ``os.fsync``, then renamed over `path` with
    ``os.replace``. Readers therefore see either the old file or the
    complete new one, and a crash can leave at most a ``.<name>.*.tmp`` file
    behind, which `load_image_folder` ignores because its name starts with
    ".". The fsync makes each call take a few milliseconds on most disks.
    """
    pixels = _to_png_pixels(np.asarray(image))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        # O_EXCL guards against reusing a name, and mode 0o666 lets the umask
        # give the same permissions as a plain open().
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as stream:
            # uint8 (H, W) becomes mode "L" and (H, W, 3) mode "RGB".
            Image.fromarray(pixels).save(stream, format="PNG")
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _to_png_pixels(image: np.ndarray) -> np.ndarray:
    """Return a uint8 array of shape (H, W) or (H, W, 3) for `save_png`."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(
            f"save_png expects shape (H, W), (H, W, 1) or (H, W, 3), got {image.shape}"
        )
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(
            f"save_png expects a float array in [0, 1] or a uint8 array, got dtype "
            f"{image.dtype}; convert with image.astype(np.float32) / max_value first"
        )
    if np.isnan(image).any():
        raise ValueError(
            "save_png received an image containing NaN. Replace NaN values before saving."
        )
    scaled = np.rint(np.clip(image, 0.0, 1.0) * 255.0)
    return np.ascontiguousarray(scaled.astype(np.uint8))


# ---------------------------------------------------------------------------
# Argument checks


def _make_settings(
    image_size: int | tuple[int, int],
    color_mode: str,
    resize: str,
    dtype: object,
    background: int | tuple[int, int, int],
) -> _Settings:
    height, width = _parse_image_size(image_size)
    _check_choice("color_mode", color_mode, ("grayscale", "rgb"))
    _check_choice("resize", resize, ("stretch", "crop", "pad"))
    rgb = _parse_background(background)
    return _Settings(
        height=height,
        width=width,
        channels=1 if color_mode == "grayscale" else 3,
        resize=resize,
        background=rgb,
        background_gray=_gray_of(rgb),
        dtype=_parse_dtype(dtype),
    )


def _parse_image_size(image_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        sides = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in image_size)
    ):
        sides = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(
            f"image_size must be an int or a (height, width) pair of ints, got {image_size!r}"
        )
    if min(sides) < 1:
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    return sides


def _parse_background(background: int | tuple[int, int, int]) -> tuple[int, int, int]:
    if isinstance(background, (int, np.integer)) and not isinstance(background, bool):
        channels = (int(background),) * 3
    elif isinstance(background, (tuple, list)) and len(background) == 3:
        channels = tuple(int(value) for value in background)
    else:
        raise ValueError(
            f"background must be an int or an (R, G, B) tuple of ints in 0-255, got {background!r}"
        )
    if not all(0 <= value <= 255 for value in channels):
        raise ValueError(f"background values must lie in 0-255, got {background!r}")
    return channels  # type: ignore[return-value]


def _parse_dtype(dtype: object) -> np.dtype:
    try:
        parsed = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}") from exc
    if parsed not in (np.dtype(np.float32), np.dtype(np.uint8)):
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
    return parsed


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def _check_workers(num_workers: int | None) -> None:
    if num_workers is None:
        return
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
        raise ValueError(f"num_workers must be a positive int or None, got {num_workers!r}")


def _choose_workers(paths: list[Path], num_workers: int | None) -> int:
    """Return `num_workers`, or pick a thread count from the mean size of a sample of files."""
    if num_workers is not None:
        return num_workers
    sample = paths[:: max(1, len(paths) // _WORKER_SAMPLE_FILES)][:_WORKER_SAMPLE_FILES]
    sizes = []
    for file in sample:
        try:
            sizes.append(file.stat().st_size)
        except OSError:
            continue
    if not sizes or sum(sizes) / len(sizes) < _THREADED_MEAN_FILE_BYTES:
        return 1
    return min(_MAX_DEFAULT_WORKERS, os.cpu_count() or 1)


# ---------------------------------------------------------------------------
# Folder scanning


def _normalize_name(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _is_ignored(name: str) -> bool:
    return name.startswith(".") or name.casefold() in IGNORED_NAMES


def _list_dir(folder: Path) -> list[os.DirEntry[str]]:
    """List the entries of `folder` in the order the filesystem returns them."""
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError as exc:
        raise ImageFolderError(
            f"Cannot list folder {folder}: {exc}. Check that it exists and is readable."
        ) from exc


def _layout_hint(root: Path) -> str:
    return (
        f"Expected one subfolder per class with the images inside, for example "
        f"{root / 'cat' / '0001.png'} and {root / 'dog' / '0001.png'}."
    )


def _scan_root(root: Path) -> tuple[dict[str, Path], list[Path]]:
    """Return the class folders by NFC name and the sorted files directly under `root`."""
    if not root.exists():
        raise ImageFolderError(f"Image folder {root} not found. {_layout_hint(root)}")
    if not root.is_dir():
        raise ImageFolderError(f"Image folder {root} is not a folder. {_layout_hint(root)}")

    class_dirs: dict[str, Path] = {}
    root_files: list[Path] = []
    for entry in _list_dir(root):
        if _is_ignored(entry.name):
            continue
        if not entry.is_dir():
            root_files.append(Path(entry.path))
            continue
        name = _normalize_name(entry.name)
        if name in class_dirs:
            raise ImageFolderError(
                f"Class folders {class_dirs[name]} and {entry.path} have the same name "
                f"after Unicode NFC normalization ({name!r}). Merge or rename one of them."
            )
        class_dirs[name] = Path(entry.path)
    root_files.sort(key=lambda file: _normalize_name(file.name))

    if not class_dirs:
        raise ImageFolderError(
            f"Image folder {root} has no class subfolders (found {len(root_files)} "
            f"files directly under it). {_layout_hint(root)}"
        )
    return class_dirs, root_files


def _order_classes(
    class_dirs: dict[str, Path], class_names: Sequence[str] | None, root: Path
) -> list[str]:
    if class_names is None:
        return sorted(class_dirs)
    if isinstance(class_names, str):
        raise ValueError(f"class_names must be a sequence of str, got the str {class_names!r}")

    requested = [_normalize_name(name) for name in class_names]
    duplicates = sorted(name for name, count in Counter(requested).items() if count > 1)
    if duplicates:
        raise ValueError(f"class_names contains duplicates: {duplicates}. Pass each name once.")
    missing = sorted(set(requested) - set(class_dirs))
    unexpected = sorted(set(class_dirs) - set(requested))
    if missing or unexpected:
        raise ImageFolderError(
            f"Class folders under {root} do not match class_names. "
            f"Missing folders: {missing}. Folders not in class_names: {unexpected}. "
            "Add or rename folders so that there is one per name in class_names, "
            "or pass class_names=None to use the folders found."
        )
    return requested


def _path_sort_key(relative: Path) -> tuple[str, ...]:
    return tuple(_normalize_name(part) for part in relative.parts)


def _list_class_files(class_dir: Path) -> list[Path]:
    """Return every non-ignored, non-folder entry below `class_dir`, sorted by relative path."""
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()
    pending = [class_dir]
    while pending:
        folder = pending.pop()
        status = folder.stat()
        folder_id = (status.st_dev, status.st_ino)
        if folder_id in visited:
            logger.warning("Not reading %s again: a symbolic link leads back to it", folder)
            continue
        visited.add(folder_id)
        for entry in _list_dir(folder):
            if _is_ignored(entry.name):
                continue
            if entry.is_dir():
                pending.append(Path(entry.path))
            else:
                files.append(Path(entry.path))
    files.sort(key=lambda file: _path_sort_key(file.relative_to(class_dir)))
    return files


def _gather_files(
    ordered_names: list[str], class_dirs: dict[str, Path]
) -> tuple[list[Path], np.ndarray]:
    """Return the candidate files of all classes in load order and their int64 labels."""
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(ordered_names):
        class_files = _list_class_files(class_dirs[name])
        paths.extend(class_files)
        labels.extend([label] * len(class_files))
    return paths, np.asarray(labels, dtype=np.int64)


def _check_classes_not_empty(
    ordered_names: list[str],
    class_dirs: dict[str, Path],
    found_per_class: np.ndarray,
    loaded_per_class: np.ndarray,
    file_skips: list[tuple[Path, str]],
) -> None:
    """Raise if a class has no loaded image, quoting up to 3 skip reasons per folder."""
    empty = [index for index, count in enumerate(loaded_per_class) if count == 0]
    if not empty:
        return

    descriptions = []
    for index in empty:
        folder = class_dirs[ordered_names[index]]
        reasons = [
            f"{file.name}: {reason}" for file, reason in file_skips if folder in file.parents
        ]
        text = f"{folder} ({found_per_class[index]} files found, 0 loaded"
        if reasons:
            text += "; " + "; ".join(reasons[:3])
        if len(reasons) > 3:
            text += f"; and {len(reasons) - 3} more"
        descriptions.append(text + ")")
    raise ImageFolderError(
        "Class folders without any loadable image: "
        + ", ".join(descriptions)
        + ". Each class needs at least one image, so add images to these folders or remove them."
    )


# ---------------------------------------------------------------------------
# Memory


def _check_memory(count: int, settings: _Settings, max_bytes: int | None) -> None:
    needed = count * settings.height * settings.width * settings.channels * settings.dtype.itemsize
    if max_bytes is None or needed <= max_bytes:
        return
    raise ImageFolderError(
        f"Loading {count} images of {settings.height}x{settings.width}x{settings.channels} "
        f"as {settings.dtype} needs about {needed / 1e6:,.2f} MB ({needed:,} bytes), above "
        f"max_bytes={max_bytes:,} ({max_bytes / 1e6:,.2f} MB). Pass a smaller image_size, "
        "dtype='uint8' (a quarter of the float32 size), or a larger max_bytes."
    )


def _check_out(out: str | os.PathLike[str], root: Path, shape: tuple[int, ...],
               dtype: np.dtype) -> tuple[Path, Path]:
    """Check the target of ``out=`` and return it with the scratch file to decode into."""
    out = Path(out).expanduser()
    if out.suffix != ".npy":
        raise ValueError(f"out must be a .npy file, got {str(out)!r}")
    resolved, data_root = out.resolve(), root.resolve()
    if resolved == data_root or data_root in resolved.parents:
        raise ValueError(f"out ({out}) lies inside the data folder {root}; write it elsewhere, "
                         "so that the data folder is never changed.")
    out.parent.mkdir(parents=True, exist_ok=True)
    needed = 2 * int(np.prod(shape)) * dtype.itemsize
    free = shutil.disk_usage(out.parent).free
    if needed > free:
        raise ImageFolderError(
            f"Loading {shape[0]} images of {shape[1]}x{shape[2]}x{shape[3]} into {out} needs about "
            f"{needed / 1e6:,.0f} MB of disk (the file and a scratch copy), but {out.parent} has "
            f"{free / 1e6:,.0f} MB free. Free some space or choose another output folder."
        )
    return out, out.with_name(f".{out.stem}.decoding.npy")


def _compact_rows(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Move the rows listed in `keep` (ascending) to the front of `x` and drop the others."""
    if len(keep) == len(x):
        return x
    for new_index, old_index in enumerate(keep.tolist()):
        if new_index != old_index:
            x[new_index] = x[old_index]
    new_shape = (len(keep),) + x.shape[1:]
    try:
        # Shrinks the buffer in place instead of copying it.
        x.resize(new_shape, refcheck=True)
    except ValueError:
        # Another reference to x exists (a debugger, for example), so copy.
        return np.ascontiguousarray(x[: len(keep)])
    return x


# ---------------------------------------------------------------------------
# Decoding


def _raise_for_file(path: Path, reason: str) -> NoReturn:
    raise ImageFolderError(
        f"Cannot load {path}: {reason}. Fix, move or delete the file, or pass "
        "on_error='skip' to list it in ImageFolder.skipped and load the rest."
    )


def _decode_all(
    paths: list[Path],
    settings: _Settings,
    x: np.ndarray,
    on_error: str,
    workers: int,
    progress: bool,
) -> list[str | None]:
    """Decode each file into its row of `x` and return the skip reason per file (None if loaded)."""
    bar = _make_progress_bar(len(paths), progress)
    # About 4 chunks per thread balance the load, and 256 files per chunk keep
    # the progress bar moving.
    chunk_size = max(1, min(256, len(paths) // (workers * 4)))
    starts = range(0, len(paths), chunk_size)
    reasons: list[str | None] = []
    try:
        if workers == 1:
            chunks = (_decode_chunk(paths, start, chunk_size, settings, x) for start in starts)
            _collect(chunks, paths, reasons, on_error, bar)
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as executor:
                futures = [
                    executor.submit(_decode_chunk, paths, start, chunk_size, settings, x)
                    for start in starts
                ]
                try:
                    _collect((f.result() for f in futures), paths, reasons, on_error, bar)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        if bar is not None:
            bar.close()
    return reasons


def _collect(
    chunks: Iterable[list[str | None]],
    paths: list[Path],
    reasons: list[str | None],
    on_error: str,
    bar: tqdm | None,
) -> None:
    """Append chunk results in file order, raising at the first failure if on_error is "raise"."""
    for chunk in chunks:
        for reason in chunk:
            if reason is not None and on_error == "raise":
                _raise_for_file(paths[len(reasons)], reason)
            reasons.append(reason)
        if bar is not None:
            bar.update(len(chunk))


def _make_progress_bar(total: int, progress: bool) -> tqdm | None:
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="image", desc="Loading images")


def _decode_chunk(
    paths: list[Path], start: int, chunk_size: int, settings: _Settings, x: np.ndarray
) -> list[str | None]:
    stop = min(start + chunk_size, len(paths))
    return [_decode_into(paths[index], settings, x[index]) for index in range(start, stop)]


def _decode_into(path: Path, settings: _Settings, out: np.ndarray) -> str | None:
    """Decode `path` into `out` (H, W, C) and return the skip reason, or None if it loaded."""
    try:
        status = path.stat()
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    # Opening a FIFO or device would block or read forever.
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if status.st_size == 0:
        return "empty file (0 bytes)"

    try:
        with Image.open(path) as image:
            pixels = _decode_image(image, settings)
    except UnidentifiedImageError:
        return NOT_AN_IMAGE_REASON
    except Image.DecompressionBombError as exc:
        return f"image too large: {exc}"
    except _InvalidPixelsError as exc:
        return str(exc)
    except _DECODE_ERRORS as exc:
        return f"decoding failed ({type(exc).__name__}: {exc})"
    _store(pixels, out)
    return None


def _decode_image(image: Image.Image, settings: _Settings) -> np.ndarray:
    """Return the pixels of `image` fitted to `settings`.

    The result is uint8 (H, W) or (H, W, 3) for 8-bit images, or float32
    (H, W) in [0, 1] for high bit depth images.
    """
    side = max(settings.height, settings.width)
    # Both sides stay >= side, so any later crop or rotation still has enough pixels.
    image.draft(None, (side, side))
    image.load()
    _apply_exif_orientation(image)

    if image.mode in _MODES_16_BIT or image.mode in ("I", "F"):
        plane = Image.fromarray(_high_depth_to_unit(image))
        fill = settings.background_gray / 255.0
        resized = np.asarray(_fit(plane, settings, fill), dtype=np.float32)
        return np.clip(resized, 0.0, 1.0)

    image = _to_8bit_target(image, settings)
    fill = settings.background if settings.channels == 3 else settings.background_gray
    return np.asarray(_fit(image, settings, fill))


def _apply_exif_orientation(image: Image.Image) -> None:
    """Rotate or flip `image` in place as its EXIF orientation tag specifies."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except _DECODE_ERRORS as exc:
        # The pixels decoded without error, so a damaged EXIF block only loses the rotation.
        logger.warning(
            "Ignoring unreadable EXIF data in %s: %s", getattr(image, "filename", "?"), exc
        )


def _to_8bit_target(image: Image.Image, settings: _Settings) -> Image.Image:
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        base = Image.new("RGBA", rgba.size, settings.background + (255,))
        image = Image.alpha_composite(base, rgba).convert("RGB")
    target_mode = "L" if settings.channels == 1 else "RGB"
    if image.mode != target_mode:
        image = image.convert(target_mode)
    return image


def _high_depth_to_unit(image: Image.Image) -> np.ndarray:
    """Map a 16-bit, 32-bit integer or float image to float32 (H, W) in [0, 1]."""
    values = np.asarray(image)
    if image.mode in _MODES_16_BIT:
        return values.astype(np.float32) / np.float32(_MAX_UINT16)
    if image.mode == "F":
        if not np.isfinite(values).all():
            raise _InvalidPixelsError("float image contains NaN or infinite pixel values")
        if values.size and values.min() >= 0.0 and values.max() <= 1.0:
            return values.astype(np.float32)
        return _min_max_scale(values)

    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low >= 0 and high <= _MAX_UINT16:
        return values.astype(np.float32) / np.float32(_MAX_UINT16)
    if low >= 0:
        return (values.astype(np.float64) / _MAX_INT32).astype(np.float32)
    return _min_max_scale(values)


def _min_max_scale(values: np.ndarray) -> np.ndarray:
    # float64 so that max - min cannot overflow for extreme float32 inputs.
    wide = values.astype(np.float64)
    low, high = wide.min(), wide.max()
    if high == low:
        return np.zeros(values.shape, dtype=np.float32)
    return ((wide - low) / (high - low)).astype(np.float32)


def _gray_of(color: tuple[int, int, int]) -> int:
    """Return the 'L' value Pillow computes for an RGB colour."""
    gray = Image.new("RGB", (1, 1), color).convert("L").getpixel((0, 0))
    return int(gray)  # type: ignore[arg-type]


def _fit(image: Image.Image, settings: _Settings, fill: object) -> Image.Image:
    size = settings.size_wh
    if image.size == size:
        return image
    if settings.resize == "stretch":
        return image.resize(size, _RESAMPLE, reducing_gap=_REDUCING_GAP)
    if settings.resize == "crop":
        return ImageOps.fit(image, size, method=_RESAMPLE)
    return ImageOps.pad(image, size, method=_RESAMPLE, color=fill)


def _store(pixels: np.ndarray, out: np.ndarray) -> None:
    """Write `pixels` (uint8 0-255 or float32 0-1) into `out` (H, W, C) as out's dtype."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    if pixels.shape[2] != out.shape[2]:
        pixels = np.broadcast_to(pixels, out.shape)

    if pixels.dtype == np.uint8:
        if out.dtype == np.uint8:
            out[...] = pixels
        else:
            # float32 division is correctly rounded, so v becomes exactly float32(v / 255).
            np.divide(pixels, np.float32(255), out=out)
        return
    if out.dtype == np.uint8:
        out[...] = np.rint(pixels * np.float32(255))
    else:
        out[...] = pixels


def _summarize_reasons(reasons: list[str]) -> str:
    counts = Counter(reasons)
    return "; ".join(f"{reason} ({count}x)" for reason, count in counts.most_common())
