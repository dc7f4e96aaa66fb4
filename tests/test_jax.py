"""Training on Keras' JAX backend: the CLI with ``--backend jax`` (paper recipe, checkpoints, log,
resume, the /10 drop), a kill-and-resume, data parallelism over two CPU devices against one device,
checkpoints that predict the same on TensorFlow and JAX, LRN's gradient on both, refusals, and the
package without TensorFlow.

Each JAX run is a subprocess: Keras fixes its backend at its first import, and this process runs
TensorFlow. Skipped where jax is not installed (``make test`` installs it: ``.[dev,torch,jax]``).

Tolerances: two devices against one, per-step losses rtol 1e-5 and weights atol 1e-5 (the gradient
is summed in another order); predictions across backends atol 1e-5 (float32 convolutions in
different libraries); LRN values rtol 1e-5 and gradients rtol 1e-4 (as tests/test_bench.py).
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                reason="jax is not installed (pip install 'alexnet-keras[jax]'; "
                                "make test installs it)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HELPER = os.path.join(HERE, "train_helpers.py")
TIMEOUT = 300
TINY_TRAIN = ["--dataset", "offline", "--image-size", "67", "--batch-size", "8",
              "--steps-per-epoch", "1", "--validation-steps", "1", "--tensorboard", "--verbose", "2"]


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KERAS_BACKEND", None)
    env.update(extra)
    return env


def _run(command, expect=0, **env):
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                            env=_env(**env), cwd=ROOT)
    assert result.returncode == expect, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _train(*args, expect=0, **env):
    return _run([sys.executable, "-m", "alexnet_keras", "train", *args], expect=expect, **env)


def _weights(path):
    with np.load(path) as archive:
        return [archive[key] for key in sorted(archive.files, key=lambda k: int(k.split("_")[1]))]


def _losses(path):
    return [float(line.split()[2]) for line in open(path).read().splitlines()]


_ON_JAX = textwrap.dedent(r"""
    import sys
    import numpy as np
    import keras
    import jax
    import alexnet_keras
    from alexnet_keras.model.layers import LocalResponseNormalization

    assert keras.backend.backend() == "jax", keras.backend.backend()
    inputs = np.load(sys.argv[1])
    out = {}
    for name in ("jax_trained", "tf_saved"):
        model = keras.models.load_model(inputs[name].item())
        out[name] = np.asarray(model.predict(inputs["images"], verbose=0))
    layer = LocalResponseNormalization()
    out["lrn"] = np.asarray(layer(inputs["lrn_x"]))
    vjp = jax.vjp(lambda x: layer(x), inputs["lrn_x"])[1]
    out["lrn_gradient"] = np.asarray(vjp(inputs["lrn_upstream"])[0])
    np.savez(sys.argv[2], **out)
