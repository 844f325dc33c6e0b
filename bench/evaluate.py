"""Compare DeepSMOTE with the baselines on Fashion-MNIST, as Dablain et al. (2022) do.

For each seed, trains the same classifier on the imbalanced training set, on
random over-sampling, on SMOTE on pixels, and on DeepSMOTE with each penalty.
DeepSMOTE trains one new encoder-decoder per penalty and seed. Each classifier
is scored on the balanced test set and on an imbalanced test set with the
counts of Dablain et al. (2022). Prints the machine, the library versions, mean and standard deviation over seeds, FID and
KID of the synthetic images of the first seed, and the copy check, and writes
one row per method, seed and test set to a CSV file.

Usage::

    .venv/bin/python bench/evaluate.py                     # shipped data, 3 seeds, 3 penalties
    .venv/bin/python bench/evaluate.py --output-dir outputs/run-...   # reuse a run's split and 04 images
    .venv/bin/python bench/evaluate.py --quick             # a few hundred images, 1 epoch

Compare figures from one run of the machine only: on shared machines the same
command varies by up to 2x in time between runs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import platform
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from machine import describe_machine  # noqa: E402

# --quick keeps this fraction of each class of the shipped training set (at least 3
# images, so SMOTE has a neighbour) and this many test images per class.
_QUICK_TRAIN_FRACTION = 0.025
_QUICK_TEST_PER_CLASS = 30


def load_shipped(quick: bool):
    """Load the shipped training and test images as uint8 (N, 28, 28, 1); return a utils.handoff.Split."""
    from utils.handoff import Split
    from utils.images import load_image_folder

    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(REPO_ROOT / "data" / "fashion_mnist.zip") as archive:
            archive.extractall(folder)
        root = Path(folder) / "fashion_mnist"
        train = load_image_folder(root / "train", image_size=28, dtype="uint8")
        test = load_image_folder(root / "test", image_size=28, dtype="uint8")
    x_train, y_train, x_test, y_test = train.x, train.y.astype(np.int64), test.x, test.y.astype(np.int64)
    if quick:
        rng = np.random.default_rng(0)
        keep_train = [rng.choice(np.flatnonzero(y_train == c), max(3, math.ceil(_QUICK_TRAIN_FRACTION * n)),
                                 replace=False) for c, n in enumerate(np.bincount(y_train))]
        keep_test = [rng.choice(np.flatnonzero(y_test == c), _QUICK_TEST_PER_CLASS, replace=False)
                     for c in range(len(train.class_names))]
        keep_train, keep_test = np.sort(np.concatenate(keep_train)), np.sort(np.concatenate(keep_test))
        x_train, y_train, x_test, y_test = x_train[keep_train], y_train[keep_train], x_test[keep_test], y_test[keep_test]
    empty = np.array([], dtype=str)
    return Split(x_train, y_train, empty, x_test, y_test, empty, list(train.class_names))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=None,
                        help="reuse the split of this run (notebook 02) and, when present, its notebook 04 "
                             "images as method deepsmote_04 (default: load the shipped data)")
    parser.add_argument("--results", default=None,
                        help="CSV file for the table (default: OUTPUT_DIR/evaluation.csv with --output-dir, "
                             "else outputs/bench-evaluate-<time>.csv)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    parser.add_argument("--penalties", nargs="*", default=["code", "paper", "none"],
                        choices=("code", "paper", "none"), help="DeepSMOTE penalties to train (default: all three)")
    parser.add_argument("--preset", choices=("lite", "paper"), default="lite", help="DeepSMOTE preset (default: lite)")
    parser.add_argument("--epochs", type=int, default=15, help="DeepSMOTE training epochs (default: 15)")
    parser.add_argument("--classifier", choices=("small_cnn", "resnet18"), default="small_cnn",
                        help="classifier for every method (default: small_cnn)")
    parser.add_argument("--classifier-epochs", type=int, default=5, help="classifier epochs (default: 5)")
    parser.add_argument("--batch-size", type=int, default=128, help="classifier batch size (default: 128)")
    parser.add_argument("--k-neighbors", type=int, default=5, help="SMOTE neighbours, pixels and codes (default: 5)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: about 230 training and 300 test images, seed 0, penalty code, 1 epoch")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.seeds, args.penalties, args.epochs, args.classifier_epochs = [0], ["code"], 1, 1

    import imblearn
    import keras
    import sklearn
    import tensorflow as tf

    from utils import evaluation, handoff

    started = time.perf_counter()
    print(f"machine: {describe_machine()}")
    print(f"versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"NumPy {np.__version__}, scikit-learn {sklearn.__version__}, imbalanced-learn {imblearn.__version__}")
    print(f"command: {' '.join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])])}")
    print(f"date: {_dt.datetime.now().isoformat(timespec='seconds')}", flush=True)

    synthetic_04 = None
    if args.output_dir:
        split = handoff.load_split(args.output_dir)
        try:
            synthetic_04 = handoff.load_synthetic(args.output_dir, split)
        except FileNotFoundError:
            print("no notebook 04 images in the output folder; deepsmote_04 is left out")
    else:
        split = load_shipped(args.quick)
    names, n_classes = split.class_names, len(split.class_names)
    imbalanced_rows = evaluation.imbalanced_test_indices(split.y_train, split.y_test, n_classes, random_state=0)
    test_sets = {"balanced": (split.x_test, split.y_test),
                 "imbalanced": (split.x_test[imbalanced_rows], split.y_test[imbalanced_rows])}
    print(f"training counts: {np.bincount(split.y_train, minlength=n_classes).tolist()} ({names})")
    print(f"test counts: balanced {np.bincount(split.y_test, minlength=n_classes).tolist()}, imbalanced "
          f"{np.bincount(test_sets['imbalanced'][1], minlength=n_classes).tolist()}")
    print(f"setting: DeepSMOTE preset {args.preset}, {args.epochs} epochs, penalties {args.penalties}; "
          f"classifier {args.classifier}, {args.classifier_epochs} epochs, batch {args.batch_size}, Adam 1e-3; "
          f"seeds {args.seeds}", flush=True)

    rows, synthetic_sets = [], {}
    for seed in args.seeds:
        training_sets = {method: lambda m=method, s=seed: evaluation.oversample_pixels(
            split.x_train, split.y_train, m, random_state=s, k_neighbors=args.k_neighbors)
            for method in ("imbalanced", "random_oversampling", "pixel_smote")}
        if synthetic_04 is not None:
            training_sets["deepsmote_04"] = lambda: (np.concatenate([split.x_train, synthetic_04["x"]]),
                                                     np.concatenate([split.y_train, synthetic_04["y"]]))
        for penalty in args.penalties:
            training_sets[f"deepsmote_{penalty}"] = lambda p=penalty, s=seed: evaluation.oversample_deepsmote(
                split.x_train, split.y_train, p, random_state=s, k_neighbors=args.k_neighbors,
                preset=args.preset, epochs=args.epochs)
        for method, make in training_sets.items():
            step = time.perf_counter()
            x_train, y_train = make()
            sampling_seconds = time.perf_counter() - step
            if seed == args.seeds[0] and method not in ("imbalanced", "random_oversampling"):
                synthetic_sets[method] = (x_train[len(split.x_train):], y_train[len(split.y_train):])
            classifier = evaluation.train_classifier(x_train, y_train, n_classes, args.classifier,
                                                     args.classifier_epochs, args.batch_size, seed=seed)
            scored, _ = evaluation.score_classifier(classifier, test_sets, names, method=method, seed=seed)
            rows += scored
            print(f"seed {seed} {method}: {len(x_train)} training images, made in {sampling_seconds:.0f} s, total "
                  f"{time.perf_counter() - step:.0f} s; " + ", ".join(
                      f"{row['test_set']} ACSA {row['acsa']:.4f} GM {row['gm']:.4f} F1 {row['macro_f1']:.4f}"
                      for row in scored), flush=True)

    results = pd.DataFrame(rows)
    if args.results:
        target = Path(args.results)
    elif args.output_dir:
        target = Path(args.output_dir) / "evaluation.csv"
    else:
        target = REPO_ROOT / "outputs" / f"bench-evaluate-{_dt.datetime.now():%Y%m%d-%H%M%S}.csv"
    evaluation.save_results(results, target)
    summary = evaluation.summarize_scores(results)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 4):
        print("\nmean and standard deviation over seeds (scores in [0, 1]):")
        print(summary.to_string(index=False))

    print_quality(split, synthetic_sets, args, names)
    print(f"\nresults: {target}")
    print(f"evaluate_wall_seconds: {time.perf_counter() - started:.0f}")
    return 0


def print_quality(split, synthetic_sets, args, names) -> None:
    """Print FID, KID and the copy check of the first seed's synthetic images, averaged over classes."""
    from utils import evaluation

    feature_rows, reference_rows = evaluation.split_reference(split.y_test, random_state=args.seeds[0])
    feature_net = evaluation.train_classifier(split.x_test[feature_rows], split.y_test[feature_rows], len(names),
                                              args.classifier, args.classifier_epochs, args.batch_size,
                                              seed=args.seeds[0])
    features = {"real_train": (evaluation.penultimate_features(feature_net, split.x_train), split.y_train)}
    for method, (x, y) in synthetic_sets.items():
        features[method] = (evaluation.penultimate_features(feature_net, x), y)
    reference = (evaluation.penultimate_features(feature_net, split.x_test[reference_rows]),
                 split.y_test[reference_rows])
    quality = evaluation.quality_by_class(features, reference, names)
    minority = sorted(set(quality.loc[quality["set"] != "real_train", "class_name"]))
    quality = quality[quality["class_name"].isin(minority)]
    print(f"\nimage quality, seed {args.seeds[0]}: features of a {args.classifier} trained on half of the balanced "
          f"test set; FID and KID against the other half, mean over the {len(minority)} classes with synthetic images")
    print(quality.groupby("set", sort=False)[["fid", "kid"]].mean().to_string(float_format=lambda v: f"{v:.4f}"))
    print("\ncopy check (pixel distances in [0, 1] scale; too_close: below the 1% quantile of real-to-real):")
    for method, (x, y) in synthetic_sets.items():
        check = evaluation.copy_check(x, y, split.x_train, split.y_train, names)
        print(f"{method}: median nearest-real distance {check['synthetic_median'].median():.3f} vs real-to-real "
              f"{check['real_median'].median():.3f}; exact copies {int(check['exact_copies'].sum())}; too close "
              f"{(check['too_close'] * check['n_synthetic']).sum() / check['n_synthetic'].sum():.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
