"""Image arrays stored as ``.npy`` files, read whole or as memory maps.

Notebooks 01, 02 and 04 save their images with :func:`write_rows` or
:func:`write_blocks`, a block of rows at a time, so that writing never needs a
second copy in memory. :func:`open_images` reads them back either into memory
or, in *streaming* mode, as a read-only memory map. NumPy then reads from disk
only the rows a batch uses, and the process keeps no copy of the whole array.

A memory map's pages stay in the operating system's file cache after they are
read, and tools that report resident memory count those that are mapped. The
system reclaims them when memory runs short, unlike the process's own memory;
``bench/stream_memory.py`` reports the two separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from .artifacts import atomic_path, require

__all__ = ["ROWS_PER_BLOCK", "write_rows", "write_blocks", "open_images", "iter_blocks"]

# 4,096 rows of a 64x64 colour image are 50 MB: large enough for fast copies,
# small enough for a 4 GB laptop.
ROWS_PER_BLOCK = 4096


def iter_blocks(n_rows: int, rows_per_block: int = ROWS_PER_BLOCK) -> Iterable[slice]:
    """Yield slices that cover ``range(n_rows)`` in order, ``rows_per_block`` rows each (the last may be shorter)."""
    if rows_per_block < 1:
        raise ValueError(f"rows_per_block must be at least 1, got {rows_per_block}")
    for start in range(0, n_rows, rows_per_block):
        yield slice(start, min(start + rows_per_block, n_rows))


def write_rows(path: str | Path, sources: Sequence[np.ndarray], index: np.ndarray | None = None,
               rows_per_block: int = ROWS_PER_BLOCK) -> Path:
    """Write rows of ``sources`` to the ``.npy`` file ``path``, a block at a time, atomically.

    Parameters
    ----------
    path : str or Path
        Target file; must end in ``.npy``. Readable with ``np.load``.
    sources : sequence of ndarray
        Arrays (in memory or memory maps) with the same dtype and the same shape
        after the first axis; they are joined along the first axis.
    index : ndarray of int, shape (M,), optional
        Rows of the joined sources to write, in this order; by default all rows.
    rows_per_block : int
        Rows copied at once; memory use is about one block of the target.

    Returns
    -------
    Path
        ``path``.
    """
    if not sources:
        raise ValueError("sources must hold at least one array")
    first = sources[0]
    for source in sources[1:]:
        if source.dtype != first.dtype or source.shape[1:] != first.shape[1:]:
            raise ValueError(
                f"sources must share dtype and row shape; got {first.dtype} {first.shape[1:]} "
                f"and {source.dtype} {source.shape[1:]}"
            )
    offsets = np.cumsum([0] + [len(source) for source in sources])
    total = int(offsets[-1])
    if index is None:
        index = np.arange(total)
    index = np.asarray(index)
    if index.ndim != 1 or (len(index) and (index.min() < 0 or index.max() >= total)):
        raise ValueError(f"index must be a 1-D array of rows in [0, {total}), got shape {index.shape}")
    return write_blocks(path, (len(index), *first.shape[1:]), first.dtype,
                        lambda rows: _take(sources, offsets, index[rows]), rows_per_block)


def write_blocks(path: str | Path, shape: tuple[int, ...], dtype: np.dtype | type,
                 make_block: Callable[[slice], np.ndarray], rows_per_block: int = ROWS_PER_BLOCK) -> Path:
    """Fill the ``.npy`` file ``path`` block by block with ``make_block(rows)``, atomically.

    Parameters
    ----------
    path : str or Path
        Target file; must end in ``.npy``.
    shape : tuple of int
        Shape of the whole array, rows first.
    dtype : numpy dtype
        Type of the array.
    make_block : callable
        Called with a slice of rows in order; returns those rows, shape
        (rows, *shape[1:]).
    rows_per_block : int
        Rows per call.

    Returns
    -------
    Path
        ``path``; nothing is left there if ``make_block`` raises.
    """
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"image files must end in .npy, got {path.name!r}")
    blocks = list(iter_blocks(shape[0], rows_per_block))
    with atomic_path(path) as temporary:
        target = open_memmap(temporary, mode="w+", dtype=dtype, shape=shape)
        for rows in blocks:
            target[rows] = make_block(rows)
        target.flush()
        del target
    return path


def _take(sources: Sequence[np.ndarray], offsets: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return rows ``rows`` of the joined ``sources``, reading each source in ascending row order."""
    out = np.empty((len(rows), *sources[0].shape[1:]), sources[0].dtype)
    part = np.searchsorted(offsets, rows, side="right") - 1
    for source_index in np.unique(part):
        chosen = np.flatnonzero(part == source_index)
        local = rows[chosen] - offsets[source_index]
        # Ascending reads keep a memory map's disk access sequential.
        order = np.argsort(local, kind="stable")
        out[chosen[order]] = sources[source_index][local[order]]
    return out


def open_images(path: str | Path, stream: bool = False) -> np.ndarray:
    """Open an image file written by :func:`write_rows`.

    Parameters
    ----------
    path : str or Path
        The ``.npy`` file.
    stream : bool
        False reads the whole array into memory. True returns a read-only
        ``np.memmap`` that reads rows from disk as they are used.

    Returns
    -------
    ndarray or np.memmap
        The stored array, for images uint8 (N, H, W, C).
    """
    return np.load(require(path), mmap_mode="r" if stream else None, allow_pickle=False)
