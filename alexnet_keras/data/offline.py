"""The generated offline data set: procedurally drawn shapes, written as ImageNet-sized JPEGs.

No download is needed: every image is drawn from a seed. The class of an image is the *shape* of the
object in it (circle, star, heart ...); its colour, size, position, rotation, texture, background and
clutter are drawn independently of the class, so the paper's crops, flips and colour changes
(Section 4.1) cannot give the label away and a network has to learn shapes. Images are about the size
of an average ImageNet photograph (500x375) so the full input pipeline of Section 2 runs on them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASS_NAMES = (
    "arrow", "circle", "cross", "crescent", "heart",
    "hourglass", "ring", "square", "star", "triangle",
)
SPLITS = ("train", "validation")
# The test split: touched once per run, after training (epochs, checkpoints and learning rates are
# chosen on validation). Written on first use into ``test/`` beside the other two, with its own
# manifest, so that the sets the other splits' users already have stay valid.
TEST_SPLIT, TEST_PER_CLASS = "test", 500
# Bump when the drawing changes, so that sets on disk from an older drawing are regenerated.
GENERATOR_VERSION = 1
MANIFEST = "MANIFEST.json"
TEST_MANIFEST = "MANIFEST.test.json"  # beside MANIFEST: the test split's settings


def _polygon(name: str) -> list[np.ndarray]:
    """Outlines of a shape of radius about 1 around the origin; later ones are cut out (holes)."""
    t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    if name == "circle":
        return [circle]
    if name == "ring":
        return [circle, 0.55 * circle]
    if name == "crescent":
        return [circle, 0.85 * circle + [0.45, -0.1]]
    if name == "square":
        return [np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.8]
    if name == "triangle":
        a = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        return [np.stack([np.cos(a), -np.sin(a)], 1)]
    if name == "star":
        a = np.pi / 2 + np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.42)
        return [np.stack([r * np.cos(a), -r * np.sin(a)], 1)]
    if name == "cross":
        w = 0.3
        return [np.array([[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1],
                          [-w, w], [-1, w], [-1, -w], [-w, -w]])]
    if name == "arrow":
        return [np.array([[-1, -0.22], [0.15, -0.22], [0.15, -0.6], [1, 0], [0.15, 0.6],
                          [0.15, 0.22], [-1, 0.22]])]
    if name == "heart":
        s = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        x = 16 * np.sin(s) ** 3
        y = -(13 * np.cos(s) - 5 * np.cos(2 * s) - 2 * np.cos(3 * s) - np.cos(4 * s))
        return [np.stack([x, y + 2.5], 1) / 16.5]
    if name == "hourglass":
        return [np.array([[-0.8, -1], [0.8, -1], [0.12, 0], [0.8, 1], [-0.8, 1], [-0.12, 0]])]
    raise ValueError(f"unknown shape {name!r}; allowed: {', '.join(CLASS_NAMES)}")


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    import colorsys

    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32) * 255


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a few random values upsampled smoothly."""
    small = rng.uniform(-1, 1, (max(2, cells * height // width), cells)).astype(np.float32)
    image = Image.fromarray(small, mode="F").resize((width, height), Image.BICUBIC)
    return np.clip(np.asarray(image), -1.5, 1.5)


def _textured(rng: np.random.Generator, size: tuple[int, int], colour0: np.ndarray,
              colour1: np.ndarray, strength: float, cells: int) -> Image.Image:
    """A colour gradient at a random angle times low-frequency texture, drawn small and upsampled."""
    width, height = size
    small_w, small_h = max(8, width // 4), max(8, height // 4)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    ramp = np.cos(angle) * xx + np.sin(angle) * yy
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    image = colour0 + ramp[..., None] * (colour1 - colour0)
    image *= 1 + strength * _smooth_noise(rng, small_w, small_h, cells)[..., None]
    small = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return small.resize((width, height), Image.BILINEAR)


def draw_image(shape: str, rng: np.random.Generator, size: tuple[int, int] = (500, 375),
               grain: float = 6.0) -> np.ndarray:
    """Draws one image (uint8, height x width x 3) showing ``shape`` on a random textured background.

    Position, scale, rotation, colours, textures and clutter come from ``rng`` and do not depend on
    the shape. ``grain`` is the standard deviation of per-pixel noise (it sets the JPEG file size).
    """
    width, height = size
    short = min(width, height)
    # Background: a colour gradient, low-frequency texture and a few clutter strokes.
    hue = rng.uniform()
    bg_value = rng.uniform(0.2, 0.9)
    c0 = _hsv_to_rgb(hue, rng.uniform(0, 0.8), bg_value)
    c1 = _hsv_to_rgb((hue + rng.uniform(-0.2, 0.2)) % 1, rng.uniform(0, 0.8),
                     np.clip(bg_value + rng.uniform(-0.2, 0.2), 0, 1))
    canvas = _textured(rng, size, c0, c1, 0.25, int(rng.integers(3, 12)))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 7))):
        points = rng.uniform(0, 1, (int(rng.integers(2, 4)), 2)) * [width, height]
        colour = tuple(int(c) for c in _hsv_to_rgb(rng.uniform(), rng.uniform(0, 1),
                                                   rng.uniform(0.1, 1)))
        draw.line([tuple(p) for p in points], fill=colour, width=int(rng.integers(2, 8)))
    # The object: its value contrasts with the background's; its hue is free.
    obj_value = bg_value - 0.45 if bg_value > 0.55 else bg_value + 0.45
    obj_colour = _hsv_to_rgb(rng.uniform(), rng.uniform(0.2, 1), np.clip(obj_value, 0.05, 1))
    obj_colour1 = obj_colour * rng.uniform(0.8, 1.2)
    radius = rng.uniform(0.2, 0.34) * short
    cx = width / 2 + rng.uniform(-1, 1) * (short / 2 - radius) * 0.7
    cy = height / 2 + rng.uniform(-1, 1) * (short / 2 - radius) * 0.7
    theta = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    aspect = np.array([rng.uniform(0.85, 1.15), 1.0])
    mask = Image.new("L", (width, height), 0)
    mask_draw = ImageDraw.Draw(mask)
    for i, outline in enumerate(_polygon(shape)):
        points = (outline * aspect) @ rotation.T * radius + [cx, cy]
        mask_draw.polygon([tuple(p) for p in points], fill=0 if i else 255)
    obj = _textured(rng, size, obj_colour, obj_colour1, 0.2, int(rng.integers(8, 30)))
    image = Image.composite(obj, canvas, mask.filter(ImageFilter.BoxBlur(1)))
    if grain <= 0:
        return np.asarray(image).copy()
    # Per-pixel grain: a window at a random offset into one fixed noise field (drawing fresh
    # Gaussian noise for every pixel of every image would dominate the generation time).
    field = _noise_field(height, width, float(grain))
    dy, dx = int(rng.integers(0, 64)), int(rng.integers(0, 64))
    noisy = np.asarray(image, np.int16) + field[dy:dy + height, dx:dx + width]
    return np.clip(noisy, 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _noise_field(height: int, width: int, grain: float) -> np.ndarray:
    noise = np.random.default_rng(12345).normal(0, grain, (height + 64, width + 64, 3))
    return np.round(noise).astype(np.int16)


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of a uint8 RGB image."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _image_rng(seed: int, split: str, class_index: int, index: int) -> np.random.Generator:
    number = {"train": 0, "validation": 1, TEST_SPLIT: 2}.get(split, 7)
    return np.random.default_rng([seed, number, class_index, index])


def default_root() -> Path:
    """``data/offline`` in the repository (or ``$ALEXNET_KERAS_DATA/offline`` when that is set)."""
    base = os.environ.get("ALEXNET_KERAS_DATA")
    if base:
        return Path(base).expanduser() / "offline"
    return Path(__file__).resolve().parents[2] / "data" / "offline"


def generate_offline(root: str | os.PathLike | None = None, *, seed: int = 0,
                     train_per_class: int = 130, validation_per_class: int = 30,
                     image_size: tuple[int, int] = (500, 375), num_classes: int = 10,
                     quality: int = 90, overwrite: bool = False) -> Path:
    """Writes the offline set to ``root/{train,validation}/<class>/<class>_NNNN.jpg`` once.

    The same arguments always give the same files (deterministic for ``seed``). An existing set with
    the same arguments is reused; one this function wrote with other arguments is replaced. Any other
    folder at ``root`` (no manifest of ours, or files we did not write) is never deleted: that is a
    ``FileExistsError`` naming it and what to do. The set is written into
    a temporary folder and renamed into place, so an interrupted run leaves no half-written set.
    Returns ``root``.
    """
    root = Path(root) if root is not None else default_root()
    if not 1 <= num_classes <= len(CLASS_NAMES):
        raise ValueError(f"num_classes must be between 1 and {len(CLASS_NAMES)}; got {num_classes}")
    if train_per_class < 1 or validation_per_class < 1:
        raise ValueError("train_per_class and validation_per_class must be at least 1; got "
                         f"{train_per_class} and {validation_per_class}")
    settings = {"version": GENERATOR_VERSION, "seed": seed, "train_per_class": train_per_class,
                "validation_per_class": validation_per_class, "image_size": list(image_size),
                "num_classes": num_classes, "quality": quality}
    manifest = root / MANIFEST
    if _read_manifest(manifest) == settings and not overwrite:
        return root
    _check_replaceable(root, settings)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".offline-", dir=root.parent))
    try:
        counts = {"train": train_per_class, "validation": validation_per_class}
        for split, count in counts.items():
            _draw_split(staging / split, split, count, seed=seed, image_size=image_size,
                        num_classes=num_classes, quality=quality)
        (staging / MANIFEST).write_text(json.dumps(settings, indent=1))
        if _read_manifest(manifest) == settings and not overwrite:
            return root  # another process (a parallel test worker) wrote the same set meanwhile
        if root.exists():
            _check_replaceable(root, settings)  # still only what an earlier run wrote
            shutil.rmtree(root, ignore_errors=True)
        try:
            staging.rename(root)
        except OSError:
            # Another process finished first; use its set when it matches.
            if _read_manifest(manifest) != settings:
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def _draw_split(folder: Path, split: str, count: int, *, seed: int, image_size, num_classes: int,
                quality: int) -> None:
    for class_index, name in enumerate(CLASS_NAMES[:num_classes]):
        (folder / name).mkdir(parents=True)
        for index in range(count):
            image = draw_image(name, _image_rng(seed, split, class_index, index), image_size)
            (folder / name / f"{name}_{index:04d}.jpg").write_bytes(encode_jpeg(image, quality))


