"""Meta-learning synthetic environments with ES ("Discovering Minimal RL Environments").

Fitness of a candidate :class:`meta.synthetic.SynthParams`: train a fresh agent on the synthetic
environment for ``learner.num_steps`` steps (hyperparameters drawn per run from the configured
ranges; the learner rotates per generation), then score its mean return on the REAL environment
over ``eval_envs`` episodes cut at the curriculum's horizon ``L(generation)``.

    cfg = SynthMetaConfig(target="cartpole", population=32)
    meta = make_synth_meta(cfg)
    # the ES mean starts at the networks' default init; a run directory kept by the one host loop
    state = ued.host.run_trainer(run_dir, meta.trainer, 200, annotate=meta.annotate)

``meta.loop`` is a plain ``meta.es.make_es_loop`` loop: the problem takes the
``meta.es.EvalContext``, whose generation index drives the horizon curriculum and the learner
rotation, and the loop evaluates the ES mean every generation (``mean_fitness``).

Targets: ``cartpole``, ``acrobot`` (SCB by default), ``mountain-car``, ``pendulum`` (synthetic
MDP by default) and Brax ``hopper`` (needs the ``brax`` extra; clear ``ImportError`` otherwise).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from meta import es as es_core
from meta.learners import (
    LearnerConfig,
    evaluate_gymnax,
    learners_for,
    make_learner,
)
from meta.synthetic import (
    KINDS,
    SynthConfig,
    SynthGymnaxEnv,
    SynthParams,
    init_synth_params,
)
from meta.targets import obs_normalisation, target_names, target_spec
from ued.host.files import atomic_write_bytes, open_npz, write_json
from ued.networks import check_activation
from ued.validation import require_ints
from ued.wrappers import auto_reset


def synth_targets() -> tuple[str, ...]:
    """The targets with a synthetic-environment preset (their ``meta.targets.TargetSpec``
    names a default ``synth_kind`` and an evaluation ``horizon``)."""
    return tuple(n for n in target_names() if target_spec(n).synth_kind is not None)


@dataclasses.dataclass(frozen=True)
class SynthMetaConfig:
    """Static settings of one synthetic-environment meta-training run.

    Attributes:
      target: one of :func:`synth_targets`.
      kind: ``"scb"`` or ``"mdp"``; ``None`` takes the target's default.
      hidden: hidden units of each synthetic-env head.
      mdp_max_steps: episode limit of a synthetic MDP.
      learners: inner-loop learners, rotated per generation (``generation % len``); ``None``
        takes every learner that fits the action space.
      activations: agent activations rotated with the learners: generation ``g`` trains
        variant ``g % (len(learners) * len(activations))`` of ``learners x activations`` (for
        each activation every learner in turn), so the environment is selected for students of
        every activation listed; ``None``: ``learner.activation`` only.
      learner: static settings of the inner learners (``num_steps`` default 10k).
      eval_envs: real-environment episodes per fitness evaluation.
      horizon_init, horizon_end, horizon_begin, horizon_transition: evaluation-horizon
        curriculum ``L(g) = linear_schedule(init, end, transition, begin)(g)``; ``None`` takes
        the target's default (constant full horizon for classic control).
      strategy, population, std_init, es_lr: the ES (``meta.es.make_es``); SNES with
        ``std_init=0.05`` as in the paper.
    """

    target: str = "cartpole"
    kind: str | None = None
    hidden: int = 32
    mdp_max_steps: int = 200
    learners: tuple[str, ...] | None = None
    activations: tuple[str, ...] | None = None
    learner: LearnerConfig = LearnerConfig()
    eval_envs: int = 16
    horizon_init: int | None = None
    horizon_end: int | None = None
    horizon_begin: int = 0
    horizon_transition: int = 0
    strategy: str = "SNES"
    population: int = 32
    std_init: float = 0.05
    es_lr: float | None = None

    def __post_init__(self):
        if self.target not in synth_targets():
            raise ValueError(
                f"SynthMetaConfig.target must be one of {synth_targets()}, got {self.target!r}"
            )
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"SynthMetaConfig.kind must be one of {KINDS}, got {self.kind!r}")
        require_ints(self, ("hidden", "mdp_max_steps", "eval_envs", "population"))
        if self.activations is not None:
            if not self.activations or len(set(self.activations)) < len(self.activations):
                raise ValueError(
                    "SynthMetaConfig.activations must be None or distinct activation names, "
                    f"got {self.activations!r}"
                )
            for a in self.activations:
                check_activation(a, "SynthMetaConfig.activations")
        if self.population < 2:
            raise ValueError("SynthMetaConfig.population must be >= 2")
        for name in ("horizon_init", "horizon_end"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ValueError(f"SynthMetaConfig.{name} must be None or an int >= 1, got {v!r}")
        if self.horizon_begin < 0 or self.horizon_transition < 0:
            raise ValueError("SynthMetaConfig.horizon_begin/horizon_transition must be >= 0")
        if not self.std_init > 0:
            raise ValueError(f"SynthMetaConfig.std_init must be > 0, got {self.std_init!r}")
        es_core.canonical_strategy(self.strategy)

    @property
    def resolved_kind(self) -> str:
        return self.kind or target_spec(self.target).synth_kind

    @property
    def horizon(self) -> tuple[int, int]:
        init, end = target_spec(self.target).horizon
        return (self.horizon_init or init, self.horizon_end or end)

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["learner"] = dataclasses.asdict(self.learner)
        return d

    @staticmethod
    def from_json(d: dict) -> SynthMetaConfig:
        d = dict(d)
        lc = dict(d.pop("learner"))
        lc["ranges"] = tuple(tuple(r) for r in lc.get("ranges", ()))
        for name in ("learners", "activations"):
            if d.get(name) is not None:
                d[name] = tuple(d[name])
        return SynthMetaConfig(learner=LearnerConfig(**lc), **d)


# ----------------------------------------------------------------------------- real envs


class TargetGymnaxEnv:
    """Gymnax-style adapter over a ``meta.targets.Target`` (used for Brax targets): the toolkit's
    auto-reset (:func:`ued.wrappers.auto_reset`; ``info["final_observation"]`` keeps the last
    observation of the finished episode) and ``terminated`` = the target's ``done`` except
    time-outs, which are ``truncated`` (told apart through ``meta.targets.BraxCarry.truncated``
    when the target's state carries it)."""

    def __init__(self, target):
        self.target = target
        self.default_params = None

    def action_space(self, params=None):
        import ued

        t = self.target
        return ued.Box(t.action_low, t.action_high, (t.action_dim,), jnp.float32)

    def reset(self, key, params=None):
        return self.target.reset(key)

    def step(self, key, state, action, params=None):
        def step(k):
            obs, state2, reward, done = self.target.step(k, state, action)
            truncated = jnp.logical_and(done, getattr(state2, "truncated", jnp.zeros((), bool)))
            terminated = jnp.logical_and(done, jnp.logical_not(truncated))
            return obs, state2, reward, terminated, truncated, {}

        k_s, k_r = jax.random.split(key)
        return auto_reset(k_s, k_r, step, self.target.reset, gymnax_info=True)


class RealEnv(NamedTuple):
    name: str
    env: Any  # gymnax-style environment
    params: Any  # its params
    discrete: bool
    num_actions: int  # actions (discrete) or action dims
    action_low: float
    action_high: float
    obs_dim: int
    max_steps: int


def make_real_env(target: str) -> RealEnv:
    """The real environment of ``target`` as a gymnax-style env. Host-only.

    Raises ``ValueError`` for unknown targets and ``ImportError`` (with the install command)
    for ``hopper`` when brax is missing.
    """
    if target not in synth_targets():
        raise ValueError(f"target: unknown target {target!r}; allowed: {synth_targets()}")
    spec = target_spec(target)
    if spec.backend == "brax":
        try:
            import brax  # noqa: F401
        except ImportError as e:
            raise ImportError(
                f"target {target!r} needs Brax, which is not installed; install the extra with "
                "`pip install 'openued[brax]'`"
            ) from e
        from meta.targets import make_target

        t = make_target(target)
        env = TargetGymnaxEnv(t)
        return RealEnv(
            target,
            env,
            None,
            False,
            t.action_dim,
            t.action_low,
            t.action_high,
            t.obs_shape[0],
            t.max_steps,
        )
    import gymnax

    env, params = gymnax.make(spec.env_id)
    space = env.action_space(params)
    obs, _ = env.reset(jax.random.key(0), params)
    if hasattr(space, "n"):
        discrete, n, lo, hi = True, int(space.n), 0.0, float(space.n - 1)
    else:
        discrete, n = False, int(np.prod(space.shape or (1,)))
        lo, hi = float(np.min(space.low)), float(np.max(space.high))
    return RealEnv(
        target,
        env,
        params,
        discrete,
        n,
        lo,
        hi,
        int(obs.shape[0]),
        int(params.max_steps_in_episode),
    )


def synth_config_for(config: SynthMetaConfig, real: RealEnv) -> SynthConfig:
    """The :class:`SynthConfig` whose spaces match ``real``. Host-only.

    The affine map between the networks' space and raw observations is the target's
    observation normalisation (``meta.targets.obs_normalisation``, the table HaDES uses too),
    so the default-initialised networks emit states around the target's typical ones.
    """
    mean, scale = obs_normalisation(config.target)
    mean = tuple(np.broadcast_to(np.asarray(mean, float), (real.obs_dim,)).tolist())
    scale = tuple(np.broadcast_to(np.asarray(scale, float), (real.obs_dim,)).tolist())
    return SynthConfig(
        obs_dim=real.obs_dim,
        discrete=real.discrete,
        num_actions=real.num_actions,
        action_low=real.action_low,
        action_high=real.action_high,
        obs_mean=tuple(mean),
        obs_scale=tuple(scale),
        kind=config.resolved_kind,
        hidden=config.hidden,
        max_steps=config.mdp_max_steps,
    )


# ----------------------------------------------------------------------------- fitness


def horizon_schedule(config: SynthMetaConfig, generation: jax.Array) -> jax.Array:
    """Evaluation horizon ``int32[]`` at ``generation`` (linear from init to end). Jittable."""
    init, end = config.horizon
    g = jnp.asarray(generation, jnp.float32)
    if config.horizon_transition == 0:
        frac = jnp.where(g >= config.horizon_begin, 1.0, 0.0)
    else:
        frac = jnp.clip((g - config.horizon_begin) / config.horizon_transition, 0.0, 1.0)
    return jnp.round(init + frac * (end - init)).astype(jnp.int32)


class SynthMeta(NamedTuple):
    """Everything one meta-training run needs (see :func:`make_synth_meta`)."""

    config: SynthMetaConfig
    real: RealEnv
    synth_config: SynthConfig
    synth_env: SynthGymnaxEnv
    learner_names: tuple[str, ...]
    template: SynthParams  # default init: the ES mean's starting point
    fitness: Callable[[jax.Array, SynthParams, jax.Array], jax.Array]
    fitness_with: Callable[[int, jax.Array, SynthParams, jax.Array], jax.Array]
    loop: es_core.ESLoop
    annotate: Callable[[dict], dict]  # host-loop hook: horizon and learner of a metrics row
    trainer: es_core.ESTrainer  # ``loop`` as a trainer of ``ued.host.run_trainer``


def make_synth_meta(
    config: SynthMetaConfig,
    init_key: jax.Array | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> SynthMeta:
    """Build the fitness function and the ES loop for ``config``. Host-only (builds closures).

    ``fitness(key, synth_params, generation) -> float32[]`` (jittable, vmappable over params;
    ``generation`` int32[]): variant ``generation % len`` of the learners x activations (see
    :class:`SynthMetaConfig`) trains on the synthetic env
    with hyperparameters drawn from its ranges, then the mean real-env return over
    ``eval_envs`` episodes cut at ``horizon_schedule(generation)`` is returned. Deterministic
    per key. ``fitness_with(i, key, params, generation)`` uses variant ``i`` (static).

    ``loop`` is ``meta.es.make_es_loop`` over a context-taking problem (the generation reaches
    ``fitness``) with ``evaluate_mean=True``, and ``trainer`` is it as a trainer of the one host
    loop. ``annotate(row) -> {"horizon": int, "learner": name}`` gives the horizon and learner
    behind a metrics row of generation ``g`` (evaluated at generation index ``g - 1``).
    ``mesh``: a 1-D mesh to shard the population over (``make_es_loop``'s ``mesh``).
    """
    real = make_real_env(config.target)
    scfg = synth_config_for(config, real)
    senv = SynthGymnaxEnv(scfg)
    names = tuple(config.learners or learners_for(real.discrete))
    template = init_synth_params(jax.random.key(0) if init_key is None else init_key, scfg)
    acts = config.activations or (config.learner.activation,)
    # (label, learner) per rotated variant; one activation keeps the plain learner names
    variants = [
        (n if len(acts) == 1 else f"{n}/{a}",
         make_learner(n, senv, dataclasses.replace(config.learner, activation=a), template))
        for a in acts for n in names
    ]  # fmt: skip
    labels = tuple(lab for lab, _ in variants)
    learners = [lrn for _, lrn in variants]
    max_h = max(config.horizon)

    def fitness_with(i: int, key, params: SynthParams, generation):
        k_hp, k_train, k_eval = jax.random.split(key, 3)
        lrn = learners[i]
        hp = lrn.sample_hparams(k_hp)
        agent = lrn.train(k_train, params, hp)
        horizon = horizon_schedule(config, generation)
        return evaluate_gymnax(
            k_eval, real.env, real.params, lrn.act, agent, config.eval_envs, max_h, False, horizon
        )

    def fitness(key, params, generation):
        if len(learners) == 1:
            return fitness_with(0, key, params, generation)
        branches = [(lambda k, p, g, i=i: fitness_with(i, k, p, g)) for i in range(len(learners))]
        idx = jnp.asarray(generation, jnp.int32) % len(learners)
        return jax.lax.switch(idx, branches, key, params, generation)

    problem = es_core.Problem(
        template=template,
        evaluate=lambda key, params, context: fitness(key, params, context.generation),
        maximize=True,
        uses_context=True,
    )
    es = es_core.make_es(
        config.strategy, config.population, template, std_init=config.std_init, lr=config.es_lr
    )
    loop = es_core.make_es_loop(problem, es, mesh=mesh, evaluate_mean=True)

    def annotate(row: dict) -> dict:
        # the row of generation g >= 1 was evaluated at generation index g - 1
        g = max(int(row["generation"]) - 1, 0)
        return {"horizon": int(horizon_schedule(config, g)), "learner": labels[g % len(labels)]}

    return SynthMeta(
        config, real, scfg, senv, names, template, fitness, fitness_with, loop, annotate,
        es_core.es_trainer(loop),
    )  # fmt: skip


# ----------------------------------------------------------------------------- discovered env I/O


def _array_name(path) -> str:
    # "reward/params/Dense_0/kernel": readable npz keys whether a head is a struct of arrays or
    # a flax params dict (keystr would give "reward['params']['Dense_0']['kernel']")
    parts = []
    for entry in path:
        for attr in ("name", "key", "idx"):
            if hasattr(entry, attr):
                parts.append(str(getattr(entry, attr)))
                break
        else:
            parts.append(str(entry))
    return "/".join(parts)


def _flat_params(params: SynthParams) -> dict[str, np.ndarray]:
    out = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        out[_array_name(path)] = np.asarray(leaf)
    return out


def save_synth_env(
    path_prefix: str | os.PathLike, config: SynthConfig, params: SynthParams, extra: dict
) -> tuple[str, str]:
    """Write ``<prefix>.npz`` (named float32 arrays) and ``<prefix>.json`` (config + ``extra``),
    each atomically (``ued.host.files``).

    Data only: no pickle anywhere. Returns the two paths. Raises ``ued.host.RunFileError``
    naming a file that cannot be written. Host-only.
    """
    prefix = os.fspath(path_prefix)
    arrays = _flat_params(params)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(prefix + ".npz", buf.getvalue())
    meta = {
        "synth_config": dataclasses.asdict(config),
        "arrays": {k: list(v.shape) for k, v in arrays.items()},
        "num_params": int(sum(v.size for v in arrays.values())),
        **extra,
    }
    write_json(prefix + ".json", meta)
    return prefix + ".npz", prefix + ".json"


class SynthEnvFileError(ValueError):
    """A discovered environment's ``.npz`` / ``.json`` is missing, damaged or does not fit its
    configuration; the message (one line) names the file."""


def load_synth_env(path_prefix: str | os.PathLike) -> tuple[SynthConfig, SynthParams, dict]:
    """Read what :func:`save_synth_env` wrote: ``(config, params, json_meta)``. Host-only.

    Raises :class:`SynthEnvFileError` naming the file when either file is missing, truncated,
    altered or of another configuration.
    """
    prefix = os.fspath(path_prefix)
    jpath, npath = prefix + ".json", prefix + ".npz"
    try:
        with open(jpath, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise SynthEnvFileError(f"{jpath}: missing (train first)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SynthEnvFileError(f"{jpath}: not readable JSON ({e})") from None
    try:
        sc = dict(meta["synth_config"])
        for k in ("obs_mean", "obs_scale"):
            if sc.get(k) is not None:
                sc[k] = tuple(sc[k])
        config = SynthConfig(**sc)
    except Exception as e:
        raise SynthEnvFileError(
            f"{jpath}: not a synthetic environment's description ({e})"
        ) from None
    template = init_synth_params(jax.random.key(0), config)
    leaves = []
    try:
        with open_npz(npath) as z:
            for path, ref in jax.tree_util.tree_leaves_with_path(template):
                name = _array_name(path)
                if name not in z.files:
                    raise SynthEnvFileError(f"{npath}: missing array {name}")
                arr = z[name]
                if arr.shape != ref.shape:
                    raise SynthEnvFileError(
                        f"{npath}: array {name} has shape {arr.shape}, want {ref.shape}"
                    )
                leaves.append(jnp.asarray(arr, jnp.float32))
    except SynthEnvFileError:
        raise
    except FileNotFoundError:
        raise SynthEnvFileError(f"{npath}: missing (train first)") from None
    except ValueError as e:  # not an archive, or a damaged one: open_npz's one line
        raise SynthEnvFileError(str(e)) from None
    except Exception as e:  # zipfile / numpy errors of a truncated or altered member
        raise SynthEnvFileError(
            f"{npath}: damaged, not a readable .npz file ({type(e).__name__})"
        ) from None
    params = jax.tree.unflatten(jax.tree.structure(template), leaves)
    return config, params, meta


__all__ = [
    "RealEnv",
    "synth_targets",
    "SynthMeta",
    "SynthEnvFileError",
    "SynthMetaConfig",
    "TargetGymnaxEnv",
    "horizon_schedule",
    "load_synth_env",
    "make_real_env",
    "make_synth_meta",
    "save_synth_env",
    "synth_config_for",
]
