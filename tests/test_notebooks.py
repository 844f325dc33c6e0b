"""The notebooks: committed clean, and the series runs end to end on a small setting."""

import json
import shutil

import nbformat
import numpy as np
import papermill
import pandas as pd
import pytest

from utils import paths, run

NOTEBOOK_FILES = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
SMALL = ["--max-per-class", "20", "--imbalance", "10", "--epochs", "1", "--seed", "3", "--eval-seeds", "0",
         "--classifier-epochs", "1"]


def test_series_has_six_notebooks():
    assert [p.name for p in NOTEBOOK_FILES] == list(run.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_notebook_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] for cell in code_cells)
    assert all(cell.execution_count is None for cell in code_cells)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_notebook_follows_skeleton(path):
    notebook = nbformat.read(path, as_version=4)
    headings = [line for cell in notebook.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("#")]
    assert headings[0].startswith(f"# {path.name[:2]} ")
    assert "## Setup" in headings
    assert "## Parameters" in headings
    assert "## Summary" in headings
    assert "## Exercises" in headings


def test_runner_parameters_declared_in_notebooks(tmp_path):
    args = run.build_parser().parse_args([])
    for name, parameters in run.notebook_parameters(args, tmp_path).items():
        declared = set(papermill.inspect_notebook(paths.NOTEBOOKS_DIR / name))
        assert set(parameters) <= declared, f"{name} does not declare {set(parameters) - declared}"


def test_runner_refuses_earlier_output(tmp_path, capsys):
    (tmp_path / "run.json").write_text(json.dumps({"started": "2026-01-01T00:00:00"}))
    with pytest.raises(SystemExit, match="an earlier run started 2026-01-01T00:00:00.*--overwrite"):
        run.main(["--output-dir", str(tmp_path), *SMALL])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_runner_refuses_output_inside_data(tmp_path):
    (tmp_path / "data" / "a").mkdir(parents=True)
    with pytest.raises(SystemExit, match="error: .*never writes into a data folder"):
        run.main(["--data-dir", str(tmp_path / "data"), "--output-dir", str(tmp_path / "data" / "out")])


def test_image_size_parsing():
    assert run.parse_image_size("28") == [28, 28]
    assert run.parse_image_size("48x64") == [48, 64]


def test_image_size_rejects_text():
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="like 28 or 48x64"):
        run.parse_image_size("big")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("series") / "out"
    assert run.main(["--output-dir", str(output_dir), *SMALL]) == 0
    return output_dir


@pytest.mark.slow
def test_series_writes_executed_notebooks(small_run):
    assert sorted(p.name for p in (small_run / "notebooks").glob("*.ipynb")) == sorted(run.NOTEBOOKS)


@pytest.mark.slow
def test_series_balances_every_class(small_run):
    summary = json.loads((small_run / "summary.json").read_text())
    after = summary["class_counts_after"]
    assert set(after.values()) == {max(summary["class_counts_before"].values())}
    # Classes are in folder-name order; a ratio of 10 takes the first from 20 images to 2.
    assert summary["class_counts_before"]["ankle_boot"] == 20
    assert summary["class_counts_before"]["tshirt_top"] == 2
    assert summary["synthetic_per_class"]["ankle_boot"] == 0
    assert summary["synthetic_per_class"]["tshirt_top"] == 18
    assert summary["reconstruction_mse_test"] > 0


@pytest.mark.slow
def test_series_files_match_manifest(small_run):
    manifest = pd.read_csv(small_run / "manifest.csv")
    summary = json.loads((small_run / "summary.json").read_text())
    on_disk = sorted(p.relative_to(small_run).as_posix() for p in (small_run / "images").rglob("*.png"))
    assert on_disk == sorted(manifest["path"])
    counts = manifest["class_name"].value_counts().to_dict()
    assert counts == {name: n for name, n in summary["synthetic_per_class"].items() if n}
    assert manifest["parent_a"].str.startswith("train/").all()
    assert manifest["weight"].between(0, 1).all()


@pytest.mark.slow
def test_series_writes_nothing_into_data():
    tracked = sorted(p.name for p in (paths.REPO_ROOT / "data").iterdir())
    assert tracked == ["README.md", "build_fashion_mnist.py", "fashion_mnist.zip"]


def execute_generation(output_dir, executed_path):
    """Run notebook 04 alone on ``output_dir``."""
    papermill.execute_notebook(paths.NOTEBOOKS_DIR / "04_generate_images.ipynb", executed_path,
                               parameters={"OUTPUT_DIR": str(output_dir)}, cwd=str(paths.NOTEBOOKS_DIR),
                               kernel_name="python3", progress_bar=False)


@pytest.mark.slow
def test_generate_before_training_names_notebook(small_run, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(small_run, copy)
    shutil.rmtree(copy / "03_train_autoencoder")
    with pytest.raises(papermill.PapermillExecutionError, match="03_train_autoencoder.ipynb"):
        execute_generation(copy, tmp_path / "04.ipynb")


@pytest.mark.slow
def test_model_of_other_size_rejected(small_run, tmp_path):
    copy = tmp_path / "out"
    shutil.copytree(small_run, copy)
    training_file = copy / "03_train_autoencoder" / "training.json"
    trained = json.loads(training_file.read_text())
    trained["image_shape"] = [32, 32, 3]
    training_file.write_text(json.dumps(trained))
    with pytest.raises(papermill.PapermillExecutionError, match=r"shape \(32, 32, 3\)"):
        execute_generation(copy, tmp_path / "04.ipynb")


@pytest.mark.slow
def test_streaming_run_makes_the_same_images(small_run, tmp_path):
    """The same seed gives the same images, whether the images are held in memory or read from disk."""
    again = tmp_path / "again"
    assert run.main(["--output-dir", str(again), *SMALL, "--no-evaluate", "--stream"]) == 0
    assert json.loads((again / "01_preprocess" / "dataset.json").read_text())["stream"] is True
    assert not (again / "01_preprocess" / "scratch").exists()
    first = np.load(small_run / "04_generate_images" / "synthetic.npz")
    second = np.load(again / "04_generate_images" / "synthetic.npz")
    for name in ("y", "parent_a", "parent_b", "weight"):
        assert np.array_equal(first[name], second[name]), name
    for step, name in [("02_prepare_dataset", "x_train.npy"), ("04_generate_images", "synthetic_images.npy")]:
        assert np.array_equal(np.load(small_run / step / name), np.load(again / step / name)), name


@pytest.mark.slow
def test_series_writes_evaluation_table(small_run):
    table = pd.read_csv(small_run / "evaluation.csv")
    assert {"imbalanced", "random_oversampling", "pixel_smote"} <= set(table["method"])
    assert set(table["test_set"]) == {"balanced", "imbalanced"}
    assert table["acsa"].between(0, 1).all()
