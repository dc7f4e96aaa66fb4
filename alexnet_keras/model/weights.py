"""torchvision's published AlexNet weights in Keras, and Keras weights back to torchvision.

torchvision's ``alexnet(weights="IMAGENET1K_V1")`` has the layers of our ``"torchvision"`` variant
(64-192-384-256-256 kernels, one tower, no LRN; not the paper's Section 3.5 network). Its state
dict maps onto our layers one to one:

- a conv kernel is ``(out, in, kh, kw)`` in PyTorch and ``(kh, kw, in, out)`` in Keras;
- a linear weight is ``(out, in)`` in PyTorch, a Dense kernel ``(in, out)`` in Keras;
- fc6 reads pool5 flattened: PyTorch flattens (C, H, W) of 256x6x6, Keras channels-last (H, W, C),
  so fc6's rows are permuted as well as transposed.

PyTorch is needed only to read or write ``.pth`` files (``pip install 'alexnet-keras[torch]'``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

# torchvision's file; its name carries the first 8 hex digits of the file's SHA-256.
WEIGHTS_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
WEIGHTS_FILE = "alexnet-owt-7be5be79.pth"
WEIGHTS_SHA256_PREFIX = "7be5be79"
# Our layer -> the prefix of its tensors in torchvision's state dict.
TORCH_NAMES = {
    "conv1": "features.0", "conv2": "features.3", "conv3": "features.6", "conv4": "features.8",
    "conv5": "features.10", "fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6",
}
_POOL5 = (6, 6, 256)  # torchvision's AdaptiveAvgPool2d((6, 6)) output, 256 channels


def _check_file(weights) -> None:
    path = Path(weights)
    if path.is_dir():
        raise ValueError(f"weights {str(weights)!r} is a folder, not a weights file; pass the "
                         "file itself")
    if not path.is_file():
        raise ValueError(f"weights file {str(weights)!r} does not exist")


def check_weights(weights, variant: str, *, include_top: bool, classes: int) -> None:
    """Refuses, with a ValueError naming the fix, weights that cannot fit the model asked for."""
    torchvision_weights = weights == "imagenet" or isinstance(weights, Mapping) or str(
        weights).endswith(".pth")
    if not torchvision_weights:
        if not str(weights).endswith(".weights.h5"):
            raise ValueError(f"weights must be None, 'imagenet', a torchvision state dict or .pth "
                             f"file, or a .weights.h5 file; received {weights!r}")
        _check_file(weights)
        return
    if variant != "torchvision":
        raise ValueError(f"torchvision's weights fit only alexnet('torchvision'); received "
                         f"variant {variant!r}")
    if include_top and classes != 1000:
        raise ValueError(f"torchvision's weights have 1000 classes; received classes={classes} "
                         f"(use include_top=False to load only the convolutional layers)")
    if weights != "imagenet" and not isinstance(weights, Mapping):
        _check_file(weights)


def torch_home() -> Path:
    """PyTorch's cache folder: ``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``, else ~/.cache/torch."""
    if os.environ.get("TORCH_HOME"):
        return Path(os.environ["TORCH_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()
    return Path(cache) / "torch"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def imagenet_weights_path() -> Path:
    """torchvision's ``alexnet-owt-7be5be79.pth``: from PyTorch's cache, or downloaded into it.

    Looks in ``torch_home()/hub/checkpoints`` (where ``torchvision`` keeps it), else downloads
    ``WEIGHTS_URL`` there with ``keras.utils.get_file``. Only the first 8 hex digits of the
    file's SHA-256 are published (in its name), so instead of ``get_file(file_hash=...)``, which
    needs the whole digest, the SHA-256 is computed with ``hashlib`` after the download and its
    prefix compared with ``WEIGHTS_SHA256_PREFIX``; a file that fails is deleted.
    """
    import keras

    folder = torch_home() / "hub" / "checkpoints"
    path = folder / WEIGHTS_FILE
    if path.is_file():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)  # else get_file falls back to /tmp/.keras
        path = Path(keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_dir=str(folder.parent),
                                         cache_subdir=folder.name))
    except Exception as error:  # get_file raises a bare Exception on URL failures
        raise FileNotFoundError(f"could not download torchvision's AlexNet weights from {WEIGHTS_URL} "
                      f"({error}); download it elsewhere and put it at {path} (or set TORCH_HOME), "
                      f"or pass weights='/path/to/{WEIGHTS_FILE}'") from error
    if not _sha256(path).startswith(WEIGHTS_SHA256_PREFIX):
        path.unlink()
        raise ValueError(f"the file downloaded from {WEIGHTS_URL} does not have the SHA-256 prefix "
                      f"{WEIGHTS_SHA256_PREFIX} in its name; deleted it, try again")
    return path


