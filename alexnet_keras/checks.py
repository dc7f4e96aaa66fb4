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
