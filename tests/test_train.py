"""The trainer's pieces: the paper's optimiser, schedules, global batch, metrics, callbacks, fit, CLI."""

import json
import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402

from alexnet_keras.training import distribute  # noqa: E402
from alexnet_keras.training.callbacks import (  # noqa: E402
    LearningRateLogger,
    PaperLearningRateDrops,
    TerminateOnNaNWithAdvice,
    TrainingDivergedError,
    write_atomically,
)
from alexnet_keras.training.backup import latest_backup_epoch  # noqa: E402
from alexnet_keras.training.metrics import TopKError, top_k_errors, true_class_rank  # noqa: E402
from alexnet_keras.training.optimizer import PaperSGD, build_optimizer, learning_rate_schedule  # noqa: E402
from alexnet_keras.cli import config_from_args  # noqa: E402
from alexnet_keras.training import (  # noqa: E402
    TrainConfig,
    compile_model,
    fit,
    format_metrics_table,
    xla_enabled,
)
from alexnet_keras.training.fit import TrainingInterrupted, progress_verbosity  # noqa: E402
from train_helpers import StepMarker, tiny_datasets, tiny_model  # noqa: E402

# ------------------------------------------------------------------------------------ optimiser


def _one_dense_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].kernel.assign(np.arange(6, dtype="float32").reshape(3, 2) / 10)
    model.layers[0].bias.assign([0.5, -0.5])
    return model


def test_paper_sgd_steps_equal_the_papers_update_rule():
    """v <- 0.9 v - 0.0005 lr w - lr dL/dw; w <- w + v (Section 5), for two steps, to 1e-6."""
    model = _one_dense_model()
    lr, momentum, decay = 0.01, 0.9, 5e-4
    optimizer = PaperSGD(lr, momentum=momentum, coupled_weight_decay=decay)
    w = model.layers[0].kernel.numpy().astype("float64")
    b = model.layers[0].bias.numpy().astype("float64")
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    gradients = [
        (np.full((3, 2), 0.3), np.array([0.1, -0.2])),
        (np.array([[1.0, -1.0], [0.5, 0.2], [0.0, 2.0]]), np.array([-0.3, 0.4])),
    ]
    for gw, gb in gradients:
        optimizer.apply_gradients(
            [(gw.astype("float32"), model.layers[0].kernel), (gb.astype("float32"), model.layers[0].bias)]
        )
        vw = momentum * vw - decay * lr * w - lr * gw
        w = w + vw
        vb = momentum * vb - lr * gb  # biases: no weight decay (cuda-convnet's wc is on weights)
        b = b + vb
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), w, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.layers[0].bias.numpy(), b, rtol=0, atol=1e-6)


def test_decoupled_weight_decay_is_keras_own():
    optimizer = build_optimizer(0.01, weight_decay_mode="decoupled")
    assert type(optimizer) is keras.optimizers.SGD and optimizer.weight_decay == 5e-4
    assert isinstance(build_optimizer(0.01), PaperSGD)
    with pytest.raises(ValueError, match="weight_decay_mode"):
        build_optimizer(0.01, weight_decay_mode="adamw")


def test_paper_sgd_survives_serialisation():
    optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(PaperSGD(0.02)))
    assert isinstance(optimizer, PaperSGD) and optimizer.coupled_weight_decay == 5e-4


# ------------------------------------------------------------------------------------ schedules


def test_step_schedule_divides_by_ten_every_step_epochs():
    schedule = learning_rate_schedule("step", 0.01, steps_per_epoch=10, epochs=90, step_epochs=30)
    values = [float(schedule(step)) for step in (0, 299, 300, 599, 600, 899)]
    np.testing.assert_allclose(values, [0.01, 0.01, 1e-3, 1e-3, 1e-4, 1e-4], rtol=1e-6)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    schedule = learning_rate_schedule("cosine", 0.1, steps_per_epoch=10, epochs=10, warmup_epochs=2)
    assert float(schedule(0)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(10)) == pytest.approx(0.05, rel=1e-5)
    assert float(schedule(20)) == pytest.approx(0.1, rel=1e-5)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-7)
    assert learning_rate_schedule("paper", 0.01, steps_per_epoch=1, epochs=1) == 0.01


class _FakeOptimizer:
    learning_rate = 0.01


class _FakeModel:
    optimizer = _FakeOptimizer()


