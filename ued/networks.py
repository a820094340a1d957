"""The toolkit's networks: the one MLP and activation table, action distributions, and the
actor-critics of the PPO learner (feed-forward and recurrent: LSTM / GRU).

:class:`MLP` and :data:`ACTIVATIONS` serve every network of the toolkit (students, HaDES
policies, synthetic-environment nets, DQN/TD3 critics, belief models). :class:`ActionDist`
(:data:`CATEGORICAL`, :data:`GAUSSIAN`) turns a policy output into actions, log-probabilities
and entropies, so one PPO serves discrete and continuous control.

A network is a value built by :func:`make_actor_critic`, an :class:`ActorCritic` NamedTuple of
pure functions that always works on sequences ``(T, B, ...)``::

    params = net.init(key, obs)                     # obs: one batch, leaves (B, ...)
    carry = net.initial_carry(B)                    # recurrent state (an empty tuple if none)
    carry, logits, value = net.apply(params, carry, obs_seq, reset_seq)
        # obs_seq leaves (T, B, ...), reset_seq bool[T, B]: obs_seq[t] starts a new episode,
        # so the recurrent state is set back to its initial value before reading it.
        # logits float32[T, B, A], value float32[T, B]

The observation is any pytree. The encoder treats each leaf by its per-sample rank: rank 3
(``H, W, C`` images) go through the convolution (or are flattened with ``encoder="flat"``),
integer rank-0 leaves (the agent's direction) through an embedding (``num_embeddings`` entries,
or sized by the declared observation space: ``make_actor_critic(..., observation_space=)``),
everything else is flattened. The standard maze network of the UED literature (jaxued / minimax) is
``NetworkConfig.maze()``: Conv(16, 3x3) on the view, an embedding (width 5) of the direction,
LSTM(256), and actor and critic heads of one hidden layer of 32 units each.

Only the core is scanned over time; the encoder and the heads run on the whole ``(T*B)`` batch at
once, which keeps the convolution batched during the PPO update.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ued.env import Box, Discrete
from ued.initializers import orthogonal
from ued.validation import require_ints

# The one activation table of the toolkit (students, HaDES policies, synthetic-env nets,
# DQN/TD3 critics, belief models all name their activation by a key of this table).
ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "elu": jax.nn.elu,
    "gelu": jax.nn.gelu,
    "swish": jax.nn.swish,
    "leaky_relu": jax.nn.leaky_relu,
    "sigmoid": jax.nn.sigmoid,
}
KERNEL_INITS = ("orthogonal", "lecun", "he")


def check_activation(name: str, field: str = "activation") -> None:
    """Raise ``ValueError`` naming ``field`` unless ``name`` is a key of :data:`ACTIVATIONS`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"{field} must be one of {tuple(ACTIVATIONS)}, got {name!r}")


class MLP(nn.Module):
    """The toolkit's one multi-layer perceptron: ``Dense -> act`` per hidden size, then an
    optional linear output layer.

    Attributes:
      hidden: hidden layer sizes (may be empty).
      out: output size; ``None`` returns the last hidden activation (a torso).
      activation: a key of :data:`ACTIVATIONS`.
      kernel_init: ``"orthogonal"`` (scaled by ``hidden_scale`` / ``out_scale``; the PPO
        convention), ``"lecun"`` (LeCun normal, flax's ``Dense`` default; scales ignored) or
        ``"he"`` (fan-in truncated normal of variance ``scale**2 / fan_in``: He normal at the
        default ``hidden_scale`` sqrt(2), and He normal times ``out_scale / sqrt(2)`` at the
        output layer).
      hidden_scale, out_scale: gains of the hidden and output layers (orthogonal and He).

    ``__call__``: float32[..., in] -> float32[..., out] (or ``[..., hidden[-1]]``).
    """

    hidden: tuple[int, ...] = ()
    out: int | None = None
    activation: str = "relu"
    kernel_init: str = "orthogonal"
    hidden_scale: float = float(np.sqrt(2.0))
    out_scale: float = 1.0

    def _init(self, scale: float):
        if self.kernel_init not in KERNEL_INITS:
            raise ValueError(
                f"MLP.kernel_init must be one of {KERNEL_INITS}, got {self.kernel_init!r}"
            )
        if self.kernel_init == "lecun":
            return nn.initializers.lecun_normal()
        if self.kernel_init == "he":
            return nn.initializers.variance_scaling(scale * scale, "fan_in", "truncated_normal")
        return orthogonal(scale)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for h in self.hidden:
            x = act(nn.Dense(h, kernel_init=self._init(self.hidden_scale))(x))
        if self.out is not None:
            x = nn.Dense(self.out, kernel_init=self._init(self.out_scale))(x)
        return x


class ActionDist(NamedTuple):
    """How a policy head's output ``out`` becomes actions (pure, jittable functions).

    ``out`` is what :attr:`ActorCritic.apply` returns as its policy output with leading shape
    ``S`` (e.g. ``(T, B)``): logits ``float32[*S, A]`` for :data:`CATEGORICAL`, a pair
    ``(mean, log_std)`` of ``float32[*S, A]`` for :data:`GAUSSIAN`.
    """

    name: str
    sample: Callable[[jax.Array, Any], jax.Array]  # (key, out) -> action [*S] or [*S, A]
    log_prob: Callable[[Any, jax.Array], jax.Array]  # (out, action) -> float32[*S]
    entropy: Callable[[Any], jax.Array]  # out -> float32[*S]
    mode: Callable[[Any], jax.Array]  # out -> the greedy / mean action


def _cat_log_prob(logits, action):
    logp = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(logp, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def _cat_entropy(logits):
    logp = jax.nn.log_softmax(logits)
    return -jnp.sum(jnp.exp(logp) * logp, axis=-1)


CATEGORICAL = ActionDist(
    name="categorical",
    sample=lambda key, logits: jax.random.categorical(key, logits).astype(jnp.int32),
    log_prob=_cat_log_prob,
    entropy=_cat_entropy,
    mode=lambda logits: jnp.argmax(logits, axis=-1).astype(jnp.int32),
)

_LOG_2PI = float(np.log(2.0 * np.pi))


def _gauss_log_prob(out, action):
    mean, log_std = out
    z = (action - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z * z - log_std - 0.5 * _LOG_2PI, axis=-1)


GAUSSIAN = ActionDist(
    name="gaussian",
    sample=lambda key, out: out[0] + jnp.exp(out[1]) * jax.random.normal(key, out[0].shape),
    log_prob=_gauss_log_prob,
    entropy=lambda out: jnp.sum(out[1] + 0.5 * (_LOG_2PI + 1.0), axis=-1),
    mode=lambda out: out[0],
)

ENCODERS = ("conv", "flat")
CORES = ("lstm", "gru", "none")
# time steps per iteration of the recurrent scan (1 measured fastest for the PPO update of the
# standard maze net on XLA:CPU once the convolution is a matmul: unroll 8 was 1.19x slower)
_UNROLL = 1


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Static description of an actor-critic.

    Attributes:
      encoder: ``"conv"`` (Conv on rank-3 leaves) or ``"flat"`` (flatten them).
      conv_features: channels of the 3x3 convolution (``encoder="conv"``).
      embed_dim: width of the embedding of integer scalar observations (the direction).
      num_embeddings: vocabulary of that embedding (4 directions): values 0..num_embeddings-1,
        others are clipped to the ends. ``make_actor_critic(..., observation_space=)`` sizes
        each integer leaf's embedding by its declared range instead, and ``ued.make_train``
        rejects a student whose embedding is smaller than a declared range.
      torso: hidden sizes of Dense+ReLU layers after the encoder, before the core.
      core: ``"lstm"``, ``"gru"`` or ``"none"`` (feed-forward).
      core_size: hidden size of the recurrent core.
      head_size: hidden size of the actor and critic heads.
      head_layers: hidden layers of each head (the actor and the critic are separate MLPs).
      activation: a key of :data:`ACTIVATIONS`, used by the torso and the heads.
      head_scale: orthogonal gain of the heads' hidden layers (2.0 in jaxued's maze net,
        sqrt(2) in the usual feed-forward PPO agents).
      init_log_std: initial log standard deviation of a Gaussian policy (continuous actions).
    """

    encoder: str = "conv"
    conv_features: int = 16
    embed_dim: int = 5
    num_embeddings: int = 4
    torso: tuple[int, ...] = ()
    core: str = "lstm"
    core_size: int = 256
    head_size: int = 32
    head_layers: int = 1
    activation: str = "relu"
    head_scale: float = 2.0
    init_log_std: float = -0.5

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(
                f"NetworkConfig.encoder must be one of {ENCODERS}, got {self.encoder!r}"
            )
        if self.core not in CORES:
            raise ValueError(f"NetworkConfig.core must be one of {CORES}, got {self.core!r}")
        check_activation(self.activation, "NetworkConfig.activation")
        if not isinstance(self.head_layers, int) or self.head_layers < 0:
            raise ValueError(
                f"NetworkConfig.head_layers must be an integer >= 0, got {self.head_layers!r}"
            )
        require_ints(
            self, ("conv_features", "embed_dim", "num_embeddings", "core_size", "head_size")
        )
        if any((not isinstance(h, int)) or h < 1 for h in self.torso):
            raise ValueError(f"NetworkConfig.torso must hold integers >= 1, got {self.torso!r}")

    @classmethod
    def maze(cls) -> NetworkConfig:
        """The standard maze network (conv 16 3x3, direction embedding 5, LSTM 256, heads 32)."""
        return cls()

    @classmethod
    def small_ff(cls) -> NetworkConfig:
        """A tiny feed-forward net for tests and quick runs (flatten, Dense 64, heads 32)."""
        return cls(encoder="flat", torso=(64,), core="none", head_size=32)

    @classmethod
    def mlp(cls, hidden: int = 64, layers: int = 2, activation: str = "tanh") -> NetworkConfig:
        """The usual feed-forward PPO agent for vector observations: separate actor and critic
        MLPs of ``layers`` x ``hidden`` units with orthogonal init (gain sqrt(2))."""
        return cls(
            encoder="flat",
            core="none",
            head_size=hidden,
            head_layers=layers,
            activation=activation,
            head_scale=float(np.sqrt(2.0)),
        )


NETWORK_PRESETS: dict[str, Callable[[], NetworkConfig]] = {
    "maze": NetworkConfig.maze,
    "maze-gru": lambda: NetworkConfig(core="gru"),
    "maze-ff": lambda: NetworkConfig(core="none", torso=(256,)),
    "small-ff": NetworkConfig.small_ff,
    "small-lstm": lambda: NetworkConfig(encoder="flat", torso=(64,), core="lstm", core_size=32),
    # XLand-MiniGrid (envs.xland): the conv view encoder beside the goal and pocket vectors,
    # LSTM 256, tanh heads of 64 (the package's baseline heads: tanh, 64 units, gain 2)
    "xland": lambda: NetworkConfig(core="lstm", core_size=256, head_size=64, activation="tanh"),
    # the Craftax PPO baseline's network for flat symbolic observations (Matthews et al. 2024;
    # jaxued's examples/craftax: actor and critic MLPs of 3 x 512 tanh units, orthogonal init)
    "mlp-512": lambda: NetworkConfig.mlp(hidden=512, layers=3, activation="tanh"),
}


class _PatchConv(nn.Module):
    """3x3 VALID convolution computed as patches @ kernel (same parameters as ``nn.Conv``).

    XLA:CPU runs the weight gradient of a small convolution ~20x slower inside a ``while`` loop
    (PPO epochs are a ``lax.scan``) than outside one (measured 130 ms vs 6.7 ms on 8192 maze
    views); as a matmul it is fast in both places. Parameters ``kernel (3, 3, C, F)`` and
    ``bias (F,)`` are named and initialised exactly like ``flax.linen.Conv``'s.
    """

    features: int
    size: int = 3

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        # x: float32[N, H, W, C] -> float32[N, H-2, W-2, F]
        k = self.size
        c = x.shape[-1]
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, k, c, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        h, w = x.shape[-3] - k + 1, x.shape[-2] - k + 1
        if h < 1 or w < 1:
            raise ValueError(f"conv encoder needs views of at least {k}x{k}, got {x.shape[1:3]}")
        # patch channels ordered (dy, dx, c), matching kernel.reshape(k * k * c, F)
        patches = jnp.concatenate(
            [x[..., dy : dy + h, dx : dx + w, :] for dy in range(k) for dx in range(k)], axis=-1
        )
        return patches @ kernel.reshape(k * k * c, self.features) + bias


# --------------------------------------------------------------------------------------------
# integer observations and their embeddings


def _space_leaves(observation_space: Any) -> list[tuple[str, Any]]:
    """(path, leaf space) of every leaf of a declared observation space (``Box``/``Discrete``)."""
    return [
        (jax.tree_util.keystr(p), sp)
        for p, sp in jax.tree_util.tree_leaves_with_path(
            observation_space, is_leaf=lambda x: isinstance(x, Box | Discrete)
        )
    ]


def declared_int_range(space: Any) -> tuple[int, int] | None:
    """``(low, high)``, inclusive, of the integers a declared leaf space allows; ``None`` when
    it does not say (no finite bounds). ``Discrete(n)``: ``(0, n - 1)``; ``Box``: the floor of
    its smallest ``low`` and the ceiling of its largest ``high``. Host only."""
    if isinstance(space, Discrete):
        return 0, int(space.n) - 1
    if isinstance(space, Box):
        lo = np.asarray(space.low, np.float64)
        hi = np.asarray(space.high, np.float64)
        if not (lo.size and hi.size and np.isfinite(lo).all() and np.isfinite(hi).all()):
            return None
        return int(np.floor(lo.min())), int(np.ceil(hi.max()))
    return None


def observation_embeddings(observation_space: Any) -> tuple[tuple[int, int] | None, ...]:
    """Per leaf of ``observation_space`` (leaf order): ``(low, size)`` of the embedding an
    integer scalar observation with that declared range needs, ``None`` where the space does
    not say (non-scalar or unbounded leaves keep ``NetworkConfig.num_embeddings``). Host only."""
    out = []
    for _, sp in _space_leaves(observation_space):
        r = declared_int_range(sp)
        scalar = tuple(getattr(sp, "shape", ())) == ()
        out.append(None if r is None or not scalar else (r[0], r[1] - r[0] + 1))
    return tuple(out)


def _is_embedded(leaf: Any, batched: bool) -> bool:
    rank = len(leaf.shape) - (1 if batched else 0)
    return rank == 0 and jnp.issubdtype(leaf.dtype, jnp.integer)


def _embedding_for(config: NetworkConfig, embeddings, i: int) -> tuple[int, int]:
    if embeddings is not None and i < len(embeddings) and embeddings[i] is not None:
        return embeddings[i]
    return 0, config.num_embeddings


def integer_embeddings(net: ActorCritic, obs: Any) -> list[tuple[str, int, int, int]]:
    """The observation leaves ``net`` embeds (integer scalars per sample), as
    ``(path, leaf index, low, size)``: values ``low .. low + size - 1`` get their own entry,
    the others are clipped to the nearest end. ``obs``: one observation, no batch axis (arrays or
    ``jax.ShapeDtypeStruct``). Host only."""
    out = []
    for i, (p, leaf) in enumerate(jax.tree_util.tree_leaves_with_path(obs)):
        if _is_embedded(leaf, batched=False):
            lo, n = _embedding_for(net.config, net.embeddings, i)
            out.append((jax.tree_util.keystr(p), i, lo, n))
    return out


def check_observation_embeddings(net: ActorCritic, obs: Any, observation_space: Any) -> None:
    """Raise ``ValueError`` where an integer scalar observation's declared range does not fit
    the embedding ``net`` has for it (values past its end would all look the same to the agent).

    ``obs``: one observation, no batch axis; ``observation_space``: the env's declared space
    (same pytree structure; otherwise nothing is checked here, ``ued.testing.check_env``
    reports the mismatch). Host only.
    """
    spaces = _space_leaves(observation_space)
    obs_tree = jax.tree.structure(obs)
    sp_tree = jax.tree.structure(observation_space, is_leaf=lambda x: isinstance(x, Box | Discrete))
    if obs_tree != sp_tree:
        return
    for path, i, lo, n in integer_embeddings(net, obs):
        r = declared_int_range(spaces[i][1])
        if r is None or (r[0] >= lo and r[1] <= lo + n - 1):
            continue
        count = r[1] - r[0] + 1
        raise ValueError(
            f"observation leaf {path or '(the observation)'} is an integer in [{r[0]}, {r[1]}] "
            f"({count} values, declared by env.observation_space() as {spaces[i][1]}) but the "
            f"student embeds it in {n} entries (values {lo}..{lo + n - 1}; "
            f"NetworkConfig.num_embeddings={net.config.num_embeddings}), so the values past "
            "the ends would all look the same to the agent: build the student with "
            "make_actor_critic(..., observation_space=env.observation_space()) or set "
            f"NetworkConfig(num_embeddings={r[1] + 1})"
        )


class _Encoder(nn.Module):
    cfg: NetworkConfig
    # per observation leaf: (low, size) of its embedding, None: cfg.num_embeddings from 0
    embeddings: tuple | None = None

    @nn.compact
    def __call__(self, obs: Any) -> jax.Array:
        # obs leaves: (N, ...) with N the flattened batch
        feats = []
        n_conv = 0
        for i, leaf in enumerate(jax.tree.leaves(obs)):
            n = leaf.shape[0]
            if _is_embedded(leaf, batched=True):
                lo, size = _embedding_for(self.cfg, self.embeddings, i)
                idx = jnp.clip(leaf - lo, 0, size - 1)
                feats.append(nn.Embed(size, self.cfg.embed_dim)(idx))
            elif leaf.ndim == 4 and self.cfg.encoder == "conv":
                x = _PatchConv(self.cfg.conv_features, name=f"Conv_{n_conv}")(
                    leaf.astype(jnp.float32)
                )
                n_conv += 1
                feats.append(nn.relu(x).reshape(n, -1))
            else:
                feats.append(leaf.astype(jnp.float32).reshape(n, -1))
        x = jnp.concatenate(feats, axis=-1)
        if self.cfg.torso:
            x = MLP(tuple(self.cfg.torso), None, self.cfg.activation, name="torso")(x)
        return x


class _Heads(nn.Module):
    cfg: NetworkConfig
    num_actions: int

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        cfg = self.cfg
        hidden = (cfg.head_size,) * cfg.head_layers
        mlp = lambda out, scale, name: MLP(
            hidden, out, cfg.activation, "orthogonal", cfg.head_scale, scale, name=name
        )
        logits = mlp(self.num_actions, 0.01, "actor")(x)
        value = mlp(1, 1.0, "critic")(x)[..., 0]
        return logits, value


class _Core(nn.Module):
    """LSTM / GRU whose input projection is split from the recurrence.

    ``project`` maps the features of all ``T*B`` steps at once (one large matmul); only
    ``step`` (the hidden-to-hidden matmul and the gates) runs inside the time scan. The maths
    is the standard LSTM (gates i, f, g, o; carry ``(c, h)``) and GRU (gates r, z, n).
    """

    cfg: NetworkConfig

    def setup(self) -> None:
        h = self.cfg.core_size
        n = 4 if self.cfg.core == "lstm" else 3
        self.wi = nn.Dense(n * h, kernel_init=nn.initializers.lecun_normal())
        self.wh = nn.Dense(
            n * h, use_bias=self.cfg.core == "gru", kernel_init=orthogonal()
        )

    def project(self, x):
        return self.wi(x)

    def step(self, carry, xp):
        if self.cfg.core == "lstm":
            c, h = carry
            i, f, g, o = jnp.split(xp + self.wh(h), 4, axis=-1)
            c = nn.sigmoid(f) * c + nn.sigmoid(i) * jnp.tanh(g)
            h = nn.sigmoid(o) * jnp.tanh(c)
            return (c, h), h
        h = carry
        xr, xz, xn = jnp.split(xp, 3, axis=-1)
        hr, hz, hn = jnp.split(self.wh(h), 3, axis=-1)
        r = nn.sigmoid(xr + hr)
        z = nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        h = (1.0 - z) * n + z * h
        return h, h

    def __call__(self, carry, x):
        return self.step(carry, self.project(x))


def _sigmoid(x: jax.Array) -> jax.Array:
    # the same function as nn.sigmoid; XLA:CPU evaluates tanh faster than the logistic
    # (the LSTM forward scan of the maze net runs ~15% faster)
    return 0.5 * jnp.tanh(0.5 * x) + 0.5


def _lstm_fwd_core(wh, xp, reset, carry):
    """Scan of the LSTM recurrence; returns outputs and what the backward pass needs."""

    def step(c_h, inp):
        c, h = c_h
        x, r = inp
        # an episode starts here: the recurrent state goes back to its (zero) initial value
        c = jnp.where(r[:, None], 0.0, c)
        h = jnp.where(r[:, None], 0.0, h)
        i, f, g, o = jnp.split(x + h @ wh, 4, axis=-1)
        si, sf, tg, so = _sigmoid(i), _sigmoid(f), jnp.tanh(g), _sigmoid(o)
        c2 = sf * c + si * tg
        tc = jnp.tanh(c2)
        h2 = so * tc
        return (c2, h2), (h2, (c, h, si, sf, tg, so, tc))

    carry, (hs, res) = jax.lax.scan(step, carry, (xp, reset), unroll=_UNROLL)
    return carry, hs, res


@jax.custom_vjp
def lstm_sequence(wh: jax.Array, xp: jax.Array, reset: jax.Array, carry: tuple):
    """LSTM recurrence over a sequence with episode resets, with a hand-written backward pass.

    Args:
      wh: float32[H, 4H] hidden-to-gates kernel (gate order i, f, g, o).
      xp: float32[T, B, 4H] input projections (``x @ W_i + b``) of every step.
      reset: bool[T, B]; where true the state is zeroed before step t reads it.
      carry: ``(c, h)``, float32[B, H] each.

    Returns:
      (final carry, h float32[T, B, H]).

    Why by hand: autodiff of the scan accumulates ``dW_h`` with one thin ``(H, B) @ (B, 4H)``
    matmul per step inside the reverse loop; here the loop only propagates ``dh`` and the weight
    gradient is one ``(H, T*B) @ (T*B, 4H)`` matmul after it (~1.3x faster PPO updates of the
    maze net on a 2-core CPU). Checked against autodiff in ``tests/test_networks.py``.
    """
    carry, hs, _ = _lstm_fwd_core(wh, xp, reset, carry)
    return carry, hs


def _lstm_vjp_fwd(wh, xp, reset, carry):
    carry_out, hs, res = _lstm_fwd_core(wh, xp, reset, carry)
    return (carry_out, hs), (wh, reset, res)


def _lstm_vjp_bwd(saved, cts):
    wh, reset, (c_in, h_in, si, sf, tg, so, tc) = saved
    (dc_last, dh_last), dhs = cts
    wh_t = wh.T

    def step(d, inp):
        dc, dh = d
        dy, r, c, si_, sf_, tg_, so_, tc_ = inp
        dh = dh + dy
        dc = dc + dh * so_ * (1.0 - tc_ * tc_)
        d_o = dh * tc_ * so_ * (1.0 - so_)
        d_i = dc * tg_ * si_ * (1.0 - si_)
        d_f = dc * c * sf_ * (1.0 - sf_)
        d_g = dc * si_ * (1.0 - tg_ * tg_)
        dgates = jnp.concatenate([d_i, d_f, d_g, d_o], axis=-1)
        dh_in = dgates @ wh_t
        dc_in = dc * sf_
        # the reset replaced the incoming state by a constant: no gradient flows past it
        keep = ~r[:, None]
        return (jnp.where(keep, dc_in, 0.0), jnp.where(keep, dh_in, 0.0)), dgates

    (dc0, dh0), dxp = jax.lax.scan(
        step,
        (dc_last, dh_last),
        (dhs, reset, c_in, si, sf, tg, so, tc),
        reverse=True,
        unroll=_UNROLL,
    )
    n = dxp.shape[0] * dxp.shape[1]
    dwh = h_in.reshape(n, -1).T @ dxp.reshape(n, -1)
    return dwh, dxp, None, (dc0, dh0)


lstm_sequence.defvjp(_lstm_vjp_fwd, _lstm_vjp_bwd)


class ActorCritic(NamedTuple):
    """A student network as pure functions (see the module docstring for shapes).

    ``apply`` returns the policy output ``out`` that ``dist`` turns into actions: logits
    float32[T, B, A] (discrete) or ``(mean, log_std)`` float32[T, B, A] each (continuous).
    """

    init: Callable[[jax.Array, Any], Any]
    initial_carry: Callable[[int], Any]
    apply: Callable[[Any, Any, Any, jax.Array], tuple[Any, Any, jax.Array]]
    num_actions: int
    recurrent: bool
    config: NetworkConfig
    dist: ActionDist = CATEGORICAL
    # per observation leaf: (low, size) of the embedding of an integer scalar leaf, derived
    # from the observation space given to make_actor_critic (None: config.num_embeddings)
    embeddings: tuple | None = None


def make_actor_critic(
    config: NetworkConfig,
    num_actions: int,
    *,
    continuous: bool = False,
    observation_space: Any = None,
) -> ActorCritic:
    """Build an actor-critic. All returned functions are jittable.

    Args:
      config: the static :class:`NetworkConfig`.
      num_actions: number of discrete actions, or the action dimension when ``continuous``.
      continuous: a Gaussian policy (state-independent learned ``log_std``, initialised to
        ``config.init_log_std``) instead of a categorical one; actions are unbounded, so the
        caller clips or squashes them into the env's bounds.
      observation_space: the env's declared observation space (``env.observation_space()``, a
        pytree of ``Box`` / ``Discrete``). Where given, each integer scalar observation gets an
        embedding sized by its declared range (``Discrete(n)``: ``n`` entries; an integer
        ``Box``: ``high - low + 1``) instead of ``config.num_embeddings``.
    """
    if not isinstance(num_actions, int) or num_actions < 1:
        raise ValueError(f"num_actions must be an integer >= 1, got {num_actions!r}")
    embeddings = None if observation_space is None else observation_embeddings(observation_space)
    enc = _Encoder(config, embeddings)
    heads = _Heads(config, num_actions)
    recurrent = config.core != "none"
    core = _Core(config) if recurrent else None
    size = config.core_size

    def initial_carry(batch: int):
        """Zero recurrent state for ``batch`` sequences (``()`` for feed-forward nets)."""
        z = jnp.zeros((batch, size), jnp.float32)
        if config.core == "lstm":
            return (z, z)
        if config.core == "gru":
            return z
        return ()

    def init(key: jax.Array, obs: Any):
        """Parameters from one observation batch (leaves (B, ...))."""
        k1, k2, k3 = jax.random.split(key, 3)
        p_enc = enc.init(k1, obs)
        feat = enc.apply(p_enc, obs)
        params = {"encoder": p_enc}
        if recurrent:
            b = feat.shape[0]
            params["core"] = core.init(k2, initial_carry(b), feat)
            feat = jnp.zeros((b, size), jnp.float32)
        params["heads"] = heads.init(k3, feat)
        if continuous:
            params["log_std"] = jnp.full((num_actions,), config.init_log_std, jnp.float32)
        return params

    def policy_out(params, logits):
        if not continuous:
            return logits
        return logits, jnp.broadcast_to(params["log_std"], logits.shape)

    def apply(params, carry, obs_seq: Any, reset_seq: jax.Array):
        """Run ``T`` steps: returns (carry, logits float32[T, B, A], value float32[T, B])."""
        t, b = reset_seq.shape
        flat = jax.tree.map(lambda x: x.reshape((t * b,) + x.shape[2:]), obs_seq)
        feat = enc.apply(params["encoder"], flat)
        if recurrent:
            # input projection of every step in one matmul; only the recurrence is scanned
            xp = core.apply(params["core"], feat, method=_Core.project).reshape(t, b, -1)
            feat = xp
            init_c = initial_carry(b)
            if config.core == "lstm":
                wh = params["core"]["params"]["wh"]["kernel"]
                carry, hs = lstm_sequence(wh, xp, reset_seq.astype(bool), carry)
                logits, value = heads.apply(params["heads"], hs.reshape(t * b, -1))
                return carry, policy_out(params, logits.reshape(t, b, -1)), value.reshape(t, b)

            def step(c, inp):
                x, r = inp
                # an episode starts at this step: forget the previous episode's memory
                c = jax.tree.map(lambda a, z: jnp.where(r[:, None], z, a), c, init_c)
                c, y = core.apply(params["core"], c, x, method=_Core.step)
                return c, y

            carry, feat = jax.lax.scan(step, carry, (feat, reset_seq), unroll=_UNROLL)
            feat = feat.reshape(t * b, -1)
        logits, value = heads.apply(params["heads"], feat)
        return carry, policy_out(params, logits.reshape(t, b, -1)), value.reshape(t, b)

    return ActorCritic(
        init=init,
        initial_carry=initial_carry,
        apply=apply,
        num_actions=num_actions,
        recurrent=recurrent,
        config=config,
        dist=GAUSSIAN if continuous else CATEGORICAL,
        embeddings=embeddings,
    )


__all__ = [
    "ACTIVATIONS",
    "CATEGORICAL",
    "GAUSSIAN",
    "KERNEL_INITS",
    "MLP",
    "NETWORK_PRESETS",
    "ActionDist",
    "ActorCritic",
    "NetworkConfig",
    "check_activation",
    "check_observation_embeddings",
    "declared_int_range",
    "integer_embeddings",
    "make_actor_critic",
    "observation_embeddings",
]
