"""The prioritised level buffer (PLR's replay buffer) as pure functions over a frozen pytree.

``make_level_sampler(config) -> LevelSampler(init, weights, should_replay, sample, insert,
update, get_levels)``. Static choices live in :class:`LevelSamplerConfig`; the numbers one may
sweep or vmap in :class:`LevelSamplerParams`; the evolving data in :class:`LevelBufferState`.

Replay distribution (PLR paper): ``P = (1 - s) P_score + s P_staleness`` with

* rank prioritisation ``h_i = (1 / rank_i) ** (1 / T)`` (rank 1 = highest score, ties broken by
  slot order, lower slot first). The temperature is a *power* (minimax divides instead);
  it is computed as a softmax of ``-log(rank) / T`` so a tiny ``T`` or all-equal scores never
  give NaN (``T`` is clipped below at 1e-6).
* top-k prioritisation: uniform over the ``k`` highest-ranked filled levels (a documented
  simplification: jaxued uses a softmax of the raw top-k scores).
* staleness ``P_staleness_i ∝ clock - last_used_i`` (uniform over filled slots when all are 0).
* empty slots get weight 0; the weights sum to 1 over filled slots (all 0 if the buffer is empty).

Batched insert is fully vectorised (no scan over the batch):

1. With ``duplicate_check``, levels are compared by two 32-bit hashes of their bytes (64 bits
   in all; stored per slot, looked up with a sorted-key binary search, see ``_find_stored``),
   confirmed by an exact comparison of the bytes. Copies
   *within* the incoming batch are collapsed into their first occurrence (score = mean of the
   copies, ``max_return`` = max); a level already in the buffer is *refreshed* (score, extras
   and ``last_used = clock`` set) instead of inserted.
2. The remaining candidates, in descending score order, are paired with the buffer's slots in
   ascending replacement order: empty slots first, then filled slots by ascending replay weight
   (ties: lower slot first). A candidate takes its slot if the slot is empty or its score is
   strictly higher; otherwise it is dropped. Thus an insert only ever evicts a lower-scoring
   level, and with ``B = 1`` this is exactly "replace the lowest-weight level if higher".

NaN scores are stored as ``-inf`` (lowest priority).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from ued.curriculum import LevelExtras
from ued.options import BOOL, choice, float_, int_, option

_PRIORITIZATIONS = ("rank", "topk")


@dataclasses.dataclass(frozen=True)
class LevelSamplerConfig:
    """Static buffer choices.

    Attributes:
      capacity: number of slots, >= 1.
      prioritization: ``"rank"`` or ``"topk"``.
      duplicate_check: refresh an existing identical level instead of inserting a copy.
    """

    capacity: int = 4000
    prioritization: str = "rank"
    duplicate_check: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.capacity, int) or self.capacity < 1:
            raise ValueError(
                f"LevelSamplerConfig.capacity must be an int >= 1, got {self.capacity}"
            )
        if self.prioritization not in _PRIORITIZATIONS:
            raise ValueError(
                f"LevelSamplerConfig.prioritization must be one of {_PRIORITIZATIONS}, "
                f"got {self.prioritization!r}"
            )
        if not isinstance(self.duplicate_check, bool):
            raise ValueError("LevelSamplerConfig.duplicate_check must be a bool")


@struct.dataclass
class LevelSamplerParams:
    """Dynamic (vmappable) buffer numbers. Defaults: jaxued's maze PLR settings.

    replay_prob in [0, 1]; staleness_coef in [0, 1]; temperature > 0 (rank); min_fill in [0, 1]
    (share of capacity filled before replay may happen); topk_k >= 1 (top-k).
    """

    replay_prob: jax.Array | float = 0.8
    staleness_coef: jax.Array | float = 0.3
    temperature: jax.Array | float = 0.3
    min_fill: jax.Array | float = 0.5
    topk_k: jax.Array | int = 4


@struct.dataclass
class LevelBufferState:
    """The buffer's data; leaves have a leading ``capacity`` axis except ``clock``."""

    levels: Any  # level pytree, leaves (capacity, ...)
    scores: jax.Array  # float32[capacity]
    last_used: jax.Array  # int32[capacity] clock when the level was last sampled/inserted
    filled: jax.Array  # bool[capacity]
    extras: LevelExtras  # max_return float32[capacity]
    hashes: jax.Array  # uint32[capacity, 2] hash of each level's bytes (duplicate check)
    clock: jax.Array  # int32[] advanced by B per sample


