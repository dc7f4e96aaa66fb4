"""The prepared 256x256 format (Section 2): build, resume, read back, check, train from it."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from alexnet_keras import data
from alexnet_keras.data import prepared
from alexnet_keras.data.prepared import PreparedFolderError, load_prepared, prepared_info
from alexnet_keras.data.prepared_build import prepare

CLASSES = {"ant": 4, "bee": 3, "cow": 2}  # uneven, so per-class counts mean something
WIDTH, HEIGHT = 320, 256  # shorter side already 256: the central square is columns 32..287


def _smooth_image(rng) -> np.ndarray:
    """A smooth image (JPEG keeps it within a few levels) whose left and right differ."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / 64.0
    phase = rng.uniform(0, 6, 3)
    channels = [127 + 100 * np.sin(x * rng.uniform(0.5, 1.5) + y * 0.7 + p) for p in phase]
    return np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8)


def write_photo_folder(root, per_class=CLASSES, validation=1, seed=0) -> dict:
    """root/{train,validation}/<class>/<n>.jpg; returns {path: decoded pixels} of every file."""
    rng = np.random.default_rng(seed)
    pixels = {}
    for split, counts in (("train", per_class), ("validation", dict.fromkeys(per_class, validation))):
        for name, count in counts.items():
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(count):
                path = folder / f"{n}.jpg"
                Image.fromarray(_smooth_image(rng)).save(path, quality=95)
                pixels[str(path)] = np.asarray(Image.open(path).convert("RGB"))
    return pixels


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    return root, write_photo_folder(root)


