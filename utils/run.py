"""Run the notebook series 01-06 in order with papermill.

Usage::

    python -m utils.run [--data-dir DIR] [--output-dir DIR] [--preset lite|paper]
                        [--epochs N] [--seed N] [--image-size N|HxW]
                        [--color-mode grayscale|rgb] [--penalty code|paper|none]
                        [--no-evaluate] ...

``python -m utils.run --help`` lists every option.

Each executed notebook is saved under ``OUTPUT_DIR/notebooks/``; everything else
a run writes also goes under ``OUTPUT_DIR``. Without ``--output-dir`` each run
gets a new folder ``outputs/run-YYYYmmdd-HHMMSS``. An existing output folder
from an earlier run is only written into with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from .artifacts import save_json
from .datasets import is_keras_name
from .distribute import STRATEGIES
from .paths import DEFAULT_DATA, NOTEBOOKS_DIR, STEP_DIRS, check_outside, new_run_dir, resolve

__all__ = ["NOTEBOOKS", "notebook_parameters", "run_series", "main"]

logger = logging.getLogger(__name__)

NOTEBOOKS = tuple(f"{name}.ipynb" for name in STEP_DIRS.values())
_RUN_RECORD = "run.json"
_PACKAGES = ("tensorflow", "keras", "numpy", "imbalanced-learn", "scikit-learn", "pillow", "papermill")


def parse_image_size(text: str) -> list[int]:
    """Parse ``"28"`` or ``"48x64"`` (height x width) into ``[height, width]``."""
    parts = text.lower().replace(",", "x").split("x")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        sizes = []
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"image size must be N or HxW in pixels, like 28 or 48x64; got {text!r}")
    return sizes


def parse_imbalance(text: str) -> str | float | list[int]:
    """Parse ``--imbalance``: a paper data set name, a ratio, or comma-separated counts."""
    if "," in text:
        try:
            return [int(part) for part in text.split(",")]
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"counts must be integers separated by commas, got {text!r}") from error
    try:
        return float(text)
    except ValueError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m utils.run", description=__doc__.splitlines()[0])

    files = parser.add_argument_group("data and output")
    files.add_argument("--data-dir", default=str(DEFAULT_DATA),
                       help="folder with one subfolder per class (or train/ and test/ folders of them), "
                            "a .zip of one, or keras:mnist, keras:fashion_mnist, keras:cifar10 to download "
                            "with keras.datasets (default: the shipped Fashion-MNIST subset)")
    files.add_argument("--output-dir", default=None,
                       help="folder for everything the run writes (default: a new outputs/run-<time>)")
    files.add_argument("--overwrite", action="store_true",
                       help="allow writing into an output folder that contains an earlier run")
    files.add_argument("--image-size", type=parse_image_size, default=[28, 28],
                       help="size images are resized to, N or HxW pixels (default: 28)")
    files.add_argument("--color-mode", choices=("grayscale", "rgb"), default="grayscale",
                       help="load images as 1-channel gray or 3-channel RGB (default: grayscale)")
    files.add_argument("--imbalance", type=parse_imbalance, default=None,
                       help="impose an imbalance on the training set: a paper data set name "
                            "(mnist, cifar10, ...), a ratio such as 100, or counts per class "
                            "separated by commas (default: keep the data as it is)")
    files.add_argument("--stream", action="store_true",
                       help="decode the images to disk and read them from there batch by batch, for data "
                            "sets larger than memory (default: in memory)")
    files.add_argument("--max-per-class", type=int, default=None,
                       help="keep at most this many training and test images per class, "
                            "for a quick try (default: all)")

    training = parser.add_argument_group("training and generation")
    training.add_argument("--preset", choices=("lite", "paper"), default="lite",
                          help="network size and training settings (default: lite)")
    training.add_argument("--epochs", type=int, default=None, help="training epochs (default: the preset's)")
    training.add_argument("--seed", type=int, default=0, help="seed of every random choice (default: 0)")
    training.add_argument("--penalty", choices=("code", "paper", "none"), default="code",
                          help="penalty term variant (default: code, as the authors' code computes it)")
    training.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                          default="float32",
                          help="Keras dtype policy for training: mixed_bfloat16 is faster on CPUs with "
                               "AVX-512 BF16 (default: float32)")
    training.add_argument("--strategy", choices=STRATEGIES, default="default",
                          help="tf.distribute strategy of the training: default (one device), mirrored "
                               "(every GPU of this machine) or multi-worker (needs TF_CONFIG; see "
                               "docs/scaling.md) (default: default)")
    training.add_argument("--k-neighbors", type=int, default=5,
                          help="neighbours SMOTE interpolates towards (default: 5, as in the paper)")

    evaluation = parser.add_argument_group("evaluation (notebook 06)")
    evaluation.add_argument("--no-evaluate", action="store_true",
                            help="skip notebook 06, which trains a classifier per balancing method "
                                 "(about 1.5 min on the shipped data)")
    evaluation.add_argument("--eval-seeds", type=int, nargs="+", default=[0, 1],
                            help="classifier seeds; scores are averaged over them (default: 0 1)")
    evaluation.add_argument("--classifier-epochs", type=int, default=3,
                            help="training epochs of each classifier (default: 3)")
    return parser


def notebook_parameters(args: argparse.Namespace, output_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the papermill parameters of each notebook, keyed by file name."""
    common = {"OUTPUT_DIR": str(output_dir), "SEED": args.seed}
    return {
        NOTEBOOKS[0]: {**common, "DATA_DIR": _data_source(args.data_dir), "IMAGE_SIZE": args.image_size,
                       "COLOR_MODE": args.color_mode, "STREAM": args.stream},
        NOTEBOOKS[1]: {**common, "IMBALANCE": args.imbalance, "MAX_PER_CLASS": args.max_per_class},
        NOTEBOOKS[2]: {**common, "PRESET": args.preset, "EPOCHS": args.epochs, "PENALTY": args.penalty,
                       "PRECISION": args.precision, "STRATEGY": args.strategy, "VERBOSE": 2},
        NOTEBOOKS[3]: {**common, "K_NEIGHBORS": args.k_neighbors},
        NOTEBOOKS[4]: {**common},
        NOTEBOOKS[5]: {**common, "SEEDS": args.eval_seeds, "CLASSIFIER_EPOCHS": args.classifier_epochs},
    }


