"""Nothing silently wrong, nothing that hangs: what each command does when things go wrong around it.

From the user's side, in subprocesses, as tests/test_journeys.py: two commands on one folder, data
changed between a kill and the resume, weights that do not fit, one-class data, damaged shards, a
worker whose peer never starts, full disks and file-size limits, misleading arguments. Each ends in
one line naming the problem and the fix (or, for a running training, in a refusal of the second
command), and the same command works again once the cause is gone.

Concurrency uses real processes and waits on files and on the lock itself, never on a sleep: the
first training is long (50 epochs), so it still holds its folder when the second command asks.
File-size limits: ``resource.setrlimit(RLIMIT_FSIZE)`` in the child (works as root, where a
read-only ``chmod`` does not stop writes); the read-only folder case runs only as another user.
"""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_journeys import ENV, ROOT, TF_NOISE, _error_line, _jpeg_folder, _ok, _run  # noqa: E402

TINY = ["--image-size", "67", "--batch-size", "8", "--steps-per-epoch", "3", "--validation-steps",
        "1", "--strategy", "default", "--no-xla"]
CLI = [sys.executable, "-m", "alexnet_keras"]


def _wait_for(path, process, limit=600):
    """Polls until ``path`` exists (the other process got that far), or that process ended."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        assert process.poll() is None, f"{process.args} ended first"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def _last_line(text: str) -> str:
    ours = [line for line in text.splitlines() if line.strip() and not TF_NOISE.match(line)]
    return ours[-1]


# -------------------------------------------------------------------------- 1, 8: one folder, one run


@pytest.mark.slow
def test_a_second_command_on_a_running_folder_is_refused_and_sigkill_leaves_no_lock(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos"))
    run = tmp_path / "run"
    first = ["train", "--dataset", "folder", "--data-path", photos, *TINY, "--output", str(run)]
    log = open(tmp_path / "holder.log", "w")
    holder = subprocess.Popen([*CLI, *first, "--epochs", "50"], cwd=ROOT, env=ENV, text=True,
                              stdout=log, stderr=log)
    try:
        _wait_for(run / "config.json", holder)  # written under the lock: it holds the folder now
        second = _run([*first, "--epochs", "1", "--seed", "7"])
        again = _run(["prepare", "--dataset", "folder", "--data-path", photos, "--output", str(run)])
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: no clean-up, the kernel drops the lock
        holder.wait()
        log.close()
    for result, what in ((second, "train"), (again, "prepare")):
        assert result.returncode == 1, result.stderr[-3000:]
        line = _error_line(result)
        assert f"{run} is in use: process {holder.pid}" in line and f"this {what}" in line, line
        assert "another --output" in line
    assert json.loads((run / "config.json").read_text())["config"]["seed"] == 0  # not the second's
    out = _ok(_run([*first, "--epochs", "1"]))  # the same command after SIGKILL: not locked out
    assert "best validation top-1 error" in out or "complete" in out


# ----------------------------------------------------------------- 2: changed data, 4: one class


@pytest.mark.slow
def test_resume_onto_changed_data_is_refused_naming_the_change(tmp_path):
    photos = _jpeg_folder(tmp_path / "photos")
    command = ["train", "--dataset", "folder", "--data-path", str(photos), *TINY,
               "--output", str(tmp_path / "run")]
    _ok(_run([*command, "--epochs", "1"]))
    cat = photos / "train" / "cat"
    for index in range(8):  # added between the runs
        (cat / f"new_{index}.jpg").write_bytes((cat / "cat_0.jpg").read_bytes())
    added = _run([*command, "--epochs", "2"])
    for index in range(8):
        (cat / f"new_{index}.jpg").unlink()
    (cat / "cat_1.jpg").write_bytes((cat / "cat_2.jpg").read_bytes())  # replaced by another image
    replaced = _run([*command, "--epochs", "2"])
    for result, says in ((added, "train class 'cat': 12 images recorded, 20 now"),
                         (replaced, "train class 'cat': files renamed or replaced")):
        assert result.returncode == 1
        line = _error_line(result)
        assert says in line and "--restart" in line, line
    log = (tmp_path / "run" / "training_log.csv").read_text().splitlines()
    assert len(log) == 2  # epoch 1 only: nothing was trained on the other data


def test_one_class_is_refused_by_train_and_prepare(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos", classes=("cat",)))
    train = _run(["train", "--dataset", "folder", "--data-path", photos, *TINY, "--epochs", "1",
                  "--output", str(tmp_path / "run")])
    prepare = _run(["prepare", "--dataset", "folder", "--data-path", photos, "--workers", "1",
                    "--output", str(tmp_path / "prepared")])
    for result in (train, prepare):
        assert result.returncode == 1
        line = _error_line(result)
        assert "1 class" in line and "at least two" in line, line
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert not (tmp_path / "prepared").exists()


# ---------------------------------------------------- 5: image size, 7: a damaged shard, prepared


@pytest.mark.slow
def test_prepared_folder_refuses_larger_crops_and_names_a_damaged_shard(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos"))
    prepared = tmp_path / "prepared"
    _ok(_run(["prepare", "--dataset", "folder", "--data-path", photos, "--workers", "1",
              "--output", str(prepared)]))
    train = ["train", "--prepared", str(prepared), *TINY, "--epochs", "1",
             "--output", str(tmp_path / "run")]
    large = _run([*train[:3], *[a if a != "67" else "300" for a in train[3:]]])
    shard = sorted(prepared.glob("train.tfrecord-*"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same size
    shard.write_bytes(bytes(data))
    damaged = _run(train)
    assert large.returncode == damaged.returncode == 1
    line = _error_line(large)
    assert "--image-size 300 is larger than the prepared 256x256 squares" in line, line
    line = _error_line(damaged)
    assert f"shard {shard} is corrupt" in line and "prepare --verify" in line, line
    _ok(_run(["prepare", "--dataset", "folder", "--data-path", photos, "--workers", "1",
              "--verify", "--output", str(prepared)]))  # the fix the line names
    _ok(_run(train))


# ----------------------------------------------------------- 3, 9, 11: weights and arguments


MANY = """
import contextlib, io, json, os, sys
from alexnet_keras.cli import main
results = []
for argv, env in json.loads(sys.argv[1]):
    os.environ.update(env)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            status = main(argv)
        except SystemExit as error:
            status = error.code
    for key in env:
        del os.environ[key]
    results.append([status, stderr.getvalue()])
