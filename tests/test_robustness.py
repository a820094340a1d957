"""The alpha-CVaR of the win rate (``ued.robustness``, SFL's protocol): the statistic against
hand-computed values and a NumPy reference, its rounding rule and refusals, the two-key
selection on levels whose worst are known, the evaluator under jit / vmap / determinism, the
``eval.json`` report, and ``openued eval --sample-levels --cvar`` / ``plot --compare`` end to end
on the tiniest maze run."""

from __future__ import annotations

import json
import math
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

import ued
from experiments import cli
from experiments.figures import cvar_markdown, load_cvar
from experiments.report import cvar_report
from ued.robustness import (
    check_alpha,
    cvar,
    make_cvar_evaluator,
    two_key_cvar,
    worst_count,
    worst_order,
)

# ten levels' win rates with ties (three at 0.5); sorted: 0, .1, .2, .3, .5, .5, .5, .7, .9, 1
RATES = np.array([0.0, 1.0, 0.5, 0.5, 0.2, 0.9, 0.5, 0.1, 0.3, 0.7], np.float32)
HAND = {
    0.1: 0.0,  # ceil(1.0) = 1 level: 0
    0.25: (0.0 + 0.1 + 0.2) / 3,  # ceil(2.5) = 3 levels: 0.3 / 3 = 0.1
    0.35: (0.0 + 0.1 + 0.2 + 0.3) / 4,  # ceil(3.5) = 4: 0.6 / 4 = 0.15
    0.5: (0.0 + 0.1 + 0.2 + 0.3 + 0.5) / 5,  # 5 levels: 1.1 / 5 = 0.22
    0.6: (1.1 + 0.5) / 6,  # 6 levels, one of the tied 0.5s: 1.6 / 6
    1.0: 4.7 / 10,  # every level: the mean, 4.7 / 10 = 0.47
}


def _numpy_cvar(r, alpha):
    return float(np.sort(np.asarray(r, np.float64))[: math.ceil(round(alpha * len(r), 9))].mean())


@pytest.mark.parametrize("alpha", sorted(HAND))
def test_cvar_hand_values_and_numpy(alpha):
    got = float(jax.jit(lambda r: cvar(r, alpha))(jnp.asarray(RATES)))
    assert got == pytest.approx(HAND[alpha], abs=1e-6)
    assert got == pytest.approx(_numpy_cvar(RATES, alpha), abs=1e-6)


def test_alpha_one_is_the_mean_and_ties_do_not_matter():
    r = np.random.default_rng(0).integers(0, 5, 37).astype(np.float32) / 4  # many ties
    assert float(cvar(r, 1.0)) == pytest.approx(float(r.mean()), abs=1e-6)
    for a in (0.05, 0.3, 0.77):
        assert float(cvar(r, a)) == pytest.approx(_numpy_cvar(r, a), abs=1e-6)
        # permuting the levels (so ties fall in another order) changes nothing
        assert float(cvar(r[::-1], a)) == pytest.approx(float(cvar(r, a)), abs=1e-6)


def test_rounding_rule_is_ceil_of_the_decimal_product():
    assert worst_count(100, 0.07) == 7  # 0.07 * 100 = 7.000000000000001 in binary floats
    assert worst_count(10, 0.35) == 4  # ceil(3.5)
    assert worst_count(16, 0.1) == 2  # ceil(1.6)
    assert worst_count(16, 0.001) == 1  # at least one level for any alpha > 0
    assert worst_count(10_000, 0.0001) == 1  # SFL's 0.01% of 10k
    assert worst_count(3, 1.0) == 3


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.0001, 2, math.nan, math.inf, True, "0.5", None])
def test_bad_alpha_is_refused(bad):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        check_alpha(bad)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        cvar(RATES, bad)


