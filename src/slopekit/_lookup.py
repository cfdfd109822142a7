"""Objects by name: the one lookup behind `slopekit.get`, `slopekit.losses.for_output` and `slopekit.optimizers.get`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def find(kind: str, name: str, table: Mapping[str, T], aliases: Mapping[str, str] | None = None) -> tuple[str, T]:
    """``(key, table[key])`` for a name, ignoring case, surrounding blanks, and ``-`` against ``_``.

    Raises
    ------
    ValueError
        ``unknown <kind> 'name' (did you mean ...?); known: ...`` for a name
        not in ``table`` (nor in ``aliases``, which map other names to keys).
    """
    key = name.strip().lower().replace("-", "_")
    key = (aliases or {}).get(key, key)
    if key not in table:
        import difflib  # only on this error path: keeps `import slopekit` light

        close = difflib.get_close_matches(key, list(table), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown {kind} {name!r}{hint}; known: {', '.join(sorted(table))}")
    return key, table[key]


def build(key: str, cls: type[T], params: Mapping[str, Any], word: str = "parameter") -> T:
    """``cls(**params)`` for a dataclass, after checking that every name in ``params`` is one of its fields.

    Raises
    ------
    TypeError
        ``<key>: unknown <word> 'x'; allowed: ...`` naming the fields.
    """
    allowed = [field.name for field in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(f"{key}: unknown {word} {', '.join(map(repr, unknown))}; allowed: "
                        f"{', '.join(allowed) or 'none'}")
    return cls(**params)
