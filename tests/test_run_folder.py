"""The run folder (``alexnet_keras.training.run_folder``): a finished run stays as it is, checks come
before the first write, a resume is the same run, damaged backups are skipped once and named.

Each test trains the tiny model of ``train_helpers`` for a few epochs in this process.
"""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from alexnet_keras.training import TrainConfig, fit  # noqa: E402
from alexnet_keras.training.run_folder import RunFolderError  # noqa: E402
from train_helpers import NUM_CLASSES, tiny_datasets, tiny_model  # noqa: E402


def _config(output, **overrides):
    values = dict(
        epochs=2, batch_size=8, learning_rate=0.02, lr_scaling="none", schedule="constant",
        strategy="default", output=str(output), tensorboard=False, verbose=0, seed=3, xla=False,
    )
    values.update(overrides)
    return TrainConfig(**values)


def _fit(config, build_model=None, datasets=None):
    return fit(
        config, build_model=build_model or (lambda c, n: tiny_model(c, n, dropout=0.3)),
        datasets=datasets or (lambda c, e, b: tiny_datasets(c, e, b)),
    )


def _snapshot(folder):
    """Every file under ``folder``: its bytes, by relative path."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """An uninterrupted 3-epoch run: its folder and final weights (what every resume must match)."""
    output = tmp_path_factory.mktemp("uninterrupted") / "run"
    result = _fit(_config(output, epochs=3))
    return output, result.model.get_weights()


def _assert_same_run(result, output, reference):
    reference_output, reference_weights = reference
    assert (output / "training_log.csv").read_text() == (reference_output / "training_log.csv").read_text()
    for got, want in zip(result.model.get_weights(), reference_weights):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_finished_run_is_not_overwritten_and_more_epochs_continue_it(tmp_path, capsys, three_epochs):
    output = tmp_path / "run"
    _fit(_config(output, epochs=2))
    before = _snapshot(output)

    again = _fit(_config(output, epochs=2))
    assert again.status == "complete"
    assert f"{output} is complete: 2 of 2 epochs; raise --epochs to continue" in capsys.readouterr().out
    assert _snapshot(output) == before  # nothing rewritten, nothing removed
    assert again.history["epoch"] == [0.0, 1.0]

    more = _fit(_config(output, epochs=3))
    assert (more.status, more.initial_epoch) == ("trained", 2)
    _assert_same_run(more, output, three_epochs)  # as if it had been asked for 3 epochs at once


def test_restart_starts_over_in_the_folder(tmp_path):
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    result = _fit(_config(output, epochs=1, learning_rate=0.01, restart=True))
    assert (result.status, result.initial_epoch) == ("trained", 0)
    record = json.loads((output / "config.json").read_text())
    assert record["config"]["learning_rate"] == 0.01 and record["resumes"] == []
    assert len(result.history["epoch"]) == 1


def test_refused_resume_leaves_the_folder_as_it_was(tmp_path):
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    before = _snapshot(output)

    def broken_model(config, num_classes):
        raise ValueError("no model today")

    with pytest.raises(ValueError, match="no model today"):
        _fit(_config(output, epochs=2), build_model=broken_model)
    with pytest.raises(RunFolderError, match="learning_rate"):
        _fit(_config(output, epochs=2, learning_rate=0.5, restart=False))
    with pytest.raises(ValueError, match="backup .* other variables"):
        _fit(_config(output, epochs=2), build_model=lambda c, n: tiny_model(c, n + 1))
    assert _snapshot(output) == before


def test_output_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    config = _config(path)
    path.write_text("mine")  # appeared after the configuration was made
    with pytest.raises(RunFolderError, match="notes.txt' is a file"):
        _fit(config)
    assert path.read_text() == "mine"


def test_resume_refuses_every_change_to_the_run_and_names_each(tmp_path):
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    changed = _config(output, epochs=2, learning_rate=0.05, batch_size=4, seed=4)
    with pytest.raises(RunFolderError) as error:
        _fit(changed)
    message = str(error.value)
    for line in ("learning_rate: 0.02 recorded, 0.05 now", "batch_size: 8 recorded, 4 now",
                 "seed: 3 recorded, 4 now", "--output", "--restart"):
        assert line in message
    assert "epochs" not in message.split("\n", 1)[1]  # epochs may change


def test_resume_onto_a_data_set_with_another_class_count_says_so(tmp_path):
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    before = _snapshot(output)

    def more_classes(config, start_epoch, global_batch):
        train, steps, validation, classes = tiny_datasets(config, start_epoch, global_batch)
        return train, steps, validation, classes + 1

    with pytest.raises(RunFolderError, match=rf"classes \(from the data set\): {NUM_CLASSES} recorded, "
                       rf"{NUM_CLASSES + 1} now"):
        _fit(_config(output, epochs=2), datasets=more_classes)
    assert _snapshot(output) == before


def test_resume_records_allowed_changes_and_keeps_the_original(tmp_path):
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    _fit(_config(output, epochs=2, cache=True))
    record = json.loads((output / "config.json").read_text())
    assert (record["config"]["epochs"], record["config"]["cache"]) == (1, False)
    assert record["derived"] == {"replicas": 1, "global_batch_size": 8, "learning_rate": 0.02,
                                 "steps_per_epoch": 12, "classes": NUM_CLASSES, "xla": False}
    [resume] = record["resumes"]
    assert resume["epoch"] == 1 and resume["backup"] == "epoch-00001.npz"
    assert resume["changes"] == {"epochs": [1, 2], "cache": [False, True]}
    # The next resume compares with the run as it now stands (epochs 2), not the first record.
    result = _fit(_config(output, epochs=2, cache=True))
    assert result.status == "complete"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [
    _truncate,
    lambda path: path.write_bytes(b""),
    lambda path: path.write_bytes(os.urandom(path.stat().st_size)),
], ids=["truncated", "empty", "garbled"])
def test_damaged_newest_backup_is_skipped_once_and_the_run_ends_as_uninterrupted(
    tmp_path, capsys, three_epochs, damage
):
    output = tmp_path / "run"
    _fit(_config(output, epochs=3))
    newest = output / "backup" / "epoch-00003.npz"
    damage(newest)
    capsys.readouterr()

    result = _fit(_config(output, epochs=3))
    out = capsys.readouterr().out
    assert f"Resuming from {output / 'backup' / 'epoch-00002.npz'}: 2 of 3 epochs done" in out
    assert f"skipped damaged backup {newest}" in out
    assert result.initial_epoch == 2
    _assert_same_run(result, output, three_epochs)  # the CSV has each epoch once
    assert sorted(os.listdir(output / "backup")) == [
        "epoch-00002.npz", "epoch-00003.npz", "epoch-00003.npz.damaged"]


def test_the_run_folder_is_made_once_and_handed_down(tmp_path, monkeypatch):
    """fit works out the folder's paths once (RunFolder.open) and every later step uses that
    object: a second derivation of the paths from config.output would show up as a second call."""
    from alexnet_keras.training import run_folder

    calls = []
    original = run_folder.run_paths
    monkeypatch.setattr(run_folder, "run_paths", lambda *a, **k: calls.append(a) or original(*a, **k))
    output = tmp_path / "run"
    _fit(_config(output, epochs=1))
    assert calls == [(str(output),)]
    _fit(_config(output, epochs=2))  # a resume: again once
    assert len(calls) == 2
