"""What a user's paths and folders cannot do to a run: an output among its own inputs, a checkpoint
scored on classes it never saw, a folder without a split validated on its training images."""

import hashlib
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from alexnet_keras.checks import check_output_outside_inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", MPLBACKEND="agg")
ENV.pop("ALEXNET_KERAS_TRACEBACK", None)
# TensorFlow's own start-up lines (written before its logging is set up): not ours to count.
TF_NOISE = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} |To enable the following)")
TINY = ["--image-size", "67", "--batch-size", "4", "--steps-per-epoch", "1", "--validation-steps",
        "1", "--epochs", "1", "--strategy", "default", "--no-xla", "--no-tensorboard"]


def _run(*argv):
    return subprocess.run([sys.executable, "-m", "alexnet_keras", *map(str, argv)], capture_output=True,
                          text=True, timeout=600, cwd=ROOT, env=ENV)


def _folder(root, classes=("a", "b", "c"), per_class=10, split=False):
    from PIL import Image

    rng = np.random.default_rng(0)
    for part in (("train", "validation") if split else ("",)):
        for k, name in enumerate(classes):
            (root / part / name).mkdir(parents=True)
            for index in range(per_class):
                pixels = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
                pixels[..., k % 3] = 255  # a class is a colour: learnable, but not needed here
                Image.fromarray(pixels).save(root / part / name / f"{name}_{index}.jpg")
    return root