print(json.dumps(results))
"""


def _run_many(cases):
    """Each ``(argv, environment)`` through ``main`` in one process: [(status, stderr)]."""
    result = subprocess.run([sys.executable, "-c", MANY, json.dumps(cases)], capture_output=True,
                            text=True, timeout=600, cwd=ROOT, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    """Files that are not what ``--weights`` wants: small ones, and torchvision-shaped weights."""
    torch = pytest.importorskip("torch")
    from alexnet_keras.model.architecture import alexnet

    folder = tmp_path_factory.mktemp("weights")
    files = {name: str(folder / name) for name in (
        "torchvision.weights.h5", "convolutions.weights.h5", "fc6.pth", "truncated.pth",
        "module.pth", "garbage.weights.h5", "folder.pth", "garbage.keras")}
    alexnet("torchvision").save_weights(files["torchvision.weights.h5"])
    alexnet("torchvision", include_top=False).save_weights(files["convolutions.weights.h5"])
    torch.save({"classifier.1.weight": torch.zeros(4096, 1000)}, files["fc6.pth"])
    torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, files["truncated.pth"])
    whole = open(files["truncated.pth"], "rb").read()
    open(files["truncated.pth"], "wb").write(whole[: len(whole) // 2])
    torch.save(torch.nn.Linear(2, 2), files["module.pth"])
    open(files["garbage.weights.h5"], "wb").write(b"not HDF5")
    open(files["garbage.keras"], "wb").write(b"PK\x03\x04 cut short")
    os.mkdir(files["folder.pth"])
    return files


def test_weights_and_arguments_that_mislead_get_one_sentence(tmp_path, weight_files):
    photos = str(_jpeg_folder(tmp_path / "photos", per_class=2))
    out = str(tmp_path / "out.weights.h5")
    convert = lambda source, *more: (["convert-weights", weight_files[source], "--output", out,
                                      *more], {})  # noqa: E731
    evaluate = ["evaluate", "--dataset", "folder", "--data-path", photos, "--batch-size", "2"]
    two_workers = {"cluster": {"worker": ["localhost:1", "localhost:2"]}}
    cases = {
        "class count (3)": ([*evaluate, "--weights", weight_files["torchvision.weights.h5"]], {}),
        "another model's file (9)": convert("convolutions.weights.h5", "--to-torch"),
        "another variant (9)": ([*evaluate, "--variant", "paper", "--weights",
                                 weight_files["torchvision.weights.h5"]], {}),
        "fc6 of another size (9)": convert("fc6.pth"),
        "truncated .pth (9)": convert("truncated.pth"),
        "pickled nn.Module (9)": convert("module.pth"),
        "not HDF5 (9)": convert("garbage.weights.h5", "--to-torch"),
        "a folder named .pth (11)": convert("folder.pth"),
        "--steps 0 (11)": ([*evaluate, "--steps", "0", "--checkpoint", "x.keras"], {}),
        "checkpoint: a folder": ([*evaluate, "--checkpoint", photos], {}),
        "checkpoint: weights only": ([*evaluate, "--checkpoint",
                                      weight_files["convolutions.weights.h5"]], {}),
        "checkpoint: not a zip": ([*evaluate, "--checkpoint", weight_files["garbage.keras"]], {}),
        "TF_CONFIG without task (11)": (["train", "--dataset", "folder", "--data-path", photos,
                                         *TINY, "--output", str(tmp_path / "run")],
                                        {"TF_CONFIG": json.dumps(two_workers)}),
    }
    says = {
        "class count (3)": "has 2 classes but the checkpoint's model has 1000 outputs",
        "another model's file (9)": "holds the weights of another model than 'alexnet_torchvision'",
        "another variant (9)": "holds the weights of another model than 'alexnet_paper'",
        "fc6 of another size (9)": "classifier.1.weight (fc6) has shape (4096, 1000), this model "
                                   "needs (4096, 9216)",
        "truncated .pth (9)": "cannot be read as a PyTorch file",
        "pickled nn.Module (9)": "holds a pickled Python object (such as a whole nn.Module), not a "
                                 "state dict",
        "not HDF5 (9)": "is not a Keras weights file",
        "a folder named .pth (11)": "is a folder, not a weights file",
        "--steps 0 (11)": "argument --steps: must be an integer >= 1; received 0",
        "checkpoint: a folder": f"checkpoint {photos} is a folder; pass a .keras file",
        "checkpoint: weights only": "holds weights only, not a model; pass it as --weights",
        "checkpoint: not a zip": "is not a .keras checkpoint (not a zip archive",
        "TF_CONFIG without task (11)": "TF_CONFIG names a cluster (worker) but no \"task\"",
    }
    results = dict(zip(cases, _run_many(list(cases.values()))))
    for name, (status, stderr) in results.items():
        lines = [line for line in stderr.splitlines() if line.strip() and not TF_NOISE.match(line)]
        assert status in (1, 2) and len(lines) == 1, (name, stderr[-3000:])
        assert says[name] in lines[0] and len(lines[0]) < 600, (name, lines[0])
    assert not os.path.exists(out)


# -------------------------------------------------------------- 6: a peer that never starts


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("localhost", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


@pytest.mark.slow
def test_a_worker_waiting_for_a_missing_peer_times_out_or_stops_on_sigterm(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos", per_class=2))
    ports = _free_ports(2)
    config = {"cluster": {"worker": [f"localhost:{port}" for port in ports]},
              "task": {"type": "worker", "index": 0}}
    env = dict(ENV, TF_CONFIG=json.dumps(config))
    command = [*CLI, "train", "--dataset", "folder", "--data-path", photos, *TINY[:4],
               "--output", str(tmp_path / "run")]
    timed_out = subprocess.run([*command, "--cluster-timeout", "4"], capture_output=True,
                               text=True, timeout=300, cwd=ROOT, env=env)
    assert timed_out.returncode == 1
    line = _error_line(timed_out)
    assert f"worker-1 (localhost:{ports[1]})" in line and "--cluster-timeout 4" in line, line
    assert f"waiting for worker-1 (localhost:{ports[1]}) to start" in timed_out.stderr

    waiting = subprocess.Popen(command, cwd=ROOT, env=env, text=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    for line in waiting.stderr:  # the wait has begun once it says whom it waits for
        if line.startswith("waiting for"):
            waiting.send_signal(signal.SIGTERM)
            break
    rest = waiting.communicate(timeout=120)[1]
    assert waiting.returncode == 130
    assert _last_line(rest).startswith("Stopped (SIGTERM) while waiting for the other workers")
    assert not (tmp_path / "run" / "config.json").exists()


# ------------------------------------------------------------- 10: full disks and size limits


def _limited(size):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
    return limit


@pytest.mark.slow
def test_file_size_limit_and_long_names_end_in_one_line_and_the_command_then_resumes(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos"))
    run = tmp_path / "run"
    train = [*CLI, "train", "--dataset", "folder", "--data-path", photos, *TINY, "--epochs", "1",
             "--output", str(run)]
    # The checkpoints (about 160 MB) pass no 20 MB limit; the CSV log and TensorBoard's do.
    limited = subprocess.run(train, capture_output=True, text=True, timeout=600, cwd=ROOT,
                             env=ENV, preexec_fn=_limited(20 << 20))
    assert limited.returncode == 1
    line = _error_line(limited)
    assert f"cannot write {run / 'checkpoints' / 'best.keras'}: the file-size limit" in line, line
    assert "files written before it are intact" in line and "run the same command again" in line
    prepare = subprocess.run(
        [*CLI, "prepare", "--dataset", "folder", "--data-path", photos, "--workers", "1",
         "--output", str(tmp_path / "prepared")], capture_output=True, text=True, timeout=600,
        cwd=ROOT, env=ENV, preexec_fn=_limited(64 << 10))  # the manifest passes, not a shard
    assert prepare.returncode == 1
    line = _error_line(prepare)
    assert "cannot write " in line and "train.tfrecord-00000-of-00001" in line, line
    long_name = _run(["train", "--dataset", "folder", "--data-path", photos, *TINY,
                      "--output", str(tmp_path / ("x" * 300))])
    assert long_name.returncode == 1
    assert "the name is too long" in _error_line(long_name)
    out = _ok(subprocess.run(train, capture_output=True, text=True, timeout=600, cwd=ROOT, env=ENV))
    assert "best validation top-1 error" in out  # the same command, without the limit


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_is_one_line(tmp_path):
    photos = str(_jpeg_folder(tmp_path / "photos", per_class=2))
    (tmp_path / "locked").mkdir(mode=0o555)
    result = _run(["prepare", "--dataset", "folder", "--data-path", photos, "--workers", "1",
                   "--output", str(tmp_path / "locked" / "prepared")])
    assert result.returncode == 1
    assert "permission denied" in _error_line(result)
