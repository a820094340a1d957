"""Host-side checks of static ``*Config`` fields, with the toolkit's one error style: the
message names ``Config.field``, the allowed range and the bad value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def require_ints(config: Any, names: Iterable[str], minimum: int = 1) -> None:
    """Raise ``ValueError`` unless every ``config.<name>`` is an ``int`` (not a bool) ``>= minimum``.

    Host only; call it from a frozen dataclass's ``__post_init__``.
    """
    owner = type(config).__name__
    for name in names:
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ValueError(f"{owner}.{name} must be an integer >= {minimum}, got {v!r}")


__all__ = ["require_ints"]
