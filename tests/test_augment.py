"""alexnet_keras.augment: the paper's preprocessing and augmentation (Sections 2 and 4.1)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from alexnet_keras.data import augment, offline


def _encoded_dataset(count=12, size=(120, 90), labels=None):
    images = [offline.encode_jpeg(offline.draw_image(offline.CLASS_NAMES[i % 10],
                                                     np.random.default_rng(i), size, grain=0))
              for i in range(count)]
    labels = labels if labels is not None else [i % 10 for i in range(count)]
    return tf.data.Dataset.from_tensor_slices((images, tf.constant(labels, tf.int64)))


def _batches(dataset, n):
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(n)]


def test_published_imagenet_constants():
    assert augment.IMAGENET_MEAN == (123.68, 116.779, 103.939)
    vectors = np.array(augment.IMAGENET_EIGENVECTORS)
    # columns are (nearly) orthonormal eigenvectors
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(3), atol=2e-3)


def test_pca_lighting_matches_paper_formula_on_the_unit_scale():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (5, 4, 3)).astype(np.float32)
    alpha = np.array([0.3, -1.2, 2.0], np.float32)
    values = np.array([0.2175, 0.0188, 0.0045])  # fb.resnet.torch: covariance of 0..1 pixels
    vectors = np.array(augment.IMAGENET_EIGENVECTORS)
    # Section 4.1: add [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T to every pixel, on the 0..1 scale,
    # carried to 0..255 pixels by 255
    unit_shift = np.column_stack([vectors[:, i] for i in range(3)]) @ (alpha * values)
    expected = image + 255 * unit_shift
    got = augment.pca_lighting(image, alpha=alpha).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    on_unit_scale = augment.pca_lighting(image / 255, alpha=alpha, pixel_scale=1.0).numpy()
    np.testing.assert_allclose(on_unit_scale, image / 255 + unit_shift, rtol=1e-5, atol=1e-6)


def test_pca_lighting_draws_one_alpha_per_image_with_std():
    images = tf.zeros([2000, 1, 2, 3])
    out = augment.pca_lighting(images, seed=[1, 2], std=0.1, eigenvalues=(1.0, 1.0, 1.0),
                               eigenvectors=np.eye(3), pixel_scale=1.0).numpy()
    assert np.all(out[:, :, 0] == out[:, :, 1])  # one shift per image, the same for every pixel
    np.testing.assert_allclose(out[:, 0, 0].std(0), 0.1, rtol=0.1)
    again = augment.pca_lighting(images, seed=[1, 2], std=0.1).numpy()
    np.testing.assert_array_equal(again, augment.pca_lighting(images, seed=[1, 2]).numpy())


def test_pca_lighting_without_seed_or_alpha_is_a_value_error():
    with pytest.raises(ValueError, match="seed=.*alpha="):
        augment.pca_lighting(tf.zeros([2, 2, 3]))


def test_subtract_mean():
    image = tf.fill([2, 2, 3], 100.0)
    np.testing.assert_allclose(augment.subtract_mean(image, (1, 2, 3)).numpy()[0, 0], [99, 98, 97])


def test_resize_shorter_side_and_center_crop():
    image = tf.zeros([300, 500, 3], tf.uint8)
    resized = augment.resize_shorter_side(image, 256)
    assert resized.shape == (256, 427, 3) and resized.dtype == tf.float32
    assert augment.center_crop(resized, 256).shape == (256, 256, 3)
    grid = tf.reshape(tf.range(36), [6, 6, 1])
    np.testing.assert_array_equal(augment.center_crop(grid, 2).numpy()[..., 0], [[14, 15], [20, 21]])


def test_random_crop_and_flip_are_stateless():
    image = tf.reshape(tf.range(10 * 10 * 3, dtype=tf.float32), [10, 10, 3])
    a = augment.random_crop(image, 4, seed=[3, 4])
    assert a.shape == (4, 4, 3)
    np.testing.assert_array_equal(a, augment.random_crop(image, 4, seed=[3, 4]))
    crops = {tuple(augment.random_crop(image, 4, seed=[0, s]).numpy()[0, 0]) for s in range(40)}
    assert len(crops) > 10
    flips = [bool(np.any(augment.random_flip(image, seed=[0, s]).numpy() != image.numpy()))
             for s in range(200)]
    assert 60 < sum(flips) < 140


def test_random_flip_is_tf_images_stateless_flip_and_flip_where_flips_a_batch_per_image():
    from alexnet_keras.data import ops

    image = tf.reshape(tf.range(5 * 6 * 3, dtype=tf.float32), [5, 6, 3])
    seeds = [[7, s] for s in range(64)]
    for seed in seeds:
        expected = tf.image.stateless_random_flip_left_right(image, seed=seed)
        np.testing.assert_array_equal(augment.random_flip(image, seed), expected)
    batch = tf.stack([image] * len(seeds))
    mirror = tf.stack([ops.flip_decision(seed) for seed in seeds])
    flipped = ops.flip_where(batch, mirror).numpy()
    for row, seed in zip(flipped, seeds):
        np.testing.assert_array_equal(row, augment.random_flip(image, seed))
    assert 0 < int(tf.reduce_sum(tf.cast(mirror, tf.int32))) < len(seeds)


def test_ten_crop_corners_centre_and_mirrors():
    image = np.arange(8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    crops = augment.ten_crop(image, 5).numpy()
    assert crops.shape == (10, 5, 5, 3)
    expected = [image[:5, :5], image[:5, 3:], image[3:, :5], image[3:, 3:], image[1:6, 1:6]]
    for i, patch in enumerate(expected):
        np.testing.assert_array_equal(crops[i], patch)
        np.testing.assert_array_equal(crops[i + 5], patch[:, ::-1])


def test_decode_patch_equals_decode_then_crop():
    encoded = _encoded_dataset(1, size=(300, 200))
    encoded = next(iter(encoded))[0]
    square = augment.decode_central_square(encoded, 128).numpy().astype(np.float32)
    patch = augment.decode_patch(encoded, 10, 20, image_size=100, resize_size=128).numpy()
    assert patch.shape == (100, 100, 3)
    assert np.abs(patch - square[10:110, 20:120]).mean() < 6


def test_patch_of_a_prepared_square_is_the_decoded_window_exactly():
    """A prepared 256x256 JPEG needs no resize: the patch is its decoded window, cast to float,
    which is what bilinear resizing to the same size gives."""
    from alexnet_keras.data.decode import DCT_METHOD, resize

    square = offline.encode_jpeg(offline.draw_image("circle", np.random.default_rng(2), (256, 256)))
    window = tf.image.decode_and_crop_jpeg(square, [13, 17, 227, 227], channels=3, dct_method=DCT_METHOD)
    patch = augment.decode_patch(tf.constant(square), 13, 17, image_size=227, resize_size=256)
    np.testing.assert_array_equal(patch.numpy(), window.numpy().astype(np.float32))
    window = window[:64, :48]
    np.testing.assert_allclose(resize(window, [64, 48]), tf.image.resize(window, [64, 48]), atol=1e-4)
    assert resize(window, [32, 24]).shape == (32, 24, 3)


def test_large_jpeg_uses_reduced_decoding_and_keeps_content():
    image = offline.draw_image("circle", np.random.default_rng(1), (1200, 1000))
    encoded = tf.constant(offline.encode_jpeg(image))
    square = augment.decode_central_square(encoded, 256).numpy().astype(np.float32)
    reference = tf.image.resize(image[:, 100:1100], [256, 256], antialias=True)
    assert square.shape == (256, 256, 3)
    assert np.abs(square - reference.numpy()).mean() < 6


def test_training_pipeline_shapes_and_infinite_epochs():
    stream = augment.training_pipeline(_encoded_dataset(12), batch_size=4, image_size=67, seed=0)
    batches = _batches(stream, 7)  # more than two epochs of 3 batches
    assert all(x.shape == (4, 67, 67, 3) and x.dtype == np.float32 for x, _ in batches)
    assert all(y.dtype == np.int64 for _, y in batches)
    epoch0 = np.concatenate([y for _, y in batches[:3]])
    assert sorted(epoch0) == sorted(i % 10 for i in range(12))  # every example once per epoch


def test_training_pipeline_is_reproducible_per_seed():
    a = _batches(augment.training_pipeline(_encoded_dataset(), batch_size=4, image_size=67,
                                           seed=7), 4)
    b = _batches(augment.training_pipeline(_encoded_dataset(), batch_size=4, image_size=67,
                                           seed=7), 4)
    c = _batches(augment.training_pipeline(_encoded_dataset(), batch_size=4, image_size=67,
                                           seed=8), 4)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert any(not np.array_equal(xa, xc) for (xa, _), (xc, _) in zip(a, c))


def test_training_pipeline_order_ignores_the_global_seed():
    # A global seed of 0 (keras.utils.set_random_seed(0)) once crashed the per-epoch shuffle.
    import keras

    orders = []
    try:
        for global_seed in (0, 42, None):
            if global_seed is None:
                tf.random.set_seed(None)
            else:
                keras.utils.set_random_seed(global_seed)
            stream = augment.training_pipeline(_encoded_dataset(8), batch_size=4, image_size=31,
                                               seed=5)
            orders.append(np.concatenate([y for _, y in _batches(stream, 4)]))
    finally:
        tf.random.set_seed(None)
    np.testing.assert_array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders[0], orders[2])


@pytest.mark.parametrize("cache", [False, True])
def test_resumed_run_sees_the_same_stream_from_its_start_epoch(cache):
    source = _encoded_dataset(10)
    kwargs = dict(batch_size=3, image_size=67, seed=11, cache=cache)
    full = _batches(augment.training_pipeline(source, **kwargs), 9)  # 3 batches per epoch
    resumed = _batches(augment.training_pipeline(source, start_epoch=2, **kwargs), 3)
    for (xf, yf), (xr, yr) in zip(full[6:], resumed):
        np.testing.assert_array_equal(xf, xr)
        np.testing.assert_array_equal(yf, yr)
    # epochs are shuffled differently
    orders = [np.concatenate([y for _, y in full[3 * e:3 * e + 3]]) for e in range(3)]
    assert not (np.array_equal(orders[0], orders[1]) and np.array_equal(orders[1], orders[2]))


def test_cached_and_uncached_pipelines_agree():
    kwargs = dict(batch_size=4, image_size=67, seed=2, lighting_std=0.0, mean=(0, 0, 0), flip=False)
    plain = _batches(augment.training_pipeline(_encoded_dataset(8), **kwargs), 2)
    cached = _batches(augment.training_pipeline(_encoded_dataset(8), cache=True, **kwargs), 2)
    for (xp, yp), (xc, yc) in zip(plain, cached):
        np.testing.assert_array_equal(yp, yc)
        assert np.abs(xp - xc).mean() < 8


def test_training_pipeline_values_are_mean_subtracted_and_lit():
    kwargs = dict(batch_size=4, image_size=67, seed=0)
    lit = _batches(augment.training_pipeline(_encoded_dataset(8), **kwargs), 1)[0][0]
    dark = _batches(augment.training_pipeline(_encoded_dataset(8), lighting_std=0.0, **kwargs),
                    1)[0][0]
    shift = (lit - dark).reshape(4, -1, 3)
    assert np.allclose(shift, shift[:, :1], atol=1e-3)  # one RGB shift per image
    assert np.abs(shift[:, 0]).max() > 0.1
    assert -130 < dark.mean() < 140


def test_evaluation_pipeline_keeps_every_example():
    batches = _batches(augment.evaluation_pipeline(_encoded_dataset(10), batch_size=4,
                                                   image_size=67), 10)
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert batches[0][0].shape == (4, 67, 67, 3)
    ten = _batches(augment.evaluation_pipeline(_encoded_dataset(5), batch_size=4, image_size=67,
                                               ten_crops=True), 10)
    assert ten[0][0].shape == (4, 10, 67, 67, 3) and ten[1][0].shape == (1, 10, 67, 67, 3)
    # the centre crop is crop 4 of the ten
    centre = _batches(augment.evaluation_pipeline(_encoded_dataset(5), batch_size=4,
                                                  image_size=67), 1)[0][0]
    # equal up to interpolation (the two paths resample differently), far from another crop
    assert np.abs(ten[0][0][:, 4] - centre).mean() < 0.5 * np.abs(ten[0][0][:, 0] - centre).mean()


def test_compute_mean_and_rgb_pca_match_numpy():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, (8, 16, 16, 1))
    direction = np.array([0.6, 0.64, 0.48])
    images = np.clip(120 + 40 * base * direction + rng.normal(0, 3, (8, 16, 16, 3)), 0, 255)
    images = np.round(images).astype(np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(8, np.int64)))
    mean = augment.compute_mean(dataset, resize_size=16)
    np.testing.assert_allclose(mean, images.reshape(-1, 3).mean(0), atol=1e-6)
    values, vectors = augment.compute_rgb_pca(dataset, resize_size=16)
    pixels = images.reshape(-1, 3) / 255.0
    expected = np.sort(np.linalg.eigvalsh(np.cov(pixels.T, bias=True)))[::-1]  # 0..1 scale
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    np.testing.assert_allclose(np.abs(vectors[:, 0]), direction, atol=0.02)
    assert vectors[0, 0] < 0
    image_mean = augment.compute_mean(dataset, per_pixel=True, resize_size=16)
    np.testing.assert_allclose(image_mean, images.mean(0), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "batch_size must be at least 1; got 0"),
    (dict(batch_size=100), "batch_size=100 is larger than the data set"),
    (dict(batch_size=2, image_size=300, resize_size=256), "image_size=300, resize_size=256"),
    (dict(batch_size=2, start_epoch=-1), "start_epoch must be >= 0; got -1"),
])
def test_training_pipeline_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        augment.training_pipeline(_encoded_dataset(4), **kwargs)


def test_default_resize_size_follows_the_paper():
    assert augment.default_resize_size(224) == 256
    assert augment.default_resize_size(227) == 256
    assert augment.default_resize_size(112) == 128


# ---- one code path: the pipelines are the public ops composed ----------------------------------

def test_random_crop_is_tf_stateless_random_crop_at_random_crop_offset():
    image = tf.reshape(tf.range(20 * 30 * 3), [20, 30, 3])
    for s in range(20):
        seed = [4, s]
        offset = augment.random_crop_offset(20, 30, 7, seed).numpy()
        expected = tf.image.stateless_random_crop(image, [7, 7, 3], seed=seed)
        np.testing.assert_array_equal(augment.random_crop(image, 7, seed), expected)
        np.testing.assert_array_equal(augment.crop_at(image, offset, 7), expected)


def _by_hand(encoded, seeds, *, image_size, resize_size, mean, window_decode):
    """The training pipeline's example, written out with the public ops in the paper's order."""
    crop_seed, flip_seed, lighting_seed = seeds
    offset = augment.random_crop_offset(resize_size, resize_size, image_size, crop_seed)
    if window_decode:  # the pipeline's own decoding of the window
        patch = augment.decode_patch(encoded, offset[0], offset[1], image_size=image_size,
                                     resize_size=resize_size)
    else:  # decode the whole central square, then crop it
        square = augment.decode_central_square(encoded, resize_size)
        patch = augment.random_crop(tf.cast(square, tf.float32), image_size, crop_seed)
    mean = np.asarray(mean, np.float32)
    patch_mean = mean if mean.ndim == 1 else augment.crop_at(mean, offset, image_size)
    patch = augment.subtract_mean(patch, patch_mean)
    patch = augment.random_flip(patch, flip_seed)
    return augment.pca_lighting(patch, seed=lighting_seed).numpy()


@pytest.mark.parametrize("cache", [False, True])
@pytest.mark.parametrize("per_pixel_mean", [False, True])
def test_training_pipeline_equals_the_ops_composed_by_hand(cache, per_pixel_mean):
    count, image_size, resize_size = 6, 40, 48
    source = _encoded_dataset(count, size=(90, 70), labels=list(range(count)))
    encoded = [e for e, _ in source]
    mean = (np.random.default_rng(0).uniform(0, 255, (resize_size, resize_size, 3))
            if per_pixel_mean else (100.0, 110.0, 120.0))
    stream = augment.training_pipeline(source, batch_size=3, image_size=image_size, seed=9,
                                       resize_size=resize_size, mean=mean, cache=cache)
    batches = _batches(stream, 4)  # two epochs
    for step, (images, labels) in enumerate(batches):
        epoch, first = divmod(3 * step, count)
        for row, label in enumerate(labels):
            seeds = augment.augmentation_seeds(9, epoch, first + row)
            kwargs = dict(image_size=image_size, resize_size=resize_size, mean=mean)
            if not cache:  # exactly the ops on the same window
                expected = _by_hand(encoded[label], seeds, window_decode=True, **kwargs)
                np.testing.assert_allclose(images[row], expected, rtol=1e-5, atol=1e-3)
            # full decode -> crop -> ...: equal up to JPEG decoding and resampling (which differ
            # most along the shapes' sharp edges)
            expected = _by_hand(encoded[label], seeds, window_decode=False, **kwargs)
            assert np.median(np.abs(images[row] - expected)) < 3


def test_training_pipeline_flips_and_lights_each_example_like_the_ops():
    # Nothing but the flip and the lighting differ between these two streams, example by example.
    source = _encoded_dataset(4, size=(90, 70), labels=list(range(4)))
    kwargs = dict(batch_size=4, image_size=40, resize_size=48, seed=3, mean=(0, 0, 0))
    plain = _batches(augment.training_pipeline(source, flip=False, lighting_std=0.0, **kwargs), 1)
    augmented = _batches(augment.training_pipeline(source, **kwargs), 1)
    (x0, y0), (x1, y1) = plain[0], augmented[0]
    np.testing.assert_array_equal(y0, y1)
    for row in range(4):
        _, flip_seed, lighting_seed = augment.augmentation_seeds(3, 0, row)
        expected = augment.pca_lighting(augment.random_flip(x0[row], flip_seed), seed=lighting_seed)
        np.testing.assert_allclose(x1[row], expected, rtol=1e-5, atol=1e-3)


def test_evaluation_pipeline_subtracts_the_mean_image_cropped_like_the_patches():
    source = _encoded_dataset(2, size=(90, 70))
    mean = np.random.default_rng(1).uniform(0, 255, (48, 48, 3)).astype(np.float32)
    kwargs = dict(batch_size=2, image_size=40, resize_size=48)
    for ten_crops, crop in ((False, augment.center_crop), (True, augment.ten_crop)):
        zero = _batches(augment.evaluation_pipeline(source, mean=(0, 0, 0), ten_crops=ten_crops,
                                                    **kwargs), 1)[0][0]
        minus = _batches(augment.evaluation_pipeline(source, mean=mean, ten_crops=ten_crops,
                                                     **kwargs), 1)[0][0]
        np.testing.assert_allclose(zero - minus, np.broadcast_to(crop(mean, 40), zero.shape),
                                   atol=1e-3)


def test_a_mean_image_of_the_wrong_size_is_a_value_error():
    with pytest.raises(ValueError, match=r"\[48, 48, 3\] mean image.*got shape \[64, 64, 3\]"):
        augment.training_pipeline(_encoded_dataset(4), batch_size=2, image_size=40,
                                  resize_size=48, mean=np.zeros((64, 64, 3)))
