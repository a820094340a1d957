"""Registries: what one curriculum, level space or ES target is, declared once next to its code.
Host only.

Each registry maps a name to an entry (a frozen dataclass). The command line, the metrics and
the figures read an entry; none of them keeps a table of its own, so adding a curriculum, a
level space or an ES target is one registration next to its code::

    from ued.registry import CURRICULA, CurriculumEntry
    CURRICULA.register(CurriculumEntry(name="my-curriculum", description="...", make=make_mine,
                                       branches=("new", "easy")))

A package of one's own registers through the entry-point group ``openued.plugins``: each entry
point names a module (registering on import) or a function (called with no arguments), e.g. in
its ``pyproject.toml``::

    [project.entry-points."openued.plugins"]
    gap = "gap_plugin"

Every registry loads the plugins the first time it is asked for a name it does not hold, or for
the whole list; a plugin that fails to load is a :class:`PluginError` naming it.

Entries:

* :class:`CurriculumEntry`: ``make(CurriculumContext) -> ued.Curriculum`` with the curriculum's
  options, the branch names it logs, its score defaults, what it needs from the level space
  (an editable or an aleatoric space) and its figure :class:`Panel`\\ s.
* :class:`SpaceEntry`: ``build(options, editor) -> SpaceBuild`` (the level space, its env,
  held-out evaluation levels, the episode limit, optionally the student network), the space's
  options, defaults of the run options, and named presets.
* ES targets: the entries are ``meta.targets.Target``\\ s (state and action names, horizon,
  observation normalisation, default synthetic kind); the registry lives here so that every
  registry loads the same plugins.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, NamedTuple, TypeVar

PLUGIN_GROUP = "openued.plugins"
E = TypeVar("E")


class PluginError(RuntimeError):
    """A plugin of the ``openued.plugins`` entry-point group failed to load (one line naming
    it and the error)."""


_PLUGINS_LOADED = False


def load_plugins() -> list[str]:
    """Load every ``openued.plugins`` entry point once per process (later calls do nothing);
    returns the names loaded now. A module registers on import; a callable is called with no
    arguments. Raises :class:`PluginError` naming the plugin that fails."""
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return []
    _PLUGINS_LOADED = True
    names = []
    for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except Exception as e:  # a plugin's own failure: name it, do not hide it
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}, entry-point group {PLUGIN_GROUP}) failed to "
                f"load: {type(e).__name__}: {' '.join(str(e).split())}"
            ) from e
        names.append(ep.name)
    return names


class Registry(Generic[E]):
    """Name -> entry (any object with a ``name``). ``what`` names the kind of entry in
    messages ("curriculum", "level space", "ES target")."""

    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, E] = {}

    def register(self, entry: E, *, replace: bool = False) -> E:
        """Add ``entry`` under ``entry.name``; a name already taken is a ``ValueError`` unless
        ``replace``. Returns the entry (so a registration can be a decorator's result)."""
        name = getattr(entry, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self.what} entry needs a non-empty string name, got {name!r}")
        if name in self._entries and not replace and self._entries[name] is not entry:
            raise ValueError(f"{self.what} {name!r} is registered already")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests, notebooks redefining an entry)."""
        self._entries.pop(name, None)

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            load_plugins()
        return name in self._entries

    def get(self, name: str) -> E:
        """The entry ``name``; ``KeyError`` whose message lists the registered names."""
        if name not in self:
            raise KeyError(f"unknown {self.what} {name!r}; registered: {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> tuple[str, ...]:
        """Every registered name, by the entries' ``order`` (when they have one), then in
        registration order (plugins loaded first)."""
        return tuple(e.name for e in self)

    def __iter__(self) -> Iterator[E]:
        load_plugins()
        entries = list(self._entries.values())
        return iter(sorted(entries, key=lambda e: getattr(e, "order", 100)))


# ----------------------------------------------------------------------------- curricula


@dataclasses.dataclass(frozen=True)
class Panel:
    """One figure panel of a curriculum: the metrics (keys of ``metrics.jsonl``) drawn together.

    ``reference``: optional ``(value, label)`` drawn as a dashed line (the scale a zoomed axis
    needs, e.g. an entropy's uniform maximum)."""

    title: str
    keys: tuple[str, ...]
    ylabel: str = ""
    reference: tuple[float, str] | None = None


@dataclasses.dataclass(frozen=True)
class CurriculumContext:
    """What a curriculum's ``make`` gets.

    Attributes:
      space: the level space (``ued.LevelSpace``).
      env: the students' raw environment.
      num_envs: ``B``, levels per update.
      options: the run's options (attributes: every option field of the run, the
        curriculum's own included).
      student: the student network (``ued.networks.ActorCritic``); curricula that own learners
        (PAIRED) give theirs the same one.
      ppo: the student's static ``ued.ppo.PPOConfig``.
      ppo_params: the student's dynamic ``ued.ppo.PPOParams``.
      space_build: the level space's :class:`SpaceBuild` (its ``descriptor_bounds``,
        ``empty_level`` and the like), or ``None`` outside the command line.
    """

    space: Any
    env: Any
    num_envs: int
    options: Any
    student: Any
    ppo: Any
    ppo_params: Any
    space_build: Any = None


@dataclasses.dataclass(frozen=True)
class CurriculumEntry:
    """A curriculum as the command line, the metrics and the figures know it.

    Attributes:
      name: the ``--curriculum`` value.
      description: one line for ``--help``.
      make: ``make(CurriculumContext) -> ued.Curriculum``.
      options: option dataclasses (``ued.options`` fields) whose fields apply to this
        curriculum; a class may be shared by several curricula (the level buffer's options).
      branches: the branch names its proposals use, id ``i`` named ``branches[i]``; the
        curriculum value must carry the same (``ued.Curriculum.branches``). ``make_train`` logs
        ``branch/<name>`` for each.
      score: the default level score (``ued.scores`` name); ``None``: the curriculum takes no
        score option (its levels' scores are its own).
      scores: the scores it accepts (``None``: every ``ued.scores`` name).
      requires: what it needs from the level space: ``"editable"`` (a teacher builds levels
        edit by edit) or ``"aleatoric"`` (SAMPLR's aleatoric parameters).
      editor: for ``"editable"``: ``editor(options) -> dict`` of editor settings the level
        space's ``build`` receives (e.g. the teacher's number of edits).
      panels: figure panels of its own metrics (drawn with the curriculum figure).
      plain_metrics: its diagnostics logged under their own names instead of ``cur/<name>``.
      validate: ``validate(options)`` raising ``ued.options.ConfigError`` for a combination of
        its options it refuses (the run's options as attributes).
      student_name: what its trained student is called in reports (PAIRED: "protagonist").
      order: where it is listed (lower first; ties: registration order).
    """

    name: str
    description: str
    make: Callable[[CurriculumContext], Any]
    options: tuple[type, ...] = ()
    branches: tuple[str, ...] = ("new",)
    score: str | None = "maxmc"
    scores: tuple[str, ...] | None = None
    requires: tuple[str, ...] = ()
    editor: Callable[[Any], dict] | None = None
    panels: tuple[Panel, ...] = ()
    plain_metrics: tuple[str, ...] = ()
    validate: Callable[[Any], None] | None = None
    student_name: str = "student"
    order: int = 100


# ----------------------------------------------------------------------------- level spaces


class SpaceBuild(NamedTuple):
    """What a level space's ``build`` returns.

    Attributes:
      space: the ``ued.LevelSpace`` (editable when the curriculum asked for an editor).
      env: the raw environment (``reset_to_level`` / ``step``).
      eval_sets: held-out evaluation levels, ``{set name: (level names, levels with a leading
        N axis)}`` (may be empty).
      episode_limit: steps per evaluation episode (the env's time limit).
      student: the student network (``ued.networks.ActorCritic``), or ``None`` to build it
        from the run's ``--network`` option.
      descriptor_bounds: ``(lower, upper)`` per descriptor feature, for the QD archive
        (``None``: the space has no archive bounds).
      empty_level: ``empty_level(key) -> level``, a level with nothing in it (ACCEL's
        ``--accel-from-empty`` grows levels from it; ``None``: the space has none).
      load_levels: ``load_levels(path) -> (names, levels with a leading N axis)`` reading a
        file of levels for ``openued eval --levels`` (``None``: the space reads no files).
      cvar_space: the ``ued.LevelSpace`` that ``openued eval --sample-levels N`` draws its
        levels from for the alpha-CVaR of the win rate (``ued.robustness``); ``None``: the
        run's training space ``space`` (the Maze: SFL's evaluation distribution, see
        ``envs.maze.registration``).
    """

    space: Any
    env: Any
    eval_sets: Mapping[str, tuple[tuple[str, ...], Any]]
    episode_limit: int
    student: Any = None
    descriptor_bounds: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    empty_level: Callable[[Any], Any] | None = None
    load_levels: Callable[[str], tuple[tuple[str, ...], Any]] | None = None
    cvar_space: Any = None


@dataclasses.dataclass(frozen=True)
class SpaceEntry:
    """A level space as ``openued train`` knows it.

    Attributes:
      name: the preset name (``openued train NAME``) and the run's ``space``.
      description: one line for ``--help``.
      build: ``build(options, editor) -> SpaceBuild``; ``options`` has the run's options as
        attributes, ``editor`` is ``None`` or the curriculum's editor settings (a dict) when the
        curriculum builds levels edit by edit.
      options: option dataclasses of the space's own settings (sizes, time limit, ...).
      defaults: defaults of the run options for this space (``num_envs``, ``num_steps``,
        ``network``, ``lr``, ...; any option field).
      curriculum: the default ``--curriculum``.
      presets: named aliases, ``{preset: {option: value}}`` (``curriculum`` included), e.g.
        ``{"maze-dr": {"curriculum": "dr"}}``; each is listed by ``openued train --help``.
      validate: ``validate(options)`` raising ``ued.options.ConfigError`` for option
        combinations the space refuses.
      check_editor: ``check_editor(options, editor)`` raising ``ued.options.ConfigError`` for
        editor settings (a curriculum's ``editor(options)``) the space refuses, before anything
        is built (e.g. a wall budget beyond the grid).
      describe_presets: one line per alias preset, ``{preset: text}`` (default: generated).
      order: where it is listed (lower first; ties: registration order), so listings do not
        depend on which module happened to be imported first.
    """

    name: str
    description: str
    build: Callable[[Any, dict | None], SpaceBuild]
    options: tuple[type, ...] = ()
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    curriculum: str = "robust-plr"
    presets: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    validate: Callable[[Any], None] | None = None
    describe_presets: Mapping[str, str] = dataclasses.field(default_factory=dict)
    check_editor: Callable[[Any, dict], None] | None = None
    order: int = 100


CURRICULA: Registry[CurriculumEntry] = Registry("curriculum")
LEVEL_SPACES: Registry[SpaceEntry] = Registry("level space")
TARGETS: Registry[Any] = Registry("ES target")


def register_curriculum(entry: CurriculumEntry, *, replace: bool = False) -> CurriculumEntry:
    """``CURRICULA.register(entry)``."""
    return CURRICULA.register(entry, replace=replace)


def register_level_space(entry: SpaceEntry, *, replace: bool = False) -> SpaceEntry:
    """``LEVEL_SPACES.register(entry)``."""
    return LEVEL_SPACES.register(entry, replace=replace)


__all__ = [
    "CURRICULA",
    "CurriculumContext",
    "CurriculumEntry",
    "LEVEL_SPACES",
    "PLUGIN_GROUP",
    "Panel",
    "PluginError",
    "Registry",
    "SpaceBuild",
    "SpaceEntry",
    "TARGETS",
    "load_plugins",
    "register_curriculum",
    "register_level_space",
]
