"""The trainer, rollouts, evaluation and the host loop on a tiny corridor env (tests/_corridor.py).

Shared compiled fixtures keep the suite short: one trainer, one jitted ``train`` (6 updates),
one jitted ``run`` chunk of 3 updates, one vmapped ``train``.
"""

from __future__ import annotations

import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _corridor import (  # noqa: E402
    CorridorEnv,
    N,
    corridor_space,
    make_alternating,
    make_probe,
    pvl_score,
)

from ued import CurriculumLevels  # noqa: E402
from ued.evaluation import make_evaluator  # noqa: E402
from ued.host import (  # noqa: E402
    CheckpointError,
    HostConfig,
    TrainingDiverged,
    list_checkpoints,
    load_latest_checkpoint,
    load_run,
    make_level_snapshot,
    read_state_dict,
    restore_state,
    run_training,
    save_checkpoint,
)
from ued.networks import ActorCritic, NetworkConfig, make_actor_critic  # noqa: E402
from ued.ppo import PPOConfig, PPOParams  # noqa: E402
from ued.train import TrainConfig, make_train  # noqa: E402

B, T, U = 4, 16, 6


def _leaves_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module")
def setup():
    env, space = CorridorEnv(), corridor_space()
    cfg = TrainConfig(
        num_envs=B,
        num_steps=T,
        num_updates=U,
        ppo=PPOConfig(num_epochs=2, num_minibatches=2),
    )
    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    tr = make_train(
        cfg,
        env,
        space,
        make_alternating(space, B),
        net,
        pvl_score,
        ppo_params=PPOParams(lr=3e-3, lr_anneal_updates=0),
    )
    return dict(
        env=env,
        space=space,
        tr=tr,
        train=jax.jit(tr.train),
        run=jax.jit(tr.run, static_argnums=1),
        init=jax.jit(tr.init),
    )


@pytest.fixture(scope="module")
def trained(setup):
    return setup["train"](jax.random.key(0))


def test_train_is_bitwise_deterministic(setup, trained):
    again = setup["train"](jax.random.key(0))
    _leaves_equal(trained, again)
    other = setup["train"](jax.random.key(1))
    assert not np.array_equal(
        np.asarray(trained[1]["rollout/return"]), np.asarray(other[1]["rollout/return"])
    ) or not np.array_equal(np.asarray(trained[1]["ppo/loss"]), np.asarray(other[1]["ppo/loss"]))


