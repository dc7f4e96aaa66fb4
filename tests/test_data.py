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


def test_a_set_another_process_wrote_meanwhile_is_kept_not_replaced(tmp_path, monkeypatch):
    """Two pytest workers (or notebooks) that find no set both draw one; the second to finish must
    not delete the first's folder, which the first process is already reading."""
    kwargs = dict(train_per_class=1, validation_per_class=1, image_size=(40, 30), num_classes=1)
    root = tmp_path / "o"
    offline.generate_offline(tmp_path / "other", **kwargs)  # the other process's finished set
    draw = offline._draw_split

    def draw_while_the_other_finishes(folder, split, *args, **kw):
        draw(folder, split, *args, **kw)
        if split == "validation" and not root.exists():
            (tmp_path / "other").rename(root)
            (root / "being_read").write_text("")

    monkeypatch.setattr(offline, "_draw_split", draw_while_the_other_finishes)
    assert offline.generate_offline(root, **kwargs) == root
    assert (root / "being_read").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".offline-")]  # staging removed


def test_load_offline_generates_into_data_dir(tmp_path, monkeypatch):
    small = functools.partial(offline.generate_offline, train_per_class=1,
                              validation_per_class=1, image_size=(64, 48))
    monkeypatch.setattr(offline, "generate_offline", small)
    source = data.load("offline", "validation", data_dir=tmp_path)
    assert source.name == "offline"
    assert source.num_examples == len(offline.CLASS_NAMES)
    assert (tmp_path / "offline" / "validation" / "star").is_dir()


def test_folder_source_yields_bytes_and_labels_in_fixed_interleaved_order(folder):
    source = data.load_folder(folder, decode_check=True)
    assert source.class_names == ["cat", "dog"]
    assert source.num_examples == 6
    assert source.dataset.element_spec[0].dtype == tf.string
    assert source.dataset.element_spec[1].dtype == tf.int64
    assert [int(y) for _, y in source.dataset] == [0, 1, 0, 1, 0, 1]
    assert source.files[0][:2] == [str(folder / "cat" / "0.jpg"), str(folder / "dog" / "0.jpg")]


def test_folder_with_split_subfolders_uses_the_split(tmp_path):
    _jpeg(tmp_path / "train" / "a" / "1.jpg")
    _jpeg(tmp_path / "validation" / "a" / "1.jpg")
    _jpeg(tmp_path / "validation" / "a" / "2.jpg")
    assert data.load("folder", "validation", path=tmp_path).num_examples == 2
    assert data.load("folder", "train", path=tmp_path).num_examples == 1


def test_unknown_name_or_split_is_a_value_error():
    with pytest.raises(ValueError, match="'mnist'.*allowed: offline"):
        data.load("mnist")
    with pytest.raises(ValueError, match="'valid'.*allowed: train, validation, test"):
        data.load("offline", "valid")


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
        source = data.load_folder(folder, decode_check=True, skip_corrupt=True)
    assert source.num_examples == 6
    assert sorted(p.rsplit("/", 1)[-1] for p in source.skipped) == ["cut.jpg", "junk.jpg"]
    assert "junk.jpg" in caplog.text
    images, labels = _decode_all(source)
    assert images.shape == (6, 32, 32, 3)


def test_grayscale_and_cmyk_jpegs_become_rgb(tmp_path):
    _jpeg(tmp_path / "a" / "gray.jpg", mode="L", colour=(90, 90, 90))
    _jpeg(tmp_path / "a" / "cmyk.jpg", mode="CMYK", colour=(200, 30, 30))
    source = data.load_folder(tmp_path, decode_check=True)
    images, _ = _decode_all(source)
    assert images.shape == (2, 32, 32, 3)
    cmyk, gray = images  # sorted by file name
    np.testing.assert_allclose(cmyk.mean((0, 1)), [200, 30, 30], atol=8)
    assert np.ptp(gray.mean((0, 1))) < 2


def test_png_among_jpegs_is_decoded(tmp_path):
    _jpeg(tmp_path / "a" / "1.jpg", colour=(10, 200, 10))
    _jpeg(tmp_path / "a" / "2.png", fmt="PNG", colour=(10, 10, 200))
    _jpeg(tmp_path / "a" / "3.jpg", fmt="PNG", colour=(200, 10, 10))  # a PNG named .jpg
    images, _ = _decode_all(data.load_folder(tmp_path, decode_check=True))
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
    with pytest.warns(UserWarning, match=r"left out 1 file.*notes\.txt \(no image extension"):
        assert data.load_folder(folder, decode_check=True).num_examples == 6


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


# ---- nothing lost: the offline generator deletes only what it wrote ----------------------------

def test_offline_generation_never_deletes_a_folder_it_did_not_write(tmp_path):
    mine = tmp_path / "offline" / "cat" / "my_photo.jpg"
    _jpeg(mine)
    with pytest.raises(FileExistsError, match=r"offline exists and was not written by "
                                              r"generate_offline.*move it away"):
        offline.generate_offline(tmp_path / "offline", train_per_class=1, validation_per_class=1,
                                 image_size=(40, 30), num_classes=1)
    assert mine.exists()