class WeightsImportError(ImportError):
    """PyTorch is needed (for a .pth file) but not installed."""


def _import_torch():
    try:
        import torch
    except ImportError as error:
        raise WeightsImportError(
            "reading or writing a .pth file needs PyTorch (pip install 'alexnet-keras[torch]'); "
            "without it, convert once where PyTorch is installed with `python -m alexnet_keras "
            "convert-weights FILE.pth --output FILE.weights.h5` and load the .weights.h5 file"
        ) from error
    return torch


def _torch_load(path: Path) -> Mapping:
    """``torch.load`` of a state dict; ``ValueError`` in one sentence for anything else."""
    import pickle

    torch = _import_torch()
    save = "save one with torch.save(model.state_dict(), PATH) and pass that file"
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"{path} holds a pickled Python object (such as a whole nn.Module), not a "
                         f"state dict of tensors; {save}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        first = str(error).strip().split(". ")[0].splitlines()[0][:160] if str(error).strip() else ""
        raise ValueError(f"{path} cannot be read as a PyTorch file ({type(error).__name__}: "
                         f"{first}); it is truncated or not a .pth file: download or save it "
                         "again") from None
    if not isinstance(loaded, Mapping):
        raise ValueError(f"{path} holds a {type(loaded).__name__}, not a state dict (name -> "
                         f"tensor); {save}")
    return loaded


def _check_torch_shapes(model, state_dict: Mapping, names, source) -> None:
    """Every tensor of ``state_dict`` has the shape this model's layer needs (fc6's (4096, 9216)...)."""
    for name in names:
        kernel, bias = model.get_layer(name).weights[:2]
        kernel_shape = tuple(kernel.shape)
        want = {"weight": (kernel_shape[3], kernel_shape[2], *kernel_shape[:2])
                if len(kernel_shape) == 4 else kernel_shape[::-1], "bias": tuple(bias.shape)}
        for kind, shape in want.items():
            key = f"{TORCH_NAMES[name]}.{kind}"
            got = tuple(np.shape(state_dict[key])) if key in state_dict else None
            if got is not None and got != shape:
                raise ValueError(
                    f"{source if isinstance(source, (str, os.PathLike)) else 'the state dict'}: "
                    f"{key} ({name}) has shape {got}, this model needs {shape}; it is not "
                    "torchvision's AlexNet (1000 classes, 224x224 input)")


