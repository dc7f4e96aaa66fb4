"""Where training runs: the ``tf.distribute`` strategy, the global batch and the learning-rate rule.

The paper trained on two GPUs by splitting the *model* (Section 3.2). Today one splits the *batch*:
every replica holds a full copy of the model, takes ``batch_size`` examples of each global batch, and
the gradients are summed across replicas before each update. So

    global batch = per-replica batch x replicas

and, to keep the size of an update per example the same, the learning rate grows with the global
batch ("linear scaling", Goyal et al. 2017, *Accurate, Large Minibatch SGD*):

    learning rate = base learning rate x global batch / 128

where 128 is the paper's batch (Section 5). ``lr_scaling="none"`` turns the rule off.
"""

from __future__ import annotations

import json
import os

from alexnet_keras.checks import check_choice

STRATEGIES = ("auto", "default", "mirrored", "multi_worker", "tpu")
LR_SCALINGS = ("linear", "none")
PAPER_BATCH_SIZE = 128


def _cluster():
    """TF_CONFIG read by TensorFlow's own ``TFConfigClusterResolver``: (cluster jobs, task type,
    task index); ``({}, None, None)`` without TF_CONFIG (then TensorFlow is not imported)."""
    if not os.environ.get("TF_CONFIG"):
        return {}, None, None
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    guide = "see https://www.tensorflow.org/guide/distributed_training#TF_CONFIG"
    try:
        jobs = resolver.cluster_spec().as_dict()
        task_type, task_index = resolver.task_type, resolver.task_id
    except (ValueError, TypeError, AttributeError) as error:  # JSONDecodeError is a ValueError
        what = "JSON" if isinstance(error, json.JSONDecodeError) else f"({type(error).__name__})"
        raise ValueError(f"TF_CONFIG is not valid {what} ({error}); {guide}") from None
    if jobs and task_type is None:
        raise ValueError(f"TF_CONFIG names a cluster ({', '.join(sorted(jobs))}) but no \"task\": "
                         f"add \"task\": {{\"type\": \"worker\", \"index\": N}} saying which of "
                         f"its tasks this process is; {guide}")
    if jobs and (task_type not in jobs or not 0 <= int(task_index or 0) < len(jobs[task_type])):
        raise ValueError(f"TF_CONFIG's task ({task_type!r}, index {task_index}) is not in its "
                         f"cluster ({json.dumps(jobs)}); {guide}")
    return jobs, task_type, task_index


def cluster_workers() -> int:
    """Number of worker (and chief) tasks TF_CONFIG names; 0 without TF_CONFIG."""
    jobs = _cluster()[0]
    return len(jobs.get("worker", [])) + len(jobs.get("chief", []))


def is_chief() -> bool:
    """True for the process that writes checkpoints, logs and plots (worker 0 without a chief)."""
    jobs, task_type, task_index = _cluster()
    if task_type is None or task_type == "chief":
        return True
    return task_type == "worker" and int(task_index or 0) == 0 and not jobs.get("chief")


def task_id() -> str:
    """``"worker-1"`` and the like under TF_CONFIG, ``"chief"`` otherwise."""
    _, task_type, task_index = _cluster()
    return "chief" if is_chief() else f"{task_type or 'worker'}-{task_index or 0}"


def resolve_strategy_name(name: str = "auto", *, gpus: int | None = None) -> str:
    """The strategy ``"auto"`` stands for: ``"multi_worker"`` when TF_CONFIG names several
    workers, ``"mirrored"`` when more than one GPU is visible, else ``"default"``. Other names
    are returned as they are (after checking them)."""
    check_choice("strategy", name, STRATEGIES)
    if name != "auto":
        return name
    if cluster_workers() > 1:
        return "multi_worker"
    if gpus is None:
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    return "mirrored" if gpus > 1 else "default"


def make_strategy(name: str = "auto", *, devices: list[str] | None = None, tpu: str | None = None,
                  cluster_timeout: float = 600.0):
    """Return a ``tf.distribute.Strategy``.

    Args:
        name: ``"auto"`` (multi-worker when TF_CONFIG names several workers, mirrored when more
            than one GPU is visible, otherwise the default strategy), ``"default"`` (one device),
            ``"mirrored"`` (all local GPUs, or ``devices``), ``"multi_worker"``
            (``MultiWorkerMirroredStrategy`` from TF_CONFIG) or ``"tpu"``.
        devices: devices for ``"mirrored"``, e.g. ``["/cpu:0", "/cpu:1"]`` after splitting the CPU
            into logical devices (what the tests do).
        tpu: TPU name or address for ``"tpu"`` (default: the resolver's own lookup).
        cluster_timeout: ``"multi_worker"``: seconds to wait for every worker of TF_CONFIG to
            start; meanwhile the missing ones are printed, and Ctrl-C or SIGTERM end the wait
            (``cluster_wait.watch_peers``).

    Multi-worker and TPU strategies must be created before any other TensorFlow op runs.
    """
    import tensorflow as tf

    name = resolve_strategy_name(name)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        from alexnet_keras.training.cluster_wait import wait_for_peers, watch_peers

        jobs, task_type, task_index = _cluster()
        me = (task_type, int(task_index or 0))
        wait_for_peers(jobs, me, cluster_timeout)
        with watch_peers(jobs, me, cluster_timeout):
            return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def global_batch_size(
    replicas: int, *, batch_size: int | None = None, global_batch: int | None = None
) -> int:
    """The global batch: ``batch_size`` per replica x ``replicas``, or ``global_batch`` as given.

    A given global batch must split evenly across the replicas.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be >= 1; received {replicas}")
    if global_batch is not None:
        if global_batch < 1 or global_batch % replicas:
            lower = max(replicas, global_batch // replicas * replicas)
            raise ValueError(
                f"global batch {global_batch} does not divide across {replicas} replicas; use a "
                f"multiple of {replicas} (e.g. {lower} or {lower + replicas}), or give the "
                f"per-replica batch (--batch-size) instead"
            )
        return global_batch
    if batch_size is None or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; received {batch_size!r}")
    return batch_size * replicas


def scale_learning_rate(
    learning_rate: float,
    global_batch: int,
    *,
    rule: str = "linear",
    reference_batch: int = PAPER_BATCH_SIZE,
) -> float:
    """``learning_rate x global_batch / reference_batch`` (``rule="linear"``) or unchanged (``"none"``)."""
    check_choice("lr_scaling", rule, LR_SCALINGS)
    if rule == "none":
        return float(learning_rate)
    return float(learning_rate) * global_batch / reference_batch


def steps_per_epoch(num_examples: int, global_batch: int) -> int:
    """Whole global batches in one pass over ``num_examples`` (the pipeline drops the remainder)."""
    steps = num_examples // global_batch
    if steps < 1:
        raise ValueError(
            f"{num_examples} training examples give no full global batch of {global_batch}; "
            f"lower --batch-size"
        )
    return steps


__all__ = [
    "STRATEGIES",
    "cluster_workers",
    "global_batch_size",
    "is_chief",
    "make_strategy",
    "resolve_strategy_name",
    "scale_learning_rate",
    "steps_per_epoch",
]
