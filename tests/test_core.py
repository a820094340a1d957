"""Core contract: layout and import guards, LevelSpace, wrappers, the conformance kit, gymnax levels."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

import ued
from ued import testing as kit

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("ued", "envs", "curricula", "meta", "experiments")


# --------------------------------------------------------------------------- layout and imports
def test_layout_is_fixed():
    for p in PACKAGES:
        assert (ROOT / p / "__init__.py").is_file(), f"{p}/ must be an importable package"
    assert (ROOT / "tests").is_dir()
    assert (ROOT / "pyproject.toml").is_file()
    text = (ROOT / "pyproject.toml").read_text()
    assert 'name = "openued"' in text
    assert 'openued = "experiments.cli:main"' in text


def test_packages_resolve_to_this_repository():
    # envs, meta, experiments, ued and curricula are also names of unrelated PyPI projects.
    code = "import importlib, json; print(json.dumps({p: importlib.import_module(p).__file__ for p in %r}))"
    out = subprocess.run(
        [sys.executable, "-c", code % (PACKAGES,)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout
    import json

    files = json.loads(out)
    for p in PACKAGES:
        assert pathlib.Path(files[p]).resolve().parent == (ROOT / p).resolve(), (p, files[p])


def _imported_top_levels(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("ued", {"envs", "curricula", "meta", "experiments"}),
        ("envs", {"curricula", "meta", "experiments"}),
        ("curricula", {"envs", "meta", "experiments"}),
        ("meta", {"curricula", "experiments"}),
    ],
)
def test_import_direction(package, forbidden):
    for f in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_top_levels(f) & forbidden
        assert not bad, f"{f.relative_to(ROOT)} imports {sorted(bad)}; see DESIGN.md import rules"


def test_importing_ued_loads_no_sibling():
    code = "import sys, ued; print(sorted(m for m in %r if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code % (PACKAGES[1:],)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", out


# --------------------------------------------------------------------------- a toy level space
@struct.dataclass
class Line:
    goal: jax.Array  # int32[] goal cell on a line of 8 cells
    walls: jax.Array  # bool[8] (only decorative; lets mutate do something)


def _sample(key):
    k1, k2 = jax.random.split(key)
    return Line(jax.random.randint(k1, (), 1, 8, jnp.int32), jax.random.bernoulli(k2, 0.3, (8,)))


def _mutate(key, lvl):
    i = jax.random.randint(key, (), 0, 8)
    return lvl.replace(walls=lvl.walls.at[i].set(~lvl.walls[i]))


def _render(lvl):
    row = jnp.where(lvl.walls, 0, 255).astype(jnp.uint8)
    return jnp.broadcast_to(row[None, :, None], (1, 8, 3))


def make_line_space(**over):
    kw = dict(
        name="line",
        placeholder=_sample(jax.random.key(0)),
        sample=_sample,
        mutate=_mutate,
        is_valid=lambda lvl: (lvl.goal >= 1) & (lvl.goal < 8),
        render=_render,
        descriptor=lambda lvl: jnp.stack(
            [lvl.goal.astype(jnp.float32), lvl.walls.sum().astype(jnp.float32)]
        ),
    )
    kw.update(over)
    return ued.LevelSpace(**kw)


@struct.dataclass
class LineState:
    pos: jax.Array  # int32[]
    goal: jax.Array  # int32[]
    t: jax.Array  # int32[]


class LineEnv(ued.Environment):
    """Walk right (action 1) or stay (0) until the goal; time limit 6."""

    @property
    def default_params(self):
        return jnp.int32(6)

    def action_space(self, params=None):
        return ued.Discrete(2)

    def reset_to_level(self, key, level, params):
        s = LineState(jnp.int32(0), level.goal, jnp.int32(0))
        return s.pos.astype(jnp.float32)[None], s

    def step(self, key, state, action, params):
        pos = state.pos + action.astype(jnp.int32)
        t = state.t + 1
        term = pos >= state.goal
        trunc = (t >= params) & ~term
        s = LineState(pos, state.goal, t)
        return pos.astype(jnp.float32)[None], s, term.astype(jnp.float32), term, trunc, {}


def test_level_space_validates_fields():
    with pytest.raises(TypeError, match="name"):
        make_line_space(name="")
    with pytest.raises(TypeError, match="mutate"):
        make_line_space(mutate=3)
    with pytest.raises(TypeError, match="sample"):
        make_line_space(sample=None)


def test_kit_accepts_a_good_space_and_env():
    space = make_line_space()
    kit.check_level_space(space)
    kit.check_env(LineEnv(), space)


def test_kit_rejects_key_ignored():
    space = make_line_space(sample=lambda key: _sample(jax.random.key(0)))
    with pytest.raises(AssertionError, match="key dependence"):
        kit.check_level_space(space)


def test_kit_rejects_wrong_dtype_after_mutate():
    bad = make_line_space(mutate=lambda key, lvl: lvl.replace(goal=lvl.goal.astype(jnp.float32)))
    with pytest.raises(AssertionError, match="mutate shapes/dtypes"):
        kit.check_level_space(bad)


def test_kit_rejects_wrong_shape_and_render():
    bad = make_line_space(sample=lambda key: _sample(key).replace(walls=jnp.zeros((9,), bool)))
    with pytest.raises(AssertionError, match="sample shapes/dtypes"):
        kit.check_level_space(bad)
    bad_r = make_line_space(render=lambda lvl: jnp.zeros((4, 4, 3), jnp.float32))
    with pytest.raises(AssertionError, match="render"):
        kit.check_level_space(bad_r)


def test_kit_rejects_invalid_after_mutate():
    bad = make_line_space(mutate=lambda key, lvl: lvl.replace(goal=lvl.goal + 3))
    with pytest.raises(AssertionError, match="validity after mutate"):
        kit.check_level_space(bad)


def test_kit_rejects_env_with_bad_reward():
    class BadEnv(LineEnv):
        def step(self, key, state, action, params):
            o, s, r, te, tr, i = super().step(key, state, action, params)
            return o, s, jnp.stack([r, r]), te, tr, i

    with pytest.raises(AssertionError, match="reward"):
        kit.check_env(BadEnv(), make_line_space())


# --------------------------------------------------------------------------- wrappers
def _run(env, level, actions, key=None):
    key = jax.random.key(0) if key is None else key
    params = env.default_params
    obs, s = env.reset_to_level(key, level, params)

    def body(s, a_k):
        a, k = a_k
        o, s, r, te, tr, info = env.step(k, s, a, params)
        return s, (o, r, te, tr, info)

    keys = jax.random.split(key, len(actions))
    return jax.jit(lambda s, a, k: jax.lax.scan(body, s, (a, k)))(s, actions, keys)


def test_auto_replay_resets_to_the_same_level():
    level = Line(jnp.int32(2), jnp.zeros(8, bool))
    env = ued.EpisodeStats(ued.AutoReplay(LineEnv()))
    _, (obs, r, te, tr, info) = _run(env, level, jnp.ones(7, jnp.int32))
    # goal at 2 walking right every step: episodes end at steps 2, 4, 6 (index 1, 3, 5).
    np.testing.assert_array_equal(np.asarray(te), [0, 1, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(np.asarray(obs[:, 0]), [1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(np.asarray(info["returned_episode_length"])[te], [2, 2, 2])
    np.testing.assert_array_equal(np.asarray(info["returned_episode_return"])[te], [1, 1, 1])
    assert bool(jnp.all(info["returned_episode_solved"] == te))


def test_auto_replay_truncation_and_stats():
    level = Line(jnp.int32(7), jnp.zeros(8, bool))
    env = ued.EpisodeStats(ued.AutoReplay(LineEnv()))
    _, (obs, r, te, tr, info) = _run(env, level, jnp.zeros(13, jnp.int32))
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(tr)), [5, 11])
    assert not bool(jnp.any(te))
    np.testing.assert_array_equal(
        np.asarray(info["returned_episode_length"])[np.asarray(tr)], [6, 6]
    )
    assert not bool(jnp.any(info["returned_episode_solved"]))


def test_auto_reset_fresh_samples_new_levels():
    env = ued.AutoResetFresh(LineEnv(), _sample)
    level = Line(jnp.int32(1), jnp.zeros(8, bool))
    s_final, (obs, r, te, tr, info) = _run(env, level, jnp.ones(40, jnp.int32))
    assert int(te.sum()) >= 5
    # levels after resets come from the generator, so the goal changes at some point
    assert int(s_final.level.goal) != 1 or bool(jnp.any(s_final.level.walls))


def test_auto_reset_is_the_one_reset_rule_with_gymnax_info():
    from ued.wrappers import auto_reset

    def step_with(term, trunc):
        return lambda k: (jnp.float32(5.0), jnp.int32(7), jnp.float32(1.0), term, trunc, {"x": 1})

    reset = lambda k: (jnp.float32(-1.0), jnp.int32(0))  # noqa: E731
    k = jax.random.key(0)
    for term, trunc in ((False, False), (True, False), (False, True)):
        te, tr = jnp.asarray(term), jnp.asarray(trunc)
        obs, st, r, te2, tr2, info = auto_reset(k, k, step_with(te, tr), reset)
        done = term or trunc
        assert float(obs) == (-1.0 if done else 5.0) and int(st) == (0 if done else 7)
        assert float(r) == 1.0 and bool(te2) == term and bool(tr2) == trunc and info == {"x": 1}
        _, _, _, _, _, g = auto_reset(k, k, step_with(te, tr), reset, gymnax_info=True)
        assert set(g) == {"terminated", "truncated", "final_observation", "discount"}
        assert float(g["final_observation"]) == 5.0  # the observation before the reset
        assert float(g["discount"]) == (0.0 if term else 1.0)
    # the step and the reset get the keys they are given
    seen = []
    auto_reset(
        jax.random.key(1),
        jax.random.key(2),
        lambda kk: seen.append(kk) or step_with(te, tr)(kk),
        lambda kk: seen.append(kk) or reset(kk),
    )
    assert [int(jax.random.key_data(x)[-1]) for x in seen] == [1, 2]


def test_wrapper_accessors_unwrap_and_rewrap():
    base = LineEnv()
    env = ued.EpisodeStats(ued.AutoReplay(base))
    assert env.unwrapped is base and base.unwrapped is base
    level = Line(jnp.int32(5), jnp.zeros(8, bool))
    _, s = env.reset_to_level(jax.random.key(0), level, env.default_params)
    _, s = env.step(jax.random.key(1), s, jnp.int32(1), env.default_params)[:2]
    inner = env.base_state(s)
    assert isinstance(inner, LineState) and int(inner.pos) == 1
    assert base.base_state(inner) is inner
    # jittable under vmap (what rollouts record)
    states = jax.vmap(lambda _: s)(jnp.arange(3))
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.vmap(env.base_state))(states).pos), 1)

    class Faster(LineEnv):
        def step(self, key, state, action, params):
            return super().step(key, state, 2 * action, params)

    other = env.with_base_env(Faster())
    assert type(other) is type(env) and type(other.env) is type(env.env)
    assert isinstance(other.unwrapped, Faster) and env.unwrapped is base  # original untouched
    _, s2 = other.step(jax.random.key(1), s, jnp.int32(1), other.default_params)[:2]
    assert int(other.base_state(s2).pos) == 3  # the same wrapper states, the new dynamics
    fresh = ued.AutoResetFresh(base, _sample).with_base_env(Faster())
    assert fresh.sample_level is _sample and isinstance(fresh.env, Faster)


# --------------------------------------------------------------------------- gymnax levels
@pytest.fixture(scope="module")
def cartpole():
    from envs.gymnax_levels import make_gymnax_level_space

    return make_gymnax_level_space(
        "CartPole-v1", {"length": (0.2, 2.0), "masspole": (0.05, 1.0)}, solved_on="truncated"
    )


def test_gymnax_cartpole_conforms(cartpole):
    space, env = cartpole
    kit.check_level_space(space)
    kit.check_env(env, space)


def test_gymnax_level_sets_params(cartpole):
    space, env = cartpole
    lvl = space.sample(jax.random.key(3))
    _, s = env.reset_to_level(jax.random.key(0), lvl, env.default_params)
    np.testing.assert_allclose(float(s.env_params.length), float(lvl.values[0]), rtol=1e-6)
    np.testing.assert_allclose(float(s.env_params.masspole), float(lvl.values[1]), rtol=1e-6)
    # derived quantities follow the level, not the defaults
    np.testing.assert_allclose(
        float(s.env_params.polemass_length), float(lvl.values[0] * lvl.values[1]), rtol=1e-5
    )
    child = space.mutate(jax.random.key(1), lvl)
    assert int(jnp.sum(child.values != lvl.values)) == 1


def test_gymnax_bad_fields():
    from envs.gymnax_levels import make_gymnax_level_space

    with pytest.raises(ValueError, match="not a field"):
        make_gymnax_level_space("CartPole-v1", {"pole_len": (0.1, 1.0)})
    with pytest.raises(ValueError, match="low < high"):
        make_gymnax_level_space("CartPole-v1", {"length": (1.0, 0.5)})