def _load_keras_weights(model, path) -> None:
    """``model.load_weights(path)``, refusing in one sentence a file of another model."""
    import warnings

    import h5py

    try:
        with h5py.File(path, "r") as handle:
            found = []
            handle.visititems(lambda _, item: found.append(tuple(item.shape))
                              if isinstance(item, h5py.Dataset) else None)
    except OSError as error:
        raise ValueError(f"{path} is not a Keras weights file (HDF5 cannot open it: {error}); it "
                         "is truncated or of another format: save it again with "
                         "model.save_weights") from None
    wanted = [tuple(weight.shape) for weight in model.weights]
    extra = [shape for shape in found if shape not in wanted]
    missing = [shape for shape in wanted if shape not in found]
    if sorted(found) != sorted(wanted):
        raise ValueError(
            f"{path} holds the weights of another model than {model.name!r} ({len(found)} arrays, "
            f"this model has {len(wanted)}; shapes only in the file: {extra[:2]}, only in the "
            f"model: {missing[:2]}); load it into the variant, input size and number of classes "
            "it was saved from (--variant)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.load_weights(path)


def read_state_dict(source) -> dict[str, np.ndarray]:
    """A torchvision state dict as float32 NumPy arrays, from a mapping or a ``.pth`` file."""
    if not isinstance(source, Mapping):
        source = _torch_load(Path(source))
    arrays = {}
    for key, value in source.items():
        if hasattr(value, "detach"):  # a torch.Tensor
            value = value.detach().cpu().numpy()
        arrays[key] = np.asarray(value, np.float32)
    return arrays


def keras_from_torch(state_dict: Mapping, layers=tuple(TORCH_NAMES)) -> dict[str, list[np.ndarray]]:
    """Our layers' ``[kernel, bias]`` from a torchvision AlexNet state dict (NumPy arrays)."""
    needed = [f"{TORCH_NAMES[layer]}.{kind}" for layer in layers for kind in ("weight", "bias")]
    missing = [key for key in needed if key not in state_dict]
    if missing:
        raise ValueError(f"not a torchvision AlexNet state dict: missing {missing}; found "
                         f"{sorted(state_dict)[:10]}")
    converted = {}
    for layer in layers:
        weight = np.asarray(state_dict[f"{TORCH_NAMES[layer]}.weight"], np.float32)
        bias = np.asarray(state_dict[f"{TORCH_NAMES[layer]}.bias"], np.float32)
        if weight.ndim == 4:  # (out, in, kh, kw) -> (kh, kw, in, out)
            kernel = weight.transpose(2, 3, 1, 0)
        elif layer == "fc6":  # rows (C, H, W) -> (H, W, C), then (out, in) -> (in, out)
            channels, height, width = _POOL5[2], _POOL5[0], _POOL5[1]
            kernel = weight.reshape(-1, channels, height, width).transpose(2, 3, 1, 0)
            kernel = kernel.reshape(height * width * channels, -1)
        else:
            kernel = weight.T
        converted[layer] = [np.ascontiguousarray(kernel), bias]
    return converted


def torch_from_keras(model) -> dict[str, np.ndarray]:
    """torchvision's state dict (NumPy arrays) from a Keras ``alexnet("torchvision")`` model; the
    inverse of ``keras_from_torch``. Save it with ``save_torch_state_dict``."""
    state = {}
    for layer, prefix in TORCH_NAMES.items():
        kernel, bias = (np.asarray(w, np.float32) for w in model.get_layer(layer).get_weights())
        if kernel.ndim == 4:
            weight = kernel.transpose(3, 2, 0, 1)
        elif layer == "fc6":
            weight = kernel.reshape(*_POOL5, -1).transpose(3, 2, 0, 1).reshape(kernel.shape[1], -1)
        else:
            weight = kernel.T
        state[f"{prefix}.weight"], state[f"{prefix}.bias"] = np.ascontiguousarray(weight), bias
    return state


def save_torch_state_dict(model, path) -> Path:
    """Writes ``torch_from_keras(model)`` as a ``.pth`` file that ``torchvision.models.alexnet()``
    loads with ``load_state_dict(torch.load(path))``."""
    torch = _import_torch()
    state = {key: torch.from_numpy(value) for key, value in torch_from_keras(model).items()}
    torch.save(state, Path(path))
    return Path(path)


def load_weights(model, weights) -> None:
    """Loads ``weights`` (see ``alexnet(weights=)``) into ``model``, in place."""
    if isinstance(weights, (str, os.PathLike)) and str(weights).endswith(".weights.h5"):
        _load_keras_weights(model, weights)
        return
    source = imagenet_weights_path() if weights == "imagenet" else weights
    names = [name for name in TORCH_NAMES if name in {layer.name for layer in model.layers}]
    if "fc6" in names and tuple(model.get_layer("flatten").input.shape[1:]) != _POOL5:
        raise ValueError(f"torchvision's fc6 reads a 6x6x256 pool5 (224x224 input); this model's "
                         f"pool5 is {model.get_layer('flatten').input.shape[1:]}: build it with "
                         f"input_shape=(224, 224, 3), or include_top=False")
    state_dict = read_state_dict(source)
    _check_torch_shapes(model, state_dict, names, source)
    for name, values in keras_from_torch(state_dict, names).items():
        model.get_layer(name).set_weights(values)
