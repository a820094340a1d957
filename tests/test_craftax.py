"""Craftax-Classic as a level space: the space and the env under the conformance kit, the
level against the package's own world generator, one-tile edits seen in the observation,
terminated (death) vs truncated (time limit), the solved signal, the options, the missing
package, and ``openued train craftax-*`` end to end.

Craftax compiles slowly on CPU (world generation ~10 s, a step ~30 s), so the compiled
functions are shared at module scope and most checks run on hand-built worlds (no generator).
"""

from __future__ import annotations

import pytest

pytest.importorskip("craftax", reason="Craftax tests need the extra: pip install 'openued[craftax]'")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import ued.testing  # noqa: E402
from envs import craftax as C  # noqa: E402
from experiments import cli  # noqa: E402
from ued.options import ConfigError  # noqa: E402
from ued.wrappers import EpisodeStats  # noqa: E402

CFG = C.CraftaxConfig(max_steps=20)
ENV = C.CraftaxEnv(CFG)
PARAMS = ENV.default_params
SPACE = C.make_craftax_space()
RESET = jax.jit(ENV.reset_to_level)
NOOP, LEFT, RIGHT, UP, DOWN = 0, 1, 2, 3, 4
MID = C.MAP_SIZE // 2


def grass_level(**tiles) -> C.CraftaxLevel:
    """All grass, agent at the centre; ``tiles``: ``name=[(row, col), ...]``."""
    m = np.full((C.MAP_SIZE, C.MAP_SIZE), C.B["grass"], np.uint8)
    for name, cells in tiles.items():
        for r, c in cells:
            m[r, c] = C.B[name]
    return C.CraftaxLevel(map=jnp.asarray(m), agent_pos=jnp.array([MID, MID], jnp.int32))


@pytest.fixture(scope="module")
def sampled():
    """Four generated worlds (one compiled, vmapped generator call)."""
    return jax.jit(SPACE.sample_batch, static_argnums=1)(jax.random.key(7), 4)


# ----------------------------------------------------------------------------- package facts


def test_named_constants_are_the_packages():
    from craftax.craftax_classic.constants import Achievement, BlockType
    from craftax.craftax_classic.envs.craftax_symbolic_env import (
        CraftaxClassicSymbolicEnvNoAutoReset,
    )

    assert C.BLOCK_NAMES == tuple(b.name.lower() for b in sorted(BlockType, key=lambda b: b.value))
    assert C.ACHIEVEMENTS == tuple(
        a.name.lower() for a in sorted(Achievement, key=lambda a: a.value)
    )
    pkg = CraftaxClassicSymbolicEnvNoAutoReset()
    assert pkg.observation_space(pkg.default_params).shape == (C.OBS_SIZE,)
    assert pkg.num_actions == C.N_ACTIONS == ENV.action_space().n


