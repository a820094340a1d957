"""Typed option fields: the vocabulary a configuration surface is declared in. Host only.

A curriculum, a level space, an ES target or a command declares its options as fields of a
frozen dataclass, each made with :func:`option`::

    @dataclasses.dataclass(frozen=True)
    class BufferOptions:
        buffer_capacity: int = option(4000, int_(1), "level buffer capacity")

The field ``buffer_capacity`` is the command-line flag ``--buffer-capacity VALUE``; its
``check`` (built by :func:`int_`, :func:`float_`, :func:`choice`, :func:`optional`, ``BOOL``,
``STR``, ``STRS``, :func:`ints`, :func:`strs`) says its type and allowed values, and
:func:`convert` checks one value against it. The parser and help of the ``openued`` commands
(``experiments.options.Options``) read these fields; registrations (``ued.registry``) carry them,
so a package of one's own declares the options of its curriculum or level space without
importing the command line.

Metadata of a field (all through :func:`option`): ``check``, ``help``, ``aliases`` (other
spellings: ``{"-o": None}`` takes a value like the flag, ``{"--states-only": False}`` sets a
constant), ``cli`` (``False``: stored, not an option), ``default_text`` (what ``--help`` shows as
the default), ``to`` (where a command puts the value: a dotted path into its own configs).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any


class ConfigError(ValueError):
    """A bad preset, option or value; the message names it and the allowed values."""


# integer fields become int32 arrays and shapes inside JAX programs; larger values cannot work
INT_MAX = 2**31 - 1
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def option(
    default: Any,
    check: tuple,
    help: str,  # noqa: A002 (the name every reader expects)
    *,
    aliases: dict[str, Any] | None = None,
    cli: bool = True,
    default_text: str | None = None,
    to: str | None = None,
):
    """A dataclass field that is a command-line option (see the module docstring)."""
    meta = {"check": check, "help": help, "aliases": dict(aliases or {}), "cli": cli}
    if default_text is not None:
        meta["default_text"] = default_text
    if to is not None:
        meta["to"] = to
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def int_(lo: int, hi: int | None = None) -> tuple:
    return ("int", lo, hi)


def float_(lo: float, hi: float | None = None, lo_open: bool = False) -> tuple:
    return ("float", lo, hi, lo_open)


def choice(*values: str | Callable[[], Sequence[str]]) -> tuple:
    """One of ``values``; a single callable gives the values when asked (a registry)."""
    return ("choice", values)


def optional(check: tuple, none_text: str = "none") -> tuple:
    """``check``, or nothing (``None``; typed as ``none``)."""
    return ("optional", check, none_text)


def ints(lo: int, hi: int | None = None) -> tuple:
    """A list of integers in ``[lo, hi]`` (``64 64`` or ``64,64``)."""
    return ("ints", lo, hi)


def floats(lo: float, hi: float | None = None, lo_open: bool = False) -> tuple:
    """A list of numbers in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``): ``0.1 0.5`` or
    ``0.1,0.5``."""
    return ("floats", lo, hi, lo_open)


def strs(*values: str | Callable[[], Sequence[str]]) -> tuple:
    """A list of strings, each one of ``values`` when given (``a b`` or ``a,b``)."""
    return ("strs", values)


BOOL = ("bool",)
STR = ("str",)
STRS = strs()
LIST_KINDS = ("ints", "floats", "strs")


def values_of(vals: tuple) -> tuple[str, ...]:
    if len(vals) == 1 and callable(vals[0]):
        return tuple(vals[0]())
    return tuple(vals)


def flag(name: str) -> str:
    """``num_envs`` -> ``--num-envs``."""
    return "--" + name.replace("_", "-")


def describe(check: tuple) -> str:
    """Human description of the values ``check`` allows."""
    kind = check[0]
    if kind == "int":
        _, lo, hi = check
        if hi is None:
            return f"an integer >= {lo} (at most {INT_MAX})"
        return f"an integer in [{lo}, {hi}]"
    if kind == "float":
        _, lo, hi, lo_open = check
        left = f"> {lo}" if lo_open else f">= {lo}"
        if hi is None:
            return f"a number {left}"
        return f"a number in {'(' if lo_open else '['}{lo}, {hi}]"
    if kind == "choice":
        return "one of " + ", ".join(values_of(check[1]))
    if kind == "optional":
        return f"{describe(check[1])}, or {check[2]}"
    if kind == "bool":
        return "true or false"
    if kind == "ints":
        _, lo, hi = check
        return "one or more integers " + (f">= {lo}" if hi is None else f"in [{lo}, {hi}]")
    if kind == "floats":
        return "one or more " + describe(("float", *check[1:]))[2:].replace("number", "numbers", 1)
    if kind == "strs":
        vals = values_of(check[1])
        return "one or more of " + ", ".join(vals) if vals else "one or more words"
    return "a string"


def type_name(check: tuple) -> str:
    kind = check[0]
    if kind == "optional":
        return type_name(check[1])
    return {
        "int": "INT",
        "float": "FLOAT",
        "bool": "[BOOL]",
        "ints": "INT ...",
        "floats": "FLOAT ...",
        "strs": "WORD ...",
    }.get(kind, "CHOICE" if kind == "choice" else "TEXT")


def convert(check: tuple, text: Any) -> tuple[bool, Any]:
    """``(ok, value)`` of ``text`` under ``check``."""
    kind = check[0]
    if kind == "optional":
        if text is None or (isinstance(text, str) and text.strip().lower() == check[2]):
            return True, None
        return convert(check[1], text)
    if kind == "int":
        if isinstance(text, bool):
            return False, None
        try:
            v = int(text) if not isinstance(text, float) or float(text).is_integer() else None
        except (TypeError, ValueError):
            return False, None
        _, lo, hi = check
        ok = v is not None and lo <= v <= (INT_MAX if hi is None else hi)
        return ok, v
    if kind == "float":
        if isinstance(text, bool):
            return False, None
        try:
            v = float(text)
        except (TypeError, ValueError):
            return False, None
        _, lo, hi, lo_open = check
        bad = not math.isfinite(v) or v < lo or (lo_open and v <= lo) or (hi is not None and v > hi)
        return not bad, v
    if kind == "choice":
        return text in values_of(check[1]), text
    if kind == "bool":
        if isinstance(text, bool):
            return True, text
        t = str(text).strip().lower()
        return (t in TRUE_WORDS or t in FALSE_WORDS), t in TRUE_WORDS
    if kind in LIST_KINDS:
        items = text if isinstance(text, list | tuple) else str(text).split(",")
        items = [x.strip() if isinstance(x, str) else x for x in items]
        items = [x for x in items if x != ""]
        out = []
        for x in items:
            if kind == "ints":
                ok, v = convert(("int", check[1], check[2]), x)
            elif kind == "floats":
                ok, v = convert(("float", *check[1:]), x)
            else:
                vals = values_of(check[1])
                v = str(x)
                ok = not vals or v in vals
            if not ok:
                return False, None
            out.append(v)
        return True, tuple(out)
    return (not isinstance(text, list | tuple | dict)), None if text is None else str(text)


def is_list(check: tuple) -> bool:
    """Whether ``check`` takes a list of values (possibly optional)."""
    return check[0] in LIST_KINDS or (check[0] == "optional" and check[1][0] in LIST_KINDS)


def option_fields(cls: type) -> dict[str, dataclasses.Field]:
    """``{name: field}`` of the option fields of the dataclass ``cls`` (those made by
    :func:`option` with ``cli`` true)."""
    return {
        f.name: f
        for f in dataclasses.fields(cls)
        if "check" in f.metadata and f.metadata.get("cli", True)
    }


def defaults_of(cls: type) -> dict[str, Any]:
    """``{name: default}`` of every field of the dataclass ``cls`` that has one."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            out[f.name] = f.default_factory()  # type: ignore[misc]
    return out


__all__ = [
    "BOOL",
    "FALSE_WORDS",
    "LIST_KINDS",
    "TRUE_WORDS",
    "ConfigError",
    "INT_MAX",
    "STR",
    "STRS",
    "choice",
    "convert",
    "defaults_of",
    "describe",
    "flag",
    "float_",
    "floats",
    "int_",
    "ints",
    "is_list",
    "option",
    "option_fields",
    "optional",
    "strs",
    "type_name",
    "values_of",
]
