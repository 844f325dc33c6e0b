"""Write the student copies of the notebooks: no outputs, no solutions.

Each notebook of the series may end with cells tagged ``solution`` (in the cell
metadata ``tags``) that contain the solutions to its exercises. The student copy leaves those
cells out and clears every output, so a class starts from clean notebooks::

    python -m utils.student OUT_DIR

The copies go into ``OUT_DIR``; the notebooks in ``notebooks/`` are only read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from .artifacts import atomic_path
from .paths import NOTEBOOKS_DIR, resolve

__all__ = ["SOLUTION_TAG", "student_copy", "write_student_notebooks", "main"]

SOLUTION_TAG = "solution"

# Metadata that papermill and Jupyter add when they run a notebook.
_RUN_METADATA = ("execution", "papermill", "widgets")


def student_copy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` without solution cells and without outputs.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A version 4 notebook; it is not changed.

    Returns
    -------
    nbformat.NotebookNode
        The same cells, ids and tags, except that cells tagged ``solution`` are
        removed and code cells have no outputs and no execution count. The run
        metadata of papermill and Jupyter (``execution``, ``papermill``,
        ``widgets``) is dropped from the notebook and its cells.
    """
    copy = nbformat.from_dict(notebook)
    copy.cells = [cell for cell in copy.cells if SOLUTION_TAG not in cell.get("metadata", {}).get("tags", [])]
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
    for key in _RUN_METADATA:
        copy.metadata.pop(key, None)
    return copy


def _check_out_dir(out_dir: Path, source_dir: Path) -> None:
    """Raise ``ValueError`` when ``out_dir`` is ``source_dir`` or lies inside it."""
    if out_dir == source_dir or source_dir in out_dir.parents:
        raise ValueError(
            f"The output folder {out_dir} is inside the notebook folder {source_dir}. "
            "Student copies must not mix with the notebooks that contain the solutions: "
            "choose a folder outside it, for example outputs/student."
        )


def write_student_notebooks(out_dir: str | Path, source_dir: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    """Write a student copy of every notebook in ``source_dir`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the copies, created if missing; a relative path is taken from
        the repository root. Files of the same name in it are replaced.
    source_dir : str or Path
        Folder whose ``*.ipynb`` files are copied; by default ``notebooks/``.

    Returns
    -------
    list of Path
        The files written, in name order.

    Raises
    ------
    ValueError
        When ``out_dir`` is ``source_dir`` or a folder inside it.
    FileNotFoundError
        When ``source_dir`` contains no notebook.

    Notes
    -----
    Each file is written to a temporary name in ``out_dir`` and renamed, so a
    failure never leaves a half-written notebook behind.
    """
    out_dir, source_dir = resolve(out_dir), resolve(source_dir)
    _check_out_dir(out_dir, source_dir)
    sources = sorted(source_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"No .ipynb file found in {source_dir}.")
    written = []
    for source in sources:
        notebook = nbformat.read(source, as_version=4)
        copy = student_copy(notebook)
        nbformat.validate(copy)
        target = out_dir / source.name
        with atomic_path(target) as temporary:
            nbformat.write(copy, temporary)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m utils.student OUT_DIR``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m utils.student",
        description="Write copies of the notebooks without outputs and without cells tagged 'solution'.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR",
                        help="folder for the student copies (must be outside notebooks/)")
    args = parser.parse_args(argv)
    try:
        written = write_student_notebooks(args.out_dir)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