class LevelSampler(NamedTuple):
    """Pure buffer functions (all jittable; see :func:`make_level_sampler`)."""

    init: Any
    weights: Any
    should_replay: Any
    sample: Any
    insert: Any
    update: Any
    get_levels: Any
    config: LevelSamplerConfig


# --------------------------------------------------------------------------------------------
# level bytes and hashes


def level_words(levels: Any) -> jax.Array:
    """uint32[N, D]: the bytes of ``N`` batched levels as 32-bit words (bools -> 0/1 words)."""
    cols = []
    for leaf in jax.tree.leaves(levels):
        x = jnp.asarray(leaf)
        n = x.shape[0]
        x = x.reshape(n, -1)
        if x.dtype == jnp.bool_ or jnp.dtype(x.dtype).itemsize == 1:
            w = x.astype(jnp.uint32)
        elif jnp.dtype(x.dtype).itemsize == 2:
            w = jax.lax.bitcast_convert_type(x, jnp.uint16).astype(jnp.uint32)
        elif jnp.dtype(x.dtype).itemsize == 4:
            w = jax.lax.bitcast_convert_type(x, jnp.uint32)
        else:  # 8-byte types (x64 mode): two words each
            w = jax.lax.bitcast_convert_type(x, jnp.uint32).reshape(n, -1)
        cols.append(w)
    return jnp.concatenate(cols, axis=1)


def _fmix32(h: jax.Array) -> jax.Array:
    # MurmurHash3 finaliser: a cheap bijective avalanche on uint32.
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def hash_words(words: jax.Array) -> jax.Array:
    """uint32[N, 2]: two position-sensitive hashes of each row of ``words``.

    Equal rows always hash equal; unequal rows collide with probability ~2**-64 per pair (a
    collision only makes a *candidate*, which is then compared exactly).
    """
    d = words.shape[1]
    pos = jnp.arange(d, dtype=jnp.uint32)
    salt = _fmix32(pos * jnp.uint32(0x9E3779B1) + jnp.uint32(0x7F4A7C15))
    x = _fmix32(words ^ salt[None, :])  # one avalanche per word, shared by both hashes
    h1 = x.sum(axis=1, dtype=jnp.uint32)
    h2 = (x * (pos * jnp.uint32(2) + jnp.uint32(0x2545F491))[None, :]).sum(axis=1, dtype=jnp.uint32)
    return jnp.stack([_fmix32(h1 + jnp.uint32(d)), _fmix32(h2 ^ jnp.uint32(0x5BD1E995))], axis=1)


_PROBE = 4  # sorted-key neighbours checked per lookup (see _find_stored)


