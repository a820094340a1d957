"""The one statistics module (``ued.stats``): Student-t intervals (golden numbers against the
formula), seed records with their n, and the old import paths resolving to the same functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from ued import stats


def test_t_interval_golden():
    lo, hi = stats.t_interval([0.1, 0.2, 0.3, np.nan])
    half = sps.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)  # t_{0.975, 2} = 4.3027
    assert (lo, hi) == pytest.approx((0.2 - half, 0.2 + half), rel=1e-12)
    assert half == pytest.approx(4.3027 * 0.1 / math.sqrt(3), rel=1e-4)
    lo90, hi90 = stats.t_interval([0.1, 0.2, 0.3], confidence=0.9)
    assert lo < lo90 < 0.2 < hi90 < hi
    assert all(math.isnan(x) for x in stats.t_interval([0.5]))
    assert stats.t_interval([0.5, 0.5]) == (0.5, 0.5)


def test_seed_interval_is_the_t_interval_with_its_n():
    v = [0.3, 0.1, np.nan, 0.45, 0.2]
    r = stats.seed_interval(v)
    assert r["n"] == 4 and r["per_seed"][2] is None and r["per_seed"][0] == 0.3
    assert r["mean"] == pytest.approx(np.nanmean(v))
    assert tuple(r["ci95"]) == stats.t_interval(v)
    # one seed gives a mean and no interval
    assert stats.seed_interval([0.4]) == {
        "per_seed": [0.4],
        "mean": 0.4,
        "ci95": [None, None],
        "n": 1,
    }
    assert not stats.intervals_apart(stats.seed_interval([0.4]), stats.seed_interval([0.9]))
    assert stats.seed_interval([np.nan])["mean"] is None
    # a rate's interval stays in [0, 1]: two seeds at 0.66 and 1.0 (t = 12.7) by hand:
    # mean 0.83, sd 0.2404, se 0.17, half-width 12.706 * 0.17 = 2.16 -> [-1.33, 2.99] unclipped
    lo, hi = stats.t_interval([0.66, 1.0])
    assert lo == pytest.approx(0.83 - 2.16, abs=0.01) and hi == pytest.approx(0.83 + 2.16, abs=0.01)
    assert stats.t_interval([0.66, 1.0], bounds=stats.RATE) == (0.0, 1.0)
    assert stats.summarize({"exit_rate": [0.66, 1.0]})["exit_rate"]["ci95"] == [0.0, 1.0]
    # the IQM of one seed has no interval; of seeds x levels, the levels are the tasks
    one = stats.iqm_ci([0.5])
    assert one.n == 1 and np.isnan(one.low) and np.isnan(one.high)
    grid = stats.iqm_ci(np.array([[0.0, 0.5, 1.0, 1.0], [0.5, 0.5, 1.0, 0.0]]))
    assert grid.n == 2 and grid.low < grid.iqm < grid.high
    s = stats.summarize({"a": np.array([0.0, 0.1, 0.05]), "b": np.array([0.9, 1.0, 0.95])})
    assert stats.intervals_apart(s["a"], s["b"]) and stats.intervals_apart(s["b"], s["a"])
    assert not stats.intervals_apart(stats.seed_interval([0.0, 1.0, 0.5]), s["b"])


def test_old_import_paths_are_the_one_implementation():
    import ued
    from envs.aleatoric import evaluation as aleatoric_eval
    from experiments import report
    from ued import evaluation

    assert report.t_interval is stats.t_interval
    assert aleatoric_eval.seed_interval is stats.seed_interval
    assert aleatoric_eval.summarize is stats.summarize
    assert aleatoric_eval.intervals_apart is stats.intervals_apart
    for name in ("iqm", "iqm_ci", "iqm_interval", "IQMResult"):
        assert getattr(evaluation, name) is getattr(stats, name)
    assert ued.iqm is stats.iqm and ued.iqm_ci is stats.iqm_ci


def test_iqm_golden():
    # n = 8: the middle 4 values
    assert stats.iqm([1, 2, 3, 4, 5, 6, 7, 100]) == pytest.approx((3 + 4 + 5 + 6) / 4)
    # n = 5: quartiles at 1.25 and 3.75 -> weights (.75, 1, .75) on sorted[1:4]
    assert stats.iqm([0, 1, 2, 3, 10]) == pytest.approx((0.75 * 1 + 2 + 0.75 * 3) / 2.5)
    assert stats.iqm([7.0]) == 7.0
    r = stats.iqm_ci([0.2, 0.4, 0.6, 0.8, 0.5, 0.3], num_bootstrap=500, seed=1)
    assert r.low <= r.iqm <= r.high and r.n == 6
    assert stats.iqm_ci([0.2, 0.4, 0.6, 0.8, 0.5, 0.3], num_bootstrap=500, seed=1) == r
    assert math.isnan(stats.iqm_ci([float("nan")]).iqm)
