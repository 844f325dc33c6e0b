"""Measure wall time and peak memory of the whole notebook series.

Runs ``python -m utils.run`` in a temporary output folder and samples the
resident memory (RSS) of the runner and all its child processes (the Jupyter
kernels) every 0.2 s. Prints the wall time, the peak of the summed RSS, and the
runner's own lines.

Usage::

    .venv/bin/python bench/series.py                       # the lite preset on the shipped data
    .venv/bin/python bench/series.py -- --max-per-class 20 --epochs 1
    .venv/bin/python bench/series.py -- --preset paper --epochs 5

Options after ``--`` go to ``utils.run`` unchanged.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from machine import describe_machine

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.2


def tree_rss(process: psutil.Process) -> int:
    """Return the summed RSS in bytes of ``process`` and its descendants that are still alive."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_args", nargs="*", help="options for utils.run, after --")
    args = parser.parse_args(argv)

    print(f"machine: {describe_machine()}, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "utils.run", "--output-dir", str(Path(folder) / "run"), *args.run_args]
        print(f"command: {' '.join(command[1:])}")
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        watched = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        output = child.stdout.read()
    print(output.rstrip())
    if child.returncode != 0:
        raise SystemExit(f"error: utils.run exited with status {child.returncode}")
    print(f"series_wall_seconds: {seconds:.0f}")
    print(f"series_peak_rss_mb: {peak / 2**20:.0f}")


if __name__ == "__main__":
    main()
