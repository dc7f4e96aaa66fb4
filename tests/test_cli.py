"""The command line: `python -m alexnet_keras summary`."""

import subprocess
import sys


def test_summary_prints_layers_and_totals():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "summary", "--variant", "paper"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "conv1" in out and "55x55x96" in out and "6x6x256" in out
    assert "60,965,224" in out and "724,406,816" in out and "0.724G" in out


def test_summary_rejects_unknown_variant():
    result = subprocess.run(
        [sys.executable, "-m", "alexnet_keras", "summary", "--variant", "vgg"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr


# ------------------------------------------------------------------------------ train's flags, in process

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import inspect  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

from alexnet_keras import cli  # noqa: E402
from alexnet_keras.model.architecture import alexnet  # noqa: E402
from alexnet_keras.model.variants import VARIANTS  # noqa: E402
from alexnet_keras.training.config import TrainConfig  # noqa: E402


def _train_parser() -> argparse.ArgumentParser:
    return cli.add_train_command(argparse.ArgumentParser().add_subparsers())


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_every_config_field_is_a_flag_named_after_it():
    actions = _train_parser()._option_string_actions
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        assert flag in actions and actions[flag].dest == field.name, flag
    assert actions["--lr"].dest == "learning_rate"  # the short alias stays


def test_flags_take_type_choices_and_help_from_the_config():
    parser = _train_parser()
    actions = parser._option_string_actions
    assert actions["--variant"].choices == list(VARIANTS)
    assert actions["--dataset"].choices == ["offline", "imagenet2012", "imagenette", "cifar10", "folder"]
    args = parser.parse_args(["--epochs", "3", "--dropout", "0.25", "--no-overlapping-pooling"])
    assert (args.epochs, args.dropout, args.overlapping_pooling) == (3, 0.25, False)
    help_text = " ".join(parser.format_help().split())
    for field in dataclasses.fields(TrainConfig):
        assert " ".join(field.metadata["help"].split()) in help_text, field.name


def test_help_opens_with_one_line():
    parser = cli.build_parser()
    subparsers = parser._subparsers._group_actions[0].choices
    for each in (parser, subparsers["train"]):
        assert each.description and "\n" not in each.description.strip()
    opening = parser.format_help().split("\n\n")[1]  # after the usage, before the commands
    assert " ".join(opening.split()) == parser.description


def test_config_from_args_maps_flags_one_to_one(tmp_path):
    args = cli.build_parser().parse_args([
        "train", "--dataset", "folder", "--data-path", str(tmp_path / "photos"), "--skip-corrupt",
        "--learning-rate", "0.02", "--tower-implementation", "groups", "--no-overlapping-pooling",
        "--image-size", "67", "--output", str(tmp_path / "run"),
    ])
    config = cli.config_from_args(args)
    assert (config.dataset, config.data_path, config.skip_corrupt) == ("folder", str(tmp_path / "photos"), True)
    assert (config.learning_rate, config.tower_implementation) == (0.02, "groups")
    assert config.overlapping_pooling is False and config.image_size == 67
    assert config.epochs == TrainConfig().epochs  # flags not given keep the config's defaults


def test_every_model_option_can_be_set_from_the_config():
    # alexnet()'s options that describe the network; classes comes from the data, the rest from
    # keras.applications' signature (inputs, weights, the head) that training does not vary.
    not_trained = {"variant", "include_top", "weights", "input_tensor", "input_shape", "pooling",
                   "classes", "num_classes", "classifier_activation", "name"}
    options = [name for name in inspect.signature(alexnet).parameters if name not in not_trained]
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    assert {"variant", *options} <= fields, set(options) - fields


@pytest.mark.parametrize("argv, problem", [
    (["--image-size", "0"], "--image-size 0 is too small"),
    (["--image-size", "66"], "at least 67x67"),
    (["--steps-per-epoch", "0"], "--steps-per-epoch: must be an integer >= 1"),
    (["--steps-per-epoch", "-1"], "--steps-per-epoch: must be an integer >= 1"),
    (["--validation-steps", "0"], "--validation-steps"),
    (["--lr-drop-factor", "2"], "--lr-drop-factor: must be in (0, 1)"),
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "-8"], "--batch-size: must be an integer >= 1"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1"),
    (["--epochs", "ten"], "--epochs: invalid int value: 'ten'"),
    (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["--dropout", "1"], "--dropout: must be in [0, 1)"),
    (["--lr", "0"], "must be > 0"),
    (["--variant", "vgg"], "invalid choice: 'vgg'"),
    (["--schedule", "exponential"], "invalid choice: 'exponential'"),
    (["--dataset", "folder"], "--dataset 'folder' needs --data-path"),
    (["--dataset", "offline", "--data-path", "photos"], "--data-path is only read"),
])
def test_bad_values_are_refused_in_one_line_with_status_2(argv, problem, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *argv])
    assert exit_info.value.code == 2
    line = _one_error_line(capsys)
    assert line.startswith("python -m alexnet_keras train: error: ") and problem in line


def test_output_that_is_a_file_is_refused(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--output", str(existing)])
    assert exit_info.value.code == 2 and "is a file" in _one_error_line(capsys)
    assert existing.read_text() == "mine"


def test_user_errors_at_run_time_print_one_line_and_status_1(tmp_path, capsys, monkeypatch):
    argv = ["train", "--dataset", "folder", "--data-path", str(tmp_path / "missing"),
            "--output", str(tmp_path / "run"), "--strategy", "default"]
    assert cli.main(argv) == 1
    line = _one_error_line(capsys)
    assert line.startswith("python -m alexnet_keras train: error: ") and "missing" in line
    assert "does not exist" in line
    monkeypatch.setenv("ALEXNET_KERAS_TRACEBACK", "1")  # the traceback, for bug reports
    with pytest.raises(FileNotFoundError):
        cli.main(argv)


def test_one_must_be_one_of_check_serves_the_whole_package():
    package = pathlib.Path(cli.__file__).parent
    copies = [str(path.relative_to(package)) for path in package.rglob("*.py")
              if path.name != "checks.py" and "must be one of" in path.read_text()]
    assert copies == []
    from alexnet_keras.checks import check_choice

    with pytest.raises(ValueError, match=r"colour must be one of .*'mauve'; allowed: red, green"):
        check_choice("colour", "mauve", ("red", "green"))
    check_choice("colour", "red", {"red": 1, "green": 2})  # dict keys are allowed values
