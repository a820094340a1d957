"""A package of one's own on the command line, without editing openued: a plugin (entry-point
group ``openued.plugins``, installed here as a ``.dist-info`` on ``PYTHONPATH``) registers the
README's ``Gap`` level space and a toy curriculum; ``openued train`` lists and runs them, and
``eval`` and ``plot`` read their runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GAP_PLUGIN = textwrap.dedent(
    '''
    """A level space of one's own: the README's gap to jump, as an openued plugin."""
    import dataclasses

    import jax
    import jax.numpy as jnp
    from flax import struct

    import ued
    from ued.options import int_, option
    from ued.registry import LEVEL_SPACES, SpaceBuild, SpaceEntry


    @struct.dataclass
    class Gap:
        width: jax.Array  # int32[]


    @struct.dataclass
    class GapState:
        pos: jax.Array
        width: jax.Array
        t: jax.Array


    @struct.dataclass
    class GapParams:
        max_steps: int = 24


    class GapEnv(ued.Environment):
        @property
        def default_params(self):
            return GapParams()

        def action_space(self, params=None):
            return ued.Discrete(2)

        def _obs(self, s):
            ahead = s.pos + jnp.arange(1, 5)
            return {"ahead": ((ahead >= 4) & (ahead < 4 + s.width)).astype(jnp.float32)}

        def reset_to_level(self, key, level, params):
            s = GapState(jnp.int32(0), level.width, jnp.int32(0))
            return self._obs(s), s

        def step(self, key, state, action, params):
            pos = jnp.minimum(state.pos + jnp.where(action == 1, 3, 1), 15).astype(jnp.int32)
            s = GapState(pos, state.width, state.t + 1)
            solved, fell = pos == 15, (pos >= 4) & (pos < 4 + state.width)
            reward = jnp.where(solved, 1.0 - 0.9 * s.t / params.max_steps, 0.0)
            term = solved | fell
            trunc = ~term & (s.t >= params.max_steps)
            return self._obs(s), s, reward.astype(jnp.float32), term, trunc, {"solved": solved}


    @dataclasses.dataclass(frozen=True)
    class GapOptions:
        max_gap: int = option(8, int_(1, 8), "widest gap the generator draws")


    def build(options, editor=None):
        hi = options.max_gap

        def sample(key):
            return Gap(jax.random.randint(key, (), 1, hi + 1, jnp.int32))

        def mutate(key, level):
            step = jnp.where(jax.random.bernoulli(key), 1, -1).astype(jnp.int32)
            return Gap(jnp.clip(level.width + step, 1, hi))

        space = ued.LevelSpace(
            name="gap", placeholder=sample(jax.random.key(0)), sample=sample, mutate=mutate,
            descriptor=lambda g: g.width.astype(jnp.float32)[None], descriptor_names=("width",),
            render=lambda g: jnp.broadcast_to(jnp.where(
                (jnp.arange(16) >= 4) & (jnp.arange(16) < 4 + g.width), 0, 200
            ).astype(jnp.uint8)[None, :, None], (4, 16, 3)),
        )
        widths = jnp.arange(1, 9, dtype=jnp.int32)
        held_out = {"validation": (tuple(f"width-{w}" for w in range(1, 9)), Gap(widths))}
        return SpaceBuild(space, GapEnv(), held_out, episode_limit=24,
                          descriptor_bounds=((1.0,), (9.0,)))


    LEVEL_SPACES.register(SpaceEntry(
        "gap", "a gap to jump on a 16-cell track", build, options=(GapOptions,),
        defaults={"network": "small-ff", "num_envs": 4, "num_steps": 16},
        presets={"gap-dr": {"curriculum": "dr"}},
    ))
    '''
)

TOY_CURRICULUM = textwrap.dedent(
    '''
    """A toy curriculum of one's own: every other env repeats the level it had last update."""
    import jax
    import jax.numpy as jnp
    from flax import struct

    from ued.curriculum import Curriculum, new_proposal
    from ued.registry import CURRICULA, CurriculumEntry, Panel

    BRANCHES = ("new", "repeat")


    @struct.dataclass
    class ToyState:
        last: object


    def make(ctx):
        space, b = ctx.space, ctx.num_envs
        again = (jnp.arange(b) % 2) == 1

        def init(key):
            return ToyState(space.sample_batch(key, b))

        def propose(key, state, params, evaluate=None):
            fresh = space.sample_batch(key, b)
            pick = lambda x, y: jnp.where(again.reshape((b,) + (1,) * (x.ndim - 1)), x, y)
            levels = jax.tree.map(pick, state.last, fresh)
            prop = new_proposal(levels, 0, True)
            return state, prop.replace(branch=again.astype(jnp.int32))

        def observe(key, state, proposal, stats, params):
            return ToyState(proposal.levels)

        def diagnostics(state, proposal, stats):
            score = jnp.where(jnp.isfinite(stats.score), stats.score, 0.0)
            return {"toy_repeat_score": jnp.sum(jnp.where(again, score, 0.0)) / again.sum()}

        return Curriculum("toy", init, propose, observe, (), diagnostics, branches=BRANCHES)


    CURRICULA.register(CurriculumEntry(
        "toy-repeat", "every other env repeats its last level", make, branches=BRANCHES,
        panels=(Panel("Toy: score of repeated levels", ("cur/toy_repeat_score",), "score"),),
    ))
    '''
)


def _install(site: Path, name: str, source: str) -> None:
    """A plugin as pip would leave it: the module and its dist-info with the entry point."""
    (site / f"{name}.py").write_text(source)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[openued.plugins]\n{name} = {name}\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    _install(site, "gap_plugin", GAP_PLUGIN)
    _install(site, "toy_curriculum", TOY_CURRICULUM)
    return site


def _openued(site: Path, *argv, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    out = subprocess.run([sys.executable, "-m", "experiments.cli", *map(str, argv)], env=env,
                         capture_output=True, text=True, timeout=900)  # fmt: skip
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


TINY = ["--num-updates", "4", "--chunk-size", "2", "--eval-every", "2", "--num-epochs", "1",
        "--eval-attempts", "2", "--no-progress"]  # fmt: skip


def _rows(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]


def test_a_plugin_space_trains_evaluates_and_plots_through_openued(site, tmp_path):
    help_text = _openued(site, "train", "--help").stdout
    assert "gap-dr" in help_text and "  gap " in help_text and "--max-gap" in help_text
    assert "toy-repeat" in help_text
    for cur, extra in (("dr", []), ("robust-plr", ["--buffer-capacity", "16", "--min-fill", "0.1"])):
        d = tmp_path / cur
        _openued(site, "train", "gap", "--curriculum", cur, *TINY, *extra, "--out", d)
        cfg = json.loads((d / "config.json").read_text())
        assert (cfg["kind"], cfg["space"], cfg["curriculum"]) == ("ued", "gap", cur)
        rows = _rows(d)
        assert [r["update"] for r in rows] == [1, 2, 3, 4]
        assert "eval/validation_solve_rate" in rows[-1]
        if cur == "robust-plr":  # the evaluation does not depend on the curriculum: once
            res = json.loads(_openued(site, "eval", d).stdout.strip().splitlines()[-1])
            assert set(res["solve_rate"]) == {f"width-{w}" for w in range(1, 9)}
        plots = _openued(site, "plot", d).stdout.split()
        assert any(p.endswith("learning_curves.png") for p in plots)
        assert any(p.endswith("curriculum.png") for p in plots)
        if cur == "robust-plr":
            assert any(p.endswith("top_levels.png") for p in plots)  # drawn by space.render
    # the preset alias refuses a conflicting curriculum
    out = _openued(site, "train", "gap-dr", "--curriculum", "accel", check=False)
    assert out.returncode == 2 and "preset gap-dr is gap with --curriculum dr" in out.stderr


def test_a_plugin_curriculum_reaches_help_metrics_and_figures(site, tmp_path):
    d = tmp_path / "toy"
    _openued(site, "train", "gap", "--curriculum", "toy-repeat", *TINY, "--out", d)
    rows = _rows(d)
    assert {k for k in rows[-1] if k.startswith("branch/")} == {"branch/new", "branch/repeat"}
    assert all(r["branch/repeat"] == 2 and r["branch/new"] == 2 for r in rows)  # 4 envs
    assert "cur/toy_repeat_score" in rows[-1]
    # the registered panel is drawn in the curriculum figure (its title, from the registry)
    code = (
        "import curricula, toy_curriculum; from experiments import figures as F; "
        "from ued.host import load_run; from ued.registry import CURRICULA; "
        f"fig = F.plot_curriculum(load_run({str(d)!r}).metrics, "
        "panels=CURRICULA.get('toy-repeat').panels); "
        "print('|'.join(a.get_title() for a in fig.axes if a.get_visible()))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300, check=True)  # fmt: skip
    titles = out.stdout.strip().split("|")
    assert "Toy: score of repeated levels" in titles, titles
    assert any(t.startswith("Proposals by branch") for t in titles)
