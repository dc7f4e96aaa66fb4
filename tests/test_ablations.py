"""The ablation protocol (alexnet_keras.ablation.protocol): its statistics and definitions on synthetic
numbers, its switches, and the quick mode end to end on one arm."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alexnet_keras.ablation import measures
from alexnet_keras import cli
from alexnet_keras.ablation import protocol as ablations
from alexnet_keras.ablation.report import read_results
from alexnet_keras.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


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


def test_paired_comparison_is_the_t_interval_of_the_per_seed_differences():
    from alexnet_keras.ablation import stats as ablation_stats

    treatment, control = [0.30, 0.41, 0.52, 0.35, 0.48], [0.32, 0.44, 0.53, 0.38, 0.50]
    d = np.subtract(treatment, control)  # the seeds' own noise cancels: sd of d, not of each side
    result = ablation_stats.paired_comparison(treatment, control)
    se, t = d.std(ddof=1) / math.sqrt(5), stats.t.ppf(0.975, 4)
    assert result["pairs"] == 5 and result["difference"] == pytest.approx(d.mean())
    assert (result["low"], result["high"]) == pytest.approx((d.mean() - t * se, d.mean() + t * se))
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(d.mean()) / se, 4))
    assert result["mde"] == pytest.approx((t + stats.t.ppf(0.8, 4)) * se)
    unpaired = measures.welch_comparison(treatment, control)
    assert unpaired["high"] - unpaired["low"] > 10 * (result["high"] - result["low"])
    with pytest.raises(ValueError, match="same seeds"):
        ablation_stats.paired_comparison([0.3, 0.4], [0.3])


def test_holm_adjusts_step_down_and_keeps_nan_out_of_the_family():
    from alexnet_keras.ablation import stats as ablation_stats

    # sorted 0.01, 0.03, 0.04 in a family of 3: 3 x 0.01, max(0.03, 2 x 0.03), max(0.06, 1 x 0.04)
    adjusted = ablation_stats.holm([0.04, 0.01, math.nan, 0.03])
    assert adjusted[1] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06)
    assert adjusted[0] == pytest.approx(0.06) and math.isnan(adjusted[2])
    assert ablation_stats.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_bootstrap_over_seeds_and_images_widens_with_either_noise():
    from alexnet_keras.ablation import stats as ablation_stats

    rng = np.random.default_rng(0)
    control = rng.random((5, 2000)) < 0.4
    better = control & (rng.random((5, 2000)) > 0.25)  # fixes a quarter of its errors: -10 points
    result = ablation_stats.bootstrap_difference(better, control, draws=500)
    assert result["boot_low"] < result["difference"] < result["boot_high"] < 0
    few = ablation_stats.bootstrap_difference(better[:, :200], control[:, :200], draws=500)
    assert few["boot_high"] - few["boot_low"] > 2 * (result["boot_high"] - result["boot_low"])


def test_censored_runs_count_as_longer_than_the_budget_never_dropped():
    from alexnet_keras.ablation import stats as ablation_stats

    summary = ablation_stats.censored_summary([38, None, None], budget=320)
    assert (summary["runs"], summary["reached"], summary["km_median"]) == (3, 1, None)
    assert summary["restricted_mean"] == pytest.approx((38 + 320 + 320) / 3)
    assert ablation_stats.censored_summary([10, 30, None, 20], budget=50)["km_median"] == 20


def test_compare_pairs_by_seed_applies_holm_and_says_what_each_row_supports():
    from alexnet_keras.ablation import analysis

    arms = [ablations.Arm("pooling", {"3/2": {}, "2/2": {"overlapping_pooling": False}}, "3/2", "2/2",
                          "paper", "test_top1_error", -0.004),
            ablations.Arm("towers", {"paper": {}, "half": {"variant": "half"}}, "paper", "half",
                          "paper", "test_top1_error", -0.017)]
    values = {("pooling", "3/2"): (0.30, 0.40, 0.50, 0.35, 0.45),
              ("pooling", "2/2"): (0.35, 0.46, 0.54, 0.41, 0.50),  # 5 points worse, every seed
              ("towers", "paper"): (0.30, 0.40, 0.50, 0.35, 0.45),
              ("towers", "half"): (0.31, 0.38, 0.52, 0.34, 0.47)}
    rows = [{"arm": a, "setting": s, "seed": seed, "run": s, "test_top1_error": v}
            for (a, s), vs in values.items() for seed, v in enumerate(vs)]
    rows.reverse()  # pairing goes by seed, not by row order
    pooling, towers = analysis.compare(rows, arms)
    assert list(pooling) == list(analysis.COLUMNS)
    assert pooling["pairs"] == 5 and pooling["difference"] == pytest.approx(-0.052)
    assert pooling["p_holm"] == pytest.approx(min(1, 2 * pooling["p_value"]))
    assert analysis.verdict(pooling).startswith("resolved") and "in the paper's direction" in analysis.verdict(pooling)
    assert analysis.verdict(towers).startswith("not resolvable here: smallest detectable effect")
    assert "the paper's -1.7" in analysis.verdict(towers)


# -------------------------------------------------------------------------------- definitions


def test_ensemble_rows_compare_the_ensemble_with_the_best_and_the_mean_member():
    from alexnet_keras.ablation import analysis

    labels = np.array([0, 1, 0, 1])
    # a: right on images 0-2, 0.8 sure; b: right on 0 and 3, 0.7 sure (0.9 of its wrong answer on
    # image 1). Where they disagree their average follows the surer one: wrong on images 1 and 3.
    a, b = np.eye(2)[[0, 1, 0, 0]] * 0.6 + 0.2, np.eye(2)[[0, 0, 1, 1]] * 0.4 + 0.3
    b[1] = [0.9, 0.1]
    rows = {r["model"]: r for r in analysis.ensemble_rows({"a": a, "b": b}, labels,
                                                          {"a": 0.3, "b": 0.1})}
    assert (rows["a"]["top1_error"], rows["b"]["top1_error"]) == (0.25, 0.5)
    assert rows["mean member"]["top1_error"] == 0.375
    best = rows["best member on validation (b)"]  # chosen on validation, not on these images
    assert best["top1_error"] == 0.5
    assert rows["ensemble"]["top1_error"] == 0.5
    assert best["ensemble_minus"] == 0.0 and rows["mean member"]["ensemble_minus"] == 0.125
    for row in (best, rows["mean member"]):
        assert row["low"] <= row["ensemble_minus"] <= row["high"] and row["low"] < row["high"]
    assert rows["ensemble"]["ensemble_minus"] == "" and rows["ensemble"]["examples"] == 4


def test_paired_difference_figure_draws_each_interval_and_keeps_the_paper_on_its_own_axis():
    import matplotlib.pyplot as plt

    from alexnet_keras.plots import plot_paired_differences

    rows = [{"arm": "pooling", "treatment": "3/2", "control": "2/2", "difference": -0.07,
             "low": -0.08, "high": -0.06, "mde": 0.014, "paper_difference": -0.004},
            {"arm": "crops_flips", "treatment": "on", "control": "off", "difference": 0.01,
             "low": -0.02, "high": 0.04, "mde": 0.05, "paper_difference": ""}]
    figure = plot_paired_differences(rows, title="made up")
    ours, paper = figure.axes
    intervals = [line.get_xdata() for line in ours.lines
                 if line.get_color() == "tab:blue" and line.get_marker() == "None"]
    np.testing.assert_allclose(intervals, [[-8, -6], [-2, 4]])
    assert [t.get_text() for t in ours.get_yticklabels()] == ["pooling: 3/2 - 2/2", "crops_flips: on - off"]
    crosses = [line for line in paper.lines if line.get_marker() == "x"]
    assert [(c.get_xdata()[0], c.get_ydata()[0]) for c in crosses] == [(-0.4, 0)]
    assert [t.get_text() for t in paper.texts] == ["no figure"] and not paper.get_shared_x_axes().joined(ours, paper)
    plt.close(figure)


def test_seed_figure_has_a_row_per_setting_and_a_dot_per_seed():
    import matplotlib.pyplot as plt

    from alexnet_keras.plots import plot_seeds

    arm = ablations.select_arms(["pooling"])[0]
    runs = [{"arm": "pooling", "setting": setting, "seed": seed, "test_top1_error": 0.1 + 0.1 * row + 0.01 * seed}
            for row, setting in enumerate(arm.settings) for seed in range(3)]
    figure = plot_seeds(runs, [arm], "test_top1_error", chance=0.9)
    axis = figure.axes[0]
    dots = np.concatenate([c.get_offsets() for c in axis.collections if len(c.get_offsets())])
    expected = [(100 * r["test_top1_error"], row) for row in (0, 1) for r in runs[3 * row:3 * row + 3]]
    np.testing.assert_allclose(sorted(map(tuple, dots)), sorted(expected))
    assert [t.get_text() for t in axis.get_legend().get_texts()] == ["seed 0", "seed 1", "seed 2", "chance (90)"]
    plt.close(figure)


def test_converged_is_censored_until_the_curve_flattens():
    flat = [0.9, 0.5, 0.315, 0.31, 0.30, 0.32, 0.31, 0.30]  # last 3 average 0.310, the 3 before ~0.31
    assert measures.epochs_to_converge(flat) == 3  # the first epoch within 2 points of the best
    falling = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    assert measures.epochs_to_converge(falling) is None  # still learning: longer than the run
    assert measures.epochs_to_converge([0.3] * 5) is None  # too short to tell


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
    assert 0 < rows["conv1"]["image_share"] <= 1  # conv1's bias starts at 0: all of it is the image
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
    assert (args.quick, args.arms, args.seeds, args.epochs, args.tables_only) == (True, ["pooling"], 2, None, False)
    assert cli.build_parser().parse_args(["ablation", "--tables-only"]).tables_only
    from alexnet_keras.cli.commands import _run_ablation

    assert args.func is _run_ablation


def test_the_markdown_table_says_what_each_row_supports_in_its_metrics_unit():
    from alexnet_keras.ablation import analysis

    rows = [{"arm": "a", "metric": "test_top1_error", "treatment": "t", "control": "c",
             "difference": "0.02", "low": "0.01", "high": "0.03", "p_holm": "0.0004", "mde": "0.008",
             "paper_difference": "-0.01", "paper": "the paper's claim"},
            {"arm": "b", "metric": "epochs_to_converge", "treatment": "t", "control": "c",
             "difference": "2", "low": "-1", "high": "5", "p_holm": "0.3", "mde": "4",
             "paper_difference": "", "paper": "no figure"}]
    lines = analysis.markdown_table(rows).splitlines()
    assert len(lines) == 4 and all(line.count("|") == 8 for line in lines)
    assert "| +2.0 points (+1.0 to +3.0) | < 0.001 | 0.8 points | resolved, against the paper's direction |" in lines[2]
    assert "| +2.0 epochs (-1.0 to +5.0) | 0.300 | 4.0 epochs | not resolvable here | no figure |" in lines[3]


def test_the_readme_table_of_the_claims_is_the_committed_comparisons():
    from alexnet_keras.ablation import analysis

    table = analysis.markdown_table(read_results(str(ROOT / "results" / "ablations"))["comparisons"])
    assert table in (ROOT / "README.md").read_text(), (
        "README's table of the paper's claims differs from results/ablations/comparisons.csv: paste "
        "analysis.markdown_table(...) of the committed file")


def test_ablation_help_states_the_protocols_own_defaults():
    subparsers = next(a for a in cli.build_parser()._actions if a.dest == "command" or a.choices)
    helps = {a.dest: a.help for a in subparsers.choices["ablation"]._actions}
    assert f"(default: {ablations.EPOCHS})" in helps["epochs"]
    assert f"(default: {ablations.SEEDS})" in helps["seeds"]


def test_a_seed_gives_every_arm_the_same_order_crops_flips_and_lighting_draws():
    from alexnet_keras.training.fit import _default_datasets

    def first_batch(seed, **overrides):
        config = TrainConfig.demo(image_size=67, cache=False, batch_size=16, steps_per_epoch=1,
                                  seed=seed, **overrides)
        images, labels = next(iter(_default_datasets(config, 0, 16)[0]))
        return images.numpy(), labels.numpy()

    base, labels = first_batch(0)
    for overrides in ({"overlapping_pooling": False}, {"variant": "half"}, {"dropout": 0.0},
                      {"normalization": "lrn"}, {"initializer": "paper"}):
        images, same = first_batch(0, **overrides)
        np.testing.assert_array_equal(same, labels)
        np.testing.assert_array_equal(images, base)  # the model's changes leave the data alone
    unlit, same = first_batch(0, lighting_std=0.0)
    np.testing.assert_array_equal(same, labels)
    shift = base - unlit  # lighting adds one RGB offset per image: same crop, same flip
    np.testing.assert_allclose(shift, shift[:, :1, :1, :] + np.zeros_like(shift), atol=1e-3)
    assert np.abs(shift).max() > 0.01
    assert not np.array_equal(first_batch(1)[1], labels)  # another seed, another order


def test_offline_test_split_is_large_separate_and_kept_by_the_generator():
    from alexnet_keras import data
    from alexnet_keras.data import offline

    test = data.load("offline", "test")
    assert test.num_examples == 10 * offline.TEST_PER_CLASS >= 5000
    root = offline.default_root()
    name = "circle/circle_0000.jpg"
    assert (root / "test" / name).read_bytes() != (root / "validation" / name).read_bytes()
    assert offline._foreign_files(root) == []  # the set stays ours: a regeneration may replace it
    with pytest.raises(ValueError, match="no labelled test split"):
        data.load("imagenette", "test")


@pytest.mark.slow
def test_quick_protocol_on_one_arm_writes_every_table_and_resumes(tmp_path):
    output, runs = tmp_path / "results", tmp_path / "runs"
    first = ablations.run_protocol(str(output), runs=str(runs), arms=["pooling"], quick=True, log=print)
    assert [(r["setting"], r["seed"], r["epochs"]) for r in first["runs"]] == [
        ("3/2 (base)", 0, 1), ("2/2", 0, 1)]
    assert {"test_top1_error", "validation_top1_error", "epochs"} <= set(first["runs"][0])
    comparison = first["comparisons"][0]
    assert comparison["arm"] == "pooling" and comparison["pairs"] == 1 and math.isnan(comparison["low"])
    assert {r["initializer"] for r in first["init"]} == {"paper", "keras", "he"}
    assert [r["model"] for r in first["ensemble"]][-1] == "ensemble"
    assert first["figures"][0]["chroma_tower1"] >= 0
    written = read_results(str(output))
    assert set(written) == {"runs", "summary", "comparisons", "censored", "init", "ensemble",
                            "figures", "retrieval"}
    assert list(written["comparisons"][0])[:12] == ["arm", "metric", "treatment", "control", "pairs",
                                                     "difference", "low", "high", "p_value", "p_holm",
                                                     "mde", "paper_difference"]
    assert (output / "conv1_kernels.png").exists() and np.load(output / "conv1_kernels.npy").shape == (11, 11, 3, 96)
    assert {r["class"] for r in first["retrieval"]} == set(range(10))
    from alexnet_keras.ablation.report import read_predictions

    predictions, labels = read_predictions(str(output))
    assert set(predictions) == {("base", 0), ("overlapping_pooling=False", 0)}
    assert predictions[("base", 0)].shape == (len(labels), 10) == (32, 10)  # quick: 4 batches of 8
    provenance = json.loads((output / "provenance.json").read_text())
    assert provenance["runs"] == 2 and provenance["training_seconds_recorded"] >= 0
    assert (provenance["test_images"], provenance["validation_images"], provenance["seeds"]) == (32, 32, 1)
    assert {"command", "machine", "date", "wall_seconds"} <= set(provenance)
    assert "cores" in provenance["machine"] and "TensorFlow" in provenance["software"]
    kept = output / "records" / "base" / "seed0"
    assert {p.name for p in kept.iterdir()} == {*ablations.RECORD_FILES, "run.json", "conv1_kernels.npy"}
    assert not any(p.name.endswith(".keras") for p in output.rglob("*"))  # checkpoints stay behind
    # Another machine: the records (committed) without the run folders; nothing is trained again.
    shutil.rmtree(runs)
    again = ablations.run_protocol(str(output), runs=str(runs), arms=["pooling"], quick=True)
    assert not runs.exists() and again["runs"] == first["runs"]
    assert again["figures"] == first["figures"]
    # A record of another recipe (here: other epochs) is refused, not mixed into the tables.
    with pytest.raises(ValueError, match=r"base/seed0 holds a run made with other settings \(epochs 1 there, 2 now"):
        ablations.check_same_run(str(kept), ablations.base_config(epochs=2, quick=True, seed=0,
                                                                   output=str(runs / "base" / "seed0")))
    assert repr(again["comparisons"]) == repr(first["comparisons"])  # repr: NaN equals itself
    # An interim report trains nothing: the arms with every run kept, the others named as pending.
    interim = ablations.run_protocol(str(output), runs=str(runs), quick=True, train=False)
    assert not runs.exists() and [r["arm"] for r in interim["comparisons"]] == ["pooling"]
    provenance = json.loads((output / "provenance.json").read_text())
    assert provenance["arms"] == ["pooling"]
    assert provenance["arms_pending"]["towers"] == "1 of 2 runs kept"  # the base's seed, not half's
    assert set(provenance["arms_pending"]) == {a.name for a in ablations.ARMS} - {"pooling"}


def test_recipe_rules_on_made_up_seeds_and_one_quick_seed(tmp_path):
    from alexnet_keras.ablation import recipe

    rows = [{"epochs": 24, "test_top1_error": e, "last_epochs_validation_range": r}
            for e, r in ((0.30, 0.03), (0.43, 0.01), (0.41, 0.02))]
    rows += [{"epochs": 48, "test_top1_error": e, "last_epochs_validation_range": 0.01}
             for e in (0.10, 0.11, 0.12)]
    short, long = recipe.summarize(rows)
    assert (short["flat"], short["spread_ok"], long["flat"], long["spread_ok"]) == (False, False, True, True)
    assert long["test_sd"] == pytest.approx(0.01)
    [row] = recipe.train_seeds(1, [0], output=str(tmp_path / "out"), runs=str(tmp_path / "runs"),
                               quick=True, log=print)
    assert recipe.read_rows(str(tmp_path / "out")) == [row] and 0 <= row["test_top1_error"] <= 1


def test_rate_check_extends_the_grid_until_the_best_rate_is_inside(tmp_path, monkeypatch):
    from alexnet_keras.ablation import rates

    def fake_train(setting, rate, *, output, runs, quick=False):  # best near 0.05
        record = tmp_path / "records" / setting / f"lr{rate:g}" / "seed100"
        record.mkdir(parents=True, exist_ok=True)  # a rate tried before is read back
        row = {"setting": setting, "learning_rate": rate, "seed": 100, "epochs": 48,
               "diverged": rate > 0.1, "validation_top1_error": 1.0 if rate > 0.1 else abs(math.log10(rate / 0.05)) / 2}
        (record / "row.json").write_text(json.dumps(row))
        return row

    monkeypatch.setattr(rates, "train_rate", fake_train)
    monkeypatch.setattr(rates, "read_row", lambda record, setting: json.loads(open(f"{record}/row.json").read()))
    seen = []
    rows, choices = rates.check(["normalization=none"], output=str(tmp_path), log=seen.append)
    tried = sorted(r["learning_rate"] for r in rows)
    assert tried == [0.00158, 0.005, 0.0158, 0.05, 0.158]  # grown upwards twice, sqrt(10) apart
    assert choices["normalization=none"]["chosen_rate"] == 0.05 and choices["normalization=none"]["extend"] == 0
    assert len(seen) == 3 and (tmp_path / "rates.csv").exists() and (tmp_path / "choices.csv").exists()


def test_rate_choice_counts_a_diverged_run_as_worst_and_names_the_edge():
    from alexnet_keras.ablation import rates

    rows = [{"setting": "s", "learning_rate": lr, "validation_top1_error": e}
            for lr, e in ((0.001, 0.2), (0.003, 0.3), (0.01, 1.0))]
    assert rates.choose(rows)["s"] == {"setting": "s", "chosen_rate": 0.001, "validation_top1_error": 0.2,
                                       "rates": 3, "extend": -1}
    assert rates.grid(0.005) == [0.00158, 0.005, 0.0158] and rates.grid(0.00158, (-1,)) == [0.0005]


@pytest.mark.slow
def test_a_rate_run_keeps_its_logs_leaves_the_test_split_alone_and_is_not_trained_twice(tmp_path, monkeypatch):
    from alexnet_keras.ablation import protocol, rates

    row = rates.train_rate("normalization=lrn", 0.002, output=str(tmp_path / "out"),
                           runs=str(tmp_path / "runs"), quick=True)
    record = tmp_path / "out" / "records" / "normalization=lrn" / "lr0.002" / "seed100"
    assert sorted(p.name for p in record.iterdir()) == sorted([*rates.LOG_FILES, "run.json"])
    assert not list((tmp_path / "runs").rglob(protocol.PREDICTIONS))  # no test scoring
    assert (row["learning_rate"], row["seed"], row["epochs"], row["diverged"]) == (0.002, 100, 1, False)
    monkeypatch.setattr(protocol, "train_run", lambda *a, **k: pytest.fail("trained again"))
    shutil.rmtree(tmp_path / "runs")
    assert rates.train_rate("normalization=lrn", 0.002, output=str(tmp_path / "out"),
                            runs=str(tmp_path / "runs"), quick=True) == row
    assert rates.read_rows(str(tmp_path / "out")) == [row]


def test_each_setting_whose_rate_check_is_finished_trains_at_the_rate_it_chose():
    from alexnet_keras.ablation import protocol, rates

    choices = rates.choose(rates.read_rows())
    finished = {s: c for s, c in choices.items() if c["rates"] >= 3 and
                (c["extend"] == 0 or c["rates"] >= rates.MAX_RATES)}
    assert finished, "no setting of the committed rate check has finished its grid"
    for setting, choice in finished.items():
        [overrides] = [o for arm in protocol.ARMS for o in arm.settings.values()
                       if {k: v for k, v in o.items() if k != "learning_rate"} == rates.SETTINGS[setting]][:1]
        assert protocol.base_config(**overrides).learning_rate == pytest.approx(choice["chosen_rate"], rel=1e-3), setting
