"""Users' journeys through ``python -m alexnet_keras``, typed as a user types them, in subprocesses.

For every data source: ``train`` -> ``evaluate`` (centre patch and ten patches, Section 4.1) -> the
same ``train`` again, which resumes or says the run is complete and loses nothing. Then corrupt
images, with and without ``--skip-corrupt``, and every bad argument: one line naming the problem and
the fix, exit status 2 for arguments (1 for errors found at run time), never a traceback.
Tiny runs: 67x67 images (the smallest the paper's layers take), batches of 8, two steps, one epoch.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", MPLBACKEND="agg")
ENV.pop("ALEXNET_KERAS_TRACEBACK", None)
TINY = ["--image-size", "67", "--batch-size", "8", "--steps-per-epoch", "2", "--validation-steps",
        "1", "--epochs", "1", "--strategy", "default", "--no-xla"]
# TensorFlow's own start-up lines (written before its logging is set up): not ours to count.
TF_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} |To enable the following)")

# imagenette and cifar10 cannot be downloaded here: tfds.testing.mock_data stands in for TFDS, in
# the subprocess itself (a context manager cannot cross a process boundary).
MOCK_TFDS = """
import json, sys
import tensorflow_datasets as tfds
from alexnet_keras.cli import main
with tfds.testing.mock_data(num_examples=24):
    sys.exit(main(json.loads(sys.argv[1])))
