"""ImageNet through TFDS from a miniature of the real ILSVRC2012 manual download."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from alexnet_keras import data
from alexnet_keras.data import augment, ilsvrc


@pytest.fixture(scope="module")
def manual_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manual")
    info = ilsvrc.build_miniature_ilsvrc2012(folder, num_validation=12, train_per_synset=2,
                                             image_size=(96, 72))
    return folder, info


def test_miniature_tars_have_the_real_layout(manual_dir):
    folder, info = manual_dir
    with tarfile.open(folder / "ILSVRC2012_img_train.tar") as train:
        names = train.getnames()
        assert names == [f"{s}.tar" for s in info["synsets"]]
        inner = tarfile.open(fileobj=train.extractfile(names[0]))
        assert inner.getnames() == [f"{info['synsets'][0]}_1.JPEG", f"{info['synsets'][0]}_2.JPEG"]
    with tarfile.open(folder / "ILSVRC2012_img_val.tar") as val:
        assert val.getnames()[:2] == ["ILSVRC2012_val_00000001.JPEG",
                                      "ILSVRC2012_val_00000002.JPEG"]
        assert val.extractfile(val.getnames()[0]).read(3) == b"\xff\xd8\xff"
    labels_file, validation_file = ilsvrc.tfds_label_files()
    assert info["validation_labels"] == validation_file.read_text().split()[:12]


def test_missing_manual_dir_says_where_to_get_the_tars(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist.*image-net\.org.*manual_dir="):
        ilsvrc.check_manual_dir(tmp_path / "nowhere")


def test_missing_tar_is_named(tmp_path):
    (tmp_path / "ILSVRC2012_img_train.tar").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=r"ILSVRC2012_img_val\.tar is missing.*image-net"):
        ilsvrc.check_manual_dir(tmp_path)


def test_misnamed_tar_is_pointed_out(tmp_path):
    (tmp_path / "ILSVRC2012_img_train.tar").write_bytes(b"x")
    (tmp_path / "ILSVRC2012_img_val (1).tar").write_bytes(b"x")
    with pytest.raises(FileNotFoundError,
                       match=r"found ILSVRC2012_img_val \(1\)\.tar: rename it to ILSVRC2012_img_val\.tar"):
        ilsvrc.check_manual_dir(tmp_path)


def test_empty_tar_is_reported(tmp_path):
    (tmp_path / "ILSVRC2012_img_train.tar").write_bytes(b"")
    (tmp_path / "ILSVRC2012_img_val.tar").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match=r"img_train\.tar is empty"):
        ilsvrc.check_manual_dir(tmp_path)


def test_load_checks_the_tars_before_building(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ILSVRC2012_img_train\.tar is missing"):
        data.load("imagenet2012", "train", data_dir=tmp_path / "tfds", manual_dir=tmp_path)


@pytest.mark.slow
def test_tfds_builds_imagenet2012_from_the_miniature_and_trains_from_it(manual_dir, tmp_path):
    folder, info = manual_dir
    train = data.load("imagenet2012", "train", data_dir=tmp_path, manual_dir=folder)
    assert train.num_examples == 2 * len(info["synsets"])
    assert len(train.class_names) == 1000
    assert sorted({train.class_names[int(y)] for _, y in train.dataset}) == info["synsets"]
    validation = data.load("imagenet2012", "validation", data_dir=tmp_path, manual_dir=folder)
    labels = [validation.class_names[int(y)] for _, y in validation.dataset]
    assert sorted(labels) == sorted(info["validation_labels"])
    # the same code a user with the real tars runs: training and ten-crop evaluation batches
    images, labels = next(iter(augment.training_pipeline(train, batch_size=4, image_size=67)))
    assert images.shape == (4, 67, 67, 3) and np.isfinite(images.numpy()).all()
    batch, _ = next(iter(augment.evaluation_pipeline(validation, batch_size=5, image_size=67,
                                                     ten_crops=True)))
    assert batch.shape == (5, 10, 67, 67, 3)
    # a second load reuses the prepared data without the tars
    again = data.load("imagenet2012", "validation", data_dir=tmp_path, manual_dir=tmp_path / "gone")
    assert again.num_examples == 12


def test_a_corrupt_member_of_the_tars_is_named_before_building(tmp_path):
    ilsvrc.build_miniature_ilsvrc2012(tmp_path, num_validation=2, train_per_synset=1,
                                      image_size=(32, 24))
    ilsvrc.check_tar_images(tmp_path)  # the miniature itself is sound
    # a truncated download of one image inside a per-synset tar of the train tar
    with tarfile.open(tmp_path / "ILSVRC2012_img_train.tar") as train:
        members = [(m.name, train.extractfile(m).read()) for m in train]
    synset_tar, payload = members[0]
    inner = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(payload)) as old, \
            tarfile.open(fileobj=inner, mode="w") as new:
        for member in old:
            image = old.extractfile(member).read()
            ilsvrc._jpeg_member(new, member.name, image[: len(image) // 2])
    with tarfile.open(tmp_path / "ILSVRC2012_img_train.tar", "w") as train:
        ilsvrc._jpeg_member(train, synset_tar, inner.getvalue())
        for name, data_ in members[1:]:
            ilsvrc._jpeg_member(train, name, data_)
    member = f"{synset_tar}/{synset_tar[:-4]}_1.JPEG"
    with pytest.raises(data.CorruptImageError,
                       match=rf"img_train\.tar: {member} is a truncated JPEG.*Download"):
        data.load("imagenet2012", "train", data_dir=tmp_path / "tfds", manual_dir=tmp_path)