def test_reset_is_the_generators_world(sampled):
    """A sampled level, reset, is the package's generate_world state for the same key."""
    from craftax.craftax_classic.envs.craftax_state import EnvParams, StaticEnvParams
    from craftax.craftax_classic.world_gen import generate_world

    key = jax.random.split(jax.random.key(7), 4)[0]
    ref = jax.jit(lambda k: generate_world(k, EnvParams(), StaticEnvParams()))(key)
    level = jax.tree.map(lambda x: x[0], sampled)
    _, state = RESET(None, level, PARAMS)
    for (path, ours), theirs in zip(
        jax.tree_util.tree_leaves_with_path(state), jax.tree.leaves(ref), strict=True
    ):
        where = jax.tree_util.keystr(path)
        if where == ".state_rng":  # a typed key there, raw key data here (pixels' noise only)
            continue
        ours, theirs = np.asarray(ours), np.asarray(theirs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, where
        # light_level: the same formula, compiled in two programs (last-bit differences)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=where)


# ----------------------------------------------------------------------------- the space


def test_level_space_conformance():
    ued.testing.check_level_space(SPACE, n=4)
    assert SPACE.descriptor_names == C.DESCRIPTOR_NAMES


def test_mutate_keeps_levels_valid_and_edits_once(sampled):
    keys = jax.random.split(jax.random.key(3), 4 * 16).reshape(4, 16)

    def chain(ks, lv):
        def body(cur, k):
            nxt = C.mutate_level(k, cur)
            return nxt, (nxt, C.is_valid_level(nxt))

        return jax.lax.scan(body, lv, ks)[1]

    kids, valid = jax.jit(jax.vmap(chain))(keys, sampled)
    assert bool(jnp.all(valid))
    maps, pos = np.asarray(kids.map), np.asarray(kids.agent_pos)
    prev_maps = np.concatenate([np.asarray(sampled.map)[:, None], maps[:, :-1]], axis=1)
    prev_pos = np.concatenate([np.asarray(sampled.agent_pos)[:, None], pos[:, :-1]], axis=1)
    for i in range(4):
        for t in range(16):
            a, b = prev_maps[i, t], maps[i, t]
            changed = np.argwhere(a != b)
            moved = not np.array_equal(prev_pos[i, t], pos[i, t])
            assert not (moved and len(changed)), "one edit: a swap or a move, not both"
            assert len(changed) <= 2
            r, c = prev_pos[i, t]
            assert a[r, c] == b[r, c], "the agent's cell is never overwritten"
            if moved:
                assert max(abs(pos[i, t] - prev_pos[i, t])) <= C.EDIT_WINDOW // 2
            if len(changed) == 2:  # a swap keeps every block count
                np.testing.assert_array_equal(np.bincount(a.ravel(), minlength=17),
                                              np.bincount(b.ravel(), minlength=17))  # fmt: skip


def test_descriptor_and_render_of_a_hand_built_world():
    lv = grass_level(
        diamond=[(MID + 3, MID - 4), (0, 0)], iron=[(1, 1)], lava=[(2, 2), (2, 3)],
        water=[(5, 5)], tree=[(9, 9), (9, 10), (9, 11)],
    )  # fmt: skip
    d = np.asarray(C.level_descriptor(lv))
    # diamonds 2, iron 1, coal 0, trees 3, water 1, lava 2, stone 0; nearest diamond 3 + 4
    np.testing.assert_array_equal(d, [2, 1, 0, 3, 1, 2, 0, 7])
    none = np.asarray(C.level_descriptor(grass_level()))
    assert none[-1] == C.NO_DIAMOND_DISTANCE
    img = np.asarray(C.render_level(lv))
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    assert img[2 * MID, 2 * MID].tolist() == list(C.AGENT_RGB)
    assert img[0, 0].tolist() == C.BLOCK_RGB[C.B["diamond"]].tolist()
    assert img[127, 127].tolist() == C.BLOCK_RGB[C.B["grass"]].tolist()


def test_is_valid_refuses_bad_tiles_and_a_blocked_start():
    assert bool(C.is_valid_level(grass_level()))
    assert not bool(C.is_valid_level(grass_level(stone=[(MID, MID)])))
    assert not bool(C.is_valid_level(grass_level(lava=[(MID, MID)])))
    bad = grass_level()
    assert not bool(C.is_valid_level(bad.replace(map=bad.map.at[3, 3].set(1))))  # out of bounds
    assert not bool(C.is_valid_level(bad.replace(agent_pos=jnp.array([64, 0], jnp.int32))))


# ----------------------------------------------------------------------------- the env


def test_env_conformance_jit_vmap_scan_determinism():
    ued.testing.check_env(ENV, SPACE, n_envs=2, n_steps=4)


def _view_index(dr: int, dc: int, channel: int) -> int:
    # the symbolic view is 7 rows x 9 cols around the agent, 21 channels per cell
    return ((dr + 3) * 9 + (dc + 4)) * 21 + channel


def test_editing_one_tile_changes_the_observation_there_only():
    base = grass_level()
    obs, _ = RESET(None, base, PARAMS)
    near = grass_level(iron=[(MID - 2, MID + 3)])
    obs_near, _ = RESET(None, near, PARAMS)
    diff = np.flatnonzero(np.asarray(obs) != np.asarray(obs_near))
    want = sorted([_view_index(-2, 3, C.B["grass"]), _view_index(-2, 3, C.B["iron"])])
    assert diff.tolist() == want
    far = grass_level(iron=[(MID + 4, MID)], diamond=[(0, 0)])  # outside the 7x9 view
    obs_far, _ = RESET(None, far, PARAMS)
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(obs_far))