def test_offline_generation_keeps_a_generated_set_that_holds_user_files(tmp_path):
    kwargs = dict(train_per_class=1, validation_per_class=1, image_size=(40, 30), num_classes=1)
    root = offline.generate_offline(tmp_path / "o", **kwargs)
    extra = _jpeg(root / "train" / "arrow" / "my_arrow.jpg")
    with pytest.raises(FileExistsError, match=r"1 file\(s\) generate_offline did not write.*"
                                              r"my_arrow\.jpg"):
        offline.generate_offline(tmp_path / "o", **{**kwargs, "seed": 1})
    assert extra.exists()
    extra.unlink()  # a set it wrote alone is replaced
    offline.generate_offline(tmp_path / "o", **{**kwargs, "seed": 1})
    assert '"seed": 1' in (root / "MANIFEST.json").read_text()


# ---- nothing lost: one class list for every split ----------------------------------------------

def test_validation_labels_follow_the_training_classes(tmp_path):
    for name in ("ant", "bee", "cat"):
        _jpeg(tmp_path / "train" / name / "1.jpg")
    _jpeg(tmp_path / "validation" / "bee" / "1.jpg")
    _jpeg(tmp_path / "validation" / "cat" / "1.jpg")
    validation = data.load("folder", "validation", path=tmp_path)
    assert validation.class_names == ["ant", "bee", "cat"]
    labels = {int(y) for _, y in validation.dataset}
    assert labels == {1, 2}  # bee and cat keep their training indices


def test_validation_class_missing_from_training_is_named(tmp_path):
    _jpeg(tmp_path / "train" / "ant" / "1.jpg")
    _jpeg(tmp_path / "validation" / "ant" / "1.jpg")
    _jpeg(tmp_path / "validation" / "wasp" / "1.jpg")
    with pytest.raises(ValueError, match=r"class folder\(s\) wasp that the training split lacks"):
        data.load("folder", "validation", path=tmp_path)


# ---- nothing lost: every file is used or reported ----------------------------------------------

def _undecodable_jpeg(path):
    """A JPEG whose header and end marker pass the quick check but whose Huffman table is bogus."""
    good = bytearray(_jpeg(path).read_bytes())
    table = good.index(b"\xff\xc4")
    good[table + 5:table + 21] = b"\xff" * 16
    path.write_bytes(bytes(good))
    return path


def test_images_in_nested_folders_belong_to_their_class(folder):
    _jpeg(folder / "cat" / "indoors" / "sofa.jpg")
    source = data.load_folder(folder, decode_check=True)
    assert source.num_examples == 7
    index = source.files[0].index(str(folder / "cat" / "indoors" / "sofa.jpg"))
    assert source.class_names[source.files[1][index]] == "cat"


def test_loose_images_at_the_root_are_reported(folder):
    _jpeg(folder / "loose.jpg")
    with pytest.warns(UserWarning, match=r"left out 1 file.*loose\.jpg \(not inside a class"):
        source = data.load("folder", path=folder)
    assert source.left_out == [(str(folder / "loose.jpg"),
                                "not inside a class folder (cannot be labelled)")]


def test_a_symlink_to_nowhere_is_a_corrupt_image_named(folder):
    (folder / "dog" / "gone.jpg").symlink_to(folder / "nowhere.jpg")
    with pytest.raises(data.CorruptImageError, match=r"gone\.jpg is a symlink to .*nowhere\.jpg"):
        data.load("folder", path=folder)
    with pytest.warns(UserWarning, match="skipped 1 corrupt"):
        source = data.load("folder", path=folder, skip_corrupt=True)
    assert source.skipped == [str(folder / "dog" / "gone.jpg")]


def test_an_image_that_passes_the_header_check_but_does_not_decode_is_named(folder):
    bad = _undecodable_jpeg(folder / "cat" / "bogus.jpg")
    data.check_image_file(bad)  # the quick check cannot see it
    with pytest.raises(data.CorruptImageError, match=r"bogus\.jpg does not decode"):
        data.load("folder", path=folder)
    with pytest.warns(UserWarning, match="skipped 1 corrupt"):
        source = data.load_folder(folder, decode_check=True, skip_corrupt=True)
    assert source.num_examples == 6 and source.skipped == [str(bad)]
    images, _ = _decode_all(source)  # what remains decodes
    assert images.shape[0] == 6


def test_offline_passes_skip_corrupt_through(tmp_path, monkeypatch):
    small = functools.partial(offline.generate_offline, train_per_class=1,
                              validation_per_class=1, image_size=(64, 48))
    monkeypatch.setattr(offline, "generate_offline", small)
    data.load("offline", "validation", data_dir=tmp_path)
    broken = tmp_path / "offline" / "validation" / "star" / "star_0000.jpg"
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(data.CorruptImageError, match=r"star_0000\.jpg is a truncated JPEG"):
        data.load("offline", "validation", data_dir=tmp_path)
    with pytest.warns(UserWarning, match="left out 1 file"):
        source = data.load("offline", "validation", data_dir=tmp_path, skip_corrupt=True)
    assert source.skipped == [str(broken)] and source.num_examples == len(offline.CLASS_NAMES) - 1
