"""Sweeps in one program (``ued.sweep``): the grid and its lanes by hand, refusals of static
and unknown fields, and a 2 x 2 grid x 2 seeds of robust PLR against the 8 individual runs
(one compilation for the whole grid), through ``openued train --sweep`` too."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import cli
from experiments.kinds import ued as U
from ued.options import ConfigError
from ued.ppo_config import PPOParams
from ued.sweep import (
    lane_inputs,
    make_grid,
    parse_sweep,
    resolve_field,
    split_lane_rows,
    sweepable_fields,
)
from ued.train import TrainParams


def _params():
    from curricula.buffer import LevelSamplerParams

    return TrainParams(ppo=PPOParams(), curriculum=LevelSamplerParams(), env=None)


def test_parse_sweep():
    assert parse_sweep("lr=1e-4,3e-4") == ("lr", (1e-4, 3e-4))
    with pytest.raises(ConfigError, match=r"expected FIELD=v1,v2"):
        parse_sweep("lr")
    with pytest.raises(ConfigError, match=r"--sweep lr: 'x' is not a number"):
        parse_sweep("lr=1e-4,x")
    with pytest.raises(ConfigError, match="repeated values"):
        parse_sweep("lr=1,1")


def test_fields_are_found_by_short_and_qualified_name():
    f = sweepable_fields(_params())
    assert f["lr"] == ("ppo", "lr") and f["ppo.lr"] == ("ppo", "lr")
    assert f["staleness_coef"] == ("curriculum", "staleness_coef")
    assert resolve_field(_params(), "staleness-coef") == ("curriculum", "staleness_coef")


def test_static_and_unknown_fields_are_refused_naming_the_dynamic_ones():
    with pytest.raises(ConfigError, match=r"--sweep num_envs: a static field.*dynamic fields:.*lr"):
        resolve_field(_params(), "num_envs", static=["num_envs", "lr"])
    with pytest.raises(ConfigError, match=r"--sweep bogus: no such field; dynamic fields:"):
        resolve_field(_params(), "bogus")
    with pytest.raises(ConfigError, match="integer field"):
        make_grid(_params(), [("lr_anneal_updates", (10.0, 10.5))])
    with pytest.raises(ConfigError, match="at least two configurations"):
        make_grid(_params(), [("lr", (1e-4,))])


def test_grid_order_dtypes_and_lanes_by_hand():
    grid = make_grid(_params(), [("lr", (1e-4, 3e-4)), ("staleness_coef", (0.1, 0.3, 0.5))])
    assert [c["lr"] for c in grid.configs] == [1e-4] * 3 + [3e-4] * 3  # first sweep slowest
    assert [c["staleness_coef"] for c in grid.configs] == [0.1, 0.3, 0.5] * 2
    assert grid.params.ppo.lr.shape == (6,) and grid.params.ppo.lr.dtype == jnp.float32
    assert not jax.typeof(grid.params.ppo.gamma).weak_type
    np.testing.assert_array_equal(grid.params.ppo.gamma, np.full(6, 0.995, np.float32))
    keys = jax.vmap(jax.random.key)(jnp.arange(5, 7))
    lanes = lane_inputs(keys, grid)  # lane c * 2 + s = (config c, seed 5 + s)
    kd = np.asarray(jax.random.key_data(lanes.key))
    want = np.asarray(jax.random.key_data(keys))
    for lane in range(12):
        np.testing.assert_array_equal(kd[lane], want[lane % 2])
    np.testing.assert_allclose(lanes.params.curriculum.staleness_coef[::2], [0.1, 0.3, 0.5] * 2)
    np.testing.assert_allclose(lanes.params.ppo.lr[1::2], [1e-4] * 3 + [3e-4] * 3)


def test_split_lane_rows():
    rows = [{"update": 3, "score": [1, 2, 3, 4], "warnings": {"w": "x"}, "seedless": 7}]
    out = split_lane_rows(rows, [{"lr": 1.0}, {"lr": 2.0}], k=2)
    assert out == [
        {"update": 3, "score": [1, 2], "warnings": {"w": "x"}, "seedless": 7,
         "config_id": 0, "config": {"lr": 1.0}},
        {"update": 3, "score": [3, 4], "warnings": {"w": "x"}, "seedless": 7,
         "config_id": 1, "config": {"lr": 2.0}},
    ]  # fmt: skip
    one = split_lane_rows([{"update": 1, "score": [5, 6]}], [{"a": 0}, {"a": 1}], k=1)
    assert [r["score"] for r in one] == [5, 6]


TINY = dict(maze_size=5, n_walls=3, num_envs=4, num_steps=8, network="small-ff", chunk_size=1,
            eval_every=0, num_validation_levels=4, progress=False, plot=False, num_seeds=2,
            sweep=("lr=1e-4,1e-3", "staleness_coef=0.1,0.7"))  # fmt: skip
ARGV = ["--maze-size", "5", "--n-walls", "3", "--num-envs", "4", "--num-steps", "8",
        "--network", "small-ff", "--chunk-size", "1", "--eval-every", "0",
        "--num-validation-levels", "4", "--progress", "false", "--plot", "false",
        "--num-seeds", "2", "--sweep", "lr=1e-4,1e-3", "--sweep", "staleness_coef=0.1,0.7"]  # fmt: skip
UPDATES = 3


def _leaves(tree):
    out = []
    for x in jax.tree.leaves(tree):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        out.append(np.asarray(x))
    return out


def test_grid_equals_the_individual_runs_in_one_compilation(tmp_path):
    cfg = U.make_config("maze-plr", TINY)
    built = U.build(cfg)
    init, run = built.programs
    state, metrics = run(init(built.keys), UPDATES)
    assert run._cache_size() == 1 and init._cache_size() == 1  # one program for 8 lanes

    trainer = built.experiment.trainer
    one_init, one_run = jax.jit(trainer.init), jax.jit(trainer.run, static_argnums=1)
    for lane in range(8):
        params = jax.tree.map(lambda x, lane=lane: x[lane], built.keys.params)
        s1, m1 = one_run(one_init(built.keys.key[lane], params), UPDATES)
        lane_state = jax.tree.map(lambda x, lane=lane: x[lane], state)
        for a, b in zip(_leaves(lane_state), _leaves(s1), strict=True):
            if np.issubdtype(a.dtype, np.floating):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
            else:  # levels, buffer slots and scores' ages, counters, keys
                np.testing.assert_array_equal(a, b)
        for k in ("branch/new", "branch/replay", "cur/buffer/size"):
            np.testing.assert_array_equal(np.asarray(metrics[k])[lane], np.asarray(m1[k]))
    assert one_run._cache_size() == 1  # the 8 individual runs share one program too
    # the grid is not ignored: lanes 0 and 4 (seed 0, lr 1e-4 and 1e-3) train different students
    assert any(not np.allclose(w[0], w[4]) for w in _leaves(state.student.params))

    # the same grid from the command line: one metrics row per configuration per update
    out = tmp_path / "sweep"
    assert cli.main(["train", "maze-plr", *ARGV, "--num-updates", str(UPDATES),
                     "--out", str(out)]) == 0  # fmt: skip
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["update"], r["config_id"]) for r in rows] == [
        (u, c) for u in range(1, UPDATES + 1) for c in range(4)
    ]
    assert rows[-1]["config"] == {"lr": 1e-3, "staleness_coef": 0.7}
    last = [r for r in rows if r["update"] == UPDATES]
    for c, r in enumerate(last):
        np.testing.assert_allclose(r["score/mean"], np.asarray(metrics["score/mean"])[2 * c: 2 * c + 2, -1], rtol=1e-6)  # fmt: skip

    # eval ranks the configurations by their held-out solve rate, with n beside each interval
    assert cli.main(["eval", str(out)]) == 0
    rep = json.loads((out / "eval.json").read_text())["sweep"]
    assert rep["fields"] == ["lr", "staleness_coef"]
    means = {e["config_id"]: e["solve_rate"]["mean"] for e in rep["configs"]}
    assert sorted(rep["ranked"]) == [0, 1, 2, 3]
    assert [means[c] for c in rep["ranked"]] == sorted(means.values(), reverse=True)
    assert all(e["solve_rate"]["n"] == 2 and len(e["solve_rate"]["per_seed"]) == 2
               for e in rep["configs"])  # fmt: skip
    # plot draws every configuration's curves
    assert cli.main(["plot", str(out)]) == 0
    assert (out / "plots" / "sweep.png").stat().st_size > 0


def test_cli_refuses_sweeping_a_static_field(capsys):
    rc = cli.main(["train", "maze-plr", "--sweep", "num_envs=4,8", "--num-updates", "1",
                   "--progress", "false"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "--sweep num_envs: a static field" in err and "dynamic fields:" in err
    assert "staleness_coef" in err and "lr" in err
