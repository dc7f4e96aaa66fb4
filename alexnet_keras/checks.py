"""The one "must be one of" check that the model, data and training wings and the CLI all share.

It imports nothing from the package, so any module can use it without an import circle.
"""

from __future__ import annotations

from typing import Any, Iterable


def check_choice(name: str, value: Any, allowed: Iterable) -> None:
    """Raises ``ValueError`` naming ``name``, the value received and the allowed values, unless
    ``value`` is one of ``allowed`` (a tuple, a list, or a dict's keys)."""
    allowed = list(allowed)
    if value not in allowed:
        listed = ", ".join(str(choice) for choice in allowed)
        raise ValueError(f"{name} must be one of the allowed values, not {value!r}; allowed: {listed}")


def check_output_outside_inputs(output, inputs: dict, *, output_flag: str = "--output") -> None:
    """Raises ``ValueError`` in one line when ``output`` is one of the ``inputs`` (``{flag: path}``;
    ``None`` paths are skipped), lies inside one, or contains one, after resolving ``~``, ``..`` and
    symbolic links: a command would then write its own files among the data it reads. Call it
    before anything is written."""
    import os

    if output is None:
        return
    out = os.path.realpath(os.path.expanduser(os.fspath(output)))
    for flag, path in inputs.items():
        if path is None:
            continue
        source = os.path.realpath(os.path.expanduser(os.fspath(path)))
        if out == source:
            how = "is"
        elif out.startswith(source.rstrip(os.sep) + os.sep):
            how = "lies inside"
        elif source.startswith(out.rstrip(os.sep) + os.sep):
            how = "contains"
        else:
            continue
        raise ValueError(f"{output_flag} {output} {how} {flag} {path} (resolved: {out} and {source}): "
                         f"the command would write among the data it reads; give {output_flag} a "
                         "folder outside it")