"""


def _run(argv, mock_tfds=False):
    command = ([sys.executable, "-c", MOCK_TFDS, json.dumps(argv)] if mock_tfds
               else [sys.executable, "-m", "alexnet_keras", *argv])
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=ENV)


def _ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _error_line(result) -> str:
    """The one line (not TensorFlow's start-up logging) that the command wrote to stderr."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    ours = [line for line in result.stderr.splitlines() if line.strip() and not TF_NOISE.match(line)]
    errors = [line for line in ours if "error:" in line]
    assert len(errors) == 1 and errors[0] == ours[-1], ours
    return errors[0]


def _jpeg_folder(root, classes=("cat", "dog"), per_class=12):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        for name in classes:
            (root / split / name).mkdir(parents=True)
            for index in range(per_class):
                pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{name}_{index}.jpg")
    return root


@pytest.fixture(scope="session")
def offline_data_dir():
    """The folder that holds the generated offline set (made once, about 30 s, then reused)."""
    from alexnet_keras.data import offline

    return str(offline.generate_offline().parent)


def _source_args(name, tmp_path, offline_dir):
    """(dataset flags for train and evaluate, whether TFDS is mocked) for one data source."""
    if name == "offline":
        return ["--dataset", "offline", "--data-dir", offline_dir], False
    if name == "folder":
        return ["--dataset", "folder", "--data-path", str(_jpeg_folder(tmp_path / "photos"))], False
    if name == "imagenet2012":
        from alexnet_keras.data.ilsvrc import build_miniature_ilsvrc2012

        build_miniature_ilsvrc2012(tmp_path / "manual", train_per_synset=2)
        return ["--dataset", "imagenet2012", "--manual-dir", str(tmp_path / "manual"),
                "--data-dir", str(tmp_path / "tfds")], False
    return ["--dataset", name, "--data-dir", str(tmp_path / "tfds")], True


def _snapshot(output):
    files = ["training_log.csv", "checkpoints/last.keras", "checkpoints/best.keras"]
    return {name: (output / name).read_bytes() for name in files}


@pytest.mark.parametrize("source", ["offline", "folder", "imagenet2012", "imagenette", "cifar10"])
def test_train_evaluate_and_train_again(source, tmp_path, offline_data_dir):
    dataset, mock = _source_args(source, tmp_path, offline_data_dir)
    output = tmp_path / "run"
    train = ["train", *dataset, *TINY, "--output", str(output)]
    out = _ok(_run(train, mock))
    assert "best validation top-1 error" in out
    log = (output / "training_log.csv").read_text().splitlines()
    assert len(log) == 2  # the header and one epoch

    evaluate = ["evaluate", "--checkpoint", str(output / "checkpoints" / "last.keras"), *dataset,
                "--batch-size", "4", "--steps", "1", "--crops", "both", "--json"]
    results = json.loads(_ok(_run(evaluate, mock)).strip().splitlines()[-1])
    assert set(results) == {"center", "ten_crops"}
    assert results["center"]["examples"] == results["ten_crops"]["examples"] == 4

    before = _snapshot(output)
    out = _ok(_run(train, mock))  # the same command again: nothing is lost, nothing redone
    assert "complete" in out.lower() or "resuming" in out.lower(), out[-2000:]
    assert _snapshot(output) == before


def _corrupt_folder(tmp_path):
    """The bad files data/README.md describes, among good ones: not an image, a truncated JPEG,
    a broken header."""
    root = _jpeg_folder(tmp_path / "photos")
    good = (root / "train" / "cat" / "cat_0.jpg").read_bytes()
    (root / "train" / "cat" / "notes.jpg").write_text("not an image")
    (root / "train" / "dog" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "train" / "dog" / "header.jpg").write_bytes(good[:3] + b"\x00" * 40 + good[-2:])
    return root


def test_corrupt_images_stop_the_run_with_the_file_named(tmp_path):
    root = _corrupt_folder(tmp_path)
    result = _run(["train", "--dataset", "folder", "--data-path", str(root), *TINY,
                   "--output", str(tmp_path / "run")])
    assert result.returncode == 1
    line = _error_line(result)
    assert re.search(r"(notes|truncated|header)\.jpg", line) and "skip_corrupt" in line


def test_skip_corrupt_trains_and_reports_the_skipped_files(tmp_path):
    root = _corrupt_folder(tmp_path)
    result = _run(["train", "--dataset", "folder", "--data-path", str(root), "--skip-corrupt",
                   *TINY, "--output", str(tmp_path / "run")])
    _ok(result)
    assert "skipped 3 corrupt" in result.stderr
    for name in ("notes.jpg", "truncated.jpg", "header.jpg"):
        assert name in result.stderr


def _bad_arguments(tmp_path):
    """(arguments after ``train``, exit status, what the error line must say)."""
    (tmp_path / "notes.txt").write_text("mine")
    photos = str(_jpeg_folder(tmp_path / "photos"))
    empty = tmp_path / "no-tars"  # a manual folder without the ILSVRC2012 tars
    empty.mkdir()
    # Each case gets its own --output: the cases run two at a time, and two runs sharing a folder
    # would meet its lock instead of the error under test.
    run = lambda name: ["--output", str(tmp_path / name)]  # noqa: E731
    return {
        "unknown variant": (["--variant", "vgg"], 2, "invalid choice: 'vgg' (choose from 'paper'"),
        "unknown data set": (["--dataset", "mnist"], 2, "invalid choice: 'mnist'"),
        "zero image size": (["--image-size", "0"], 2, "use --image-size >= 67"),
        "negative batch": (["--batch-size", "-8"], 2, "--batch-size: must be an integer >= 1"),
        "zero steps": (["--steps-per-epoch", "0"], 2, "--steps-per-epoch: must be an integer >= 1"),
        "drop factor above 1": (["--lr-drop-factor", "10"], 2, "--lr-drop-factor: must be in (0, 1)"),
        "output is a file": (["--output", str(tmp_path / "notes.txt")], 2, "is a file"),
        "folder without path": (["--dataset", "folder"], 2, "needs --data-path"),
        "missing folder": (["--dataset", "folder", "--data-path", str(tmp_path / "nowhere"),
                            *run("missing")], 1, "does not exist"),
        "batch larger than the data": (["--dataset", "folder", "--data-path", photos,
                                        "--image-size", "67", "--batch-size", "64", *run("batch")],
                                       1, "lower --batch-size"),
        "missing ILSVRC tars": (["--dataset", "imagenet2012", "--manual-dir", str(empty),
                                 "--data-dir", str(tmp_path / "tfds"), *run("tars")],
                                1, "ILSVRC2012_img_train.tar"),
    }


# One of each kind through a real process (each mostly imports TensorFlow); tests/test_cli.py runs
# the longer list of bad values in process.
BAD = ["unknown variant", "unknown data set", "zero image size", "negative batch", "zero steps",
       "drop factor above 1", "output is a file", "folder without path", "missing folder",
       "batch larger than the data", "missing ILSVRC tars"]


@pytest.fixture(scope="module")
def bad_argument_runs(tmp_path_factory):
    """Every bad command line, run two at a time (each process mostly imports TensorFlow)."""
    cases = _bad_arguments(tmp_path_factory.mktemp("bad"))
    assert sorted(cases) == sorted(BAD)
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(cases, pool.map(lambda case: _run(["train", *case[0]]), cases.values())))
    return {name: (results[name], *cases[name][1:]) for name in cases}


@pytest.mark.parametrize("case", BAD)
def test_bad_argument_is_one_line_naming_the_problem_and_the_fix(case, bad_argument_runs):
    result, status, says = bad_argument_runs[case]
    assert result.returncode == status, result.stderr[-3000:]
    line = _error_line(result)
    assert line.startswith("python -m alexnet_keras train: error: ") and says in line, line