@pytest.fixture(scope="module")
def built(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared") / "out"
    manifest = prepare(out, dataset="folder", data_path=photos[0], shards=3, workers=1,
                       progress=False)
    return out, manifest


def _decoded(source):
    return [(tf.io.decode_jpeg(image).numpy(), int(label))
            for image, label in source.dataset.as_numpy_iterator()]


def _central(pixels):
    side = min(pixels.shape[:2])
    top, left = (pixels.shape[0] - side) // 2, (pixels.shape[1] - side) // 2
    return pixels[top:top + side, left:left + side]


def test_prepared_images_are_the_central_256_square_of_the_originals(photos, built):
    root, originals = photos
    train = {p: v for p, v in originals.items() if "/train/" in p}
    images = _decoded(load_prepared(built[0], "train"))
    assert len(images) == len(train)
    matched = set()
    for image, label in images:
        assert image.shape == (256, 256, 3)
        candidates = {p: v for p, v in train.items() if p.split("/")[-2] == list(CLASSES)[label]}
        error = {p: np.abs(image.astype(float) - _central(v)).mean() for p, v in candidates.items()}
        best = min(error, key=error.get)
        assert error[best] < 2.0  # JPEG re-encoding at quality 95
        left_square = candidates[best][:, :256]  # a wrong crop is far off
        assert np.abs(image.astype(float) - left_square).mean() > 4 * error[best]
        matched.add(best)
    assert matched == set(train)


def test_manifest_counts_and_per_class_numbers_match_the_folder(built):
    out, manifest = built
    info = prepared_info(out)
    assert info.class_names == sorted(CLASSES)
    assert info.per_class["train"] == list(CLASSES.values())
    assert info.per_class["validation"] == [1, 1, 1]
    assert info.num_examples == {"train": 9, "validation": 3}
    assert len(manifest["splits"]["train"]["shards"]) == 3
    source = load_prepared(out, "train")
    labels = [int(y) for _, y in source.dataset.as_numpy_iterator()]
    assert source.num_examples == 9 and np.bincount(labels).tolist() == list(CLASSES.values())


def test_mean_image_and_pca_match_numpy(photos, built):
    # decoded as the pipelines decode: only the central window, with libjpeg's fast integer DCT
    # (a level or two from Pillow's decoding; more at the window's edges)
    window = [0, (WIDTH - HEIGHT) // 2, HEIGHT, HEIGHT]
    originals = [tf.image.decode_and_crop_jpeg(tf.io.read_file(p), window, dct_method="INTEGER_FAST")
                 .numpy().astype(np.float64) for p in photos[1] if "/train/" in p]
    info = prepared_info(built[0])
    expected = np.mean(originals, 0)
    np.testing.assert_allclose(info.mean_image, expected, atol=1e-4)
    np.testing.assert_allclose(info.mean_rgb, expected.mean((0, 1)), atol=0.5)
    pixels = np.concatenate([o.reshape(-1, 3) for o in originals])
    values, vectors = np.linalg.eigh(np.cov(pixels.T, bias=True))
    np.testing.assert_allclose(info.eigenvalues, values[::-1], rtol=0.03)
    np.testing.assert_allclose(info.eigenvalues_unit_scale, values[::-1] / 255**2, rtol=0.03)
    dots = np.abs(np.sum(info.eigenvectors * vectors[:, ::-1], 0))
    assert dots.min() > 0.99


def _mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("train.tfrecord-*")}


def test_rerun_after_an_interruption_writes_only_the_missing_shard(photos, tmp_path):
    out = tmp_path / "out"
    first = prepare(out, dataset="folder", data_path=photos[0], shards=3, workers=1, progress=False)
    manifest = json.loads((out / prepared.MANIFEST).read_text())
    manifest["complete"] = False  # as an interrupted run leaves it
    (out / prepared.MANIFEST).write_text(json.dumps(manifest))
    missing = prepared.shard_name("train", 1, 3)
    (out / missing).unlink()
    stale = out / f".{missing}.tmp-99999"
    stale.write_bytes(b"half a shard")
    before = _mtimes(out)
    with pytest.raises(PreparedFolderError, match="unfinished prepare.*rerun the same prepare"):
        load_prepared(out, "train")
    second = prepare(out, dataset="folder", data_path=photos[0], workers=1, progress=False)
    after = _mtimes(out)
    assert set(after) == set(before) | {missing}
    assert all(after[name] == before[name] for name in before)  # the others were not touched
    assert not stale.exists()
    assert second["splits"] == first["splits"]  # same bytes: same SHA-256 per shard
    assert len(_decoded(load_prepared(out, "train"))) == 9


def test_truncated_and_garbled_shards_are_named_with_the_fix(photos, tmp_path):
    out = tmp_path / "out"
    prepare(out, dataset="folder", data_path=photos[0], shards=3, workers=1, progress=False)
    shard = out / prepared.shard_name("train", 2, 3)
    good = shard.read_bytes()
    shard.write_bytes(good[:-100])
    with pytest.raises(PreparedFolderError, match=rf"{shard.name} is corrupt.*truncated.*--verify"):
        load_prepared(out, "train")
    garbled = bytearray(good)
    garbled[len(good) // 2] ^= 0xFF
    shard.write_bytes(bytes(garbled))
    with pytest.raises(PreparedFolderError, match=rf"{shard.name} is corrupt.*SHA-256.*--verify"):
        load_prepared(out, "train", verify=True)
    with pytest.raises(tf.errors.DataLossError):  # the records' own CRC, when read
        _decoded(load_prepared(out, "train"))
    prepare(out, dataset="folder", data_path=photos[0], workers=1, verify=True, progress=False)
    assert shard.read_bytes() == good
    assert len(_decoded(load_prepared(out, "train", verify=True))) == 9


def test_a_folder_that_is_not_prepared_gets_a_clear_error(tmp_path):
    with pytest.raises(PreparedFolderError, match="does not exist.*prepare"):
        load_prepared(tmp_path / "nowhere")
    with pytest.raises(PreparedFolderError, match="not a prepared folder.*prepare --dataset"):
        load_prepared(tmp_path)
    (tmp_path / prepared.MANIFEST).write_text('{"format": "something else"}')
    with pytest.raises(PreparedFolderError, match="not an alexnet-keras prepared manifest"):
        prepared_info(tmp_path)


def test_other_options_into_the_same_folder_are_refused(photos, built, tmp_path):
    out = built[0]
    with pytest.raises(PreparedFolderError, match=r"other options.*train \(examples, shards\)"):
        prepare(out, dataset="folder", data_path=photos[0], shards=2, workers=1, progress=False)
    other = tmp_path / "other"
    write_photo_folder(other, per_class={"ant": 2, "bee": 2, "cow": 2}, seed=1)
    with pytest.raises(PreparedFolderError, match="data_path"):
        prepare(out, dataset="folder", data_path=other, workers=1, progress=False)


def test_prepare_command_writes_the_folder_and_train_reads_the_flag(photos, tmp_path, capsys):
    from alexnet_keras import cli

    out = tmp_path / "out"
    status = cli.main(["prepare", "--dataset", "folder", "--data-path", str(photos[0]),
                       "--output", str(out), "--workers", "1", "--shards", "2"])
    assert status == 0
    assert "train: 9 images in 2 shard(s)" in capsys.readouterr().out
    assert prepared_info(out).num_examples["validation"] == 3
    args = cli.build_parser().parse_args(["train", "--prepared", str(out)])
    assert cli.config_from_args(args).prepared == str(out)
    assert cli.main(["prepare", "--dataset", "folder", "--data-path", str(photos[0]),
                     "--output", str(out), "--shards", "3", "--workers", "1"]) == 1
    assert "other options" in capsys.readouterr().err


def test_prepare_command_with_encoding_raw(photos, tmp_path, capsys):
    from alexnet_keras import cli

    out = tmp_path / "raw"
    assert cli.main(["prepare", "--dataset", "folder", "--data-path", str(photos[0]), "--output",
                     str(out), "--workers", "1", "--encoding", "raw"]) == 0
    assert "train: 9 images" in capsys.readouterr().out
    square, _ = next(iter(load_prepared(out, "validation").dataset))
    assert square.dtype == tf.uint8 and square.shape == (256, 256, 3)
    with pytest.raises(SystemExit):
        cli.main(["prepare", "--dataset", "folder", "--output", str(out), "--encoding", "png"])
    assert "invalid choice: 'png'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["built", "built_raw"])
def test_train_from_a_prepared_folder(folder, request, tmp_path):
    from alexnet_keras.model.architecture import small_convnet
    from alexnet_keras.training.config import TrainConfig
    from alexnet_keras.training.fit import fit

    built = request.getfixturevalue(folder)
    config = TrainConfig(prepared=str(built[0]), image_size=67, epochs=1, batch_size=3,
                         steps_per_epoch=2, validation_steps=1, strategy="default",
                         output=str(tmp_path / "run"), tensorboard=False, verbose=0)
    result = fit(config, build_model=lambda c, n: small_convnet(classes=n, input_shape=(67, 67, 3)))
    assert result.steps_per_epoch == 2
    assert result.model.output_shape == (None, 3)
    assert np.isfinite(result.history["loss"][0]) and "val_loss" in result.history


def test_training_from_a_prepared_folder_lights_with_its_own_pca(built):
    from alexnet_keras.data import augment
    from alexnet_keras.training.config import TrainConfig
    from alexnet_keras.training.fit import _default_datasets

    config = TrainConfig(prepared=str(built[0]), image_size=67, batch_size=3, seed=2)
    stream = _default_datasets(config, 0, 3)[0]
    info = prepared_info(built[0])
    options = dict(batch_size=3, image_size=67, seed=2)
    own = augment.training_pipeline(load_prepared(built[0]), eigenvalues=info.eigenvalues_unit_scale,
                                    eigenvectors=info.eigenvectors, **options)
    imagenet = augment.training_pipeline(load_prepared(built[0]), **options)
    batch, own_batch, imagenet_batch = (next(iter(s))[0].numpy() for s in (stream, own, imagenet))
    np.testing.assert_array_equal(batch, own_batch)
    assert np.abs(batch - imagenet_batch).max() > 0.5  # another PCA: other lighting


@pytest.mark.slow
def test_prepare_miniature_imagenet_in_two_processes(tmp_path):
    from alexnet_keras.data import ilsvrc

    manual = tmp_path / "manual"
    ilsvrc.build_miniature_ilsvrc2012(manual, num_validation=8, train_per_synset=3)
    where = dict(manual_dir=manual, data_dir=tmp_path / "tfds")
    sources = {split: data.load("imagenet2012", split, **where) for split in ("train", "validation")}
    out = tmp_path / "out"
    prepare(out, dataset="imagenet2012", shards=2, workers=2, progress=False, **where)
    info = prepared_info(out)
    assert len(info.class_names) == 1000
    for split, source in sources.items():
        labels = [int(y) for _, y in source.dataset.as_numpy_iterator()]
        assert info.num_examples[split] == source.num_examples == len(labels)
        assert info.per_class[split] == np.bincount(labels, minlength=1000).tolist()
        prepared_labels = sorted(int(y) for _, y in load_prepared(out, split).dataset)
        assert prepared_labels == sorted(labels)
    manifest = json.loads((out / prepared.MANIFEST).read_text())
    shards = [shard["file"] for entry in manifest["splits"].values() for shard in entry["shards"]]
    assert sorted(os.listdir(out / "stats")) == sorted(f"{name}.npz" for name in shards)


@pytest.fixture(scope="module")
def built_raw(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared_raw") / "out"
    return out, prepare(out, dataset="folder", data_path=photos[0], shards=1, workers=1,
                        progress=False, encoding="raw")


def test_raw_prepared_squares_are_exactly_the_rescaled_central_squares(photos, built_raw):
    from alexnet_keras.data.decode import decode_central_square

    out, manifest = built_raw
    assert manifest["options"]["encoding"] == "raw"
    source = load_prepared(out)
    assert source.dataset.element_spec[0] == tf.TensorSpec([256, 256, 3], tf.uint8)
    files = data.load_folder(photos[0] / "train").files  # one shard: the folder's own order
    for (square, label), path, expected in zip(source.dataset, *files):
        original = decode_central_square(tf.io.read_file(path))
        np.testing.assert_array_equal(square.numpy(), original.numpy())  # no JPEG loss
        assert int(label) == expected
    shard = out / manifest["splits"]["train"]["shards"][0]["file"]
    assert shard.stat().st_size > 9 * 256 * 256 * 3  # the pixels, not a JPEG


def test_training_from_raw_prepared_is_the_cached_pipeline_on_the_files(photos, built_raw):
    from alexnet_keras.data import augment

    options = dict(batch_size=3, image_size=227, seed=5, start_epoch=1)  # squares of 256
    raw = augment.training_pipeline(load_prepared(built_raw[0]), **options)
    cached = augment.training_pipeline(data.load_folder(photos[0] / "train"), cache=True, **options)
    for (x_raw, y_raw), (x_cached, y_cached) in zip(raw.take(3), cached.take(3)):
        np.testing.assert_array_equal(y_raw.numpy(), y_cached.numpy())
        np.testing.assert_allclose(x_raw.numpy(), x_cached.numpy(), atol=1e-4)


def test_evaluation_from_raw_prepared_takes_the_squares_patches(photos, built_raw):
    from alexnet_keras.data import augment, ops
    from alexnet_keras.data.decode import decode_central_square

    batches = augment.evaluation_pipeline(load_prepared(built_raw[0], "validation"), batch_size=3,
                                          image_size=227, ten_crops=True, mean=[0.0, 0.0, 0.0])
    patches, labels = next(iter(batches))
    files = data.load_folder(photos[0] / "validation").files
    for patch, path in zip(patches, files[0]):
        expected = ops.ten_crop(decode_central_square(tf.io.read_file(path)), 227)
        np.testing.assert_array_equal(patch.numpy(), expected.numpy().astype(np.float32))
    assert labels.numpy().tolist() == files[1]


def test_another_encoding_into_the_same_folder_is_refused(photos, built_raw):
    with pytest.raises(PreparedFolderError, match="encoding: 'raw' there, 'jpeg' now"):
        prepare(built_raw[0], dataset="folder", data_path=photos[0], shards=1, workers=1,
                progress=False)
    with pytest.raises(ValueError, match="encoding must be one of jpeg, raw; got 'png'"):
        prepare(built_raw[0], dataset="folder", data_path=photos[0], encoding="png")


def test_bench_input_reports_prepared_figures_on_a_folder_of_jpegs(photos, capsys):
    from alexnet_keras.bench import input as bench_input

    status = bench_input.main(["--images", str(photos[0]), "--measure", "4", "--rounds", "1",
                               "--batch-size", "4", "--image-size", "67"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0 and lines[0].startswith("12 JPEGs from")
    assert any(line.startswith("ours, prepared 256x256") for line in lines)
    assert any(line.startswith("ours, prepared raw") for line in lines)
    names = [line.split("=")[0] for line in lines[-6:]]
    assert names == ["ratio_vs_straightforward", "prepared_ratio_vs_straightforward",
                     "prepared_raw_ratio_vs_straightforward", "prepared_images_per_second_per_core",
                     "prepared_raw_images_per_second_per_core", "images_per_second_per_core"]
    assert all(float(line.split("=")[1]) > 0 for line in lines[-6:])


def test_write_photographs_gives_distinct_500x375_jpegs(tmp_path):
    from alexnet_keras.bench.input import PHOTOGRAPHS, write_photographs

    paths = write_photographs(tmp_path, len(PHOTOGRAPHS) + 2)
    assert all(Image.open(p).size == (500, 375) for p in paths)
    assert len({open(p, "rb").read() for p in paths}) == len(paths)