def test_metrics_branch_counts_and_skipped_updates(trained):
    state, m = trained
    assert int(state.update) == U
    np.testing.assert_array_equal(m["update"], np.arange(1, U + 1))
    # the alternating curriculum: new (no training) then replay (training)
    np.testing.assert_array_equal(m["branch/new"], [B, 0] * (U // 2))
    np.testing.assert_array_equal(m["branch/replay"], [0, B] * (U // 2))
    np.testing.assert_array_equal(m["trained"], [0, 1] * (U // 2))
    np.testing.assert_allclose(m["replay_fraction"], [0.0, 1.0] * (U // 2))
    # new-level updates skip the whole gradient step: zero loss and no student update counted
    np.testing.assert_array_equal(np.asarray(m["ppo/loss"])[::2], 0.0)
    assert np.all(np.asarray(m["ppo/grad_norm"])[1::2] > 0)
    assert int(state.student.num_updates) == U // 2
    assert np.all(np.asarray(m["nonfinite_loss"]) == 0)
    for k in (
        "level/shortest_path_length",
        "regret/true_replay",
        "score/replay",
        "rollout/finished_share",
        "cur/count",
        "rollout/solve_rate",
        "score/mean",
    ):
        assert k in m, k
    # trained levels' mean shortest path is defined only on trained updates
    assert np.all(np.isnan(np.asarray(m["level/shortest_path_length"])[::2]))
    assert np.all(np.isfinite(np.asarray(m["level/shortest_path_length"])[1::2]))


def test_vmap_over_seeds_matches_unbatched_runs(setup, trained):
    keys = jnp.stack([jax.random.key(0), jax.random.key(1)])
    sb, mb = jax.jit(jax.vmap(setup["tr"].train))(keys)
    s1, m1 = setup["train"](jax.random.key(1))
    for i, (s, m) in enumerate([trained, (s1, m1)]):
        for k in ("ppo/loss", "rollout/return", "branch/replay", "score/mean"):
            np.testing.assert_allclose(
                np.asarray(mb[k][i]), np.asarray(m[k]), rtol=1e-4, atol=1e-5, err_msg=k
            )
        for a, b in zip(
            jax.tree.leaves(sb.student.params), jax.tree.leaves(s.student.params), strict=True
        ):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_resume_in_chunks_equals_uninterrupted(setup, trained):
    st = setup["init"](jax.random.key(0))
    st, m_a = setup["run"](st, 3)
    st, m_b = setup["run"](st, 3)
    _leaves_equal(st, trained[0])
    for k in trained[1]:
        np.testing.assert_array_equal(
            np.concatenate([m_a[k], m_b[k]]), np.asarray(trained[1][k]), err_msg=k
        )


def test_train_under_scan_of_seeds(setup):
    # lax.scan over seeds (e.g. ES inner loops) runs the same pure train
    def body(c, k):
        s, m = setup["tr"].run(setup["tr"].init(k), 2)
        return c, m["rollout/num_episodes"]

    _, eps = jax.jit(lambda ks: jax.lax.scan(body, 0, ks))(
        jnp.stack([jax.random.key(3), jax.random.key(4)])
    )
    assert eps.shape == (2, 2)


def test_curriculum_evaluate_closure_probes_the_student(setup):
    env, space = setup["env"], setup["space"]
    cfg = TrainConfig(
        num_envs=B, num_steps=8, num_updates=2, evaluate_steps=24, ppo=PPOConfig(num_epochs=1)
    )
    tr = make_train(
        cfg,
        env,
        space,
        make_probe(space, B),
        make_actor_critic(NetworkConfig.small_ff(), 3),
        pvl_score,
    )
    _, m = jax.jit(tr.train)(jax.random.key(0))
    p = np.asarray(m["cur/probe_solve"])
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_array_equal(m["trained"], [1, 1])


def test_curriculum_step_hook_drives_training_rollouts(setup):
    """A curriculum's own hook (make_step_hook, called with the wrapped env) replaces the step
    of training rollouts, with each env's proposal slice; a second hook from the caller is an
    error."""
    env, space = setup["env"], setup["space"]
    seen = []

    def make_step_hook(wrapped):
        seen.append(wrapped)

        def hook(key, state, action, params, proposal_i):
            # every step ends an episode with reward 7 + the env's slot
            obs, s, _, _, trunc, info = wrapped.step(key, state, action, params)
            info = dict(info, returned_episode=jnp.asarray(True))
            info["returned_episode_return"] = 7.0 + proposal_i.slots.astype(jnp.float32)
            return obs, s, jnp.float32(7.0), jnp.asarray(True), trunc, info

        return hook

    cur = make_alternating(space, B)._replace(make_step_hook=make_step_hook)
    cfg = TrainConfig(num_envs=B, num_steps=4, num_updates=2, ppo=PPOConfig(num_epochs=1))
    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    tr = make_train(cfg, env, space, cur, net, pvl_score)
    assert len(seen) == 1 and seen[0] is tr.env and tr.step_hook is not None
    _, m = jax.jit(tr.train)(jax.random.key(0))
    # update 1 proposes new levels (slot -1), update 2 replays slots 0..B-1
    np.testing.assert_allclose(m["rollout/return"], [6.0, 7.0 + (B - 1) / 2])
    np.testing.assert_array_equal(m["rollout/num_episodes"], [B * 4, B * 4])
    with pytest.raises(ValueError, match="own step hook"):
        make_train(cfg, env, space, cur, net, pvl_score, step_hook=tr.step_hook)


def test_make_train_rejects_mismatched_student(setup):
    env, space = setup["env"], setup["space"]
    with pytest.raises(ValueError, match="actions"):
        make_train(
            TrainConfig(num_envs=2),
            env,
            space,
            make_alternating(space, 2),
            make_actor_critic(NetworkConfig.small_ff(), 5),
            pvl_score,
        )
    with pytest.raises(ValueError, match="num_minibatches"):
        TrainConfig(num_envs=3, ppo=PPOConfig(num_minibatches=2))
    with pytest.raises(ValueError, match="num_envs"):
        TrainConfig(num_envs=0)


# ----------------------------------------------------------------------------- evaluation


def _scripted(action: int) -> ActorCritic:
    """A parameter-free policy that always takes ``action``."""

    def apply(params, carry, obs, reset):
        t, b = reset.shape
        logits = jnp.full((t, b, 3), -1e9).at[..., action].set(0.0)
        return carry, logits, jnp.zeros((t, b))

    return ActorCritic(lambda k, o: {}, lambda b: (), apply, 3, False, NetworkConfig.small_ff())


def test_make_train_rejects_a_space_failing_the_kits_cheap_checks(setup):
    import dataclasses

    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    cfg = TrainConfig(num_envs=B, num_steps=T, num_updates=1)
    space = setup["space"]
    floaty = dataclasses.replace(
        space, name="floaty", sample=lambda k: space.sample(k).replace(goal=jnp.float32(3))
    )
    with pytest.raises(ValueError, match=r"make_train: level space 'floaty'.*\[sample shapes"):
        make_train(cfg, setup["env"], floaty, make_alternating(space, B), net, pvl_score)


def test_evaluator_golden_on_scripted_policies(setup):
    env, space = setup["env"], setup["space"]
    levels = jax.tree.map(
        lambda *x: jnp.stack(x), *[space.placeholder.replace(goal=jnp.int32(g)) for g in (1, 3, 7)]
    )
    right = jax.jit(make_evaluator(env, _scripted(1), num_attempts=3, max_steps=12))
    r = right(jax.random.key(0), {}, levels)
    np.testing.assert_array_equal(r.solve_rate, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(r.mean_length, [1.0, 3.0, 7.0])
    np.testing.assert_allclose(
        r.mean_return, [1 - 0.9 / 12, 1 - 0.9 * 3 / 12, 1 - 0.9 * 7 / 12], rtol=1e-6
    )
    left = jax.jit(make_evaluator(env, _scripted(0), num_attempts=2, max_steps=12))
    r = left(jax.random.key(0), {}, levels)
    np.testing.assert_array_equal(r.solve_rate, 0.0)
    np.testing.assert_array_equal(r.mean_length, 12.0)  # truncated at T = 12
    assert N == 8


# ----------------------------------------------------------------------------- host loop


def _with_levels(cur):
    """The alternating curriculum with a levels accessor (its B levels, all valid)."""
    return cur._replace(
        levels=lambda cs: CurriculumLevels(cs.levels, cs.max_return, jnp.ones(B, bool))
    )


def test_host_loop_resume_checkpoints_and_load_run(setup, trained, tmp_path):
    run_dir = tmp_path / "run"
    init = lambda: setup["init"](jax.random.key(0))
    cur = _with_levels(make_alternating(setup["space"], B))
    snapshot = make_level_snapshot(cur, setup["space"])
    host = HostConfig(
        num_updates=3, chunk_size=3, checkpoint_every=3, keep_checkpoints=2, progress=False
    )
    run_training(
        run_dir,
        init,
        setup["run"],
        host,
        env_steps_per_update=B * T,
        num_seeds=1,
        config={"name": "corridor"},
        snapshot=snapshot,
        write=lambda m: None,
    )
    host6 = HostConfig(
        num_updates=6, chunk_size=3, checkpoint_every=3, keep_checkpoints=2, progress=False
    )
    final = run_training(
        run_dir,
        init,
        setup["run"],
        host6,
        env_steps_per_update=B * T,
        num_seeds=1,
        config={},
        resume=True,
        snapshot=snapshot,
        write=lambda m: None,
    )
    _leaves_equal(final, trained[0])  # resumed == uninterrupted, bitwise
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == list(range(1, 7))
    assert rows[-1]["env_steps"] == 6 * B * T
    np.testing.assert_allclose([r["ppo/loss"] for r in rows], trained[1]["ppo/loss"], rtol=1e-6)
    assert [u for u, _ in list_checkpoints(run_dir)] == [3, 6]
    run = load_run(run_dir, curriculum=cur)
    assert run.config == {"format_version": 2, "name": "corridor"} and run.update == 6
    assert run.levels_source == "curriculum"
    np.testing.assert_array_equal(run.metrics["update"], np.arange(1, 7))
    np.testing.assert_array_equal(run.metrics["branch/replay"], [0, B] * 3)
    w = jax.tree.leaves(run.params)
    w_ref = jax.tree.leaves(trained[0].student.params)
    for a, b in zip(w, w_ref, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))
    goals = np.asarray(trained[0].curriculum.levels.goal)
    np.testing.assert_array_equal(run.buffer_levels.goal, goals)  # asked of the curriculum
    assert run.buffer_valid.all() and run.buffer_scores.shape == (B,)
    # without the curriculum: the newest level snapshot (one per evaluation, here only the
    # end: the snapshot at the old end, 3, goes when the run is extended past it)
    plain = load_run(run_dir)
    assert plain.levels_source == "snapshot 6" and [u for u, _ in plain.snapshots] == [6]
    np.testing.assert_array_equal(plain.buffer_levels["goal"], goals)
    snap = plain.level_snapshot(6)
    np.testing.assert_array_equal(snap["descriptors"][:, 0], goals.astype(np.float32))
    assert snap["descriptor_names"] == ["shortest_path_length"]
    # resuming to the same total does nothing and changes nothing
    run_training(
        run_dir,
        init,
        setup["run"],
        host6,
        env_steps_per_update=B * T,
        num_seeds=1,
        config={},
        resume=True,
        write=lambda m: None,
    )
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 6


def test_corrupted_checkpoint_rejected_and_previous_used(setup, trained, tmp_path):
    st0 = setup["init"](jax.random.key(0))
    save_checkpoint(tmp_path, 1, st0, keep=3)
    p2 = save_checkpoint(tmp_path, 2, trained[0], keep=3)
    data = bytearray(p2.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip a byte in the payload
    p2.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="ckpt_000000002.msgpack.*checksum"):
        read_state_dict(p2)
    warnings = []
    update, state, path = load_latest_checkpoint(tmp_path, st0, warn=warnings.append)
    assert update == 1 and path.name == "ckpt_000000001.msgpack"
    assert "ckpt_000000002.msgpack" in warnings[0]
    _leaves_equal(state, st0)
    # truncated file: also a clear error naming it
    p2.write_bytes(p2.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="ckpt_000000002.msgpack"):
        read_state_dict(p2)
    # a checkpoint of a different structure does not silently load
    with pytest.raises(CheckpointError, match="ckpt_000000001"):
        restore_state({"a": jnp.zeros(3)}, read_state_dict(path), path)
    # no pickle anywhere: the payload is msgpack behind a fixed magic header
    assert path.read_bytes()[:8] == b"OPENUED\x02"  # the run format 2 header


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    calls = []

    def init():
        return {"w": jnp.zeros(2)}

    def run(state, n):
        calls.append(n)
        bad = np.zeros(n, np.int32)
        if len(calls) == 2:
            bad[1] = 1
        new = {"w": state["w"] + (np.nan if len(calls) == 2 else 1.0)}
        return new, {"nonfinite_loss": bad, "ppo/loss": np.where(bad, np.nan, 0.5)}

    host = HostConfig(num_updates=9, chunk_size=3, checkpoint_every=3, progress=False)
    with pytest.raises(TrainingDiverged, match="update 5") as err:
        run_training(
            tmp_path,
            init,
            run,
            host,
            env_steps_per_update=1,
            num_seeds=1,
            config={},
            write=lambda m: None,
        )
    assert [u for u, _ in list_checkpoints(tmp_path)] == [0, 3]
    # the message names a checkpoint that exists and advises a resume the run layer allows
    newest = tmp_path / "checkpoints" / "ckpt_000000003.msgpack"
    assert err.value.checkpoint == newest and err.value.checkpoint_unit == 3
    assert str(newest) in str(err.value) and "at most 4 updates" in str(err.value)
    update, state, _ = load_latest_checkpoint(tmp_path, init())
    np.testing.assert_array_equal(state["w"], [1.0, 1.0])
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["update"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[-1]["ppo/loss"] is None  # NaN is written as null (strict JSON)
    assert "non-finite" in (tmp_path / "error.txt").read_text()


# ----------------------------------------------------------------------------- learning check


@pytest.mark.slow
def test_learning_robust_plr_and_dr_on_the_maze():
    """Robust PLR and DR at the published settings, 3 seeds each vmapped in one program.

    Budget: ``OPENUED_LEARNING_UPDATES`` updates per seed (default 400 = 3.3M env steps per
    seed, ~10M per method). Validation (100 fixed solvable levels) and prefab (the 8 standard
    mazes) solve rates per seed before training and at 8 points during it; robust PLR's final
    validation rate must exceed its initial one by more than the seed spread. With
    ``OPENUED_LEARNING_REPORT=path.json`` the curves are written there;
    ``OPENUED_LEARNING_PRESETS`` (comma-separated) runs a subset.
    """
    import time

    from experiments.kinds import ued as U
    from experiments.kinds.ued_report import eval_summary, make_eval_fn

    updates = int(os.environ.get("OPENUED_LEARNING_UPDATES", "400"))
    presets = os.environ.get("OPENUED_LEARNING_PRESETS", "maze-robust-plr,maze-dr").split(",")
    report = {"updates_per_seed": updates, "seeds": 3}
    for preset in presets:
        t0 = time.time()
        cfg = U.make_config(preset, dict(num_seeds=3, num_updates=updates, eval_attempts=4))
        exp = U.build_experiment(cfg)
        keys = jnp.stack([jax.random.key(i) for i in range(3)])
        init = jax.jit(jax.vmap(exp.trainer.init))
        run = jax.jit(jax.vmap(exp.trainer.run, in_axes=(0, None)), static_argnums=1)
        ev = make_eval_fn(exp, 3)
        ek = jax.random.key(123)
        st = init(keys)
        chunk = max(1, updates // 8)
        points, val, pre, steps = [0], [], [], []

        def record(st):
            s = eval_summary(ev(ek, st.student.params))
            val.append(np.asarray(s["validation_solve_rate"]).tolist())
            pre.append(np.asarray(s["prefab_solve_rate"]).tolist())

        record(st)
        trained = np.zeros(3)
        for _ in range(updates // chunk):
            st, m = run(st, chunk)
            trained = trained + np.asarray(m["trained"]).sum(1)  # (seeds, chunk)
            points.append(points[-1] + chunk)
            record(st)
        steps = [p * cfg.num_envs * cfg.num_steps for p in points]
        report[preset] = {
            "updates": points,
            "env_steps_per_seed": steps,
            "validation_solve_rate": val,  # (points, seeds)
            "prefab_solve_rate": pre,
            "student_updates_per_seed": trained.tolist(),
            "wall_s": time.time() - t0,
        }
        print(preset, "validation solve rate per seed:", np.round(val, 3).tolist())
        print(preset, "prefab solve rate per seed:", np.round(pre, 3).tolist())
    path = os.environ.get("OPENUED_LEARNING_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
    if "maze-robust-plr" in report:
        c = np.asarray(report["maze-robust-plr"]["validation_solve_rate"])
        spread = float(c[-1].max() - c[-1].min())
        assert c[-1].mean() - c[0].mean() > spread, report
