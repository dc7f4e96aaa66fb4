"""alexnet_keras.data: data sets by name, the generated offline set, and bad input."""

from __future__ import annotations

import functools
import logging

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from alexnet_keras import data
from alexnet_keras.data import augment, offline


def _jpeg(path, mode="RGB", size=(64, 48), fmt="JPEG", colour=(200, 30, 30)):
    image = Image.new("RGB", size, colour).convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt)
    return path


@pytest.fixture(scope="module")
def tiny_offline(tmp_path_factory):
    return offline.generate_offline(tmp_path_factory.mktemp("data") / "offline", seed=3,
                                    train_per_class=2, validation_per_class=1,
                                    image_size=(120, 90))


@pytest.fixture
def folder(tmp_path):
    for name in ("cat", "dog"):
        for i in range(3):
            _jpeg(tmp_path / name / f"{i}.jpg", colour=(40 * i, 100, 200))
    return tmp_path


def _decode_all(source):
    batches = augment.evaluation_pipeline(source, batch_size=4, image_size=32, mean=(0, 0, 0))
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in batches])
    return np.concatenate(images), np.concatenate(labels)


def test_offline_set_has_every_class_in_both_splits(tiny_offline):
    for split, count in (("train", 2), ("validation", 1)):
        source = data.load_folder(tiny_offline / split)
        assert source.class_names == sorted(offline.CLASS_NAMES)
        assert source.num_examples == count * len(offline.CLASS_NAMES)
        labels = [int(y) for _, y in source.dataset]
        assert labels[:10] == list(range(10))  # classes interleaved: any prefix holds every class


def test_offline_generation_is_deterministic_for_a_seed(tmp_path):
    kwargs = dict(seed=5, train_per_class=1, validation_per_class=1, image_size=(80, 60),
                  num_classes=2)
    a = offline.generate_offline(tmp_path / "a", **kwargs)
    b = offline.generate_offline(tmp_path / "b", **kwargs)
    c = offline.generate_offline(tmp_path / "c", **{**kwargs, "seed": 6})
    name = "train/arrow/arrow_0000.jpg"
    assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / name).read_bytes() != (c / name).read_bytes()


def test_offline_images_are_about_imagenet_size():
    image = offline.draw_image("star", np.random.default_rng(0))
    assert image.shape == (375, 500, 3) and image.dtype == np.uint8
    assert 20_000 < len(offline.encode_jpeg(image)) < 200_000


def test_offline_colour_does_not_give_the_class_away():
    # Mean colour of the images of each class: spread within a class dwarfs spread between classes.
    means = np.array([[offline.draw_image(name, np.random.default_rng([c, i]), (60, 45))
                       .reshape(-1, 3).mean(0) for i in range(12)]
                      for c, name in enumerate(offline.CLASS_NAMES[:4])])
    within = means.std(axis=1).mean()
    between = means.mean(axis=1).std(axis=0).mean()
    assert between < within


def test_offline_set_is_regenerated_only_when_settings_change(tmp_path):
    kwargs = dict(train_per_class=1, validation_per_class=1, image_size=(40, 30), num_classes=1)
    root = offline.generate_offline(tmp_path / "o", **kwargs)
    stamp = (root / "MANIFEST.json").stat().st_mtime_ns
    offline.generate_offline(tmp_path / "o", **kwargs)
    assert (root / "MANIFEST.json").stat().st_mtime_ns == stamp
    offline.generate_offline(tmp_path / "o", **{**kwargs, "train_per_class": 2})
    assert len(list((root / "train" / "arrow").iterdir())) == 2


def test_load_offline_generates_into_data_dir(tmp_path, monkeypatch):
    small = functools.partial(offline.generate_offline, train_per_class=1,
                              validation_per_class=1, image_size=(64, 48))
    monkeypatch.setattr(offline, "generate_offline", small)
    source = data.load("offline", "validation", data_dir=tmp_path)
    assert source.name == "offline"
    assert source.num_examples == len(offline.CLASS_NAMES)
    assert (tmp_path / "offline" / "validation" / "star").is_dir()


def test_folder_source_yields_bytes_and_labels_in_fixed_interleaved_order(folder):
    source = data.load("folder", "train", path=folder)
    assert source.class_names == ["cat", "dog"]
    assert source.num_examples == 6
    assert source.dataset.element_spec[0].dtype == tf.string
    assert source.dataset.element_spec[1].dtype == tf.int64
    assert [int(y) for _, y in source.dataset] == [0, 1, 0, 1, 0, 1]
    assert source.files[0][:2] == [str(folder / "cat" / "0.jpg"), str(folder / "dog" / "0.jpg")]


def test_folder_with_split_subfolders_uses_the_split(tmp_path):
    _jpeg(tmp_path / "train" / "a" / "1.jpg")
    _jpeg(tmp_path / "validation" / "a" / "1.jpg")
    _jpeg(tmp_path / "validation" / "b" / "1.jpg")
    assert data.load("folder", "validation", path=tmp_path).class_names == ["a", "b"]
    assert data.load("folder", "train", path=tmp_path).num_examples == 1


