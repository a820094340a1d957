"""The conformance kit's no-retrace check (``chex.assert_max_traces`` under ``ued.testing``)."""

import functools
import itertools

import jax
import jax.numpy as jnp
import pytest
from flax import struct

import ued
import ued.testing as kit


@struct.dataclass
class Line:
    walls: jax.Array  # bool[8]
    goal: jax.Array  # int32[]


def _sample(key):
    kw, kg = jax.random.split(key)
    return Line(jax.random.bernoulli(kw, 0.3, (8,)), jax.random.randint(kg, (), 1, 8))


def _mutate(key, lvl):
    i = jax.random.randint(key, (), 0, 8)
    return lvl.replace(walls=lvl.walls.at[i].set(~lvl.walls[i]))


def _space(**over):
    kw = dict(name="line", placeholder=_sample(jax.random.key(0)), sample=_sample, mutate=_mutate)
    kw.update(over)
    return ued.LevelSpace(**kw)


@pytest.fixture
def restore_rank_promotion():
    old = jax.config.jax_numpy_rank_promotion
    yield
    jax.config.update("jax_numpy_rank_promotion", old)


def test_sample_that_retraces_on_every_call_is_rejected(restore_rank_promotion):
    # A Python-side side effect that changes JAX's trace context: every trace sets a config value
    # different from the one it was traced under, so the next call with the same key misses the
    # cache and traces again. (A closure over a changing Python counter does not retrace: jit
    # caches by function and argument types and never sees the closure.)
    old = jax.config.jax_numpy_rank_promotion
    modes = itertools.cycle([m for m in ("warn", "raise", "allow") if m != old] + [old])

    def sample(key):
        jax.config.update("jax_numpy_rank_promotion", next(modes))
        return _sample(key)

    with pytest.raises(AssertionError, match=r"\[no retrace\] jit\(sample\) was traced again") as e:
        kit.check_level_space(_space(sample=sample))
    assert "same shape and dtype" in str(e.value) and "trace context" in str(e.value)


def test_kit_can_check_the_same_space_and_env_twice():
    # chex counts traces in one process-wide table keyed by where the wrapper is made; the kit
    # clears it per check, so checking twice from the same place (or a loop over spaces built by
    # one factory) is not a retrace.
    space = _space()
    for _ in range(2):
        kit.check_level_space(space)
        kit.check_level_space(_space(sample=lambda key: _sample(key)))
        kit.check_env(WalkEnv(), space)


def test_kit_accepts_jitted_and_partial_functions():
    # chex.assert_max_traces refuses jitted functions and needs source code; the kit wraps first.
    kit.check_level_space(_space(sample=jax.jit(_sample), mutate=functools.partial(_mutate)))


def test_user_assertions_inside_sample_are_not_reported_as_retraces():
    def sample(key):
        raise AssertionError("my own check")

    with pytest.raises(AssertionError, match="my own check"):
        kit.check_level_space(_space(sample=sample))


@struct.dataclass
class Pos:
    pos: jax.Array  # int32[]
    goal: jax.Array  # int32[]


class WalkEnv(ued.Environment):
    """Walk right (action 1) or stay (0) until the goal."""

    @property
    def default_params(self):
        return jnp.int32(6)

    def action_space(self, params=None):
        return ued.Discrete(2)

    def reset_to_level(self, key, level, params):
        return jnp.zeros((1,), jnp.float32), Pos(jnp.int32(0), level.goal)

    def step(self, key, state, action, params):
        s = Pos(state.pos + action.astype(jnp.int32), state.goal)
        term = s.pos >= s.goal
        return s.pos.astype(jnp.float32)[None], s, term.astype(jnp.float32), term, ~term & term, {}


def test_env_step_that_retraces_is_rejected(restore_rank_promotion):
    old = jax.config.jax_numpy_rank_promotion
    modes = itertools.cycle([m for m in ("warn", "raise", "allow") if m != old] + [old])

    class Retracing(WalkEnv):
        def step(self, key, state, action, params):
            jax.config.update("jax_numpy_rank_promotion", next(modes))
            return super().step(key, state, action, params)

    kit.check_env(WalkEnv(), _space())
    with pytest.raises(AssertionError, match=r"\[no retrace\] jit\(step\) was traced again"):
        kit.check_env(Retracing(), _space())
