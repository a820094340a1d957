"""Numbers that mean what their names say: the training solve rate is never reported without
the share of episodes that finish inside a rollout (and a rollout shorter than the episode limit
is warned about), no score is called regret, one seed gives no interval, intervals of rates stay
in [0, 1], and a validation set's IQM interval takes its levels as tasks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from experiments import cli
from experiments import figures as F
from experiments.figures.compare import comparison_table

TINY = [
    "--num-envs", "2", "--maze-size", "5", "--n-walls", "2", "--network", "small-ff",
    "--max-episode-steps", "16", "--num-validation-levels", "3", "--eval-attempts", "1",
    "--num-epochs", "1", "--progress", "false", "--plot", "false", "--chunk-size", "2",
]  # fmt: skip


@pytest.fixture(scope="module")
def short_rollouts(tmp_path_factory):
    d = tmp_path_factory.mktemp("h") / "short"
    assert cli.main(["train", "maze-dr", *TINY, "--num-steps", "4", "--num-updates", "2",
                     "--out", str(d)]) == 0  # fmt: skip
    return d


def test_a_rollout_shorter_than_the_episode_limit_is_warned_and_measured(tmp_path, capsys):
    d = tmp_path / "run"
    assert cli.main(["train", "maze-dr", *TINY, "--num-steps", "4", "--num-updates", "2",
                     "--out", str(d)]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "--num-steps 4 is shorter than the episode limit 16" in err
    rows = [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        # 2 envs x 4 steps of 16-step episodes: at most a few finish, never all
        assert 0.0 <= r["rollout/finished_share"] < 1.0
        assert "regret/estimated_all" not in r and "regret/estimated_replay" not in r
        assert "score/mean" in r and "score/replay" in r


def test_the_training_solve_rate_is_never_drawn_alone(short_rollouts):
    from ued.host import load_run

    m = load_run(short_rollouts).metrics
    fig = F.plot_learning_curves(m)
    ax = next(a for a in fig.axes if a.get_title().startswith("Training episodes: solved and finished"))
    labels = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    assert any("finished inside a rollout" in x for x in labels), labels
    # a run that never recorded the finished share (older runs) gets no solve-rate curve
    old = {k: v for k, v in m.items() if k != "rollout/finished_share"}
    fig = F.plot_learning_curves(old)
    text = " ".join(t.get_text() for t in fig.texts)
    assert "training solve rate left out" in text


def test_no_figure_calls_a_score_regret(short_rollouts):
    from ued.host import load_run

    fig = F.plot_curriculum(load_run(short_rollouts).metrics)
    titles = [a.get_title() for a in fig.axes if a.get_visible()] if fig else []
    assert not any("estimated" in t.lower() and "regret" in t.lower() for t in titles), titles


def test_one_seed_gives_no_interval_in_eval_json(short_rollouts, capsys):
    assert cli.main(["eval", str(short_rollouts)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    iq = res["iqm_solve_rate"]
    assert iq["num_seeds"] == 1 and iq["low"] is None and iq["high"] is None
    assert iq["num_levels"] == 3  # the levels are rliable's tasks
    assert res["validation"]["ci95"] == [None, None] and res["validation"]["num_seeds"] == 1


def test_the_comparison_table_says_n_and_uses_a_t_interval_for_one_task():
    # 3 seeds, the validation set logged as one mean per seed (one task)
    rows = [{"update": 1, "env_steps": 8, "eval/validation_solve_rate": [0.2, 0.5, 0.9]}]
    table = comparison_table({"a": rows})
    v = table["runs"][0]["validation"]
    assert v["tasks"] == 1 and v["interval"].startswith("Student-t")
    lo, hi = v["ci95"]
    assert 0.0 <= lo < min(0.2, 0.5, 0.9) and max(0.2, 0.5, 0.9) < hi <= 1.0  # not min..max
    md = F.comparison_markdown(table)
    assert "n=3 seeds x 1 levels" in md
    one = comparison_table({"b": [{"update": 1, "env_steps": 8,
                                   "eval/validation_solve_rate": [0.4]}]})  # fmt: skip
    assert one["runs"][0]["validation"]["ci95"] == [None, None]
    assert "no interval" in F.comparison_markdown(one)


def test_rates_keep_their_intervals_in_zero_one():
    from ued.stats import summarize

    s = summarize({"exit_rate": np.array([0.66, 1.0]), "ground_truth_return": [0.2, 0.9]})
    assert s["exit_rate"]["ci95"] == [0.0, 1.0]
    lo, hi = s["ground_truth_return"]["ci95"]
    assert lo < 0.0 and hi > 1.0  # a return is not a rate: not clipped