def test_reset_ignores_its_key_and_the_same_level_starts_the_same():
    lv = grass_level(tree=[(MID, MID + 1)])
    a = RESET(jax.random.key(1), lv, PARAMS)
    b = RESET(jax.random.key(2), lv, PARAMS)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_death_terminates_the_time_limit_truncates_and_solved_is_read_at_the_end():
    """Through EpisodeStats (what the toolkit's solve rate reads), one compiled step."""
    env = EpisodeStats(ENV)
    reset, step = jax.jit(env.reset_to_level), jax.jit(env.step)
    # lava left of the agent: walking into it is death
    _, s = reset(None, grass_level(lava=[(MID, MID - 1)]), PARAMS)
    _, s1, r, term, trunc, info = step(jax.random.key(0), s, LEFT, PARAMS)
    assert s1.env_state.player_position.tolist() == [MID, MID - 1]
    assert bool(term) and not bool(trunc) and not bool(info["returned_episode_solved"])
    # health at 0 is death too
    dead = s.replace(env_state=s.env_state.replace(player_health=jnp.int32(0)))
    _, _, _, term, trunc, _ = step(jax.random.key(0), dead, NOOP, PARAMS)
    assert bool(term) and not bool(trunc)
    # a forced time limit of 3 steps: truncated on the third step, never terminated
    short = PARAMS.replace(max_timesteps=3)
    _, s3 = reset(None, grass_level(), short)
    flags = []
    for t in range(3):
        _, s3, _, term, trunc, info = step(jax.random.key(t), s3, NOOP, short)
        flags.append((bool(term), bool(trunc), bool(info["returned_episode"])))
    assert flags == [(False, False, False), (False, False, False), (False, True, True)]
    # Craftax's own done merges both
    from craftax.craftax_classic.game_logic import is_game_over

    assert bool(is_game_over(s3.env_state, short))
    # solved: the chosen achievement unlocked, read on the step the episode ends
    i = C.ACHIEVEMENTS.index(CFG.solve_achievement)
    got = s.replace(env_state=s.env_state.replace(
        achievements=s.env_state.achievements.at[i].set(True)))  # fmt: skip
    _, _, _, _, _, info = step(jax.random.key(0), got, NOOP, PARAMS)
    assert bool(info["solved"]) and not bool(info["returned_episode_solved"])  # still running
    _, _, _, term, _, info = step(jax.random.key(0), got, LEFT, PARAMS)
    assert bool(term) and bool(info["returned_episode_solved"])


# ----------------------------------------------------------------------------- options, CLI


