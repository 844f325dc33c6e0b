"""The benchmark scripts keep working: each runs once on a tiny setting."""

import subprocess
import sys

import pytest

from utils.paths import REPO_ROOT


def run_script(*args):
    completed = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.mark.slow
def test_train_speed_prints_seconds_per_epoch():
    output = run_script("bench/train_speed.py", "--preset", "lite", "--max-images", "300", "--epochs", "1")
    assert "seconds_per_epoch:" in output
    assert "machine:" in output


@pytest.mark.slow
def test_train_speed_compare_table():
    output = run_script("bench/train_speed.py", "--compare", "--max-images", "200", "--epochs", "1",
                        "--settings", "authors_float32", "ours_mixed_bfloat16")
    assert "machine:" in output
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] in ("authors_float32", "ours_mixed_bfloat16"):
            rows[cells[0]] = [float(cell) for cell in cells[1:]]
    assert list(rows) == ["authors_float32", "ours_mixed_bfloat16"], output
    for name, (seconds, images_per_second, mse, ratio) in rows.items():
        assert seconds > 0, name
        assert images_per_second > 0, name
        assert 0 < mse < 1, name
        assert ratio > 0, name
    assert rows["authors_float32"][3] == 1.0


def test_load_speed_quick():
    output = run_script("bench/load_speed.py", "--quick", "--repeat", "1")
    assert "images/s" in output


@pytest.mark.slow
def test_series_prints_time_and_memory():
    output = run_script("bench/series.py", "--", "--max-per-class", "10", "--imbalance", "5", "--epochs", "1")
    assert "series_wall_seconds:" in output
    assert "series_peak_rss_mb:" in output


@pytest.mark.slow
def test_evaluate_quick(tmp_path):
    output = run_script("bench/evaluate.py", "--quick", "--results", str(tmp_path / "e.csv"))
    assert "evaluate_wall_seconds:" in output
    assert "machine:" in output
    assert (tmp_path / "e.csv").exists()


def test_generate_speed_quick():
    output = run_script("bench/generate_speed.py", "--quick")
    assert "latent_smote:" in output
    assert "code to file:" in output


@pytest.mark.slow
def test_stream_memory_prints_rows():
    output = run_script("bench/stream_memory.py", "--sizes", "40", "80", "--steps", "1", "--image-size", "32")
    rows = [line.split() for line in output.splitlines() if line.startswith(("memory ", "stream "))]
    assert [(row[0], row[1]) for row in rows] == [("memory", "40"), ("stream", "40"), ("memory", "80"),
                                                  ("stream", "80")]
    assert all(float(value) > 0 for row in rows for value in row[3:])