def _data_source(text: str) -> str:
    """Return a Keras data set name unchanged and a path as an absolute path."""
    return text if is_keras_name(text) else str(resolve(text))


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _prepare_output_dir(args: argparse.Namespace) -> Path:
    output_dir = resolve(args.output_dir) if args.output_dir else new_run_dir()
    try:
        if not is_keras_name(args.data_dir):
            check_outside(output_dir, args.data_dir)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    record = output_dir / _RUN_RECORD
    if output_dir.exists() and any(output_dir.iterdir()) and not args.overwrite:
        earlier = ""
        if record.exists():
            earlier = f" (an earlier run started {json.loads(record.read_text())['started']})"
        raise SystemExit(
            f"error: {output_dir} is not empty{earlier}. Nothing was written. Choose another "
            "--output-dir, leave it out to get a new folder under outputs/, or pass --overwrite "
            "to replace the earlier results."
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir


def run_series(args: argparse.Namespace) -> Path:
    """Execute the notebooks (06 unless ``--no-evaluate``) into ``OUTPUT_DIR/notebooks/``; return OUTPUT_DIR."""
    import papermill

    # The kernels inherit this. It hides part of TensorFlow's C++ notices. TensorFlow 2.21 still
    # writes the lines logged before its logging starts (such as "failed call to cuInit").
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    output_dir = _prepare_output_dir(args)
    parameters = notebook_parameters(args, output_dir)
    save_json(output_dir / _RUN_RECORD, {
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "parameters": parameters,
        "versions": _versions(),
    })
    executed_dir = output_dir / "notebooks"
    executed_dir.mkdir(exist_ok=True)
    log_path = executed_dir / "kernel.log"
    selected = NOTEBOOKS[:5] if args.no_evaluate else NOTEBOOKS
    for name in selected:
        started = time.perf_counter()
        print(f"[{name}] running ...", flush=True)
        try:
            with _stderr_to(log_path):
                papermill.execute_notebook(
                    NOTEBOOKS_DIR / name, executed_dir / name, parameters=parameters[name],
                    cwd=str(NOTEBOOKS_DIR), kernel_name="python3", progress_bar=False,
                )
        except papermill.PapermillExecutionError as error:
            raise SystemExit(
                f"error: {name} failed: {error.ename}: {error.evalue}\n"
                f"The executed notebook, with the failing cell, is {executed_dir / name}; "
                f"the kernels' log is {log_path}."
            ) from None
        print(f"[{name}] done in {time.perf_counter() - started:.0f} s", flush=True)
        if name == NOTEBOOKS[0]:
            _print_skipped(output_dir)
    return output_dir


def _print_skipped(output_dir: Path, shown: int = 10) -> None:
    """Print the files notebook 01 skipped, so they are seen without opening the notebook."""
    skipped = json.loads((output_dir / STEP_DIRS[1] / "dataset.json").read_text(encoding="utf-8"))["skipped"]
    if not skipped:
        return
    print(f"  skipped {len(skipped)} file(s) that could not be used:")
    for _subset, path, reason in skipped[:shown]:
        print(f"    {path}: {reason}")
    if len(skipped) > shown:
        print(f"    ... and {len(skipped) - shown} more, listed in the executed 01_preprocess.ipynb")


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send this process's standard error, and so the kernels' start-up notices, to ``path``.

    The kernels inherit file descriptor 2, so redirecting ``sys.stderr`` alone would not reach them.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    output_dir = run_series(args)
    print(f"\nFinished in {time.perf_counter() - started:.0f} s. Results are in {output_dir}:")
    print(f"  synthetic images   {output_dir / 'images'}")
    print(f"  manifest           {output_dir / 'manifest.csv'}")
    print(f"  summary            {output_dir / 'summary.json'}")
    print(f"  contact sheets     {output_dir / 'contact_sheets'}")
    if not args.no_evaluate:
        print(f"  evaluation         {output_dir / 'evaluation.csv'}")
    print(f"  executed notebooks {output_dir / 'notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
