"""Training on several devices or machines with ``tf.distribute``.

Three strategies, by name:

``"default"``
    One device: the first GPU if there is one, else the CPU.
``"mirrored"``
    :class:`tf.distribute.MirroredStrategy`: every GPU of this machine (or the
    devices given) has a copy of the networks and takes an equal share of
    each batch. The gradients are summed across the copies before each update.
``"multi-worker"``
    :class:`tf.distribute.MultiWorkerMirroredStrategy`: the same over several
    processes or machines. Each worker runs the same program with the
    environment variable ``TF_CONFIG`` describing the cluster and its own role.

The batch size in the presets is the global batch: with ``R`` copies each
takes ``batch_size / R`` images, and one step does the same arithmetic as on
one device. Batch normalisation then uses the statistics of the whole batch
(``sync_batch_norm``), so the losses agree with one device up to rounding.
``docs/scaling.md`` explains when to raise the batch size and learning rate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["STRATEGIES", "make_strategy", "replica_count", "is_chief"]

STRATEGIES = ("default", "mirrored", "multi-worker")


def make_strategy(name: str = "default", devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """Create the distribution strategy called ``name``.

    Create it before building or loading any network, and build and compile the
    networks inside ``strategy.scope()``; :func:`utils.training.build_autoencoder`
    does both.

    Parameters
    ----------
    name : {"default", "mirrored", "multi-worker"}
        See the module docstring.
    devices : sequence of str, optional
        Devices for ``"mirrored"``, such as ``["/gpu:0", "/gpu:1"]``; by default
        every GPU, or the CPU when there is none.

    Returns
    -------
    tf.distribute.Strategy

    Raises
    ------
    ValueError
        For an unknown name, devices with a strategy other than ``"mirrored"``,
        or ``"multi-worker"`` without a valid ``TF_CONFIG``.
    """
    import tensorflow as tf  # here, so that the runner can import STRATEGIES cheaply

    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if devices is not None and name != "mirrored":
        raise ValueError(f"devices can only be chosen for the 'mirrored' strategy, not {name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(list(devices) if devices is not None else None)
    _check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def _check_tf_config() -> None:
    """Raise a clear error when ``TF_CONFIG`` cannot describe a multi-worker cluster."""
    text = os.environ.get("TF_CONFIG")
    example = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}')
    if not text:
        raise ValueError(
            "the 'multi-worker' strategy needs the environment variable TF_CONFIG, which is not set. "
            f"Set it on each worker, for example TF_CONFIG='{example}' with index 1 on the second "
            "worker; docs/scaling.md shows a full run."
        )
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        task_type, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"TF_CONFIG must be JSON like {example}; found {text!r} ({error!r})."
        ) from error
    members = config["cluster"].get(task_type)
    if not isinstance(workers, list) or not members or not 0 <= index < len(members):
        raise ValueError(
            f"TF_CONFIG's task {task_type!r} #{index} is not in its cluster {config['cluster']!r}. "
            "Give each worker its own index, from 0 to the number of workers - 1."
        )


def replica_count(strategy: tf.distribute.Strategy | None = None) -> int:
    """Return how many copies of the networks ``strategy`` (default: the current one) trains."""
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    return int(strategy.num_replicas_in_sync)


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Return True where this process should write files: always, except on non-chief workers.

    In a multi-worker cluster the chief is the task of type ``"chief"``, or worker
    0 when the cluster has no chief. Every worker has the same weights after
    each step, so one copy of each file is enough.
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief
