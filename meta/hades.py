"""HaDES: behaviour distillation by evolving a tiny synthetic dataset (Lupu et al., ICLR 2024).

An ES candidate is a :class:`Dataset` of ``N`` states (in the target's normalised observation
space) and action targets: logits for discrete targets (soft labels) or actions for
continuous ones. With ``learn_labels=False`` (discrete only) the candidate carries states only
(``targets=None``) and the labels are fixed balanced one-hots (state ``i`` -> action
``i mod A``).

Fitness of a candidate (all pure, jittable, vmappable):

1. initialise a fresh policy MLP -- ``num_inits`` random initialisations per generation
   (HaDES-R, default) or one fixed initialisation (HaDES-F, ``fixed_init=True``);
2. behaviour-clone it on the dataset: ``policy.steps`` full-batch Adam steps;
3. roll it out (:func:`ued.rollout.rollout`) in the real environment on ``eval_envs`` vmapped
   episodes and take the mean undiscounted return of the first episode of each (greedy
   actions unless ``stochastic``).

The ES loop passes the same key to every candidate (common random numbers), so within a
generation every candidate is trained from the same initialisations and evaluated on the same
episode seeds. Evaluate the ES *mean* (:func:`evaluate_dataset`), not the best member.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from meta.es import Problem
from meta.targets import Target, make_target, target_names
from ued.host.files import atomic_write_bytes, open_npz, write_json
from ued.networks import ACTIVATIONS, MLP
from ued.optim import apply_step, make_adam
from ued.rollout import (
    Policy,
    PolicyStep,
    RolloutCarry,
    first_episode,
    first_episode_return,
    rollout,
)


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """The inner loop: policy network and its behaviour-cloning optimiser (static)."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    lr: float = 0.01  # Adam learning rate (eps 1e-5 as in HaDES)
    steps: int = 100  # full-batch BC steps

    def __post_init__(self):
        hidden = tuple(int(h) for h in self.hidden)
        object.__setattr__(self, "hidden", hidden)
        if not 1 <= len(hidden) <= 8 or not all(1 <= h <= 4096 for h in hidden):
            raise ValueError(f"hidden: 1..8 layers of width 1..4096, got {self.hidden!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: {self.activation!r} not in {', '.join(ACTIVATIONS)}")
        if not (0 < self.lr <= 10 and math.isfinite(self.lr)):
            raise ValueError(f"lr: must be in (0, 10], got {self.lr!r}")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= 100_000:
            raise ValueError(f"steps: must be an int in [1, 100000], got {self.steps!r}")

    @property
    def arch_name(self) -> str:
        """A short architecture name, e.g. ``"2x64-tanh"``."""
        widths = set(self.hidden)
        body = (
            f"{len(self.hidden)}x{self.hidden[0]}"
            if len(widths) == 1
            else "-".join(map(str, self.hidden))
        )
        return f"{body}-{self.activation}"


@dataclasses.dataclass(frozen=True)
class HadesConfig:
    """Static HaDES settings (the ES itself is configured by ``meta.es.ESConfig``)."""

    target: str = "cartpole"
    dataset_size: int = 4  # N state-action pairs
    learn_labels: bool = True  # False: states only, fixed balanced one-hot labels (discrete)
    num_inits: int = 2  # k policy initialisations per candidate and generation
    fixed_init: bool = False  # HaDES-F: always the same initialisation (init_seed)
    init_seed: int = 0
    eval_envs: int = 4  # episodes per initialisation in the fitness
    eval_steps: int = 0  # rollout length; 0: the target's episode limit
    stochastic: bool = False  # sample actions from the policy instead of greedy (discrete)
    policy: PolicyConfig = PolicyConfig()

    def __post_init__(self):
        if isinstance(self.policy, dict):
            object.__setattr__(self, "policy", PolicyConfig(**self.policy))
        if self.target not in target_names():
            raise ValueError(f"target: {self.target!r} not in {', '.join(target_names())}")
        if not isinstance(self.dataset_size, int) or not 1 <= self.dataset_size <= 4096:
            raise ValueError(
                f"dataset_size: must be an int in [1, 4096], got {self.dataset_size!r}"
            )
        if not isinstance(self.num_inits, int) or not 1 <= self.num_inits <= 64:
            raise ValueError(f"num_inits: must be an int in [1, 64], got {self.num_inits!r}")
        if not isinstance(self.eval_envs, int) or not 1 <= self.eval_envs <= 4096:
            raise ValueError(f"eval_envs: must be an int in [1, 4096], got {self.eval_envs!r}")
        if not isinstance(self.eval_steps, int) or not 0 <= self.eval_steps <= 100_000:
            raise ValueError(
                f"eval_steps: must be an int in [0, 100000] (0 = episode limit), "
                f"got {self.eval_steps!r}"
            )


@struct.dataclass
class Dataset:
    """A distilled dataset (the HaDES candidate)."""

    states: jax.Array  # float32[N, *obs_shape], normalised observation space
    targets: jax.Array | None  # float32[N, A]: logits (discrete) / actions (continuous); None
    # in a states-only candidate (labels fixed, see ``Hades.materialise``)


# ----------------------------------------------------------------------------- policy


class PolicyFns(NamedTuple):
    """Pure functions of one policy architecture on one target."""

    init: Callable[[jax.Array], Any]  # key -> params
    apply: Callable[[Any, jax.Array], jax.Array]  # params, states (B, *obs) -> (B, A)
    act: Policy  # ued.rollout policy over raw observations (B, *obs): normalised, then acted on
    bc_loss: Callable[[Any, Dataset], jax.Array]  # params, full dataset -> float32[]
    train: Callable[[jax.Array, Dataset], tuple[Any, jax.Array]]  # -> params, losses[steps]


def make_policy(target: Target, policy: PolicyConfig, stochastic: bool = False) -> PolicyFns:
    """A tanh/relu/... :class:`ued.networks.MLP` policy and its BC trainer.

    Orthogonal init (hidden gain sqrt(2), output gain 0.01), zero biases; ``params`` are the
    MLP's flax variables. Observations are flattened. Discrete: outputs logits ``(A,)``; the BC
    loss is the cross-entropy against ``softmax(targets)``. Continuous: outputs
    ``low + (high - low) * (tanh(o) + 1) / 2``; the BC loss is the mean squared error against
    ``clip(targets, low, high)``. ``act`` is the policy as :func:`ued.rollout.rollout` takes it,
    on raw observations (normalised here): the argmax of the logits (a sample with
    ``stochastic``) or the continuous output.
    """
    if stochastic and not target.discrete:
        raise NotImplementedError("stochastic: sampled actions are only implemented for discrete")
    in_dim = int(np.prod(target.obs_shape))
    net = MLP(
        hidden=policy.hidden,
        out=target.action_dim,
        activation=policy.activation,
        kernel_init="orthogonal",
        hidden_scale=math.sqrt(2.0),
        out_scale=0.01,
    )
    low, high = target.action_low, target.action_high

    def init(key):
        return net.init(key, jnp.zeros((1, in_dim), jnp.float32))

    def apply(params, states):
        out = net.apply(params, states.reshape(states.shape[0], -1))
        if target.discrete:
            return out
        return low + (high - low) * (jnp.tanh(out) + 1.0) / 2.0

    def act(key, params, carry, obs, reset):
        out = apply(params, target.normalise(obs))
        if not target.discrete:
            return PolicyStep(carry, out)
        if stochastic:
            return PolicyStep(carry, jax.random.categorical(key, out).astype(jnp.int32))
        return PolicyStep(carry, jnp.argmax(out, -1).astype(jnp.int32))

    def bc_loss(params, data: Dataset):
        out = apply(params, data.states)
        if target.discrete:
            labels = jax.nn.softmax(data.targets, axis=-1)
            return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(out, axis=-1), axis=-1))
        return jnp.mean((out - jnp.clip(data.targets, low, high)) ** 2)

    # plain Adam (no gradient clipping), eps 1e-5 as in HaDES
    opt = make_adam(max_grad_norm=None, eps=1e-5)

    def train(key, data: Dataset):
        params = init(key)

        def body(carry, _):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(bc_loss)(params, data)
            params, opt_state = apply_step(opt, grads, opt_state, params, policy.lr)
            return (params, opt_state), loss

        (params, _), losses = jax.lax.scan(
            body, (params, opt.init(params)), None, length=policy.steps
        )
        return params, losses

    return PolicyFns(init, apply, act, bc_loss, train)


# ----------------------------------------------------------------------------- rollouts


def _target_step(target: Target):
    # the rollout's step contract; targets only say ``done`` (no truncation told apart)
    def step_fn(key, state, action, env_params):
        obs, state, reward, done = target.step(key, state, action)
        return obs, state, reward, done, jnp.zeros_like(done), {}

    return step_fn


def make_rollout(target: Target, policy: PolicyFns, num_steps: int, record: bool = False):
    """``rollout(key, params) -> (return float32[], states float32[T, *obs], alive bool[T])``.

    One episode of at most ``num_steps`` steps: :func:`ued.rollout.rollout` of one environment
    under ``policy.act``; reward after the first ``done`` is ignored (gymnax auto-resets; we
    count the first episode only). ``states`` are normalised and ``alive`` marks the first
    episode's steps; with ``record=False`` (the fitness path) they are None.
    """
    step_fn = _target_step(target)

    def one_episode(key, params):
        k_reset, k_roll = jax.random.split(key)
        obs, env_state = target.reset(k_reset)
        rc = RolloutCarry.start(*jax.tree.map(lambda x: x[None], (env_state, obs)), ())
        res = rollout(
            k_roll,
            rc,
            params,
            None,
            policy=policy.act,
            step_fn=step_fn,
            num_steps=num_steps,
            episode_stats=False,
        )
        tr = res.traj
        ret = first_episode_return(tr)[0]
        if not record:
            return ret, None, None
        alive = first_episode(jnp.logical_or(tr.terminated, tr.truncated))
        return ret, target.normalise(tr.obs[:, 0]), alive[:, 0]

    return one_episode


# ----------------------------------------------------------------------------- HaDES


class Hades(NamedTuple):
    """HaDES for one target (see :func:`make_hades`)."""

    config: HadesConfig
    target: Target
    policy: PolicyFns
    template: Dataset  # ES candidate template (targets None when states-only)
    materialise: Callable[[Dataset], Dataset]  # candidate -> full dataset with labels
    fitness: Callable[[jax.Array, Dataset], jax.Array]  # key, candidate -> float32[]
    problem: Problem  # maximize=True
    num_steps: int  # rollout length


def fixed_labels(num: int, num_actions: int) -> jax.Array:
    """Balanced one-hot labels, state ``i`` -> action ``i mod A``: float32[N, A] logits.

    One-hots are scaled to large logits so that ``softmax`` gives (numerically) hard labels.
    """
    return 1e3 * jax.nn.one_hot(jnp.arange(num) % num_actions, num_actions, dtype=jnp.float32)


def make_hades(config: HadesConfig) -> Hades:
    """Build HaDES for ``config.target`` (host-only; returns pure functions)."""
    target = make_target(config.target)
    if not config.learn_labels and not target.discrete:
        raise ValueError(
            f"learn_labels: must be True for the continuous target {config.target!r} "
            "(fixed one-hot labels only exist for discrete actions)"
        )
    policy = make_policy(target, config.policy, config.stochastic)
    num_steps = config.eval_steps or target.max_steps
    rollout = make_rollout(target, policy, num_steps)
    n, a = config.dataset_size, target.action_dim
    states = jnp.zeros((n, *target.obs_shape), jnp.float32)
    template = Dataset(states, jnp.zeros((n, a), jnp.float32) if config.learn_labels else None)
    labels = fixed_labels(n, a)

    def materialise(candidate: Dataset) -> Dataset:
        if candidate.targets is None:
            return Dataset(candidate.states, labels)
        return candidate

    def evaluate_policies(key, data: Dataset):
        # one (init, env seeds) pair per initialisation: train, then eval_envs episodes
        k_init, k_env = jax.random.split(key)
        if config.fixed_init:
            init_keys = jnp.stack([jax.random.key(config.init_seed)] * config.num_inits)
        else:
            init_keys = jax.random.split(k_init, config.num_inits)
        env_keys = jax.random.split(k_env, (config.num_inits, config.eval_envs))

        def one(ki, kes):
            params, _ = policy.train(ki, data)
            returns, _, _ = jax.vmap(rollout, in_axes=(0, None))(kes, params)
            return returns

        return jax.vmap(one)(init_keys, env_keys)  # (k, E)

    def fitness(key, candidate: Dataset):
        return jnp.mean(evaluate_policies(key, materialise(candidate)))

    problem = Problem(template=template, evaluate=fitness, maximize=True)
    return Hades(config, target, policy, template, materialise, fitness, problem, num_steps)


def make_dataset_evaluator(
    hades: Hades, policy: PolicyConfig | None = None, episodes: int = 8
) -> Callable[[jax.Array, Dataset, int], jax.Array]:
    """``evaluate(key, dataset, num_policies) -> float32[num_policies]``: train that many fresh
    policies (of ``policy``'s architecture; default the HaDES inner loop) on the full dataset
    and return each one's mean return over ``episodes`` episodes. Jittable with
    ``num_policies`` static; returns a jitted function."""
    policy_cfg = policy or hades.config.policy
    fns = make_policy(hades.target, policy_cfg, hades.config.stochastic)
    rollout = make_rollout(hades.target, fns, hades.num_steps)

    def evaluate(key, data: Dataset, num_policies: int):
        k_init, k_env = jax.random.split(key)

        def one(ki, kes):
            params, _ = fns.train(ki, data)
            return jnp.mean(jax.vmap(rollout, in_axes=(0, None))(kes, params)[0])

        return jax.vmap(one)(
            jax.random.split(k_init, num_policies),
            jax.random.split(k_env, (num_policies, episodes)),
        )

    return jax.jit(evaluate, static_argnums=2)


def transfer_policies(base: PolicyConfig) -> dict[str, PolicyConfig]:
    """Architectures and optimiser settings that differ from ``base`` in one thing each:
    width (x4), depth (+1 layer), activation (tanh <-> relu) and learning rate (x0.5)."""
    width = base.hidden[0]
    other_act = "relu" if base.activation != "relu" else "tanh"
    variants = [
        dataclasses.replace(base, hidden=(4 * width,) * len(base.hidden)),
        dataclasses.replace(base, hidden=(*base.hidden, base.hidden[-1])),
        dataclasses.replace(base, activation=other_act),
    ]
    out = {p.arch_name: p for p in variants}
    slow = dataclasses.replace(base, lr=base.lr * 0.5)
    out[f"{base.arch_name}-lr{slow.lr:g}"] = slow
    return out


def evaluate_transfer(
    key: jax.Array, hades: Hades, data: Dataset, num_policies: int = 16, episodes: int = 8
) -> dict[str, float]:
    """Mean return of ``num_policies`` fresh policies per architecture of
    :func:`transfer_policies` trained only on ``data`` (host-only)."""
    out = {}
    for i, (name, cfg) in enumerate(transfer_policies(hades.config.policy).items()):
        ev = make_dataset_evaluator(hades, cfg, episodes)
        out[name] = float(jnp.mean(ev(jax.random.fold_in(key, i), data, num_policies)))
    return out


