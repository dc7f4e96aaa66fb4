"""The class names a checkpoint was trained on, kept inside its ``.keras`` file.

A model's output k means the k-th class of its training data. ``train`` records those names, in
order, with where they came from (the class folders, or the data set's label names), as one more
entry of the checkpoint's zip archive (``keras.models.load_model`` reads only its own entries).
``evaluate`` and ``predict`` compare them with the data's before scoring: other names, or the same
names in another order, would score a model on classes it never saw.
"""

from __future__ import annotations

import json
import os
import sys
import weakref
import zipfile

ENTRY = "alexnet_keras_labels.json"
_RECORDS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class ClassMismatchError(ValueError):
    """The data's classes are not the checkpoint's (the message shows the first differences)."""


def labels_of(source, dataset: str) -> dict:
    """The record of a ``data.load`` source: ``{"class_names": [...], "origin": ...}``."""
    origin = {"folder": "the class folders' names", "offline": "the offline set's class folders"}.get(
        dataset, f"tensorflow-datasets' {dataset} label names")
    return {"class_names": [str(name) for name in source.class_names], "origin": origin}


def remember(model, record: dict | None) -> None:
    """Attach ``record`` to ``model``: every checkpoint ``save_model_atomically`` writes of it carries it."""
    if record is not None:
        _RECORDS[model] = record


def write_into(path: str, model) -> None:
    """Adds the model's record (if it has one) to the ``.keras`` archive at ``path``."""
    record = _RECORDS.get(model)
    if record is not None:
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(ENTRY, json.dumps(record))


def read(path: str | os.PathLike) -> dict | None:
    """The record inside a checkpoint, or None (a checkpoint written before records were kept)."""
    with zipfile.ZipFile(path) as archive:
        if ENTRY not in archive.namelist():
            return None
        return json.loads(archive.read(ENTRY))


def _differences(recorded: list[str], found: list[str], shown: int = 3) -> str:
    extra, missing = [n for n in found if n not in recorded], [n for n in recorded if n not in found]
    if extra or missing:
        parts = []
        if missing:
            parts.append("the checkpoint's " + ", ".join(map(repr, missing[:shown])) + " not in the data")
        if extra:
            parts.append("the data's " + ", ".join(map(repr, extra[:shown])) + " not in the checkpoint")
        return "; ".join(parts)
    moved = [(k, r, f) for k, (r, f) in enumerate(zip(recorded, found)) if r != f]
    return "same names in another order: " + ", ".join(
        f"output {k} is {r!r} in the checkpoint, {f!r} in the data" for k, r, f in moved[:shown])


def check(checkpoint: str, record: dict | None, found: list[str], *, allow: bool = False,
          log=lambda text: print(text, file=sys.stderr)) -> None:
    """Refuses (``ClassMismatchError``, one line) data whose class names differ from the
    checkpoint's record; ``allow``: says what it assumes instead. A checkpoint without a record
    gets a one-line notice."""
    if record is None:
        log(f"note: {checkpoint} records no class names (written before they were kept); assuming "
            "its outputs are the data's classes in order")
        return
    recorded = list(record["class_names"])
    if recorded == list(found):
        return
    what = _differences(recorded, list(found))
    if not allow:
        raise ClassMismatchError(
            f"{checkpoint} was trained on other classes than this data's ({what}); evaluate on "
            "data with the same class folders, or pass --allow-class-mismatch to score output k "
            "as the data's class k")
    log(f"note: --allow-class-mismatch: scoring output k of {checkpoint} as the data's class k "
        f"although they differ ({what})")
