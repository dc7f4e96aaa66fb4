"""Data: sources by name (Section 2), and the augmentation ops and pipelines built from them (Section 4.1).

``load(name, split)`` returns a ``Source`` (encoded images and labels in a fixed order);
``alexnet_keras.data.augment`` turns a source into training and evaluation batches.
"""

from alexnet_keras.data import augment, ilsvrc, offline
from alexnet_keras.data.catalog import NAMES, SPLITS, load
from alexnet_keras.data.folder import IMAGE_EXTENSIONS, check_image_file, image_format, list_image_folder, load_folder
from alexnet_keras.data.ilsvrc import DEFAULT_MANUAL_DIR, ILSVRC_TARS, ILSVRC_URL
from alexnet_keras.data.prepared import PreparedFolderError, PreparedInfo, load_prepared, prepared_info
from alexnet_keras.data.prepared_build import prepare
from alexnet_keras.data.source import CorruptImageError, Source, load_tfds, tfds_source

__all__ = [
    "CorruptImageError", "DEFAULT_MANUAL_DIR", "IMAGE_EXTENSIONS", "ILSVRC_TARS", "ILSVRC_URL", "NAMES",
    "SPLITS", "Source", "augment", "check_image_file", "ilsvrc", "image_format", "list_image_folder",
    "load", "load_folder", "load_tfds", "offline", "tfds_source",
    "PreparedFolderError", "PreparedInfo", "load_prepared", "prepare", "prepared_info",
]