""")


@pytest.mark.slow
def test_cli_trains_on_jax_resumes_and_its_checkpoints_predict_the_same_on_tensorflow(tmp_path):
    import keras
    import tensorflow as tf

    import alexnet_keras
    from alexnet_keras.model.layers import LocalResponseNormalization

    output = tmp_path / "run"
    # The paper recipe (PaperSGD, coupled decay, /10 on a plateau): a rate this small leaves the
    # held-out error where it was, so epoch 2 drops the rate (patience 1) and epoch 3 trains with it.
    common = [*TINY_TRAIN, "--lr", "1e-9", "--lr-scaling", "none", "--plateau-patience", "1",
              "--output", str(output), "--backend", "jax"]
    first = _train(*common, "--epochs", "2")
    assert "(1 replica(s), global batch 8" in first.stdout
    record = json.loads((output / "config.json").read_text())
    assert record["config"]["backend"] == "jax" and record["config"]["schedule"] == "paper"
    resumed = _train(*common, "--epochs", "3")  # continue the finished run: resumes from its backup
    assert "Resuming from" in resumed.stdout and "Trained epochs 3 to 3" in resumed.stdout
    log = (output / "training_log.csv").read_text().splitlines()
    header = log[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in log[1:]]
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    rates = [float(row["learning_rate"]) for row in rows]
    np.testing.assert_allclose(rates, [1e-9, 1e-9, 1e-10], rtol=1e-5)
    assert os.listdir(output / "logs")  # TensorBoard's event files, written on JAX too

    # TensorFlow (this process) writes a checkpoint; JAX loads both and predicts.
    tf_model = alexnet_keras.alexnet("paper", input_shape=(67, 67, 3), classes=10,
                                     normalization="batch")
    tf_model.save(tmp_path / "tf.keras")
    rng = np.random.default_rng(0)
    images = rng.uniform(-100, 100, size=(4, 67, 67, 3)).astype("float32")
    lrn_x = rng.uniform(-300, 300, size=(2, 4, 4, 12)).astype("float32")
    upstream = rng.normal(size=(2, 4, 4, 12)).astype("float32")
    np.savez(tmp_path / "in.npz", images=images, jax_trained=str(output / "checkpoints/last.keras"),
             tf_saved=str(tmp_path / "tf.keras"), lrn_x=lrn_x, lrn_upstream=upstream)
    _run([sys.executable, "-c", _ON_JAX, str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
         KERAS_BACKEND="jax")
    on_jax = np.load(tmp_path / "out.npz")
    jax_trained = keras.models.load_model(output / "checkpoints/last.keras")
    np.testing.assert_allclose(on_jax["jax_trained"], jax_trained.predict(images, verbose=0),
                               atol=1e-5)
    np.testing.assert_allclose(on_jax["tf_saved"], tf_model.predict(images, verbose=0), atol=1e-5)

    layer, x = LocalResponseNormalization(), tf.constant(lrn_x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    np.testing.assert_allclose(on_jax["lrn"], y, rtol=1e-5)
    np.testing.assert_allclose(on_jax["lrn_gradient"], tape.gradient(y, x, output_gradients=upstream),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_two_jax_devices_match_one_device_with_the_global_batch(tmp_path):
    runs = {}
    for devices in (1, 2):
        name = f"d{devices}"
        result = _run([sys.executable, HELPER, str(tmp_path / name), "--backend", "jax",
                       "--jax-devices", str(devices), "--epochs", "2", "--global-batch", "16",
                       "--weights", str(tmp_path / f"{name}.npz"),
                       "--losses", str(tmp_path / f"{name}.txt")])
        runs[devices] = result.stdout
    assert "replicas=2 global_batch=16 backend=jax variable_devices=2" in runs[2]
    assert "replicas=1 global_batch=16 backend=jax variable_devices=1" in runs[1]
    np.testing.assert_allclose(_losses(tmp_path / "d2.txt"), _losses(tmp_path / "d1.txt"), rtol=1e-5)
    for one, two in zip(_weights(tmp_path / "d1.npz"), _weights(tmp_path / "d2.npz")):
        np.testing.assert_allclose(two, one, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_jax_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path):
    common = ["--backend", "jax", "--epochs", "3", "--dropout", "0.3"]
    _run([sys.executable, HELPER, str(tmp_path / "a"), "--weights", str(tmp_path / "a.npz"), *common])
    command = [sys.executable, HELPER, str(tmp_path / "b"), "--weights", str(tmp_path / "b.npz"),
               *common]
    killed = subprocess.run([*command, "--kill-at", "1:3"], capture_output=True, text=True,
                            timeout=TIMEOUT, env=_env(), cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = _run(command)
    assert "Resuming from" in resumed.stdout and "initial_epoch=1" in resumed.stdout
    log = (tmp_path / "b" / "training_log.csv").read_text().splitlines()
    assert log == (tmp_path / "a" / "training_log.csv").read_text().splitlines()
    for uninterrupted, resumed_weights in zip(_weights(tmp_path / "a.npz"), _weights(tmp_path / "b.npz")):
        np.testing.assert_allclose(resumed_weights, uninterrupted, rtol=0, atol=1e-6)


def test_what_jax_lacks_is_refused_in_one_line(tmp_path):
    from alexnet_keras.training.keras_distribution import refuse_unsupported

    for name, alternative in (("multi_worker", "--backend tensorflow"), ("tpu", "--backend tensorflow")):
        with pytest.raises(ValueError, match=alternative):
            refuse_unsupported(name, backend="jax")
    # Through the command line: TF_CONFIG (several workers) names the fix, no traceback.
    result = _train(*TINY_TRAIN, "--epochs", "1", "--output", str(tmp_path / "x"), "--backend",
                    "jax", expect=1, TF_CONFIG=json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                                          "task": {"type": "worker", "index": 0}}))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TF_CONFIG" in lines[0] and "--backend tensorflow" in lines[0], lines
    assert not (tmp_path / "x").exists()  # refused before the first write


_BLOCK_TENSORFLOW = '''
# TensorFlow is hidden as if not installed: the path finder (the meta_path entry that finds
# site-packages) finds nothing for it, so importlib.util.find_spec returns None and import fails.
import importlib.machinery

_find_spec = importlib.machinery.PathFinder.find_spec.__func__


def _hidden(cls, name, path=None, target=None):
    if name.split(".")[0] in ("tensorflow", "tensorflow_datasets", "tf_keras"):
        return None
    return _find_spec(cls, name, path, target)


importlib.machinery.PathFinder.find_spec = classmethod(_hidden)
'''


@pytest.mark.slow
def test_package_and_bench_train_run_without_tensorflow(tmp_path):
    """A GPU machine with JAX and PyTorch but no TensorFlow: every Python process started here
    (the bench's contenders too) imports a ``sitecustomize`` that makes ``import tensorflow`` fail."""
    (tmp_path / "sitecustomize.py").write_text(_BLOCK_TENSORFLOW)
    env = dict(PYTHONPATH=str(tmp_path) + os.pathsep + ROOT)
    check = ("import importlib.util, alexnet_keras, alexnet_keras.model, keras\n"
             "try:\n    import tensorflow\nexcept ModuleNotFoundError:\n    print('blocked')\n"
             "model = alexnet_keras.small_convnet()\n"
             "print(keras.backend.backend(), model.count_params() > 0)\n")
    imported = _run([sys.executable, "-c", check], KERAS_BACKEND="jax", **env)
    assert imported.stdout.split() == ["blocked", "jax", "True"], imported.stdout
    # The command without --backend or KERAS_BACKEND takes the installed jax, not the missing default.
    summary = _run([sys.executable, "-m", "alexnet_keras", "summary", "--image-size", "67",
                    "--classes", "10"], **env)
    assert "AlexNet, variant 'paper', 67x67x3 input, 10 classes" in summary.stdout
    backends = ["jax"] + (["torch"] if importlib.util.find_spec("torch") else [])
    bench = _run([sys.executable, "-m", "alexnet_keras", "bench", "train", "--backend", *backends,
                  "--batch-size", "2", "--image-size", "67", "--num-classes", "10", "--steps", "1",
                  "--warmup", "1", "--repeats", "1", "--matmul-size", "64", "--xla", "default",
                  "--no-torch-compile"], **env)
    rows = [line for line in bench.stdout.splitlines() if line.startswith("bench_train ")]
    assert len(rows) == len(backends) + (1 if "torch" in backends else 0), bench.stdout
    assert 'setting="XLA on"' in rows[0] and "default=1" in rows[0]  # jax: jit by default
    assert bench.stdout.strip().splitlines()[-1].startswith("images_per_second=")


@pytest.mark.slow
def test_package_and_bench_train_run_in_a_venv_without_tensorflow(tmp_path):
    """The GPU machine's set-up for real: a new venv holding keras, jax, numpy and pillow at our
    pins (none of tensorflow, tensorflow-datasets or tensorboard), the package on PYTHONPATH. The
    test above hides only ``tensorflow``; this one also catches an import of anything that only
    TensorFlow's dependencies install."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT)
    python = str(venv / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "-q", "-c",
                                os.path.join(ROOT, "constraints.txt"), "keras", "jax", "numpy",
                                "pillow"], capture_output=True, text=True, timeout=TIMEOUT)
    assert installed.returncode == 0, installed.stderr[-3000:]
    missing = _run([python, "-c", "import importlib.util as u; print([m for m in ('tensorflow', "
                    "'tensorflow_datasets', 'tensorboard') if u.find_spec(m)])"])
    assert missing.stdout.strip() == "[]"
    imported = _run([python, "-c", "import alexnet_keras, alexnet_keras.model, keras\n"
                     "print(keras.backend.backend(), alexnet_keras.small_convnet().count_params() > 0)"],
                    KERAS_BACKEND="jax")
    assert imported.stdout.split() == ["jax", "True"], imported.stdout
    # The command without --backend or KERAS_BACKEND takes the installed jax.
    bench = _run([python, "-m", "alexnet_keras", "bench", "train", "--batch-size", "2",
                  "--image-size", "67", "--num-classes", "10", "--steps", "1", "--warmup", "1",
                  "--repeats", "1", "--matmul-size", "64", "--xla", "default"])
    assert "on jax" in bench.stdout
    assert bench.stdout.strip().splitlines()[-1].startswith("images_per_second="), bench.stdout
