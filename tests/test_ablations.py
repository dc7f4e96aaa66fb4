"""The ablation protocol (alexnet_keras.ablation.protocol): its statistics and definitions on synthetic
numbers, its switches, and the quick mode end to end on one arm."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from alexnet_keras.ablation import measures
from alexnet_keras import cli
from alexnet_keras.ablation import protocol as ablations
from alexnet_keras.ablation.report import format_table, read_results, summarize
from alexnet_keras.training.config import TrainConfig


# ------------------------------------------------------------------------------ statistics


def test_welch_comparison_matches_the_textbook_interval():
    # Both sides: variance 1, n 3; se = sqrt(2/3), Welch-Satterthwaite df = 4.
    result = measures.welch_comparison([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    se, half = math.sqrt(2 / 3), stats.t.ppf(0.975, 4) * math.sqrt(2 / 3)
    assert result["difference"] == pytest.approx(-3.0)
    assert (result["low"], result["high"]) == pytest.approx((-3 - half, -3 + half))
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(3 / se, 4))


def test_welch_comparison_with_one_seed_gives_a_difference_but_no_interval():
    result = measures.welch_comparison([0.3], [0.5])
    assert result["difference"] == pytest.approx(-0.2)
    assert math.isnan(result["low"]) and math.isnan(result["p_value"])
    with pytest.raises(ValueError, match="at least one value per side"):
        measures.welch_comparison([], [0.5])


def test_summary_compares_each_arms_treatment_with_its_control():
    arm = ablations.Arm("pooling", {"3/2": {}, "2/2": {"overlapping_pooling": False}}, "3/2", "2/2", "paper")
    rows = [{"arm": "pooling", "setting": s, "seed": i, measures.VALUE: v}
            for s, values in (("3/2", (0.30, 0.32, 0.34)), ("2/2", (0.40, 0.41, 0.42)))
            for i, v in enumerate(values)]
    summary, comparisons = summarize(rows, [arm])
    assert [s["seeds"] for s in summary] == [3, 3]
    assert summary[0][f"mean_{measures.VALUE}"] == pytest.approx(0.32)
    assert summary[0][f"std_{measures.VALUE}"] == pytest.approx(0.02)
    assert comparisons[0]["difference"] == pytest.approx(-0.09)
    assert comparisons[0]["low"] < -0.09 < comparisons[0]["high"] < 0
    assert "-0.090" in format_table(comparisons)


# -------------------------------------------------------------------------------- definitions


def test_converged_is_the_first_epoch_within_one_point_of_the_best():
    assert measures.epochs_to_converge([0.9, 0.5, 0.305, 0.30, 0.31]) == 3
    assert measures.epochs_to_converge([0.9, 0.5, 0.32, 0.30]) == 4
    assert measures.epochs_to_converge([]) is None


def test_plateau_exit_is_the_first_step_below_95_percent_of_ln_classes():
    # ln 10 = 2.303; 0.95 of it = 2.187
    assert measures.plateau_exit_step([2.5, 2.30, 2.19, 2.18, 1.0], classes=10) == 4
    assert measures.plateau_exit_step([2.4, 2.3, 2.25], classes=10) is None
    with pytest.raises(ValueError, match="at least 2"):
        measures.plateau_exit_step([1.0], classes=1)


def test_batch_losses_undo_keras_running_mean():
    losses = [3.0, 1.0, 2.0, 6.0]
    running = np.cumsum(losses) / np.arange(1, 5)
    assert measures.batch_losses(running) == pytest.approx(losses)


def test_step_losses_keep_the_last_attempt_of_a_resumed_epoch(tmp_path):
    rows = ["epoch,batch,running_loss", "0,0,3.0", "0,1,2.0",  # epoch 0
            "1,0,9.0",  # an interrupted attempt at epoch 1 (its end was logged, then lost)
            "1,0,1.0", "1,1,1.5"]
    (tmp_path / "steps.csv").write_text("\n".join(rows) + "\n")
    assert ablations.step_losses(str(tmp_path)) == pytest.approx([3.0, 1.0, 1.0, 2.0])


# -------------------------------------------------------------------- Figure 3 and Figure 4


def _kernels(kind, n=4, seed=0):
    pattern = np.random.default_rng(seed).normal(size=(11, 11, 1, n))
    if kind == "grey":
        return np.repeat(pattern, 3, axis=2)
    return np.concatenate([pattern, np.zeros_like(pattern), np.zeros_like(pattern)], axis=2)  # red


def test_chroma_is_zero_for_grey_kernels_and_high_for_red_ones():
    assert measures.kernel_chroma(_kernels("grey")) == pytest.approx(np.zeros(4), abs=1e-9)
    assert np.all(measures.kernel_chroma(_kernels("red")) > 0.5)
    with pytest.raises(ValueError, match=r"\[height, width, 3, n\]"):
        measures.kernel_chroma(np.zeros((11, 11, 4)))


def test_tower_chroma_splits_conv1_into_the_paper_towers():
    from alexnet_keras.model.architecture import alexnet

    model = alexnet("paper", classes=10, input_shape=(67, 67, 3))
    conv1 = model.get_layer("conv1")
    conv1.kernel.assign(np.concatenate([_kernels("grey", 48), _kernels("red", 48, seed=1)], -1))
    grey, red = measures.tower_chroma(model)
    assert grey == pytest.approx(0.0, abs=1e-6) and red > 0.5


def test_tower_specialisation_separates_grey_and_colour_towers_but_not_a_random_split():
    from alexnet_keras.model.architecture import alexnet

    model = alexnet("paper", classes=10, input_shape=(67, 67, 3))
    conv1 = model.get_layer("conv1")
    grey, red = _kernels("grey", 48), _kernels("red", 48, seed=1)
    conv1.kernel.assign(np.concatenate([red, grey], -1))  # the colour tower may be either
    split = measures.tower_specialisation(model, permutations=999)
    assert split["gap"] > 0.5 and split["p_value"] == pytest.approx(1 / 1000)
    stored = np.asarray(conv1.kernel)  # a conv1_kernels.npy gives the same answer
    assert measures.tower_specialisation(stored, permutations=999) == split
    mixed = np.concatenate([grey[..., :24], red[..., :24], grey[..., 24:], red[..., 24:]], -1)
    conv1.kernel.assign(mixed)  # half grey, half colour in each tower
    assert measures.tower_specialisation(model, permutations=999)["p_value"] > 0.05


def test_image_signal_is_the_image_dependent_share_of_each_layer_output():
    from alexnet_keras.model.architecture import alexnet

    images = np.random.default_rng(0).normal(size=(8, 67, 67, 3)).astype("float32") * 50
    model = alexnet("paper", classes=10, input_shape=(67, 67, 3), normalization="lrn")
    rows = {r["layer"]: r for r in measures.image_signal(model, images)}
    assert list(rows) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    assert 0 < rows["conv1"]["image_share"] <= 1  # conv1 has no bias: all of it is the image
    same = measures.image_signal(model, np.repeat(images[:1], 8, axis=0))
    assert all(r["between_images"] == pytest.approx(0, abs=1e-5) for r in same)


def test_retrieval_precision_and_neighbours_exclude_the_query():
    labels = np.repeat([0, 1, 2], 4)
    features = labels[:, None] * 10.0 + np.random.default_rng(0).normal(size=(12, 8)) * 0.1
    neighbours = measures.nearest_neighbours(features, k=3)
    assert not np.any(neighbours == np.arange(12)[:, None])
    precision = measures.retrieval_precision(features, labels, k=3)
    assert precision == {0: 1.0, 1: 1.0, 2: 1.0, "mean": 1.0}
    shuffled = measures.retrieval_precision(features, np.roll(labels, 1), k=3)
    assert shuffled["mean"] < 1.0


# ----------------------------------------------------------------------------- the protocol


def test_every_arm_setting_is_a_valid_config_and_one_base_is_shared():
    for arm in ablations.ARMS:
        assert {arm.treatment, arm.control} <= set(arm.settings), arm.name
        assert sum(not overrides for overrides in arm.settings.values()) == 1, arm.name  # the base
        for overrides in arm.settings.values():
            config = ablations.base_config(**overrides)
            assert all(getattr(config, k) == v for k, v in overrides.items())
            ablations.base_config(quick=True, **overrides)  # the quick size fits every setting
    runs = {ablations.run_name(o) for arm in ablations.ARMS for o in arm.settings.values()}
    assert "base" in runs and len(runs) == sum(len(a.settings) - 1 for a in ablations.ARMS) + 1


def test_unknown_arm_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown arm.*normalization"):
        ablations.select_arms(["lrn"])


def test_switches_turn_off_crops_flips_and_lighting_in_the_training_stream():
    from alexnet_keras.data import augment
    from alexnet_keras.training.fit import _default_datasets

    config = TrainConfig.demo(image_size=67, cache=False, batch_size=1, steps_per_epoch=1,
                              random_crops=False, flip=False, lighting_std=0.0)
    epochs = [next(iter(_default_datasets(config, epoch, 1)[0]))[0].numpy() for epoch in (0, 1)]
    np.testing.assert_array_equal(epochs[0], epochs[1])  # one example, the same patch each epoch
    from alexnet_keras import data

    first = data.load("offline", "train").dataset.take(1)
    centre = next(iter(augment.evaluation_pipeline(first, batch_size=1, image_size=67)))[0]
    np.testing.assert_allclose(epochs[0], centre.numpy(), atol=1e-4)
    augmented = TrainConfig.demo(image_size=67, cache=False, batch_size=1, steps_per_epoch=1)
    draws = [next(iter(_default_datasets(augmented, e, 1)[0]))[0].numpy() for e in (0, 1)]
    assert not np.array_equal(draws[0], draws[1])


def test_ablation_command_maps_its_flags():
    args = cli.build_parser().parse_args(["ablation", "--quick", "--arms", "pooling", "--seeds", "2"])
    assert (args.quick, args.arms, args.seeds, args.epochs) == (True, ["pooling"], 2, None)
    from alexnet_keras.cli.commands import _run_ablation

    assert args.func is _run_ablation


@pytest.mark.slow
def test_quick_protocol_on_one_arm_writes_every_table_and_resumes(tmp_path):
    output, runs = tmp_path / "results", tmp_path / "runs"
    first = ablations.run_protocol(str(output), runs=str(runs), arms=["pooling"], quick=True, log=print)
    assert [(r["setting"], r["seed"], r["epochs"]) for r in first["runs"]] == [
        ("3/2 (base)", 0, 1), ("2/2", 0, 1)]
    assert first["comparisons"][0]["arm"] == "pooling" and math.isnan(first["comparisons"][0]["low"])
    assert {r["initializer"] for r in first["init"]} == {"paper", "keras", "he"}
    assert first["ensemble"][0]["model"] == "seed0" and first["figures"][0]["chroma_tower1"] >= 0
    written = read_results(str(output))
    assert set(written) == {"runs", "summary", "comparisons", "init", "ensemble", "figures", "retrieval"}
    assert (output / "conv1_kernels.png").exists() and np.load(output / "conv1_kernels.npy").shape == (11, 11, 3, 96)
    assert {r["class"] for r in first["retrieval"]} == set(range(10))
    provenance = json.loads((output / "provenance.json").read_text())
    assert provenance["runs"] == 2 and provenance["training_seconds_recorded"] >= 0
    assert "cores" in provenance["machine"] and "TensorFlow" in provenance["software"]
    again = ablations.run_protocol(str(output), runs=str(runs), arms=["pooling"], quick=True)
    assert again["runs"] == first["runs"]  # read back from the finished run folders