def test_bad_shapes_and_counts_are_refused():
    with pytest.raises(ValueError, match="N >= 1"):
        cvar(jnp.zeros((0,)), 0.5)
    with pytest.raises(ValueError, match=">= 1"):
        worst_count(0, 0.5)
    with pytest.raises(ValueError, match="float32"):
        two_key_cvar(jnp.zeros(4), jnp.zeros(5), (0.5,))
    with pytest.raises(ValueError, match="at least one alpha"):
        two_key_cvar(jnp.zeros(4), jnp.zeros(4), ())
    with pytest.raises(TypeError, match="static"):
        jax.jit(lambda a: cvar(RATES, a))(0.5)


def test_two_key_selection_on_known_worst_levels():
    # the selecting rollouts rank level 3 (0.0) then 1 (0.1), 7 (0.2), 4 (0.5) as the worst;
    # the scoring rollouts give those levels other rates
    select = jnp.asarray([0.9, 0.1, 0.8, 0.0, 0.5, 0.6, 0.7, 0.2])
    score = jnp.asarray([0.3, 0.6, 0.2, 0.4, 1.0, 0.0, 0.5, 0.9])
    res = jax.jit(lambda a, b: two_key_cvar(a, b, (0.25, 0.5, 1.0)))(select, score)
    assert res.num_worst == (2, 4, 8) and res.alphas == (0.25, 0.5, 1.0)
    # 0.25: levels 3, 1 -> (0.4 + 0.6) / 2 = 0.5; their selecting rates (0.0 + 0.1) / 2 = 0.05
    # 0.5: levels 3, 1, 7, 4 -> (0.4 + 0.6 + 0.9 + 1.0) / 4 = 0.725; biased 0.8 / 4 = 0.2
    # 1.0: the scoring mean 3.9 / 8 = 0.4875 (= res.mean); biased: the selecting mean 3.8 / 8
    np.testing.assert_allclose(res.cvar, [0.5, 0.725, 0.4875], atol=1e-6)
    np.testing.assert_allclose(res.biased_cvar, [0.05, 0.2, 0.475], atol=1e-6)
    assert float(res.cvar[-1]) == float(res.mean)  # alpha = 1 is the mean, bit for bit
    assert float(res.selection_mean) == pytest.approx(0.475, abs=1e-6)
    # not the CVaR of the scoring rates themselves (levels 5, 2: (0.0 + 0.2) / 2 = 0.1)
    assert float(cvar(score, 0.25)) == pytest.approx(0.1, abs=1e-6)


def test_ties_in_the_selection_keep_the_sampling_order():
    select = jnp.asarray([0.5, 0.0, 0.5, 0.5])
    score = jnp.asarray([0.2, 0.4, 0.6, 0.8])
    np.testing.assert_array_equal(worst_order(select), [1, 0, 2, 3])
    # alpha 0.5: levels 1 and 0 (the first of the tied three) -> (0.4 + 0.2) / 2 = 0.3
    assert float(two_key_cvar(select, score, (0.5,)).cvar[0]) == pytest.approx(0.3, abs=1e-6)


# ----------------------------------------------------------------------------- the evaluator


@struct.dataclass
class Hard:
    difficulty: jax.Array  # float32[] in [0, 1): the student wins with prob 1 - difficulty


def _space():
    sample = lambda k: Hard(jax.random.uniform(k, (), jnp.float32))
    return ued.LevelSpace(name="hard", placeholder=sample(jax.random.key(0)), sample=sample)


@struct.dataclass
class FakeResult:
    solve_rate: jax.Array  # float32[N], as ued.evaluation.EvalResult's


def fake_evaluate(key, params, levels):
    """A student's per-level win rate: ``params * (1 - difficulty)`` plus key-dependent noise
    (so the two keys' rollouts differ)."""
    noise = 0.2 * (jax.random.uniform(key, levels.difficulty.shape) - 0.5)
    return FakeResult(jnp.clip(params * (1.0 - levels.difficulty) + noise, 0.0, 1.0))


