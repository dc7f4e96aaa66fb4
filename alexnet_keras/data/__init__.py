"""Data: sources by name (Section 2), and the augmentation ops and pipelines built from them (Section 4.1).

``load(name, split)`` returns a ``Source`` (encoded images and labels in a fixed order);
``alexnet_keras.data.augment`` turns a source into training and evaluation batches.

The names below are imported on first use (PEP 562): the pipelines need TensorFlow (tf.data), and
``alexnet_keras.model`` and the trainer's config import this package on machines without it (a JAX
or PyTorch GPU machine running ``bench train``).
"""

import importlib

_WHERE = {
    "augment": None, "ilsvrc": None, "offline": None,
    "NAMES": "catalog", "SPLITS": "catalog", "load": "catalog",
    "IMAGE_EXTENSIONS": "folder", "check_image_file": "folder", "image_format": "folder",
    "list_image_folder": "folder", "load_folder": "folder",
    "DEFAULT_MANUAL_DIR": "ilsvrc", "ILSVRC_TARS": "ilsvrc", "ILSVRC_URL": "ilsvrc",
    "PreparedFolderError": "prepared", "PreparedInfo": "prepared", "load_prepared": "prepared",
    "prepared_info": "prepared", "prepare": "prepared_build",
    "CorruptImageError": "source", "Source": "source", "load_tfds": "source", "tfds_source": "source",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_WHERE[name] or name}")
    value = module if _WHERE[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
