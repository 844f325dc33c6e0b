"""Distribution strategies: errors, and training on two devices or two workers against one device.

The training runs are separate processes (``tests/distributed_training.py``):
TensorFlow fixes its devices at start-up, and the multi-worker test needs two
processes that talk over loopback ports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from utils import distribute

SCRIPT = Path(__file__).with_name("distributed_training.py")
TIMEOUT_S = 300


def _start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``command`` with Python, with ``env`` added to the environment."""
    return subprocess.Popen([sys.executable, *command], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _train(out: Path, strategy: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return _start([str(SCRIPT), "--strategy", strategy, "--out", str(out), *extra], env)


def _finish(process: subprocess.Popen) -> str:
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"training did not finish in {TIMEOUT_S} s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]
    return output


def _weights(result: np.lib.npyio.NpzFile) -> list[np.ndarray]:
    return [result[f"weight_{index}"] for index in range(len(result.files) - 2)]


@pytest.fixture(scope="module")
def one_device(tmp_path_factory) -> np.lib.npyio.NpzFile:
    out = tmp_path_factory.mktemp("one_device") / "result.npz"
    _finish(_train(out, "default"))
    return np.load(out)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _run_two_workers(command_of: Callable[[int], list[str]]) -> list[str]:
    """Run ``command_of(0)`` and ``command_of(1)`` as two workers on loopback ports; return their outputs.

    Both processes are killed if either fails or runs past the time limit.
    """
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    processes = [
        _start(command_of(index),
               env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})})
        for index in range(2)
    ]
    try:
        return [_finish(process) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


# ---------------------------------------------------------------------------
# Choosing a strategy


def test_default_strategy_is_one_chief_replica():
    strategy = distribute.make_strategy("default")
    assert distribute.replica_count(strategy) == 1
    assert distribute.is_chief(strategy)


def test_unknown_strategy_named():
    with pytest.raises(ValueError, match=r"one of \('default', 'mirrored', 'multi-worker'\), got 'tpu'"):
        distribute.make_strategy("tpu")


def test_devices_only_for_mirrored():
    with pytest.raises(ValueError, match="only be chosen for the 'mirrored' strategy"):
        distribute.make_strategy("default", devices=["/cpu:0"])


@pytest.mark.parametrize(("tf_config", "message"), [
    (None, "needs the environment variable TF_CONFIG, which is not set"),
    ("{not json", "TF_CONFIG must be JSON like"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "TF_CONFIG must be JSON like"),
    ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 2}}',
     "task 'worker' #2 is not in its cluster"),
])
def test_multi_worker_needs_valid_tf_config(monkeypatch, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(ValueError, match=message):
        distribute.make_strategy("multi-worker")


# ---------------------------------------------------------------------------
# Training: the same losses and weights on one device, two devices and two workers


@pytest.mark.slow
def test_mirrored_on_two_devices_matches_one_device(tmp_path, one_device):
    out = tmp_path / "mirrored.npz"
    _finish(_train(out, "mirrored"))
    mirrored = np.load(out)
    assert int(one_device["replicas"]) == 1
    assert int(mirrored["replicas"]) == 2
    assert len(mirrored["losses"]) == 8
    np.testing.assert_allclose(mirrored["losses"], one_device["losses"], rtol=1e-5)
    for found, expected in zip(_weights(mirrored), _weights(one_device), strict=True):
        np.testing.assert_allclose(found, expected, atol=1e-4)


@pytest.mark.slow
def test_streamed_images_train_like_images_in_memory(tmp_path, one_device):
    out = tmp_path / "streamed.npz"
    _finish(_train(out, "default", "--stream"))
    # The logged losses are running means, whose last bit can differ between processes.
    np.testing.assert_allclose(np.load(out)["losses"], one_device["losses"], rtol=1e-6)


@pytest.mark.slow
def test_two_local_workers_train_like_one_device(tmp_path, one_device):
    outputs = _run_two_workers(lambda index: [str(SCRIPT), "--strategy", "multi-worker", "--out",
                                              str(tmp_path / f"worker{index}.npz"), "--logical-cpus", "1"])
    assert all("multi-worker: 2 replicas" in output for output in outputs)
    # Only the chief (worker 0) writes.
    assert (tmp_path / "worker0.npz").exists()
    assert not (tmp_path / "worker1.npz").exists()
    chief = np.load(tmp_path / "worker0.npz")
    np.testing.assert_allclose(chief["losses"], one_device["losses"], rtol=1e-5)
    for found, expected in zip(_weights(chief), _weights(one_device), strict=True):
        np.testing.assert_allclose(found, expected, atol=1e-4)


@pytest.mark.slow
def test_series_runs_on_two_local_workers(tmp_path):
    """Two workers run the whole series with --strategy multi-worker and train as one device does."""
    small = ["--max-per-class", "20", "--imbalance", "10", "--epochs", "1", "--seed", "3", "--no-evaluate"]
    _run_two_workers(lambda index: ["-m", "utils.run", "--strategy", "multi-worker", "--output-dir",
                                    str(tmp_path / f"worker{index}"), *small])
    _finish(_start(["-m", "utils.run", "--output-dir", str(tmp_path / "one"), *small]))
    histories = [np.loadtxt(tmp_path / name / "03_train_autoencoder" / "history.csv", delimiter=",", skiprows=1)
                 for name in ("worker0", "worker1", "one")]
    np.testing.assert_array_equal(histories[0], histories[1])
    # Synchronised batch norm computes the variance in another way than one device does.
    # Over a whole run, the epoch means then differed by up to 0.2 %.
    np.testing.assert_allclose(histories[0], histories[2], rtol=1e-2)