def generate_offline_test(root: str | os.PathLike | None = None, *, per_class: int = TEST_PER_CLASS) -> Path:
    """Writes the test split, ``root/test/<class>/<class>_NNNN.jpg`` (``per_class`` images of each
    class, 5,000 by default: about 30 s and 240 MB), once, beside the set ``generate_offline(root)``
    writes (which it makes first, with its defaults, when absent). Its images come from their own
    seeds: none is in train or validation. Deterministic; written into a temporary folder and
    renamed into place. Returns ``root / "test"``."""
    root = generate_offline(root)
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1; got {per_class}")
    main = _read_manifest(root / MANIFEST)
    settings = {**main, "split": TEST_SPLIT, "per_class": per_class}
    target = root / TEST_SPLIT
    if _read_manifest(root / TEST_MANIFEST) == settings and target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=".offline-test-", dir=root.parent))
    try:
        _draw_split(staging, TEST_SPLIT, per_class, seed=main["seed"],
                    image_size=tuple(main["image_size"]), num_classes=main["num_classes"],
                    quality=main["quality"])
        if _read_manifest(root / TEST_MANIFEST) == settings and target.is_dir():
            return target  # written by another process meanwhile
        (root / TEST_MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # a test split of other settings, ours
        try:
            staging.rename(target)
        except OSError:
            if _read_manifest(root / TEST_MANIFEST) != settings:
                raise
        (root / TEST_MANIFEST).write_text(json.dumps(settings, indent=1))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _read_manifest(path: Path) -> dict | None:
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return settings if isinstance(settings, dict) else None


def _foreign_files(root: Path) -> list[Path]:
    """Files under ``root`` that ``generate_offline`` does not write (its manifest and the
    ``<split>/<class>/<class>_NNNN.jpg`` images)."""
    ours = re.compile(r"(train|validation|test)/([a-z]+)/\2_\d{4}\.jpg")
    return [p for p in sorted(root.rglob("*"))
            if not p.is_dir() and p.relative_to(root).as_posix() not in (MANIFEST, TEST_MANIFEST)
            and not ours.fullmatch(p.relative_to(root).as_posix())]


def _check_replaceable(root: Path, settings: dict) -> None:
    """Raises ``FileExistsError`` unless ``root`` is absent, empty, or a set this module wrote
    (its manifest has our settings' keys, and every file is one we write)."""
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        return
    manifest = _read_manifest(root / MANIFEST) if root.is_dir() else None
    fix = ("move it away, or pass another folder (data_dir=, or the ALEXNET_KERAS_DATA "
           "environment variable)")
    if manifest is None or set(manifest) != set(settings):
        raise FileExistsError(f"{root} exists and was not written by generate_offline (no "
                              f"{MANIFEST} of ours); it is left as it is: {fix}")
    foreign = _foreign_files(root)
    if foreign:
        raise FileExistsError(f"{root} holds {len(foreign)} file(s) generate_offline did not "
                              f"write, e.g. {foreign[0]}; to regenerate the set, {fix}")