def _find_stored(state: LevelBufferState, hashes: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(found bool[B], slot int32[B]): a filled slot whose two hashes equal each query's.

    For ``capacity <= 2**20`` this is a sort-based lookup instead of a dense ``(B, C)``
    comparison: each filled slot gets the int key ``(h1 with its low b bits replaced by the
    slot index)`` (``b = bits(capacity)``), the keys are sorted once (a fast bare-int sort), and
    each query binary-searches its high bits and checks the next ``_PROBE`` keys against the
    full 64-bit hash. It could only miss a stored copy if more than ``_PROBE`` stored levels
    shared the query's top ``32 - b`` hash bits (probability ~(C / 2**(32-b))**_PROBE, about
    1e-10 at C = 4000). Larger buffers use the dense comparison.
    """
    cap = state.filled.shape[0]
    bits = max(1, (cap - 1).bit_length())
    if bits > 20:
        eq = jnp.all(hashes[:, None, :] == state.hashes[None, :, :], -1) & state.filled[None]
        return eq.any(axis=1), jnp.argmax(eq, axis=1).astype(jnp.int32)
    low = jnp.uint32((1 << bits) - 1)
    high = ~low
    iota = jnp.arange(cap, dtype=jnp.uint32)
    keys = jnp.where(state.filled, (state.hashes[:, 0] & high) | iota, jnp.uint32(0xFFFFFFFF))
    srt = jnp.sort(keys)
    q = hashes[:, 0] & high
    pos = jnp.searchsorted(srt, q, side="left")
    found = jnp.zeros(hashes.shape[0], bool)
    slot = jnp.zeros(hashes.shape[0], jnp.int32)
    for o in range(_PROBE):
        k = srt[jnp.minimum(pos + o, cap - 1)]
        c = jnp.minimum(k & low, cap - 1).astype(jnp.int32)
        ok = (
            ((k & high) == q)
            & ((k & low) < cap)
            & state.filled[c]
            & jnp.all(state.hashes[c] == hashes, axis=1)
        )
        slot = jnp.where(~found & ok, c, slot)
        found = found | ok
    return found, slot


# --------------------------------------------------------------------------------------------
# weights


def _float_key(x: jax.Array) -> jax.Array:
    """int32 key with the same order as float32 ``x`` (total order; -0 < +0)."""
    b = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.int32)
    return jnp.where(b >= 0, b, b ^ jnp.int32(0x7FFFFFFF))


def score_ranks(scores: jax.Array, filled: jax.Array) -> jax.Array:
    """int32[C] rank of each slot by descending score (1 = best), ties by slot order.

    Empty slots rank after every filled one. Computed with two plain int32 sorts (XLA's CPU
    sort is ~5x faster on a bare integer array than argsort's key/payload sort): a group id
    ``lt_i`` = number of strictly better slots, then the unique key ``lt_i * C + i`` whose
    sorted order, taken mod ``C``, is the stable argsort. Needs ``C**2 < 2**31``; larger
    buffers use ``argsort``.
    """
    cap = scores.shape[0]
    iota = jnp.arange(cap, dtype=jnp.int32)
    s = jnp.where(jnp.isnan(scores), -jnp.inf, scores)
    if cap * cap < 2**31:
        d = jnp.where(filled, ~_float_key(s), jnp.iinfo(jnp.int32).max)  # ascending = better
        lt = jnp.searchsorted(jnp.sort(d), d, side="left").astype(jnp.int32)
        order = jnp.sort(lt * cap + iota) % cap
    else:
        order = jnp.argsort(jnp.where(filled, -s, jnp.inf), stable=True).astype(jnp.int32)
    return jnp.zeros(cap, jnp.int32).at[order].set(iota + 1)


def rank_weights(scores: jax.Array, filled: jax.Array, temperature: jax.Array) -> jax.Array:
    """float32[C] ``(1/rank)^(1/T)`` normalised over filled slots (0 on empty). NaN-free."""
    rank = score_ranks(scores, filled).astype(jnp.float32)
    t = jnp.maximum(jnp.asarray(temperature, jnp.float32), 1e-6)
    logits = jnp.where(filled, -jnp.log(rank) / t, -jnp.inf)
    any_filled = filled.any()
    w = jax.nn.softmax(jnp.where(any_filled, logits, 0.0))
    return jnp.where(filled, w, 0.0)


def topk_weights(scores: jax.Array, filled: jax.Array, k: jax.Array) -> jax.Array:
    """float32[C] uniform over the ``k`` highest-ranked filled slots."""
    rank = score_ranks(scores, filled)
    sel = filled & (rank <= jnp.maximum(jnp.asarray(k, jnp.int32), 1))
    return sel / jnp.maximum(sel.sum(), 1)


def staleness_weights(last_used: jax.Array, filled: jax.Array, clock: jax.Array) -> jax.Array:
    """float32[C] ``∝ clock - last_used`` over filled slots; uniform over filled if all 0."""
    st = jnp.where(filled, (clock - last_used).astype(jnp.float32), 0.0)
    st = jnp.maximum(st, 0.0)
    tot = st.sum()
    uni = filled / jnp.maximum(filled.sum(), 1)
    return jnp.where(tot > 0, st / jnp.where(tot > 0, tot, 1.0), uni)


def _sanitize(scores: jax.Array) -> jax.Array:
    s = jnp.asarray(scores, jnp.float32)
    return jnp.where(jnp.isnan(s), -jnp.inf, s)


def make_level_sampler(config: LevelSamplerConfig) -> LevelSampler:
    """Build the buffer functions for ``config`` (see the module docstring for semantics).

    Returned functions (all pure and jittable; ``B`` = batch size, static):

    * ``init(placeholder_level) -> LevelBufferState``
    * ``weights(state, params) -> float32[capacity]`` replay distribution P
    * ``should_replay(key, state, params) -> bool[]``: ``fill >= min_fill`` and
      ``U < replay_prob`` (and at least one level stored)
    * ``sample(key, state, params, n) -> (state, int32[n] slots)``: ``n`` i.i.d. draws from P;
      sets their ``last_used`` to the advanced clock (``clock += n``). On an empty buffer the
      slots are uniform and meaningless (check ``should_replay`` first).
    * ``insert(state, levels, scores, max_return, params, mask=None) -> (state, int32[B])``:
      batched insert; returns each level's slot or -1 where it was not stored.
    * ``update(state, slots, scores, max_return) -> state``: new scores for replayed slots
      (slot -1 ignored; a slot drawn several times gets the mean score, the max ``max_return``).
    * ``get_levels(state, slots) -> levels`` gather.
    """
    if not isinstance(config, LevelSamplerConfig):
        raise TypeError(f"make_level_sampler expects a LevelSamplerConfig, got {type(config)}")
    cap = config.capacity

    def init(placeholder: Any) -> LevelBufferState:
        levels = jax.tree.map(
            lambda x: jnp.zeros((cap,) + jnp.shape(x), jnp.asarray(x).dtype), placeholder
        )
        return LevelBufferState(
            levels=levels,
            scores=jnp.full((cap,), -jnp.inf, jnp.float32),
            last_used=jnp.zeros((cap,), jnp.int32),
            filled=jnp.zeros((cap,), bool),
            extras=LevelExtras(max_return=jnp.full((cap,), -jnp.inf, jnp.float32)),
            hashes=jnp.zeros((cap, 2), jnp.uint32),
            clock=jnp.zeros((), jnp.int32),
        )

    def weights(state: LevelBufferState, params: LevelSamplerParams) -> jax.Array:
        if config.prioritization == "rank":
            ps = rank_weights(state.scores, state.filled, params.temperature)
        else:
            ps = topk_weights(state.scores, state.filled, params.topk_k)
        pst = staleness_weights(state.last_used, state.filled, state.clock)
        s = jnp.asarray(params.staleness_coef, jnp.float32)
        return ((1.0 - s) * ps + s * pst).astype(jnp.float32)

    def should_replay(key, state: LevelBufferState, params: LevelSamplerParams) -> jax.Array:
        n = state.filled.sum()
        fill = n / cap
        return (n > 0) & (fill >= params.min_fill) & (jax.random.uniform(key) < params.replay_prob)

    def sample(key, state: LevelBufferState, params: LevelSamplerParams, n: int):
        w = weights(state, params)
        tot = w.sum()
        p = jnp.where(tot > 0, w / jnp.where(tot > 0, tot, 1.0), 1.0 / cap)
        # inverse-CDF sampling: O(n log C), no (n, C) Gumbel matrix.
        cdf = jnp.cumsum(p)
        u = jax.random.uniform(key, (n,)) * cdf[-1]
        slots = jnp.searchsorted(cdf, u, side="right").astype(jnp.int32)
        # never land on a zero-weight slot because of float round-off at the top end
        slots = jnp.where(p[jnp.clip(slots, 0, cap - 1)] > 0, slots, jnp.argmax(cdf))
        slots = jnp.clip(slots, 0, cap - 1).astype(jnp.int32)
        clock = state.clock + n
        state = state.replace(last_used=state.last_used.at[slots].set(clock), clock=clock)
        return state, slots

    def get_levels(state: LevelBufferState, slots: jax.Array) -> Any:
        return jax.tree.map(lambda x: x[slots], state.levels)

    def update(state: LevelBufferState, slots, scores, max_return) -> LevelBufferState:
        slots = jnp.asarray(slots, jnp.int32)
        ok = slots >= 0
        idx = jnp.where(ok, slots, cap)  # out of range -> dropped
        s = _sanitize(scores)
        cnt = jnp.zeros(cap, jnp.float32).at[idx].add(ok.astype(jnp.float32), mode="drop")
        # mean over the finite scores of a slot's draws (-inf mixed in would poison the sum);
        # a slot whose draws are all -inf gets -inf.
        fin = jnp.isfinite(s)
        tot = jnp.zeros(cap, jnp.float32).at[idx].add(jnp.where(ok & fin, s, 0.0), mode="drop")
        cntf = jnp.zeros(cap, jnp.float32).at[idx].add((ok & fin).astype(jnp.float32), mode="drop")
        mean = jnp.where(cntf > 0, tot / jnp.maximum(cntf, 1.0), -jnp.inf)
        touched = (cnt > 0) & state.filled
        mr = (
            jnp.full(cap, -jnp.inf, jnp.float32)
            .at[idx]
            .max(jnp.asarray(max_return, jnp.float32), mode="drop")
        )
        return state.replace(
            scores=jnp.where(touched, mean, state.scores),
            extras=LevelExtras(
                max_return=jnp.where(
                    touched, jnp.maximum(state.extras.max_return, mr), state.extras.max_return
                )
            ),
        )

    def insert(state: LevelBufferState, levels, scores, max_return, params, mask=None):
        s = _sanitize(scores)
        b = s.shape[0]
        ar = jnp.arange(b)
        valid = jnp.ones(b, bool) if mask is None else jnp.asarray(mask, bool)
        mret = jnp.asarray(max_return, jnp.float32)
        words = level_words(levels)
        hashes = hash_words(words)

        if config.duplicate_check:
            # copies within the batch: representative = first equal valid level
            heq = jnp.all(hashes[:, None, :] == hashes[None, :, :], -1)
            heq = heq & valid[None, :] & valid[:, None] & (ar[None, :] <= ar[:, None])
            first = jnp.argmax(heq, axis=1)
            exact = jnp.all(words == words[first], axis=1)
            rep = jnp.where(valid & exact, first, ar)
            # copies already in the buffer
            found, m = _find_stored(state, hashes)
            stored = level_words(jax.tree.map(lambda x: x[m], state.levels))
            matched = found & jnp.all(stored == words, axis=1)
        else:
            rep = ar
            m = jnp.zeros(b, jnp.int32)
            matched = jnp.zeros(b, bool)

        is_rep = valid & (rep == ar)
        fin = valid & jnp.isfinite(s)
        tot = jnp.zeros(b, jnp.float32).at[rep].add(jnp.where(fin, s, 0.0))
        cnt = jnp.zeros(b, jnp.float32).at[rep].add(fin.astype(jnp.float32))
        gscore = jnp.where(cnt > 0, tot / jnp.maximum(cnt, 1.0), -jnp.inf)
        gmax = jnp.full(b, -jnp.inf, jnp.float32).at[rep].max(jnp.where(valid, mret, -jnp.inf))

        # 1. refresh stored copies
        refresh = is_rep & matched
        ridx = jnp.where(refresh, m, cap)
        scores_buf = state.scores.at[ridx].set(gscore, mode="drop")
        mr_buf = state.extras.max_return.at[ridx].max(gmax, mode="drop")
        last_used = state.last_used.at[ridx].set(state.clock, mode="drop")
        protected = jnp.zeros(cap, bool).at[ridx].set(True, mode="drop")

        # 2. new candidates vs. the replacement order
        cand = is_rep & ~matched
        w = weights(state, params)
        key = jnp.where(state.filled, w, -1.0)
        key = jnp.where(protected, 2.0, key)
        k = min(b, cap)
        # lax.top_k puts the lower index first among ties, as a stable argsort would
        victims = jax.lax.top_k(-key, k)[1]
        corder = jax.lax.top_k(jnp.where(cand, gscore, -jnp.inf), k)[1]
        c_ok = cand[corder]
        v_empty = ~state.filled[victims]
        accept = c_ok & ~protected[victims] & (v_empty | (gscore[corder] > state.scores[victims]))
        tgt = jnp.where(accept, victims, cap)
        new_levels = jax.tree.map(
            lambda buf, x: buf.at[tgt].set(x[corder], mode="drop"), state.levels, levels
        )
        scores_buf = scores_buf.at[tgt].set(gscore[corder], mode="drop")
        mr_buf = mr_buf.at[tgt].set(gmax[corder], mode="drop")
        last_used = last_used.at[tgt].set(state.clock, mode="drop")
        filled = state.filled.at[tgt].set(True, mode="drop")
        new_hashes = state.hashes.at[tgt].set(hashes[corder], mode="drop")

        # slot of every input level (via its representative)
        rep_slot = (
            jnp.full(b, -1, jnp.int32)
            .at[jnp.where(accept, corder, b)]
            .set(victims.astype(jnp.int32), mode="drop")
        )
        rep_slot = jnp.where(refresh, m.astype(jnp.int32), rep_slot)
        out_slots = jnp.where(valid, rep_slot[rep], -1)

        state = state.replace(
            levels=new_levels,
            scores=scores_buf,
            last_used=last_used,
            filled=filled,
            extras=LevelExtras(max_return=mr_buf),
            hashes=new_hashes,
        )
        return state, out_slots

    return LevelSampler(
        init=init,
        weights=weights,
        should_replay=should_replay,
        sample=sample,
        insert=insert,
        update=update,
        get_levels=get_levels,
        config=config,
    )


def buffer_summary(state: LevelBufferState) -> dict[str, jax.Array]:
    """Scalar diagnostics of a buffer: fill share, mean / max / min score of filled slots."""
    f = state.filled
    n = f.sum()
    fin = f & jnp.isfinite(state.scores)
    nf = jnp.maximum(fin.sum(), 1)
    return {
        "buffer/fill": (n / f.shape[0]).astype(jnp.float32),
        "buffer/mean_score": jnp.where(fin, state.scores, 0.0).sum() / nf,
        "buffer/max_score": jnp.where(fin, state.scores, -jnp.inf).max(),
        "buffer/min_score": jnp.where(fin, state.scores, jnp.inf).min(),
    }


# ----------------------------------------------------------------------------- options
# the level buffer's options, shared by every curriculum that keeps one (PLR, robust PLR, ACCEL)


@dataclasses.dataclass(frozen=True)
class BufferOptions:
    """Command-line options of the level buffer (``--buffer-capacity`` ...), jaxued's maze
    PLR settings by default."""

    buffer_capacity: int = option(4000, int_(1), "level buffer capacity")
    replay_prob: float = option(0.8, float_(0.0, 1.0), "probability of a replay update")
    staleness_coef: float = option(0.3, float_(0.0, 1.0), "staleness mixing coefficient")
    temperature: float = option(0.3, float_(0, None, True), "rank prioritisation temperature")
    prioritization: str = option("rank", choice(*_PRIORITIZATIONS), "buffer prioritisation")
    topk_k: int = option(4, int_(1), "k of top-k prioritisation")
    min_fill: float = option(0.5, float_(0.0, 1.0), "buffer fill share before replay may happen")
    duplicate_check: bool = option(True, BOOL, "refresh identical levels instead of inserting")


def buffer_config(options: Any) -> LevelSamplerConfig:
    """The :class:`LevelSamplerConfig` of a run's :class:`BufferOptions` values (attributes)."""
    return LevelSamplerConfig(
        capacity=options.buffer_capacity,
        prioritization=options.prioritization,
        duplicate_check=options.duplicate_check,
    )


def buffer_params(options: Any) -> LevelSamplerParams:
    """The :class:`LevelSamplerParams` of a run's :class:`BufferOptions` values (attributes)."""
    return LevelSamplerParams(
        replay_prob=options.replay_prob,
        staleness_coef=options.staleness_coef,
        temperature=options.temperature,
        min_fill=options.min_fill,
        topk_k=options.topk_k,
    )