def test_evaluator_selects_with_key_one_and_scores_with_key_two():
    alphas = (0.1, 0.5, 1.0)
    fn = jax.jit(make_cvar_evaluator(fake_evaluate, _space(), 20, alphas))
    key = jax.random.key(3)
    res = fn(key, jnp.float32(1.0))
    # the evaluator's documented keys: split into levels, selecting and scoring keys
    k_lv, k1, k2 = jax.random.split(key, 3)
    levels = _space().sample_batch(k_lv, 20)
    r1 = np.asarray(fake_evaluate(k1, 1.0, levels).solve_rate)
    r2 = np.asarray(fake_evaluate(k2, 1.0, levels).solve_rate)
    assert not np.allclose(r1, r2)  # two independent sets of rollouts
    np.testing.assert_array_equal(res.select_rate, r1)
    np.testing.assert_array_equal(res.score_rate, r2)
    order = np.argsort(r1, kind="stable")
    for i, k in enumerate((2, 10, 20)):
        assert res.num_worst[i] == k
        assert float(res.cvar[i]) == pytest.approx(float(r2[order[:k]].mean()), abs=1e-6)
        assert float(res.biased_cvar[i]) == pytest.approx(float(r1[order[:k]].mean()), abs=1e-6)
    # the worst by key 1 are the hardest levels (noise 0.1 < the spread of difficulties)
    hardest = set(np.argsort(-np.asarray(levels.difficulty))[:2].tolist())
    assert len(hardest & set(order[:2].tolist())) >= 1
    assert float(res.biased_cvar[0]) <= float(res.cvar[0]) + 0.2  # selection bias, bounded
    assert float(res.cvar[-1]) == float(res.mean)


def test_evaluator_vmaps_over_seeds_and_is_deterministic():
    fn = make_cvar_evaluator(fake_evaluate, _space(), 12, (0.25, 1.0))
    params = jnp.asarray([1.0, 0.5, 0.0], jnp.float32)  # three seeds' students
    batched = jax.jit(jax.vmap(fn, in_axes=(None, 0)))
    a = batched(jax.random.key(0), params)
    b = batched(jax.random.key(0), params)
    assert a.cvar.shape == (3, 2) and a.mean.shape == (3,) and a.num_worst == (3, 12)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))  # bitwise the same
    single = jax.jit(fn)(jax.random.key(0), params[1])
    np.testing.assert_allclose(a.cvar[1], single.cvar, atol=1e-6)
    assert float(a.mean[0]) > float(a.mean[2])  # the better student wins more
    # under lax.scan over keys as well
    _, seq = jax.lax.scan(lambda c, k: (c, fn(k, params[0]).cvar), 0, jax.random.split(
        jax.random.key(1), 2))  # fmt: skip
    assert seq.shape == (2, 2)
    with pytest.raises(ValueError, match="num_levels"):
        make_cvar_evaluator(fake_evaluate, _space(), 0, (0.5,))
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        make_cvar_evaluator(fake_evaluate, _space(), 4, (0.5, 0.0))


def test_report_intervals_over_seeds():
    one = two_key_cvar(jnp.asarray([0.0, 1.0, 0.5, 0.5]), jnp.asarray([0.2, 1.0, 0.6, 0.4]),
                       (0.5, 1.0))  # fmt: skip
    rep = cvar_report(one, space="s", num_attempts=10, greedy=False, seed=0)
    w = rep["by_alpha"][0]["win_rate"]
    # alpha 0.5: levels 0, 2 -> (0.2 + 0.6) / 2 = 0.4; one seed: no interval, n = 1
    assert w["mean"] == pytest.approx(0.4, abs=1e-6) and w["ci95"] == [None, None]
    assert w["n"] == 1 and rep["num_seeds"] == 1 and rep["alphas"] == [0.5, 1.0]
    assert rep["by_alpha"][1]["win_rate"]["mean"] == rep["mean_win_rate"]["mean"]
    three = jax.tree.map(lambda *x: jnp.stack(x), one, one.replace(cvar=one.cvar * 0.5),
                         one.replace(cvar=jnp.ones(2)))  # fmt: skip
    rep3 = cvar_report(three, space="s", num_attempts=10, greedy=False, seed=0)
    w3 = rep3["by_alpha"][1]["win_rate"]  # alpha 1: per seed 0.55, 0.275, 1.0
    assert w3["n"] == 3 and w3["per_seed"] == pytest.approx([0.55, 0.275, 1.0], abs=1e-6)
    assert 0.0 <= w3["ci95"][0] < w3["mean"] < w3["ci95"][1] == 1.0  # clipped to [0, 1]
    assert "n=3" in cvar_markdown({"run": rep3}) and "no interval" in cvar_markdown({"r": rep})