def test_unknown_name_or_split_is_a_value_error():
    with pytest.raises(ValueError, match="'mnist'.*allowed: offline"):
        data.load("mnist")
    with pytest.raises(ValueError, match="'test'.*allowed: train, validation"):
        data.load("offline", "test")


# ---- bad input -------------------------------------------------------------------------------

def test_nonexistent_path_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist"):
        data.load("folder", path=tmp_path / "nowhere")


def test_truncated_jpeg_is_an_error_naming_the_file(folder):
    good = (folder / "cat" / "0.jpg").read_bytes()
    (folder / "cat" / "broken.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(data.CorruptImageError, match=r"broken\.jpg.*truncated.*skip_corrupt"):
        data.load("folder", path=folder)


def test_corrupt_file_is_an_error_naming_the_file(folder):
    (folder / "dog" / "junk.jpg").write_bytes(b"this is not an image" * 10)
    with pytest.raises(data.CorruptImageError, match=r"junk\.jpg.*not a JPEG"):
        data.load("folder", path=folder)


def test_jpeg_with_broken_header_is_an_error(folder):
    good = bytearray((folder / "cat" / "0.jpg").read_bytes())
    (folder / "cat" / "header.jpg").write_bytes(bytes(good[:4]) + b"\x00" * 40 + bytes(good[-2:]))
    with pytest.raises(data.CorruptImageError, match=r"header\.jpg"):
        data.load("folder", path=folder)


def test_skip_corrupt_skips_and_reports_the_count(folder, caplog):
    (folder / "dog" / "junk.jpg").write_bytes(b"garbage")
    good = (folder / "cat" / "0.jpg").read_bytes()
    (folder / "cat" / "cut.jpg").write_bytes(good[:100])
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="skipped 2 corrupt"):
        source = data.load("folder", path=folder, skip_corrupt=True)
    assert source.num_examples == 6
    assert sorted(p.rsplit("/", 1)[-1] for p in source.skipped) == ["cut.jpg", "junk.jpg"]
    assert "junk.jpg" in caplog.text
    images, labels = _decode_all(source)
    assert images.shape == (6, 32, 32, 3)


def test_grayscale_and_cmyk_jpegs_become_rgb(tmp_path):
    _jpeg(tmp_path / "a" / "gray.jpg", mode="L", colour=(90, 90, 90))
    _jpeg(tmp_path / "a" / "cmyk.jpg", mode="CMYK", colour=(200, 30, 30))
    source = data.load("folder", path=tmp_path)
    images, _ = _decode_all(source)
    assert images.shape == (2, 32, 32, 3)
    cmyk, gray = images  # sorted by file name
    np.testing.assert_allclose(cmyk.mean((0, 1)), [200, 30, 30], atol=8)
    assert np.ptp(gray.mean((0, 1))) < 2


def test_png_among_jpegs_is_decoded(tmp_path):
    _jpeg(tmp_path / "a" / "1.jpg", colour=(10, 200, 10))
    _jpeg(tmp_path / "a" / "2.png", fmt="PNG", colour=(10, 10, 200))
    _jpeg(tmp_path / "a" / "3.jpg", fmt="PNG", colour=(200, 10, 10))  # a PNG named .jpg
    images, _ = _decode_all(data.load("folder", path=tmp_path))
    np.testing.assert_allclose(images.mean((1, 2)), [[10, 200, 10], [10, 10, 200],
                                                     [200, 10, 10]], atol=8)


def test_empty_class_folder_is_an_error_naming_the_folder(folder):
    (folder / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty has no images.*add images or remove"):
        data.load("folder", path=folder)


def test_folder_without_class_folders_is_an_error(tmp_path):
    _jpeg(tmp_path / "loose.jpg")
    with pytest.raises(ValueError, match="no class sub-folders"):
        data.load("folder", path=tmp_path)


def test_non_image_files_are_reported_not_silently_dropped(folder):
    (folder / "cat" / "notes.txt").write_text("hello")
    with pytest.warns(UserWarning, match=r"ignored 1 file.*notes\.txt"):
        assert data.load("folder", path=folder).num_examples == 6


# ---- tensorflow-datasets (mocked: no download) -------------------------------------------------

@pytest.mark.parametrize("name, first_bytes", [("imagenette", b"\xff\xd8"), ("cifar10", b"\x89P")])
def test_tfds_sources_yield_encoded_images_through_the_pipelines(name, first_bytes, tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        source = data.load(name, "train", data_dir=tmp_path)
        assert source.num_examples == 6 and len(source.class_names) == 10
        encoded, label = next(iter(source.dataset))
        assert encoded.numpy().startswith(first_bytes) and label.dtype == tf.int64
        # mock images are 5 to 49 pixels: the pipeline rescales them before cropping
        images, labels = next(iter(augment.training_pipeline(source, batch_size=3,
                                                             image_size=67)))
    assert images.shape == (3, 67, 67, 3) and labels.shape == (3,)
