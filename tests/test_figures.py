"""Paper figures (``experiments.figures``) and evaluation numbers (``experiments.report``) on
small synthetic in-memory data: every figure has a title, labelled axes, a legend wherever
there is more than one series, and a saved PNG that is not one colour; the comparison table's
intervals are rliable's; golden numbers of the evaluation report."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from experiments import figures as F
from experiments.report import eval_report, report_markdown, t_interval

FIGURES = Path(F.__file__).parent

PREFABS = ["SixteenRooms", "Labyrinth", "StandardMaze"]


def _rows(n=30, k=2, seed=0, shift=0.0, zero=False, evals=3):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n + 1):
        t = u / n

        def ps(base, noise=0.05):
            return [float(base + noise * rng.standard_normal()) for _ in range(k)]

        r = {"update": u, "env_steps": u * 1000}
        r["rollout/return"] = ps(0.2 + 0.5 * t + shift)
        r["rollout/solve_rate"] = ps(0.3 + 0.5 * t + shift)
        r["rollout/episode_length"] = ps(200 - 100 * t, 5)
        r["ppo/loss"] = ps(0.1, 0.01)
        r["ppo/entropy"] = [1.0986] * k
        r["trained"] = [u % 2] * k
        r["branch/new"] = [4 * (u % 2)] * k
        r["branch/replay"] = [4 * (1 - u % 2)] * k
        r["branch/sfl"] = [0] * k
        r["cur/branch/new"] = [float(u % 2)] * k
        r["replay_fraction"] = [float(1 - u % 2)] * k
        r["train_fraction"] = [float(1 - u % 2)] * k
        r["score/mean"] = ps(0.5 - 0.2 * t)
        r["cur/score/mean"] = r["score/mean"]
        r["score/max"] = ps(1.2)
        r["regret/estimated_all"] = r["score/mean"]
        r["regret/true_all"] = ps(0.3)
        r["cur/buffer/fill"] = [min(1.0, u / 10)] * k
        r["level/walls"] = ps(20 + 10 * t, 1)
        r["cur/level/walls"] = ps(20 + 5 * t, 1)
        r["cur/some_new_thing"] = ps(t)
        r["cur/constant_thing"] = [2.0] * k
        if u % (n // evals) == 0:
            r["eval/prefab_solve_rate"] = ps(0.0 if zero else 0.3 + 0.5 * t + shift)
            r["eval/validation_solve_rate"] = ps(0.4 + 0.4 * t + shift)
            for p in PREFABS:
                r[f"eval/prefab/{p}"] = (
                    [0.0] * k
                    if zero
                    else [float(np.clip(rng.uniform() * t, 0, 1)) for _ in range(k)]
                )
        rows.append(r)
    return rows


def _history(k=2, cap=16):
    rng = np.random.default_rng(0)
    out = []
    for i in range(4):
        walls = rng.integers(10 + i, 30 + i, size=(k, cap)).astype(np.float32)
        sp = rng.integers(2, 12, size=(k, cap)).astype(np.float32)
        sp[:, 0] = -1  # one unsolvable level per seed
        out.append(
            (
                (i + 1) * 5,
                {
                    "descriptors": np.stack([walls, sp], -1),
                    "scores": rng.uniform(size=(k, cap)).astype(np.float32),
                    "valid": np.ones((k, cap), bool),
                    "descriptor_names": ["walls", "shortest_path"],
                },
            )
        )
    return out


def _check(fig, tmp_path, name="fig.png"):
    """Title, labelled axes, legends where several series, a PNG that is not one colour."""
    assert isinstance(fig, Figure)
    titles = [fig._suptitle.get_text() if fig._suptitle else ""]
    titles += [ax.get_title() for ax in fig.axes]
    assert any(t.strip() for t in titles), "no title"
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
            continue
        if not (ax.lines or ax.collections or ax.patches or ax.images):
            continue  # an empty panel that says so
        shared_x = ax.get_shared_x_axes().get_siblings(ax)
        assert any(a.get_xlabel() for a in shared_x), f"no x label on {ax.get_title()!r}"
        assert ax.get_ylabel() or ax.get_yticks().size == 0, f"no y label on {ax.get_title()!r}"
        labelled = {ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")}
        if len(labelled) > 1:
            assert ax.get_legend() is not None or fig.legends, f"no legend on {ax.get_title()!r}"
        # no offset notation on any axis
        assert not ax.yaxis.get_major_formatter().get_offset()
    path = F.save(fig, tmp_path / name, dpi=60)
    img = mpimg.imread(path)
    assert img.ndim == 3 and float(img[..., :3].var()) > 1e-4, "blank image"
    return path


def test_learning_curves(tmp_path):
    fig = F.plot_learning_curves(_rows(), label="robust PLR")
    _check(fig, tmp_path)
    assert "robust PLR" in fig._suptitle.get_text()
    axes = {ax.get_title(): ax for ax in fig.axes}
    assert axes["Evaluation: solve rate"].get_ylabel() == "solve rate"
    assert axes["Training episodes: return"].get_xlabel() == "env steps"
    assert axes["Evaluation: solve rate"].get_legend() is not None  # prefab and validation
    # the constant entropy is said so in the panel's title (where it covers no data), on
    # readable limits (no +1.098 offset)
    entropy = next(t for t in axes if t.startswith("Policy entropy"))
    assert "(constant 1.1)" in entropy
    # 30 points: smoothed, and the caption says how (trailing) and over how many seeds
    caption = fig._supxlabel.get_text()
    assert "trailing (causal)" in caption and "n = 2 seeds" in caption


def test_learning_curves_from_arrays_and_run_dir(tmp_path):
    from ued.host import metrics_to_arrays

    rows = _rows(k=1, evals=1)
    fig = F.plot_learning_curves(metrics_to_arrays(rows))
    ax = next(a for a in fig.axes if a.get_title() == "Evaluation: solve rate")
    # a single evaluation is a marker (no line through one point); its panel has no training
    # axis, and its axis label says when it was made
    assert all(ln.get_linestyle() in ("None", "") for ln in ax.lines if ln.get_label()[0] != "_")
    assert ax.get_xlabel() == "evaluated once, after 30k env steps"
    assert len(ax.get_xticks()) == 0
    # the training panels keep their axis and no note about evaluations
    for a in fig.axes:
        if a.get_visible() and a is not ax:
            assert a.get_xlabel() == "env steps", a.get_title()
    # one seed: no band, and the caption says there is no interval
    assert not any(c for a in fig.axes for c in a.collections)
    assert "1 seed (no interval)" in fig._supxlabel.get_text()
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    _check(F.plot_learning_curves(run), tmp_path)


def test_smoothing_and_band():
    y = np.array([0.0, 1.0] * 10)
    sm = F.ema(y, 0.8)
    assert np.ptp(sm[5:-5]) < np.ptp(y)  # smoothed
    assert np.allclose(F.ema(np.full(7, 3.0), 0.9), 3.0)  # debiased: a constant stays put
    # trailing weights weight ** (t - s), s <= t, normalised: golden values (by hand: at t=1
    # (0.5 * 0 + 1) / (0.5 + 1) = 2/3; at t=2 (0.25 * 0 + 0.5 * 1 + 0) / 1.75 = 0.5 / 1.75)
    np.testing.assert_allclose(F.ema([0.0, 1.0, 0.0], 0.5), [0.0, 1 / 1.5, 0.5 / 1.75])
    # causal: a step in the data never shows in the smoothed curve before it happens
    step = F.ema(np.r_[np.zeros(10), np.ones(10)], 0.9)
    assert np.all(step[:10] == 0.0) and 0.0 < step[10] < 1.0
    assert np.isnan(F.ema([1.0, np.nan, 3.0], 0.5)[1])
    a = np.array([[0.0, 1.0], [2.0, np.nan], [1.0, 1.0]])
    mean, lo, hi = F.seed_band(a)
    assert np.allclose(mean, [0.5, 2.0, 1.0])
    assert 0.0 <= lo[0] <= 0.5 <= hi[0] <= 1.0 and np.isnan(lo[1]) and lo[2] == hi[2] == 1.0


def test_per_level_bars(tmp_path):
    fig = F.plot_per_level_solve_rate(_rows())
    _check(fig, tmp_path)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "solve rate"
    assert [t.get_text() for t in ax.get_xticklabels()] == PREFABS
    assert len([t for t in ax.texts if t.get_text().replace(".", "").isdigit()]) == 3


def test_per_level_bars_all_zero_say_so(tmp_path):
    fig = F.plot_per_level_solve_rate(_rows(zero=True))
    _check(fig, tmp_path)
    assert "(all 0: no level solved" in fig.axes[0].get_title()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("0.00") == 3  # the values are printed on the (empty) bars
    fig = F.plot_per_level_solve_rate(names=["a", "b"], values=[0.0, 0.0])
    assert "all 0" in fig.axes[0].get_title()


def test_curriculum_panels_are_named_and_deduplicated(tmp_path):
    panels, notes = F.curriculum_panels(_rows())
    titles = [p[0] for p in panels]
    assert "Proposals by branch" in titles and "Levels: wall count" in titles
    assert "Some new thing" in titles  # unknown keys keep a panel, with a cleaned name
    assert not any("/" in t for t in titles)
    joined = " ".join(notes)
    assert "sfl" in joined  # branch never used
    assert "constant thing = 2" in joined
    assert "cur/score/mean" in joined and "replay_fraction" in joined  # duplicates left out
    fig = F.plot_curriculum(_rows(), label="ACCEL")
    _check(fig, tmp_path)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == len(panels)
    assert F.metric_label("cur/buffer/mean_score") == "buffer: mean score"
    assert F.clean_name("cur/aleatoric/trained") == "aleatoric: trained"


def test_level_evolution(tmp_path):
    fig = F.plot_level_evolution(_history(), label="ACCEL")
    _check(fig, tmp_path)
    titles = [ax.get_title() for ax in fig.axes]
    assert "Stored levels: wall count" in titles and "Stored levels: score" in titles
    assert "unsolvable" in fig._supxlabel.get_text()
    assert F.plot_level_evolution([]) is None


def test_plot_level_history_writes(tmp_path):
    p = F.save(F.plot_level_evolution(_history(k=1)), tmp_path / "lh.png")
    assert p is not None and p.stat().st_size > 1000


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_compare_runs_uses_rliable(tmp_path):
    from rliable import library as rly
    from rliable import metrics as rm

    runs = {"PLR": _rows(seed=1), "DR": _rows(seed=2, shift=-0.2, k=3)}
    fig, table = F.compare_runs(runs, reps=500, seed=3)
    _check(fig, tmp_path, "compare.png")
    assert fig.legends  # one legend naming the runs
    assert [r["label"] for r in table["runs"]] == ["PLR", "DR"]
    for lab, rows in runs.items():
        names, scores, _ = F.final_level_scores(rows)
        np.random.seed(3)  # rliable resamples runs with NumPy's global generator
        point, ci = rly.get_interval_estimates(
            {lab: scores},
            lambda x: np.array([rm.aggregate_iqm(x)]),
            reps=500,
            random_state=np.random.RandomState(3),
        )
        row = next(r for r in table["runs"] if r["label"] == lab)
        assert row["prefab"]["iqm"] == pytest.approx(point[lab][0])
        assert row["prefab"]["ci95"] == pytest.approx([ci[lab][0, 0], ci[lab][1, 0]])
        assert row["prefab"]["tasks"] == len(PREFABS)
    md = F.comparison_markdown(table)
    assert "| PLR |" in md and "IQM" in md
    paths = F.write_comparison(runs, tmp_path / "cmp", reps=200)
    assert sorted(p.name for p in paths) == ["compare.json", "compare.md", "compare.png"]
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["runs"][0]["label"] == "PLR"


def test_hades_figures(tmp_path):
    rng = np.random.default_rng(0)
    rows = [
        {"generation": g, "fitness_mean": 10.0 + g, "fitness_best": 20.0 + g}
        | ({"eval_mean_return": 15.0 + g} if g % 5 == 0 else {})
        for g in range(20)
    ]
    _check(F.plot_hades_fitness(rows, title="HaDES cartpole"), tmp_path, "fit.png")
    states = rng.normal(size=(16, 4))
    targets = np.eye(2)[rng.integers(0, 2, 16)]
    fig = F.plot_hades_dataset(
        states, targets, discrete=True, visited=rng.normal(size=(100, 4)), target="cartpole"
    )
    _check(fig, tmp_path, "ds.png")
    assert not any(ax.get_label() == "<colorbar>" for ax in fig.axes)  # categorical, no bar
    assert "push left" in " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "variance" in fig.axes[0].get_xlabel()
    img = F.plot_hades_dataset(
        rng.uniform(size=(4, 10, 10, 3)), np.eye(3)[[0, 1, 2, 0]], discrete=True, image=True,
        target="breakout",
    )  # fmt: skip
    _check(img, tmp_path, "img.png")


def test_synth_figures(tmp_path):
    rows = [{"generation": 0, "mean_fitness": 20.0}] + [
        {
            "generation": g,
            "fitness_mean": 20.0 + g,
            "fitness_best": 40.0 + g,
            "learner": ("ppo", "dqn")[g % 2],
        }
        for g in range(1, 21)
    ]
    fig = F.plot_synth_meta_training(rows, target="cartpole", kind="scb")
    _check(fig, tmp_path, "meta.png")
    leg = " ".join(
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    )
    assert "ppo" in leg and "dqn" in leg
    xs, ys = np.linspace(-1, 1, 10), np.linspace(-2, 2, 12)
    rew = {"0: push left": np.outer(ys, xs), "1: push right": -np.outer(ys, xs)}
    fig = F.plot_synth_reward_map(xs, ys, rew, dims=(2, 3), target="cartpole", obs_dim=4)
    _check(fig, tmp_path, "rew.png")
    assert fig.axes[0].get_xlabel() == "pole angle"
    assert fig.axes[0].get_ylabel() == "pole angular velocity"
    # two actions: a third panel with their difference
    assert "preference: 1: push right minus 0: push left" in [a.get_title() for a in fig.axes]
    rng = np.random.default_rng(0)
    fig = F.plot_synth_initial_states(
        rng.normal(size=(200, 4)), rng.normal(size=(50, 4)), dims=(0, 1), target="cartpole"
    )
    _check(fig, tmp_path, "init.png")
    assert fig.axes[0].get_xlabel() == "cart position"


def test_gif_frames(tmp_path):
    from PIL import Image

    gif_frames = F.gif_frames
    t, n = 6, 3
    frames = np.zeros((t, n, 8, 8, 3), np.uint8)
    frames[:, :, 2:4, 2:4] = 200
    imgs = gif_frames(frames, end_step=[2, 4, 9], solved=[True, False, False],
                      names=["A", "B", "C"], max_steps=6, scale=3)  # fmt: skip
    assert len(imgs) == t  # one maze never finished: the whole rollout
    assert imgs[0].size[0] >= 3 * 8 * 3
    imgs = gif_frames(frames, end_step=[1, 2, 3], solved=[True, True, False],
                      names=["A", "B", "C"], max_steps=6)  # fmt: skip
    assert len(imgs) == 4  # stops once every episode has ended
    a, b = np.asarray(imgs[0]), np.asarray(imgs[-1])
    assert not np.array_equal(a, b)  # markers and the step counter change the picture
    # an animation goes through the same atomic save as the figures
    path = F.save(imgs, tmp_path / "agent.gif", frame_ms=[70] * 3 + [2000])
    with Image.open(path) as gif:
        assert gif.n_frames == 4
    assert [p.name for p in tmp_path.iterdir()] == ["agent.gif"]  # no temporary file left


def _results(k=2):
    from ued.evaluation import EvalResult

    sr = np.array([[1.0, 0.5], [0.5, 0.0]])
    pre = EvalResult(sr, sr * 0.9, np.array([[10.0, 50.0], [60.0, 250.0]]))
    val_sr = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    val = EvalResult(val_sr, val_sr, np.ones((2, 4)))
    if k == 1:
        pre, val = (EvalResult(*(np.asarray(x)[0] for x in (r.solve_rate, r.mean_return,
                    r.mean_length))) for r in (pre, val))  # fmt: skip
    return {"prefab": (("A", "B"), pre), "validation": (("v0", "v1", "v2", "v3"), val)}


def test_eval_report_golden():
    rep = eval_report(_results(), iqm_reps=300)
    # eval_summary's keys, same values
    assert rep["prefab_solve_rate"] == [0.75, 0.25]
    assert rep["validation_solve_rate"] == [1.0, 0.75]
    assert rep["prefab/A"] == [1.0, 0.5] and rep["prefab/B"] == [0.5, 0.0]
    assert rep["prefab_length"] == [30.0, 155.0]
    pre = rep["prefab"]
    assert pre["mean"] == 0.5 and pre["per_seed"] == [0.75, 0.25]
    assert pre["num_seeds"] == 2 and pre["num_levels"] == 2
    # t interval over the two seed means: 0.5 +- 12.706 * 0.25, clipped to [0, 1]
    assert pre["ci95"] == [0.0, 1.0]
    lo, hi = t_interval([0.75, 0.25])
    assert (lo, hi) == pytest.approx((0.5 - 12.7062047 * 0.25, 0.5 + 12.7062047 * 0.25))
    assert rep["validation"]["mean"] == 0.875
    assert rep["per_level"] == {"prefab": {"A": [1.0, 0.5], "B": [0.5, 0.0]}}
    # the headline is the prefab set, not all 6 levels pooled (which would give 0.75)
    assert rep["headline"] == {"set": "prefab", "mean": 0.5, "ci95": [0.0, 1.0]}
    assert rep["mean_solve_rate"] == 0.5
    assert rep["set_balanced_solve_rate"] == pytest.approx(0.6875)
    assert pre["iqm"]["value"] == pytest.approx(0.5)
    json.dumps(rep, allow_nan=False)
    assert "| prefab | 2 | 2 |" in report_markdown(rep)


def test_eval_report_one_seed():
    rep = eval_report(_results(k=1), iqm_reps=0)
    assert rep["prefab_solve_rate"] == 0.75 and rep["prefab/B"] == 0.5
    assert rep["prefab"]["ci95"] == [None, None]  # no interval from one seed
    assert rep["prefab"]["per_seed"] == [0.75]
    assert "iqm" not in rep["prefab"]
    json.dumps(rep, allow_nan=False)


def test_compare_drops_a_panel_of_single_evaluations(tmp_path):
    # runs evaluated once, at the same step: a curve panel of them would repeat the IQM panel
    # (and its axis would not be a training axis), so it is left out and the caption says when
    runs = {f"run{i}": _rows(seed=i, k=2, evals=1) for i in range(3)}
    fig, _ = F.compare_runs(runs, reps=100, seed=0)
    _check(fig, tmp_path, "single.png")
    titles = [a.get_title() for a in fig.axes]
    assert not any(t.startswith("Evaluation") for t in titles)
    assert "Final evaluation: IQM, 95% CI" in titles
    caption = fig._supxlabel.get_text()
    assert "evaluation: validation levels: every run evaluated once, after 30k env steps" in caption
    assert not any("evaluat" in a.get_xlabel() for a in fig.axes)


def test_a_training_series_of_one_point_is_not_called_an_evaluation(tmp_path):
    # a run whose training episodes finished in one update only: one point on the training axis,
    # named in the caption, never labelled as an evaluation on that axis
    rows = _rows(seed=0, k=3)
    for r in rows:
        r["rollout/return"] = r["rollout/return"] if r["update"] == 12 else [None] * 3
    fig, _ = F.compare_runs({"DR": rows, "PLR": _rows(seed=1, k=3)}, reps=100, seed=0)
    _check(fig, tmp_path)
    ax = next(a for a in fig.axes if a.get_title() == "Training episodes: return")
    assert ax.get_xlabel() == "env steps" and len(ax.get_xticks()) > 1
    assert "one value only: DR, training episodes: return (at 12k env steps)" in (
        fig._supxlabel.get_text()
    )
def test_curriculum_draws_each_series_once():
    from experiments.figures.curriculum import _merge_identical

    x = np.arange(1, 11, dtype=float)
    walls = np.stack([x, x + 1], 1)
    m = {"update": x, "env_steps": 100 * x, "level/walls": walls, "cur/level/walls": walls,
         "cur/level/shortest_path": walls * 0.5, "level/shortest_path": walls * 0.4}  # fmt: skip
    panels, _ = F.curriculum_panels(m)
    by_title = {t: [lab for lab, _ in data] for t, _, data, _ in panels}
    # trained-on levels equal to the proposed ones: one series, both names
    assert by_title["Levels: wall count"] == ["levels trained on = proposed levels"]
    assert len(by_title["Levels: shortest path to the goal"]) == 2
    # a panel whose only series is drawn in a panel with more series is left out
    dup = _merge_identical([("A", "y", [("a", walls)], False),
                              ("B", "y", [("b", walls), ("c", walls * 2)], False)])  # fmt: skip
    assert [t for t, *_ in dup] == ["B"]


def test_level_grid_and_top_levels(tmp_path):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (24, 24, 3), dtype=np.uint8) for _ in range(5)]
    fig = F.plot_level_grid(images, [f"level {i}" for i in range(5)], ncols=3,
                            suptitle="five levels")  # fmt: skip
    assert len(fig.axes) == 6 and sum(bool(ax.images) for ax in fig.axes) == 5
    assert fig._suptitle.get_text() == "five levels"
    empty = F.plot_level_grid([], empty="empty buffer")
    assert [t.get_text() for t in empty.axes[0].texts] == ["empty buffer"]
    with pytest.raises(ValueError, match="titles"):
        F.plot_level_grid(images, ["one title"])
    p = F.save(fig, tmp_path / "grid.png", dpi=60, bbox_inches=None)
    assert p.stat().st_size > 1000 and [q.name for q in tmp_path.iterdir()] == ["grid.png"]
    # highest score first, empty slots never, ties in slot order
    scores = np.array([0.5, 0.9, np.nan, 0.9, 0.1])
    filled = np.array([True, True, False, True, False])
    assert F.top_indices(scores, filled, 2) == [1, 3]
    assert F.top_indices(scores, filled, 10) == [1, 3, 0]


def _samplr_runs(env, order=("dr", "robust-plr", "samplr")):
    rng = np.random.default_rng(0)
    x = np.arange(1, 31) * 512.0
    field = (rng.uniform(size=(3, 40)) < 0.3).astype(float) if env == "gamble-maze" else rng.beta(
        2, 8, size=(3, 40))  # fmt: skip
    runs = {
        "dr": {"method": "dr", "x": x, "returns": rng.normal(size=(30, 3)),
               "trained": rng.uniform(0.2, 0.3, size=(30, 3))},
        "robust-plr": {"method": "robust-plr", "x": x, "returns": rng.normal(size=(30, 3)),
                       "trained": rng.uniform(0.5, 0.9, size=(30, 3)),
                       "buffer_mean": rng.uniform(0.3, 0.9, size=(30, 3)),
                       "buffer_values": field, "buffer_filled": rng.uniform(size=(3, 40)) < 0.8},
        "samplr": {"method": "samplr", "x": x, "returns": rng.normal(size=(30, 3)),
                   "trained": rng.uniform(0.2, 0.3, size=(30, 3)),
                   "buffer_mean": rng.uniform(0.2, 0.3, size=(30, 3)),
                   "buffer_values": field[::-1], "buffer_filled": np.ones((3, 40), bool)},
    }  # fmt: skip
    return [runs[m] for m in order]


def _colors_by_method(fig):
    """``{method: {colour of each curve of that method, in every panel}}`` (curves only: the
    method of a curve is known from the figure legend's colours)."""
    from matplotlib.colors import to_hex

    legend = fig.legends[0]
    names = [t.get_text() for t in legend.get_texts()]
    by_color = {to_hex(h.get_color()): n for h, n in zip(legend.legend_handles, names, strict=True)}
    out = {}
    for ax in fig.axes:
        for ln in ax.lines:
            c = to_hex(ln.get_color())
            if ln.get_linestyle() != "--" and c != "#000000":  # not the prior, not seed dots
                out.setdefault(by_color.get(c, "?"), set()).add(c)
    return out


@pytest.mark.parametrize("env", ["gamble-maze", "lava-maze"])
def test_samplr_figure(tmp_path, env):
    fig = F.plot_samplr_runs(env, _samplr_runs(env))
    _check(fig, tmp_path)
    assert fig._suptitle.get_text() == f"{env}: dr, robust-plr, samplr"
    titles = [a.get_title() for a in fig.axes]
    assert titles == ["Training return", "Levels trained on (per finished episode)\nvs the prior",
                      "Levels stored in the buffer\nvs the prior", titles[3]]  # fmt: skip
    assert titles[3].startswith("Buffer at the end of the run")
    # the prior is the reference of the parameter's panels
    prior = F.samplr.PRIORS[env][0]
    for ax in fig.axes[1:3]:
        assert any(ln.get_linestyle() == "--" and np.allclose(ln.get_ydata(), prior)
                   for ln in ax.lines)  # fmt: skip
    assert "n = 3 seeds" in fig._supxlabel.get_text()
    assert "no buffer (nothing stored): dr" in fig._supxlabel.get_text()


def test_samplr_methods_keep_their_colour_in_every_panel_and_figure():
    seen = {}
    for order in (("dr", "robust-plr", "samplr"), ("samplr", "robust-plr"), ("robust-plr",)):
        fig = F.plot_samplr_runs("gamble-maze", _samplr_runs("gamble-maze", order))
        for method, colors in _colors_by_method(fig).items():
            assert method != "?" and len(colors) == 1, (order, method, colors)
            assert seen.setdefault(method, colors) == colors, (method, order)
        # the bars of the buffer at the end are the methods' colours too
        from matplotlib.colors import to_hex

        bars = [to_hex(p.get_facecolor()) for p in fig.axes[-1].patches] if len(fig.axes) > 3 \
            else []  # fmt: skip
        assert set(bars) <= {c for cs in seen.values() for c in cs}
    assert seen == {"dr": {"#1f77b4"}, "robust-plr": {"#ff7f0e"}, "samplr": {"#2ca02c"}}


def test_samplr_run_data_from_metrics():
    rows = [{"update": u, "env_steps": 100 * u, "rollout/return": [0.1 * u, 0.2 * u],
             "cur/aleatoric/trained": [0.5, None if u == 2 else 0.3], "trained": [1, int(u != 2)],
             "cur/aleatoric/buffer": [0.25, 0.3]} for u in range(1, 4)]  # fmt: skip
    d = F.samplr_run_data(rows, "samplr")
    assert d["method"] == "samplr" and d["x"].tolist() == [100, 200, 300]
    assert d["returns"].shape == (3, 2) and np.isnan(d["trained"][1, 1])
    assert d["buffer_mean"].shape == (3, 2) and "buffer_values" not in d
    d = F.samplr_run_data(rows, "dr", {"values": np.zeros((2, 4)), "filled": np.ones((2, 4))})
    assert d["buffer_filled"].dtype == bool


def _render(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


def _panels(fig):
    return [a for a in fig.axes if a.get_visible() and a.axison and a.get_label() != "<colorbar>"]


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _hades_rows():
    return [{"generation": g, "fitness_mean": 10.0 + g, "fitness_best": 20.0 + g}
            | ({"eval_mean_return": 15.0 + g} if g % 5 == 0 else {}) for g in range(20)]  # fmt: skip


def _rng():
    return np.random.default_rng(0)


# every figure function of the package on synthetic data: name -> figure maker
FIGURES_ON_DATA = {
    "learning curves": lambda: F.plot_learning_curves(_rows(k=3)),
    "curriculum": lambda: F.plot_curriculum(_rows(k=3), panels=[]),
    "compare": lambda: F.compare_runs({"A": _rows(k=3), "B": _rows(seed=2, k=3, shift=-0.2)},
                                      reps=50)[0],  # fmt: skip
    "paired": lambda: F.plot_paired_curves(_paired_rows(), teacher_actions=169),
    "per level": lambda: F.plot_per_level_solve_rate(_rows(k=3)),
    "level evolution": lambda: F.plot_level_evolution(_history()),
    "samplr": lambda: F.plot_samplr_runs("gamble-maze", _samplr_runs("gamble-maze")),
    "hades fitness": lambda: F.plot_hades_fitness(_hades_rows()),
    "hades dataset": lambda: F.plot_hades_dataset(
        _rng().normal(size=(16, 4)), np.eye(2)[_rng().integers(0, 2, 16)], discrete=True,
        visited=_rng().normal(size=(100, 4)), target="cartpole"),  # fmt: skip
    "synth meta-training": lambda: F.plot_synth_meta_training(
        [{"generation": g, "fitness_mean": 20.0 + g, "fitness_best": 40.0 + g, "learner": "ppo"}
         for g in range(1, 21)], target="cartpole", kind="scb"),  # fmt: skip
    "synth initial states": lambda: F.plot_synth_initial_states(
        _rng().normal(size=(200, 4)), _rng().normal(size=(50, 4)), dims=(0, 1),
        target="cartpole"),  # fmt: skip
}


def _paired_rows(n=30, k=3):
    rng = np.random.default_rng(0)
    rows = []
    for u in range(1, n + 1):
        ps = lambda base, s=0.01: [float(base + s * rng.standard_normal()) for _ in range(k)]  # noqa: E731
        rows.append({"update": u, "env_steps": 1000 * u, "regret": ps(0.0), "teacher_reward":
                     ps(0.0), "protagonist_return": ps(0.1 + u / n * 0.3), "antagonist_return":
                     ps(0.1 + u / n * 0.3), "level_path_length": ps(9.5, 0.3), "level_solvable":
                     ps(0.97), "level_walls": ps(36.0, 0.5),
                     "teacher_entropy": ps(5.129 - 0.03 * u / n, 0.001)})  # fmt: skip
    return rows


@pytest.mark.parametrize("name", list(FIGURES_ON_DATA))
def test_legends_never_cover_data_and_no_panel_is_empty(name):
    fig = FIGURES_ON_DATA[name]()
    _render(fig)
    panels = _panels(fig)
    assert panels, name
    for ax in panels:
        # every panel shows data (a panel without any is left out and named in the caption)
        assert ax.lines or ax.collections or ax.patches or ax.images, (name, ax.get_title())
        box = ax.get_window_extent()
        leg = ax.get_legend()
        if leg is not None:
            assert not _overlap(leg.get_window_extent(), box), (name, ax.get_title())
        for leg in fig.legends:
            assert not _overlap(leg.get_window_extent(), box), (name, ax.get_title())
        # notes inside a panel are only for panels without data; data panels carry them in
        # their titles
        assert not [t for t in ax.texts if t.get_bbox_patch() is not None], (name, ax.get_title())


def test_paired_entropy_panel_shows_the_uniform_maximum():
    fig = F.plot_paired_curves(_paired_rows(), teacher_actions=169)
    ax = next(a for a in fig.axes if a.get_title().startswith("Teacher: policy entropy"))
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and np.allclose(ref[0].get_ydata(), np.log(169))
    lo, hi = ax.get_ylim()
    assert lo < 5.10 and hi > np.log(169)  # the zoomed axis reaches the maximum it is read against
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "ln 169 = 5.130" in legend.replace("\n", " ")
    # without the action count there is no reference (none is made up)
    fig = F.plot_paired_curves(_paired_rows())
    ax = next(a for a in fig.axes if a.get_title().startswith("Teacher: policy entropy"))
    assert not [ln for ln in ax.lines if ln.get_linestyle() == "--"]


def test_student_entropy_panel_shows_the_uniform_maximum():
    rows = _rows(k=2)
    for r in rows:
        r["ppo/entropy"] = [1.0986 - 0.0001 * r["update"]] * 2  # zoomed: 1.095 .. 1.0985
    ax = next(a for a in F.plot_learning_curves(rows, num_actions=3).axes
              if a.get_title().startswith("Policy entropy"))  # fmt: skip
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and np.allclose(ref[0].get_ydata(), np.log(3))
    assert "ln 3 = 1.099" in " ".join(t.get_text() for t in ax.get_legend().get_texts())


def test_captions_say_smoothing_only_where_a_curve_is_smoothed():
    long = F.plot_learning_curves(_rows(n=30, k=3))
    short = F.plot_learning_curves(_rows(n=10, k=3, evals=2))
    assert "trailing (causal)" in long._supxlabel.get_text()
    assert "moving average" not in short._supxlabel.get_text()
    assert "n = 3 seeds" in short._supxlabel.get_text()


def test_curriculum_branches_keep_their_colour_in_every_panel():
    from matplotlib.colors import to_hex

    rows = _rows(k=2)
    for r in rows:  # ACCEL-like: three branches, a mean score per branch
        u = r["update"]
        r["branch/new"], r["branch/replay"], r["branch/mutate"] = ([4 * (u % 3 == i)] * 2
                                                                   for i in range(3))  # fmt: skip
        for i, b in enumerate(("new", "replay", "mutate")):
            r[f"cur/score/{b}"] = [0.1 * i + 0.01 * u] * 2 if u % 3 == i else [None] * 2
    fig = F.plot_curriculum(rows)
    colors: dict[str, set] = {}
    for ax in fig.axes:
        for coll, lab in zip(ax.collections, ax.get_legend_handles_labels()[1], strict=False):
            if ax.get_title().startswith("Proposals by branch"):  # the stacked shares
                colors.setdefault(lab.split(" ")[0], set()).add(to_hex(coll.get_facecolor()[0]))
        for ln in ax.lines:
            if ln.get_label().startswith("mean, "):
                colors.setdefault(ln.get_label()[6:], set()).add(to_hex(ln.get_color()))
    overall = colors.pop("all")  # the mean score over every branch, beside theirs
    assert set(colors) == {"new", "replay", "mutate"}
    assert all(len(c) == 1 for c in colors.values()), colors
    assert len({c for cs in colors.values() for c in cs}) == 3
    assert not overall & {c for cs in colors.values() for c in cs}
    scores = next(a for a in fig.axes if a.get_title() == "Scores of proposed levels")
    maxline = next(ln for ln in scores.lines if ln.get_label() == "max")
    assert to_hex(maxline.get_color()) not in {c for cs in colors.values() for c in cs}


def test_curriculum_single_branch_and_buffer_share_are_not_panels():
    rows = _rows(k=2)
    for r in rows:
        r["branch/new"], r["branch/replay"] = [4, 4], [0, 0]  # one branch only
        r["cur/buffer/size"] = [float(min(r["update"] * 4, 40))] * 2
        r["cur/buffer/fill"] = [min(r["update"] * 4, 40) / 40] * 2
        r["cur/buffer/min_size"] = [20.0] * 2
    panels, notes = F.curriculum_panels(rows)
    titles = [p[0] for p in panels]
    assert "Proposals by branch" not in titles
    assert "Buffer: share of slots filled" not in titles and "Buffer: stored levels" in titles
    joined = " ".join(notes)
    assert "every proposal came from one branch: new (generated)" in joined
    assert "share of slots filled = stored levels / capacity" in joined


def test_compare_interval_needs_two_seeds(tmp_path):
    fig, table = F.compare_runs({"one": _rows(k=1), "two": _rows(seed=1, k=2)}, reps=50)
    _check(fig, tmp_path)
    md = F.comparison_markdown(table)
    assert "| one | 1 |" in md and "(n=1 seed: no interval)" in md.split("| one |")[1].split("\n")[0]
    assert "no interval" not in md.split("| two |")[1].split("\n")[0]
    iqm_panel = fig.axes[-1]
    bars = [c for c in iqm_panel.collections if c.get_segments()]  # error bars: one per interval
    assert len(bars) == 2  # run "two" (prefab, validation); none for the run of one seed
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["one (n = 1)", "two (n = 2)"]


def _imports(path: Path) -> set[str]:
    """Modules ``path`` imports anywhere (function bodies included), relative imports
    resolved against the figures package."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(["experiments", "figures"][: 3 - node.level] + [base]).strip(".")
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def test_figures_package_is_small_modules_that_import_no_command():
    """One module per subject, each under 500 lines; no module of the package imports a command
    or an orchestration module (they import the package: a cycle), at top level or inside a
    function."""
    files = sorted(FIGURES.glob("*.py"))
    assert {f.stem for f in files} >= {"style", "curves", "curriculum", "levels", "compare",
                                       "hades", "synth", "paired", "samplr"}  # fmt: skip
    for f in files:
        n = len(f.read_text().splitlines())
        assert n < 500, f"{f.name}: {n} lines"
    commands = ("experiments.cli", "experiments.commands", "experiments.kinds",
                "experiments.report", "experiments.gallery")  # fmt: skip
    for f in files:
        for mod in _imports(f):
            bad = mod in commands or mod.startswith(tuple(c + "." for c in commands))
            bad |= mod.startswith("experiments.") and mod.split(".")[1].endswith("_cli")
            assert not bad, f"experiments/figures/{f.name} imports {mod}"