# ----------------------------------------------------------------------------- the CLI

TINY = [
    "--num-envs", "2", "--num-steps", "4", "--maze-size", "5", "--n-walls", "2",
    "--network", "small-ff", "--max-episode-steps", "4", "--num-validation-levels", "2",
    "--eval-attempts", "1", "--eval-every", "0", "--num-epochs", "1",
    "--progress", "false", "--plot", "false", "--num-updates", "2", "--chunk-size", "2",
]  # fmt: skip


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("openued: error: ") and "Traceback" not in err[0]
    return err[0]


def test_cli_eval_sample_levels_cvar_and_compare(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "maze-dr", *TINY, "--score", "mna", "--out", str(run)]) == 0
    argv = ["eval", str(run), "--sample-levels", "16", "--cvar", "0.1", "0.5", "1.0"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "CVaR on 16 levels of maze/5x5-9walls-solvable" in out and "n=1 seed" in out
    res = json.loads((run / "eval.json").read_text())
    assert json.loads(out.strip().splitlines()[-1]) == res
    # the held-out keys are still there; the CVaR is one added key
    assert {"validation", "mean_solve_rate", "headline", "cvar"} <= set(res)
    c = res["cvar"]
    assert c["num_levels"] == 16 and c["alphas"] == [0.1, 0.5, 1.0] and c["num_seeds"] == 1
    assert [e["num_worst"] for e in c["by_alpha"]] == [2, 8, 16]
    assert c["space"] == "maze/5x5-9walls-solvable"  # SFL's density: round(60 * 25 / 169) = 9
    for e in c["by_alpha"]:
        assert 0.0 <= e["win_rate"]["mean"] <= 1.0 and e["win_rate"]["ci95"] == [None, None]
        assert e["win_rate"]["n"] == 1
    assert c["by_alpha"][-1]["win_rate"]["mean"] == c["mean_win_rate"]["mean"]  # alpha = 1
    # two runs side by side: the CVaR table in compare.md and cvar.png
    shutil.copytree(run, tmp_path / "run2")
    cmp_dir = tmp_path / "cmp"
    assert cli.main(["plot", str(run), str(tmp_path / "run2"), "--compare", "--out",
                     str(cmp_dir)]) == 0  # fmt: skip
    md = (cmp_dir / "compare.md").read_text()
    assert "worst 10%" in md and "worst 100%" in md and "n=1" in md
    assert (cmp_dir / "cvar.png").stat().st_size > 5000
    assert set(json.loads((cmp_dir / "compare.json").read_text())["cvar"]) == {
        "maze-dr (run)",
        "maze-dr (run2)",
    }  # labels: preset (dir name)
    assert load_cvar(run)["num_levels"] == 16
    # the mistakes, each one line naming the flag and the range
    capsys.readouterr()
    for bad, needle in [
        (["--sample-levels", "4", "--cvar", "0"], "--cvar: invalid value '0'"),
        (["--sample-levels", "4", "--cvar", "0.5", "1.5"], "--cvar: invalid value"),
        (["--sample-levels", "0"], "--sample-levels: invalid value '0'"),
        (["--cvar", "0.5"], "--cvar: takes effect with --sample-levels"),
    ]:
        assert cli.main(["eval", str(run), *bad]) == 2, bad
        line = _one_line(capsys)
        assert needle in line, line
        if "--cvar: invalid" in needle:
            assert "numbers in (0, 1]" in line, line
        if "--sample-levels: invalid" in needle:
            assert "an integer >= 1" in line, line
