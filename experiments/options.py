"""Command-line options from typed dataclass fields: one parser, one error style, one help
layout for every ``openued`` command. Host only.

A command declares its options as fields of a frozen dataclass, each made with :func:`option`::

    @dataclasses.dataclass(frozen=True)
    class EvalOptions:
        attempts: int = option(10, int_(1), "episodes per level")

Field ``num_envs`` is the flag ``--num-envs VALUE`` (also ``--num-envs=VALUE``); a bool field
``progress`` is ``--progress [true|false]`` and ``--no-progress``; a list field takes one or
more values (``--hidden 64 64``, ``--hidden 64,64``; repeating the flag adds to the list).
:class:`Options` parses an argument list into ``(positionals, {field: typed value})``. Every
mistake is a :class:`ConfigError` naming the flag: an unknown flag (with "did you mean"), a bad
value (with the allowed values or range), a missing value. ``--help`` shows each flag with its
type and allowed values, its default and its help text.

Metadata of a field (all through :func:`option`): ``check`` (the type and allowed values, built
by :func:`int_`, :func:`float_`, :func:`choice`, :func:`optional`, ``BOOL``, ``STR``, ``STRS``,
:func:`ints`), ``help``, ``aliases`` (other spellings: ``{"-o": None}`` takes a value like the
flag, ``{"--states-only": False}`` sets a constant), ``cli`` (``False``: stored, not an option),
``default_text`` (what ``--help`` shows as the default), ``to`` (where a command puts the value:
a dotted path into its own configs).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class ConfigError(ValueError):
    """A bad preset, option or value; the message names it and the allowed values."""


class ShowHelp(Exception):  # noqa: N818 (not an error: control flow for ``--help``)
    """``--help`` was given; ``str(self)`` is the help text (printed to stdout, exit status 0)."""


# integer fields become int32 arrays and shapes inside JAX programs; larger values cannot work
INT_MAX = 2**31 - 1
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


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


def strs(*values: str | Callable[[], Sequence[str]]) -> tuple:
    """A list of strings, each one of ``values`` when given (``a b`` or ``a,b``)."""
    return ("strs", values)


BOOL = ("bool",)
STR = ("str",)
STRS = strs()
_LISTS = ("ints", "strs")


def _values(vals: tuple) -> tuple[str, ...]:
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
        return "one of " + ", ".join(_values(check[1]))
    if kind == "optional":
        return f"{describe(check[1])}, or {check[2]}"
    if kind == "bool":
        return "true or false"
    if kind == "ints":
        _, lo, hi = check
        return "one or more integers " + (f">= {lo}" if hi is None else f"in [{lo}, {hi}]")
    if kind == "strs":
        vals = _values(check[1])
        return "one or more of " + ", ".join(vals) if vals else "one or more words"
    return "a string"


def _type_name(check: tuple) -> str:
    kind = check[0]
    if kind == "optional":
        return _type_name(check[1])
    return {
        "int": "INT",
        "float": "FLOAT",
        "bool": "[BOOL]",
        "ints": "INT ...",
        "strs": "WORD ...",
    }.get(kind, "CHOICE" if kind == "choice" else "TEXT")


def _convert(check: tuple, text: Any) -> tuple[bool, Any]:
    """``(ok, value)`` of ``text`` under ``check``."""
    kind = check[0]
    if kind == "optional":
        if text is None or (isinstance(text, str) and text.strip().lower() == check[2]):
            return True, None
        return _convert(check[1], text)
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
        return text in _values(check[1]), text
    if kind == "bool":
        if isinstance(text, bool):
            return True, text
        t = str(text).strip().lower()
        return (t in _TRUE or t in _FALSE), t in _TRUE
    if kind in _LISTS:
        items = text if isinstance(text, list | tuple) else str(text).split(",")
        items = [x.strip() if isinstance(x, str) else x for x in items]
        items = [x for x in items if x != ""]
        out = []
        for x in items:
            if kind == "ints":
                ok, v = _convert(("int", check[1], check[2]), x)
            else:
                vals = _values(check[1])
                v = str(x)
                ok = not vals or v in vals
            if not ok:
                return False, None
            out.append(v)
        return True, tuple(out)
    return (not isinstance(text, list | tuple | dict)), None if text is None else str(text)


class Options:
    """The options of one command: the :func:`option` fields of ``classes`` (dataclasses).

    Args:
      classes: one dataclass or several (their field names must differ).
      prog: the command as typed (``"openued hades train"``), for usage and help.
      summary: one line saying what the command does.
      positionals: ``(NAME, help)`` of the command's positional arguments, in order; a name
        ending in ``?`` is optional, ``...`` takes every remaining one.
      epilog: text shown after the options in ``--help``.
    """

    def __init__(
        self,
        classes: type | Sequence[type],
        prog: str,
        summary: str,
        positionals: Sequence[tuple[str, str]] = (),
        epilog: str = "",
    ):
        classes = (classes,) if isinstance(classes, type) else tuple(classes)
        self.classes = classes
        self.prog = prog
        self.summary = summary
        self.positionals = tuple(positionals)
        self.epilog = epilog
        self.fields: dict[str, dataclasses.Field] = {}
        for cls in classes:
            for f in dataclasses.fields(cls):
                if "check" in f.metadata and f.metadata.get("cli", True):
                    if f.name in self.fields:
                        raise ValueError(f"option {f.name!r} declared twice")
                    self.fields[f.name] = f
        self._spellings: dict[str, tuple[str, Any]] = {}
        for name, f in self.fields.items():
            self._spellings[flag(name)] = (name, None)
            if f.metadata["check"][0] == "bool":
                self._spellings["--no-" + name.replace("_", "-")] = (name, False)
            for spelling, const in f.metadata.get("aliases", {}).items():
                self._spellings[spelling] = (name, const)

    # -------------------------------------------------------------- values and errors

    def flag(self, name: str) -> str:
        return flag(name)

    def describe(self, name: str) -> str:
        """A field's flag; a name that is no option (a stored key) as it is."""
        return flag(name) if name in self.fields else name

    def allowed(self, name: str) -> str:
        return describe(self.fields[name].metadata["check"])

    def bad_value(self, name: str, text: Any) -> ConfigError:
        return ConfigError(f"{flag(name)}: invalid value {text!r}; allowed: {self.allowed(name)}")

    def parse_value(self, name: str, text: Any) -> Any:
        """Convert and check one value; :class:`ConfigError` names the flag and allowed values."""
        if name not in self.fields:
            raise self.unknown(name)
        ok, v = _convert(self.fields[name].metadata["check"], text)
        if not ok:
            raise self.bad_value(name, text)
        return v

    def unknown(self, name: str) -> ConfigError:
        """An unknown option (``name``: a field name or a flag as typed), with "did you mean"."""
        typed = name if name.startswith("-") else flag(name)
        bare = {s.lstrip("-"): s for s in self._spellings}
        close = difflib.get_close_matches(typed.lstrip("-"), list(bare), n=3)
        hint = f" (did you mean {', '.join(bare[c] for c in close)}?)" if close else ""
        return ConfigError(
            f"unknown option {typed}{hint}; allowed options: "
            + ", ".join(flag(f) for f in self.fields)
        )

    def check(self, obj: Any) -> Any:
        """Check every option field of the dataclass instance ``obj``; returns it."""
        for f in dataclasses.fields(obj):
            if f.name in self.fields:
                self.parse_value(f.name, getattr(obj, f.name))
        return obj

    def from_dict(self, cls: type, d: dict, stored: Iterable[str] = ()) -> Any:
        """``cls(**d)`` with every value checked; an unknown key is an error naming it.
        ``stored``: keys that are fields but no options (taken as they are)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {}
        for k, v in d.items():
            if k not in names:
                raise self.unknown(k)
            values[k] = v if k in stored or k not in self.fields else self.parse_value(k, v)
        return cls(**values)

    # -------------------------------------------------------------- parsing

    def parse(self, argv: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
        """``(positionals, {field: value})`` of the given options only (defaults are the
        caller's). Raises :class:`ShowHelp` for ``-h``/``--help``, :class:`ConfigError` for
        anything wrong."""
        argv = list(argv)
        if "-h" in argv or "--help" in argv:
            raise ShowHelp(self.help())
        pos: list[str] = []
        raw: dict[str, Any] = {}
        i = 0
        while i < len(argv):
            tok = argv[i]
            i += 1
            if tok == "--":
                pos += argv[i:]
                break
            if not tok.startswith("-") or _is_number(tok) or tok == "-":
                pos.append(tok)
                continue
            spelled, eq, inline = tok.partition("=")
            if spelled not in self._spellings:
                raise self.unknown(spelled)
            name, const = self._spellings[spelled]
            kind = self.fields[name].metadata["check"][0]
            if const is not None:
                if eq:
                    raise ConfigError(f"{spelled}: takes no value (got {inline!r})")
                raw[name] = const
            elif eq:
                self._put(raw, name, inline)
            elif kind == "bool":
                nxt = argv[i].strip().lower() if i < len(argv) else ""
                # the next word is the flag's value if it is a bool, or if no positional is
                # left for it (so a bad value is named as one, not taken for an argument)
                filled = len(pos) >= len(self.positionals) and not self._variadic()
                if nxt in _TRUE or nxt in _FALSE or (nxt and not nxt.startswith("-") and filled):
                    raw[name] = argv[i]
                    i += 1
                else:
                    raw[name] = True
            elif kind in _LISTS or (
                kind == "optional" and self.fields[name].metadata["check"][1][0] in _LISTS
            ):
                vals = []
                while i < len(argv) and (not argv[i].startswith("-") or _is_number(argv[i])):
                    vals.append(argv[i])
                    i += 1
                if not vals:
                    raise ConfigError(f"{spelled}: expected a value; allowed: {self.allowed(name)}")
                self._put(raw, name, ",".join(vals))
            else:
                if i >= len(argv):
                    raise ConfigError(f"{spelled}: expected a value; allowed: {self.allowed(name)}")
                raw[name] = argv[i]
                i += 1
        out = {k: self.parse_value(k, v) for k, v in raw.items()}
        self._check_positionals(pos)
        return pos, out

    def _put(self, raw: dict, name: str, text: str) -> None:
        check = self.fields[name].metadata["check"]
        listy = check[0] in _LISTS or (check[0] == "optional" and check[1][0] in _LISTS)
        if listy and name in raw and raw[name] is not None:
            raw[name] = f"{raw[name]},{text}"  # a repeated list flag adds to the list
        else:
            raw[name] = text

    def _variadic(self) -> bool:
        return any(n.endswith("...") for n, _ in self.positionals)

    def _check_positionals(self, pos: list[str]) -> None:
        if self._variadic():
            return
        if len(pos) > len(self.positionals):
            extra = pos[len(self.positionals)]
            raise ConfigError(f"unexpected argument {extra!r} (see {self.prog} --help)")

    # -------------------------------------------------------------- help

    def usage(self) -> str:
        names = " ".join((f"[{n[:-1]}]" if n.endswith("?") else n) for n, _ in self.positionals)
        return f"usage: {self.prog} {names + ' ' if names else ''}[--option VALUE ...]"

    def help(self, defaults: dict[str, Any] | None = None, title: str = "options") -> str:
        """Usage, summary, positionals and every option: flag, type, allowed values, default,
        help. ``defaults`` replaces the dataclass defaults (e.g. a preset's values)."""
        lines = [self.usage(), "", self.summary]
        if self.positionals:
            lines += ["", "arguments:"]
            for n, h in self.positionals:
                lines.append(f"  {n.rstrip('?'):<22s}{h}")
        lines += ["", f"{title}:", *self.option_lines(defaults)]
        if self.epilog:
            lines += ["", self.epilog]
        return "\n".join(lines)

    def option_lines(self, defaults: dict[str, Any] | None = None) -> list[str]:
        if not self.fields:
            return ["  (none besides --help)"]
        lines = []
        for name, f in self.fields.items():
            md = f.metadata
            check = md["check"]
            spell = [flag(name)] + [a for a, c in md.get("aliases", {}).items() if c is None]
            head = f"  {', '.join(spell)} {_type_name(check)}"
            if check[0] == "bool":
                head += f" | --no-{name.replace('_', '-')}"
            consts = [a for a, c in md.get("aliases", {}).items() if c is not None]
            if consts:
                head += " | " + " | ".join(consts)
            if defaults is not None and name in defaults:
                dflt = _show(defaults[name])
            elif "default_text" in md:
                dflt = md["default_text"]
            elif f.default is not dataclasses.MISSING:
                dflt = _show(f.default)
            elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                dflt = _show(f.default_factory())  # type: ignore[misc]
            else:
                dflt = "required"
            lines.append(head)
            lines.append(f"      {md['help']} [{describe(check)}; default: {dflt}]")
        return lines


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, list | tuple):
        return ",".join(str(x) for x in v) if v else "(none)"
    if isinstance(v, str) and not v:
        return '""'
    return str(v)


def _is_number(tok: str) -> bool:
    try:
        float(tok)
    except ValueError:
        return False
    return True


__all__ = [
    "BOOL",
    "ConfigError",
    "INT_MAX",
    "Options",
    "STR",
    "STRS",
    "ShowHelp",
    "choice",
    "describe",
    "flag",
    "float_",
    "int_",
    "ints",
    "option",
    "optional",
    "strs",
]