def visited_states(key: jax.Array, hades: Hades, data: Dataset) -> np.ndarray:
    """States (normalised) visited by one policy trained on ``data`` in one episode:
    float32[T', *obs_shape] (host-only; for plots)."""
    k1, k2 = jax.random.split(key)
    params, _ = hades.policy.train(k1, data)
    rollout = make_rollout(hades.target, hades.policy, hades.num_steps, record=True)
    _, states, alive = jax.jit(rollout)(k2, params)
    return np.asarray(states)[np.asarray(alive)]


# ----------------------------------------------------------------------------- dataset files


class DatasetFileError(ValueError):
    """A distilled dataset's ``.npz`` is missing, damaged or does not fit its configuration;
    the message (one line) names the file and what is wrong."""


def hades_config_from_dict(d: dict):
    """``HadesConfig`` from its JSON form (as in ``config.json`` / ``dataset.npz``)."""
    d = dict(d)
    pol = dict(d.pop("policy"))
    pol["hidden"] = tuple(pol["hidden"])
    return HadesConfig(policy=PolicyConfig(**pol), **d)


# ----------------------------------------------------------------------------- datasets


def save_dataset(path: str, hades, dataset, summary: dict) -> None:
    """Write the full dataset (labels materialised) as ``.npz`` plus a JSON summary next to
    it (``<stem>.json``). Atomic, data only."""
    hcfg = hades.config
    cfg = dataclasses.asdict(hcfg)
    cfg["policy"]["hidden"] = list(hcfg.policy.hidden)
    arrays = {
        "states": np.asarray(dataset.states, np.float32),
        "targets": np.asarray(dataset.targets, np.float32),
        "target": np.asarray(hcfg.target),
        "hades_config": np.asarray(json.dumps(cfg)),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    write_json(os.path.splitext(path)[0] + ".json", summary)


def load_dataset(path: str):
    """Read a dataset ``.npz`` written by ``save_dataset``; returns ``(hades, Dataset)``.

    Raises :class:`DatasetFileError` naming what is wrong (not a file / not an npz, missing arrays,
    unknown target, wrong shapes or non-finite values)."""
    if not os.path.isfile(path):
        raise DatasetFileError(f"dataset: {path} is not a file")
    try:
        z = open_npz(path)
        files = set(z.files)
    except ValueError as e:
        raise DatasetFileError(f"dataset {e}") from None
    with z:
        missing = [k for k in ("states", "targets", "target", "hades_config") if k not in files]
        if missing:
            raise DatasetFileError(
                f"dataset {path}: missing array(s) {', '.join(missing)} (has: "
                f"{', '.join(sorted(files)) or 'nothing'}); expected states float32[N, *obs], "
                "targets float32[N, A], target (name), hades_config (JSON)"
            )
        try:
            hcfg = hades_config_from_dict(json.loads(str(z["hades_config"])))
        except Exception as e:
            raise DatasetFileError(
                f"dataset {path}: hades_config is not a valid HaDES config: {e}"
            ) from None
        try:
            states = np.asarray(z["states"])
            targets = np.asarray(z["targets"])
        except Exception as e:  # zipfile / numpy errors of a truncated or altered file
            raise DatasetFileError(
                f"dataset {path}: damaged, not a readable .npz file ({type(e).__name__}: {e})"
            ) from None
    hades = make_hades(hcfg)
    n = hcfg.dataset_size
    t = hades.target
    want_s = (n, *t.obs_shape)
    want_t = (n, t.action_dim)
    if states.shape != want_s:
        raise DatasetFileError(
            f"dataset {path}: states has shape {states.shape}, expected {want_s} "
            f"(N={n} states of the {t.name} observation shape {t.obs_shape})"
        )
    if targets.shape != want_t:
        raise DatasetFileError(
            f"dataset {path}: targets has shape {targets.shape}, expected {want_t} "
            f"(N={n} x {t.action_dim} actions of {t.name})"
        )
    for name, arr in (("states", states), ("targets", targets)):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)):
            raise DatasetFileError(f"dataset {path}: {name} must be finite floats (dtype {arr.dtype})")
    return hades, Dataset(jnp.asarray(states, jnp.float32), jnp.asarray(targets, jnp.float32))
