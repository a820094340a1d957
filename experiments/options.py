"""Command-line options from typed dataclass fields: one parser, one error style, one help
layout for every ``openued`` command. Host only.

Options are declared in the vocabulary of :mod:`ued.options` (re-exported here), as fields of
frozen dataclasses::

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
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from ued.options import (  # noqa: F401 (re-exported: the vocabulary commands declare with)
    BOOL,
    FALSE_WORDS,
    INT_MAX,
    LIST_KINDS,
    STR,
    STRS,
    TRUE_WORDS,
    ConfigError,
    choice,
    convert,
    defaults_of,
    describe,
    flag,
    float_,
    floats,
    int_,
    ints,
    is_list,
    option,
    option_fields,
    optional,
    strs,
    type_name,
    values_of,
)


class ShowHelp(Exception):  # noqa: N818 (not an error: control flow for ``--help``)
    """``--help`` was given; ``str(self)`` is the help text (printed to stdout, exit status 0)."""


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
        ok, v = convert(self.fields[name].metadata["check"], text)
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
                if (
                    nxt in TRUE_WORDS
                    or nxt in FALSE_WORDS
                    or (nxt and not nxt.startswith("-") and filled)
                ):
                    raw[name] = argv[i]
                    i += 1
                else:
                    raw[name] = True
            elif kind in LIST_KINDS or (
                kind == "optional" and self.fields[name].metadata["check"][1][0] in LIST_KINDS
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
        listy = check[0] in LIST_KINDS or (check[0] == "optional" and check[1][0] in LIST_KINDS)
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
            head = f"  {', '.join(spell)} {type_name(check)}"
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


def routed(obj: Any) -> dict[str, dict[str, Any]]:
    """The values of ``obj``'s option fields that name a destination (``to="section.key"``),
    as ``{section: {key: value}}``; a ``to`` without a dot goes to section ``""``. The one way
    flat command-line options reach a command's nested configs."""
    out: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(obj):
        to = f.metadata.get("to")
        if to:
            section, _, key = to.rpartition(".")
            out.setdefault(section, {})[key] = getattr(obj, f.name)
    return out


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
    "floats",
    "int_",
    "ints",
    "option",
    "optional",
    "routed",
    "strs",
]