def test_config_and_options_refuse_bad_values(capsys):
    with pytest.raises(ValueError, match=r"CraftaxConfig.max_steps must be in \[1, "):
        C.CraftaxConfig(max_steps=0)
    with pytest.raises(ValueError, match="CraftaxConfig.solve_achievement must be one of"):
        C.CraftaxConfig(solve_achievement="fly")
    assert cli.main(["train", "craftax-dr", "--craftax-max-steps", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--craftax-max-steps" in err[0], err


def test_presets_carry_jaxueds_craftax_settings():
    from experiments.kinds import ued as U

    cfg = U.make_config("craftax-robust-plr")
    assert (cfg.network, cfg.num_envs, cfg.num_steps, cfg.lr) == ("mlp-512", 64, 64, 1e-4)
    assert (cfg.gamma, cfg.gae_lambda, cfg.num_epochs, cfg.num_minibatches) == (0.995, 0.9, 5, 2)
    assert (cfg.ent_coef, cfg.max_grad_norm, cfg.buffer_capacity, cfg.replay_prob) == (
        0.01, 1.0, 4000, 0.5)  # fmt: skip
    assert (cfg.temperature, cfg.craftax_max_steps, cfg.craftax_validation_levels) == (
        1.0, 10_000, 64)  # fmt: skip
    # levels held for 64 rollouts of 64 steps, 256 level changes, lr decay over their updates
    assert (cfg.hold_updates, cfg.num_updates, cfg.lr_anneal_updates) == (64, 256, 256 * 64)
    assert U.make_config("craftax-accel").num_edits == 30
    assert U.make_config("craftax-sfl").score == "learnability"
    assert U.make_config("craftax-dr").curriculum == "dr"


def test_build_without_the_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "craftax.craftax_classic.constants", None)
    opts = SimpleNamespace(
        craftax_max_steps=10, craftax_solve_achievement="collect_wood", craftax_validation_levels=0
    )
    with pytest.raises(ConfigError) as e:
        C.build(opts)
    msg = str(e.value)
    assert "\n" not in msg and "pip install 'openued[craftax]'" in msg


def test_module_imports_and_lists_its_presets_without_the_package(tmp_path):
    """With ``craftax`` unimportable, ``openued train --help`` lists the presets and training
    one is a one-line usage error naming the extra."""
    code = (
        "import sys; sys.modules['craftax'] = None\n"
        "from experiments import cli\n"
        "rc = cli.main(['train', '--help'])\n"
        f"rc2 = cli.main(['train', 'craftax-dr', '--out', {str(tmp_path / 'r')!r}])\n"
        "print('RC', rc, rc2)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert "RC 0 2" in out.stdout, out.stderr[-2000:]
    for preset in ("craftax-dr", "craftax-robust-plr", "craftax-sfl"):
        assert preset in out.stdout
    err = [x for x in out.stderr.splitlines() if x.startswith("openued: error:")]
    assert len(err) == 1 and "pip install 'openued[craftax]'" in err[0], out.stderr[-2000:]


TINY = [
    "--num-envs", "4", "--num-steps", "16", "--num-updates", "2", "--chunk-size", "2",
    "--hold-updates", "1",
    "--network", "small-ff", "--num-minibatches", "1", "--num-epochs", "1",
    "--craftax-max-steps", "16", "--craftax-validation-levels", "4", "--eval-attempts", "1",
    "--eval-every", "0", "--progress", "false", "--plot", "false",
]  # fmt: skip


# Each run traces Craftax's step three times (training and evaluation rollouts), ~40 s with a
# warm compile cache on the shared 2-core CPU and minutes cold, over the module's default-suite
# budget: every preset runs with -m slow.
@pytest.mark.slow
@pytest.mark.parametrize(
    "preset,extra",
    [
        ("craftax-dr", []),
        ("craftax-robust-plr", ["--buffer-capacity", "8"]),
        ("craftax-sfl", ["--sfl-num-sample", "8", "--sfl-num-keep", "4", "--sfl-refresh-every", "1"]),
    ],
)
def test_cli_train_then_eval(preset, extra, tmp_path, capsys):
    run_dir = tmp_path / preset
    assert cli.main(["train", preset, *TINY, *extra, "--out", str(run_dir)]) == 0
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2]
    assert "level/diamond_distance" in rows[-1]
    capsys.readouterr()
    assert cli.main(["eval", str(run_dir)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(res["solve_rate"]) == {f"validation-{i}" for i in range(4)}
    assert 0.0 <= res["mean_solve_rate"] <= 1.0