def test_paper_schedule_divides_by_ten_at_most_three_times():
    callback = PaperLearningRateDrops(patience=2, verbose=0)
    callback.set_model(_FakeModel())
    errors = [0.9, 0.8] + [0.8] * 20  # stops improving after epoch 2
    for epoch, error in enumerate(errors):
        callback.on_epoch_end(epoch, {"val_top1_error": error})
    assert callback.drops == 3
    assert _FakeModel.optimizer.learning_rate == pytest.approx(1e-5)
    assert PaperLearningRateDrops().get_state() == {"best": math.inf, "wait": 0, "drops": 0}


# ------------------------------------------------------------------------------- global batch


def test_global_batch_is_per_replica_batch_times_replicas_and_lr_scales_linearly():
    assert distribute.global_batch_size(4, batch_size=128) == 512
    assert distribute.scale_learning_rate(0.01, 512) == pytest.approx(0.04)
    assert distribute.scale_learning_rate(0.01, 512, rule="none") == 0.01


def test_global_batch_that_does_not_divide_across_replicas_is_refused():
    with pytest.raises(ValueError, match=r"global batch 130 does not divide across 4 replicas.*128 or 132"):
        distribute.global_batch_size(4, global_batch=130)


def test_auto_strategy_follows_tf_config_and_gpus(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.resolve_strategy_name("auto", gpus=0) == "default"
    assert distribute.resolve_strategy_name("auto", gpus=2) == "mirrored"
    monkeypatch.setenv(
        "TF_CONFIG",
        '{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 1}}',
    )
    assert distribute.resolve_strategy_name("auto", gpus=2) == "multi_worker"
    assert not distribute.is_chief()
    with pytest.raises(ValueError, match="strategy must be one of"):
        distribute.resolve_strategy_name("horovod")


def test_tf_config_is_read_by_tensorflows_resolver(monkeypatch):
    cluster = {"chief": ["localhost:1"], "worker": ["localhost:2", "localhost:3"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert distribute.cluster_workers() == 3
    assert not distribute.is_chief() and distribute.task_id() == "worker-0"  # the chief is named
    monkeypatch.setenv("TF_CONFIG", "{cluster: [")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribute.is_chief()


def test_default_strategy_has_one_replica():
    assert distribute.make_strategy("default").num_replicas_in_sync == 1


# -------------------------------------------------------------------------------------- metrics


def test_top_k_error_metric_is_one_minus_top_k_accuracy():
    probabilities = np.array([[0.1, 0.6, 0.3], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]], "float32")
    labels = np.array([1, 2, 1])
    top1, top2 = TopKError(1), TopKError(2)
    top1.update_state(labels, probabilities)
    top2.update_state(labels, probabilities)
    assert float(top1.result()) == pytest.approx(2 / 3)
    assert float(top2.result()) == pytest.approx(1 / 3)
    assert top1.name == "top1_error"
    assert top_k_errors(probabilities, labels, ks=(1, 2)) == pytest.approx(
        {"top1_error": 2 / 3, "top2_error": 1 / 3}
    )


def test_a_tie_with_the_true_class_counts_as_a_hit_in_numpy_as_in_the_keras_metric():
    # float16 softmax (the ablations' stored predictions) can tie; np.argmax would pick class 0.
    probabilities = np.array([[0.5, 0.5, 0.0], [0.4, 0.4, 0.2], [0.2, 0.4, 0.4]], "float16")
    labels = np.array([1, 1, 0])
    keras_top1 = TopKError(1)
    keras_top1.update_state(labels, probabilities.astype("float32"))
    assert list(true_class_rank(probabilities, labels)) == [0, 0, 2]
    assert top_k_errors(probabilities, labels)["top1_error"] == pytest.approx(float(keras_top1.result()))


# ------------------------------------------------------------------------------------ callbacks


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")

    def failing(temporary):
        with open(temporary, "wb") as handle:
            handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(path), failing)
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # no temporary left behind


# -------------------------------------------------------------------------------------------- fit


def _config(tmp_path, **overrides):
    values = dict(
        epochs=2, batch_size=8, learning_rate=0.02, lr_scaling="none", schedule="constant",
        strategy="default", output=str(tmp_path / "run"), tensorboard=False, verbose=0, seed=3,
    )
    values.update(overrides)
    return TrainConfig(**values)


def _fit_tiny(config, losses_file=None, **kwargs):
    extra = [StepMarker.make(losses_file)] if losses_file else []
    return fit(
        config, build_model=lambda c, n: tiny_model(c, n, dropout=0.3),
        datasets=lambda c, e, b: tiny_datasets(c, e, b, **kwargs), callbacks=extra,
    )


def test_fit_writes_checkpoints_log_and_curves(tmp_path):
    config = _config(tmp_path, schedule="paper", tensorboard=True)
    result = _fit_tiny(config)
    paths = result.paths
    for key in ("best", "last", "csv", "plot", "config"):
        assert os.path.getsize(paths[key]) > 0, key
    assert os.listdir(paths["tensorboard"])
    assert sorted(os.listdir(paths["backup"])) == ["epoch-00001.npz", "epoch-00002.npz"]  # kept
    assert list(result.history["epoch"]) == [0, 1]
    assert {"loss", "top1_error", "top5_error", "val_top1_error", "learning_rate"} <= set(result.history)
    model = keras.models.load_model(paths["last"])
    np.testing.assert_allclose(model.get_weights()[0], result.model.get_weights()[0])
    assert isinstance(model.optimizer, PaperSGD)
    assert "best validation top-1 error" in format_metrics_table(result.history)


def test_same_seed_gives_the_same_first_losses(tmp_path):
    losses = []
    for run in range(2):
        path = tmp_path / f"losses{run}.txt"
        _fit_tiny(_config(tmp_path / str(run), epochs=1, steps_per_epoch=4), losses_file=str(path))
        losses.append([float(line.split()[2]) for line in path.read_text().splitlines()])
    assert len(losses[0]) == 4
    assert losses[0] == losses[1]  # bit for bit, on the same machine


def test_nan_loss_stops_with_advice(tmp_path):
    # NaN images give a NaN loss under XLA; TF's own CPU kernels (XLA off, the CPU default) let
    # max-pooling and ReLU turn NaN into numbers, so the loss can stay finite there.
    config = _config(tmp_path, epochs=2, xla=True)
    with pytest.raises(TrainingDivergedError, match=r"(?s)NaN.*lower learning rate.*input scaling"):
        _fit_tiny(config, nan=True)


def test_huge_learning_rate_diverges_with_advice(tmp_path):
    config = _config(tmp_path, epochs=3, learning_rate=1e6)
    with pytest.raises(TrainingDivergedError, match="learning rate"):
        _fit_tiny(config)


def test_global_batch_not_dividing_across_replicas_fails_before_training(tmp_path):
    class TwoReplicas:
        num_replicas_in_sync = 2

    config = _config(tmp_path, global_batch_size=9)
    with pytest.raises(ValueError, match="global batch 9 does not divide across 2 replicas"):
        fit(config, strategy=TwoReplicas(), datasets=lambda *a: None)


def test_csv_learning_rate_is_the_rate_used_in_that_epoch(tmp_path):
    """The step schedule drops at the first step of epoch 2: epoch 1's row shows the rate before."""
    config = _config(tmp_path, schedule="step", step_epochs=1, epochs=2)
    result = _fit_tiny(config)
    np.testing.assert_allclose(result.history["learning_rate"], [0.02, 0.002], rtol=1e-6)


def test_paper_drop_shows_in_the_epoch_after_it(tmp_path):
    logger = LearningRateLogger()
    model = tiny_model(None, 4)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    drops = PaperLearningRateDrops(patience=1, verbose=0)
    for callback in (logger, drops):
        callback.set_model(model)
    rows = []
    for epoch, error in enumerate([0.9, 0.9, 0.9]):  # no improvement after the first epoch
        logs = {"val_top1_error": error}
        logger.on_epoch_begin(epoch)
        for callback in (drops, logger):  # the drop runs first: the log must not show it early
            callback.on_epoch_end(epoch, logs)
        rows.append(logs["learning_rate"])
    np.testing.assert_allclose(rows, [0.01, 0.01, 0.001], rtol=1e-6)


def test_run_without_tensorboard_names_no_tensorboard_path(tmp_path):
    result = _fit_tiny(_config(tmp_path, epochs=1, tensorboard=False))
    assert "tensorboard" not in result.paths
    assert not os.path.exists(os.path.join(result.paths["output"], "logs"))


def test_ctrl_c_ends_with_how_to_resume_and_keeps_the_finished_epochs(tmp_path):
    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (1, 2):
                raise KeyboardInterrupt

    config = _config(tmp_path, epochs=2)
    with pytest.raises(TrainingInterrupted, match="1 of 2 epochs are saved .* run the same command"):
        fit(config, build_model=lambda c, n: tiny_model(c, n, dropout=0.3), datasets=tiny_datasets,
            callbacks=[CtrlC()])
    assert latest_backup_epoch(os.path.join(config.output, "backup")) == 1
    assert _fit_tiny(config).initial_epoch == 1


def test_cli_prints_one_line_on_ctrl_c(monkeypatch, capsys):
    import importlib

    from alexnet_keras import cli

    def interrupted(config):
        raise TrainingInterrupted("Interrupted: 3 of 90 epochs are saved in runs/x; run the same "
                                  "command to resume from there.")

    monkeypatch.setattr(importlib.import_module("alexnet_keras.training.fit"), "fit", interrupted)
    assert cli.main(["train", "--dataset", "offline", "--output", "runs/x"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Interrupted: 3 of 90 epochs are saved in runs/x; run the same command to resume "
                   "from there."]


def test_tpu_address_and_cluster_timeout_reach_the_strategy(tmp_path, monkeypatch):
    seen = {}

    def make_strategy(name, **kwargs):
        seen.update(kwargs, name=name)
        raise RuntimeError("no TPU here")

    monkeypatch.setattr(distribute, "make_strategy", make_strategy)
    config = _config(tmp_path, strategy="tpu", tpu_address="grpc://10.0.0.2:8470",
                     cluster_timeout=30)
    with pytest.raises(RuntimeError, match="no TPU here"):
        fit(config)
    assert seen == {"name": "tpu", "tpu": "grpc://10.0.0.2:8470", "cluster_timeout": 30}


def test_auto_verbosity_is_one_line_per_epoch_unless_on_a_terminal(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    monkeypatch.setattr(sys, "stdout", Stream(False))
    assert progress_verbosity("auto") == 2
    monkeypatch.setattr(sys, "stdout", Stream(True))
    assert progress_verbosity("auto") == 1
    assert progress_verbosity(0) == 0


def test_nan_stop_without_raising_stops_training_gracefully(tmp_path, capsys):
    steps = tmp_path / "steps.txt"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    images, labels = np.full((32, 3), np.nan, "float32"), np.zeros(32, "int64")
    history = model.fit(images, labels, batch_size=8, epochs=3, verbose=0,
                        callbacks=[TerminateOnNaNWithAdvice(raise_error=False), StepMarker.make(str(steps))])
    assert len(history.epoch) == 1
    assert len(steps.read_text().splitlines()) == 1  # stopped after the first batch
    assert "lower learning rate" in capsys.readouterr().out


@pytest.mark.slow
def test_train_logged_to_a_file_is_plain_lines_and_a_rerun_says_complete(tmp_path):
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", MPLBACKEND="agg")
    command = [sys.executable, "-m", "alexnet_keras", "train", "--demo", "--epochs", "1",
               "--steps-per-epoch", "2", "--batch-size", "8", "--image-size", "67",
               "--validation-steps", "2", "--no-tensorboard", "--output", str(tmp_path / "run")]
    texts = []
    for run in range(2):
        log = tmp_path / f"log{run}.txt"
        with open(log, "w") as handle:  # not a terminal: verbose "auto" must print plain lines
            code = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=root,
                                  env=env, timeout=600).returncode
        texts.append(log.read_text())
        assert code == 0, texts[-1][-3000:]
    assert "\r" not in texts[0] and "\x1b[" not in texts[0]
    assert "2/2 - " in texts[0]  # Keras' one line per epoch
    assert "TensorBoard" not in texts[0]
    assert f"{tmp_path / 'run'} is complete: 1 of 1 epochs" in texts[1]
    assert "Trained" not in texts[1]


# -------------------------------------------------------------------------------------- plots, CLI


def test_plot_history_accepts_a_history_dict(tmp_path):
    from alexnet_keras.plots import plot_history

    history = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "top1_error": [0.8, 0.5],
               "val_top1_error": [0.9, 0.6], "learning_rate": [0.01, 0.001]}
    plot_history(history, str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_saving_the_curves_leaves_matplotlib_as_it_was(tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    from alexnet_keras.plots import plot_history

    previous = matplotlib.get_backend()
    plt.close("all")
    try:
        matplotlib.use("svg")  # what a notebook or another program chose
        plot_history({"loss": [2.0, 1.0]}, str(tmp_path / "curves.png"))
        assert matplotlib.get_backend() == "svg" and plt.get_fignums() == []
    finally:
        matplotlib.use(previous)
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_one_csv_reader_for_the_trainer_and_the_plots():
    from alexnet_keras import plots, training

    assert training.read_csv_log is plots.read_csv_log


def test_cli_flags_map_onto_train_config():
    import argparse

    from alexnet_keras.cli import add_train_command

    parser = argparse.ArgumentParser()
    add_train_command(parser.add_subparsers())
    args = parser.parse_args(["train", "--dataset", "offline", "--lr", "0.02", "--no-tensorboard",
                              "--xla", "--schedule", "step", "--batch-size", "64"])
    config = config_from_args(args)
    assert (config.dataset, config.learning_rate, config.tensorboard, config.xla) == ("offline", 0.02, False, True)
    assert (config.schedule, config.batch_size, config.momentum) == ("step", 64, 0.9)
    demo = config_from_args(parser.parse_args(["train", "--demo", "--epochs", "1"]))
    assert demo.dataset == "offline" and demo.epochs == 1
    with pytest.raises(ValueError, match="schedule must be one of"):
        TrainConfig(schedule="exponential")


def test_paper_defaults():
    config = TrainConfig()
    assert (config.learning_rate, config.momentum, config.weight_decay) == (0.01, 0.9, 5e-4)
    assert (config.batch_size, config.epochs, config.schedule, config.max_lr_drops) == (128, 90, "paper", 3)
    assert config.weight_decay_mode == "coupled" and config.initializer == "paper"


def test_xla_default_is_the_faster_setting_for_the_backend_and_device():
    import tensorflow as tf

    from alexnet_keras.training.fit import TF_XLA_DEFAULT, device_kind

    assert TrainConfig().xla is None
    # TensorFlow: on a CPU off with AVX-512 and on without (the faster in bench train on each
    # kind), on on a GPU, off under a strategy; JAX: always on (unjitted JAX dispatches op by op).
    assert xla_enabled(None, distributed=False, device="cpu", avx512=True) is False
    assert xla_enabled(None, distributed=False, device="cpu", avx512=False) is True
    assert xla_enabled(None, distributed=False, device="gpu") is True
    assert xla_enabled(None, distributed=True, device="gpu") is False
    assert xla_enabled(None, distributed=True, backend="jax", device="cpu") is True
    assert xla_enabled(True, distributed=True) is True and xla_enabled(False, distributed=False) is False
    model = tiny_model(None, 4)
    compile_model(model, TrainConfig(), 0.01, steps_per_epoch=10)  # no strategy in scope
    assert model.jit_compile is TF_XLA_DEFAULT[device_kind()]
    compile_model(model, TrainConfig(xla=True), 0.01, steps_per_epoch=10)
    assert model.jit_compile is True
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():  # a strategy, even of one replica
        mirrored = tiny_model(None, 4)
        compile_model(mirrored, TrainConfig(), 0.01, steps_per_epoch=10)
    assert mirrored.jit_compile is False


def test_the_cpu_kind_is_read_from_its_flags():
    from alexnet_keras.training.compile import cpu_has_avx512

    epyc_avx2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi2\n"
    xeon = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512bw\n"
    vnni_only = "flags\t\t: avx2 avx_vnni\n"  # AVX-VNNI is not AVX-512
    assert cpu_has_avx512(xeon) and not cpu_has_avx512(epyc_avx2) and not cpu_has_avx512(vnni_only)
    with open("/proc/cpuinfo") as handle:
        here = "avx512f" in handle.read().split()
    assert cpu_has_avx512() is here


def test_latest_backup_epoch_is_zero_without_backup(tmp_path):
    assert latest_backup_epoch(str(tmp_path / "nothing")) == 0


# ------------------------------------------------------------------------------------- evaluate


def test_ten_crop_evaluation_averages_the_softmax_over_crops():
    import tensorflow as tf

    from alexnet_keras.training.evaluate import evaluate_model

    keras.utils.set_random_seed(0)
    model = tiny_model(None, 4)
    images = np.random.default_rng(0).normal(size=(6, 10, 12, 12, 3)).astype("float32")
    labels = np.array([0, 1, 2, 3, 0, 1])
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    got = evaluate_model(model, dataset, ten_crops=True)
    averaged = model.predict(images.reshape(60, 12, 12, 3), verbose=0).reshape(6, 10, 4).mean(axis=1)
    assert got == pytest.approx({**top_k_errors(averaged, labels), "examples": 6})
    centre = evaluate_model(model, dataset.map(lambda x, y: (x[:, 4], y)))
    assert centre == pytest.approx(
        {**top_k_errors(model.predict(images[:, 4], verbose=0), labels), "examples": 6}
    )