def _checksums(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _one_error_line(result, *words):
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if "error:" in line
             and not TF_NOISE.match(line)]
    assert len(lines) == 1, result.stderr[-2000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ outputs outside the inputs


def test_the_path_check_sees_equal_inside_containing_and_linked_paths(tmp_path):
    data = tmp_path / "data"
    (data / "cats").mkdir(parents=True)
    (tmp_path / "link").symlink_to(data)
    for output in (data, data / "cats" / "run", tmp_path / "link", tmp_path / "link" / "x",
                   data / ".." / "data", tmp_path):
        with pytest.raises(ValueError, match="--output .* --data-path"):
            check_output_outside_inputs(output, {"--data-path": data})
    check_output_outside_inputs(tmp_path / "runs", {"--data-path": data})  # a sibling: fine
    check_output_outside_inputs(tmp_path / "data2", {"--data-path": data})  # a prefix, not inside
    check_output_outside_inputs(data, {"--data-path": None})


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("io") / "photos"
    _folder(root)
    (root.parent / "photos-link").symlink_to(root)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("where", ["the input", "inside it", "a link to it"])
@pytest.mark.parametrize("command", ["train", "prepare", "bench input"])
def test_a_command_refuses_to_write_into_what_it_reads(photos, command, where):
    output = {"the input": photos, "inside it": photos / "a" / "out",
              "a link to it": photos.parent / "photos-link"}[where]
    before = _checksums(photos)
    if command == "train":
        result = _run("train", "--dataset", "folder", "--data-path", photos, *TINY, "--output", output)
    elif command == "prepare":
        result = _run("prepare", "--dataset", "folder", "--data-path", photos, "--output", output)
    else:
        result = _run("bench", "input", "--images", photos, "--dir", output)
    flag = "--dir" if command == "bench input" else "--output"
    _one_error_line(result, flag, "--images" if command == "bench input" else "--data-path")
    assert _checksums(photos) == before  # not a byte written or changed


@pytest.mark.slow
def test_the_ablation_refuses_run_or_result_folders_inside_its_data(tmp_path):
    data = tmp_path / "offline-parent"
    data.mkdir()
    result = _run("ablation", "--quick", "--data-dir", data, "--runs", data / "runs", "--output",
                  tmp_path / "results")
    _one_error_line(result, "--runs", "--data-dir")
    assert list(data.iterdir()) == []


@pytest.mark.slow
def test_progress_written_to_a_log_is_lines_without_carriage_returns(photos, tmp_path):
    prepared = _run("prepare", "--dataset", "folder", "--data-path", photos, "--output", tmp_path / "p")
    assert prepared.returncode == 0, prepared.stderr[-2000:]
    trained = _run("train", "--prepared", tmp_path / "p", *TINY, "--output", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr[-2000:]
    for result in (prepared, trained):
        assert "\r" not in result.stdout + result.stderr
    assert "prepare: 30 of 30 images (100%)" in prepared.stderr  # both splits
    assert "loss:" in trained.stdout  # the epoch's one line


def test_line_progress_prints_a_line_per_tenth_and_the_last():
    import io

    from alexnet_keras.progress import LineProgress

    stream = io.StringIO()
    with LineProgress(100, "prepare", "images", stream=stream) as bar:
        for _ in range(50):
            bar.update(2)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "prepare: 2 of 100 images (2%)" and lines[-1] == "prepare: 100 of 100 images (100%)"
    assert 10 <= len(lines) <= 12


# ------------------------------------------------------------------ a folder without a split


def test_a_folder_without_a_split_holds_out_a_fixed_share_of_each_class(tmp_path, capfd):
    from alexnet_keras import data

    root = _folder(tmp_path / "photos", per_class=20)
    train = data.load("folder", "train", path=root)
    validation = data.load("folder", "validation", path=root)
    again = data.load("folder", "validation", path=root)
    train_files, validation_files = set(train.files[0]), set(validation.files[0])
    assert not train_files & validation_files  # disjoint
    assert len(train_files | validation_files) == 60
    assert validation.files == again.files  # the same on every run
    per_class = [sum(os.path.basename(os.path.dirname(p)) == c for p in validation_files) for c in "abc"]
    assert per_class == [2, 2, 2]  # 10% of each class
    assert train.class_names == validation.class_names == ["a", "b", "c"]
    quarter = data.load("folder", "validation", path=root, validation_split=0.25)
    assert len(quarter.files[0]) == 15
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if "no train/ and validation/" in line]
    assert len(lines) == 2, err  # one plain line per folder and share, no warning class or source line
    assert "Warning" not in err and ".py:" not in err


def test_a_class_too_small_to_split_is_refused_by_name(tmp_path):
    from alexnet_keras import data

    root = _folder(tmp_path / "photos", per_class=10)
    for extra in list((root / "b").iterdir())[1:]:
        extra.unlink()
    with pytest.raises(ValueError, match=r"class folder .*/b has 1 image\(s\): too few"):
        data.load("folder", "train", path=root)


# ------------------------------------------------------------------ labels travel with the model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A checkpoint trained on folders a, b, c (a split folder), and the same images renamed."""
    base = tmp_path_factory.mktemp("labels")
    photos = _folder(base / "abc", split=True)
    result = _run("train", "--dataset", "folder", "--data-path", photos, *TINY, "--output", base / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    renamed = base / "xyz"
    shutil.copytree(photos, renamed)
    reordered = base / "cab"
    shutil.copytree(photos, reordered)
    for part in ("train", "validation"):
        for old, new in zip("abc", "xyz"):
            (renamed / part / old).rename(renamed / part / new)
        for old, new in zip("abc", ("b2", "c2", "a2")):  # sorted: a2 b2 c2 = c, a, b
            (reordered / part / old).rename(reordered / part / f"tmp{new}")
        for new in ("a2", "b2", "c2"):
            (reordered / part / f"tmp{new}").rename(reordered / part / new)
    return base / "run" / "checkpoints" / "last.keras", photos, renamed, reordered


def _evaluate(checkpoint, folder, *more):
    return _run("evaluate", "--checkpoint", checkpoint, "--dataset", "folder", "--data-path", folder,
                "--batch-size", "4", "--steps", "1", "--crops", "center", *more)


@pytest.mark.slow
def test_a_checkpoint_records_its_class_names(trained):
    from alexnet_keras.training import labels

    record = labels.read(trained[0])
    assert record["class_names"] == ["a", "b", "c"] and "folder" in record["origin"]


@pytest.mark.slow
def test_evaluate_refuses_other_class_names_and_accepts_them_when_told(trained):
    checkpoint, same, renamed, reordered = trained
    assert _evaluate(checkpoint, same).returncode == 0
    line = _one_error_line(_evaluate(checkpoint, renamed), "other classes", "'a'", "'x'",
                           "--allow-class-mismatch")
    assert "not in the data" in line
    _one_error_line(_evaluate(checkpoint, reordered), "other classes", "not in the data")
    allowed = _evaluate(checkpoint, renamed, "--allow-class-mismatch")
    assert allowed.returncode == 0 and "scoring output k" in allowed.stderr


def test_evaluate_refuses_the_same_names_in_another_order(trained, tmp_path):
    from alexnet_keras.training import labels

    checkpoint, same, _, _ = trained
    record = labels.read(checkpoint)
    with pytest.raises(labels.ClassMismatchError, match="another order: output 0 is 'a'"):
        labels.check("c.keras", record, ["b", "a", "c"])
    with pytest.raises(labels.ClassMismatchError, match="'d' not in the checkpoint"):
        labels.check("c.keras", record, ["a", "b", "d"])
    notes = []
    labels.check("old.keras", None, ["a", "b", "c"], log=notes.append)
    assert len(notes) == 1 and "records no class names" in notes[0]


@pytest.mark.slow
def test_predict_prints_class_names(trained):
    checkpoint, same, _, _ = trained
    image = next((same / "validation" / "b").iterdir())
    result = _run("predict", "--checkpoint", checkpoint, image, "--top", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(str(image)) and all(f" {name} " in line for name in "abc"), line
