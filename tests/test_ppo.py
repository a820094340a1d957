"""PPO pieces: GAE and loss golden numbers, Adam-Rel, networks (recurrent resets). Everything
tiny; no full trainer here (the learner step: test_learner_step.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ued.networks import NetworkConfig, make_actor_critic
from ued.ppo import (
    Batch,
    PPOConfig,
    PPOParams,
    StudentState,
    gae,
    learning_rate,
    make_optimizer,
    make_ppo_update,
    ppo_loss,
    reset_adam_count,
)

# ----------------------------------------------------------------------------- GAE

# T=4 steps x B=2 envs. Env 0: an episode terminates at t=2, a new one is cut by the rollout
# boundary at t=3 (bootstrap from last_value). Env 1: terminates at t=0, then an episode is
# truncated at t=3 (bootstrap from V(s_3) itself, the post-truncation state is never seen).
R = np.array([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)
V = np.array([[0.5, 0.2], [0.4, 0.3], [0.6, 0.1], [0.2, 0.7]], np.float32)
TERM = np.array([[0, 1], [0, 0], [1, 0], [0, 0]], bool)
TRUNC = np.array([[0, 0], [0, 0], [0, 0], [0, 1]], bool)
LAST = np.array([0.3, 0.9], np.float32)
# by hand, gamma 0.9, lambda 0.8 (gl = 0.72):
#  env 0: t3 = 0 + .9*.3 - .2 = .07;  t2 = 1 - .6 = .4 (terminal);  t1 = (.54 - .4) + .72*.4
#         = .428;  t0 = (.36 - .5) + .72*.428 = .16816
#  env 1: t3 = 2 + .9*.7 - .7 = 1.93 (truncated);  t2 = (.63 - .1) + .72*1.93 = 1.9196;
#         t1 = (.09 - .3) + .72*1.9196 = 1.172112;  t0 = 1 - .2 = .8 (terminal, trace cut)
GAE_GOLDEN = np.array([[0.16816, 0.8], [0.428, 1.172112], [0.4, 1.9196], [0.07, 1.93]], np.float32)


def test_gae_golden():
    adv, target = jax.jit(gae)(R, V, TERM, TRUNC, LAST, 0.9, 0.8)
    np.testing.assert_allclose(adv, GAE_GOLDEN, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(target, GAE_GOLDEN + V, rtol=1e-5, atol=1e-6)


def test_gae_vmap_scan_and_determinism():
    f = jax.jit(lambda g: gae(R, V, TERM, TRUNC, LAST, g, 0.8)[0])
    batched = jax.vmap(f)(jnp.array([0.9, 0.5]))
    np.testing.assert_allclose(batched[0], GAE_GOLDEN, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(f(0.5)), np.asarray(batched[1]), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(f(0.5)), np.asarray(f(0.5)))

    def body(c, g):
        return c, f(g)

    _, scanned = jax.lax.scan(body, 0, jnp.array([0.9, 0.9]))
    np.testing.assert_array_equal(np.asarray(scanned[0]), np.asarray(scanned[1]))
    np.testing.assert_allclose(np.asarray(scanned[0]), np.asarray(f(0.9)), rtol=1e-6)


def test_gae_lambda_one_is_discounted_return_within_episode():
    # no done, lambda = 1: advantage = discounted return + bootstrap - V
    r = np.ones((3, 1), np.float32)
    v = np.zeros((3, 1), np.float32)
    z = np.zeros((3, 1), bool)
    adv, _ = gae(r, v, z, z, np.array([10.0], np.float32), 0.5, 1.0)
    np.testing.assert_allclose(adv[:, 0], [1 + 0.5 + 0.25 + 1.25, 1 + 0.5 + 2.5, 1 + 5.0])


# ----------------------------------------------------------------------------- PPO loss

LOGITS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)
ACTION = np.array([1, 0, 1], np.int32)
OLD_LP = np.log(np.array([0.4, 0.7, 0.9], np.float32))
VALUE = np.array([0.5, 1.0, -0.2], np.float32)
OLD_V = np.array([0.2, 1.1, 0.0], np.float32)
TARGET = np.array([1.0, 0.8, 0.1], np.float32)
ADV = np.array([1.0, -2.0, 0.5], np.float32)
MASK = np.array([True, True, False])


def test_ppo_loss_golden():
    # By hand (third sample masked out):
    #  ratios: .5/.4 = 1.25 (clipped to 1.2, adv +1);  (e/(1+e))/.7 = 1.0443694 (adv -2)
    #  pg = -(1.2 - 2.0887388) / 2 = .4443694
    #  values: v_clip(0) = .2 + .2 = .4 -> max(.25, .36) = .36;  sample 1: .04 -> .5 * .2 = .1
    #  entropy: (ln 2 + H(.7311, .2689)) / 2 = (.6931472 + .5822031) / 2 = .6376751
    p = PPOParams(gamma=0.99, gae_lambda=0.95, clip_eps=0.2, vf_coef=0.5, ent_coef=0.01)
    info = jax.jit(ppo_loss, static_argnums=9)(
        LOGITS, VALUE, ACTION, OLD_LP, OLD_V, ADV, TARGET, MASK, p, False
    )
    np.testing.assert_allclose(info.pg_loss, 0.4443694, rtol=1e-5)
    np.testing.assert_allclose(info.value_loss, 0.1, rtol=1e-5)
    np.testing.assert_allclose(info.entropy, 0.6376751, rtol=1e-5)
    np.testing.assert_allclose(info.loss, 0.4879926, rtol=1e-5)
    np.testing.assert_allclose(info.clip_frac, 0.5, rtol=1e-6)


def test_ppo_loss_mask_ignores_masked_samples_and_normalises():
    p = PPOParams()
    a = ppo_loss(LOGITS, VALUE, ACTION, OLD_LP, OLD_V, ADV, TARGET, MASK, p, True)
    adv2 = ADV.copy()
    adv2[2] = 1e6  # masked: must change nothing, also not the advantage normalisation
    b = ppo_loss(LOGITS, VALUE, ACTION, OLD_LP, OLD_V, adv2, TARGET, MASK, p, True)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    # normalised advantages over the 2 live samples are +1 / -1
    c = ppo_loss(
        LOGITS,
        VALUE,
        ACTION,
        OLD_LP,
        OLD_V,
        np.array([1.0, -1.0, 0], np.float32),
        TARGET,
        MASK,
        p,
        False,
    )
    np.testing.assert_allclose(a.pg_loss, c.pg_loss, rtol=1e-4)
    empty = ppo_loss(LOGITS, VALUE, ACTION, OLD_LP, OLD_V, ADV, TARGET, np.zeros(3, bool), p)
    assert all(np.isfinite(np.asarray(x)) for x in empty)


# ----------------------------------------------------------------------------- optimiser


def test_adam_rel_resets_count_keeps_moments_and_bias_corrects_from_one():
    tx = make_optimizer(PPOConfig(max_grad_norm=1e9))
    params = {"w": jnp.array([1.0, -2.0])}
    state = tx.init(params)
    for g in ([0.5, 0.1], [-0.3, 0.2], [0.2, 0.2]):
        _, state = tx.update({"w": jnp.array(g)}, state, params)
    adam = state[1]
    assert int(adam.count) == 3
    reset = reset_adam_count(state)
    assert int(reset[1].count) == 0
    np.testing.assert_array_equal(reset[1].mu["w"], adam.mu["w"])
    np.testing.assert_array_equal(reset[1].nu["w"], adam.nu["w"])
    g = jnp.array([0.1, -0.4])
    upd, _ = tx.update({"w": g}, reset, params)
    b1, b2, eps = 0.9, 0.999, 1e-5
    mu = b1 * adam.mu["w"] + (1 - b1) * g
    nu = b2 * adam.nu["w"] + (1 - b2) * g**2
    expect = (mu / (1 - b1)) / (jnp.sqrt(nu / (1 - b2)) + eps)  # tau = 1
    np.testing.assert_allclose(upd["w"], expect, rtol=1e-5)


def test_learning_rate_anneals_over_its_own_horizon():
    cfg = PPOParams(lr=1e-3, lr_anneal_updates=10)
    np.testing.assert_allclose(learning_rate(cfg, jnp.int32(0)), 1e-3)
    np.testing.assert_allclose(learning_rate(cfg, jnp.int32(5)), 5e-4, rtol=1e-6)
    np.testing.assert_allclose(learning_rate(cfg, jnp.int32(20)), 0.0)
    const = PPOParams(lr=1e-3, lr_anneal_updates=0)
    np.testing.assert_allclose(learning_rate(const, jnp.int32(100)), 1e-3)
    # dynamic: one jitted function serves every learning rate and horizon
    lr_of = lambda lr, n: learning_rate(PPOParams(lr=lr, lr_anneal_updates=n), jnp.int32(5))
    many = jax.jit(jax.vmap(lr_of))(jnp.array([1e-3, 1e-4]), jnp.array([10, 0]))
    np.testing.assert_allclose(many, [5e-4, 1e-4], rtol=1e-6)


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(num_epochs=0), "num_epochs"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(minibatch_axis="time"), "minibatch_axis"),
        (dict(num_minibatches=0), "num_minibatches"),
    ],
)
def test_ppo_config_errors_name_the_field(kw, msg):
    with pytest.raises(ValueError, match=msg):
        PPOConfig(**kw)


# ----------------------------------------------------------------------------- networks


def _obs(t, b, key):
    k1, k2 = jax.random.split(key)
    return {
        "image": jax.random.randint(k1, (t, b, 5, 5, 3), 0, 10).astype(jnp.uint8),
        "dir": jax.random.randint(k2, (t, b), 0, 4),
    }


@pytest.mark.parametrize("core", ["lstm", "gru"])
def test_recurrent_reset_equals_fresh_start(core):
    net = make_actor_critic(NetworkConfig(core=core, core_size=16, head_size=8), 3)
    t, b = 6, 2
    obs = _obs(t, b, jax.random.key(1))
    params = net.init(jax.random.key(0), jax.tree.map(lambda x: x[0], obs))
    reset = jnp.zeros((t, b), bool).at[0].set(True).at[3, 0].set(True)
    apply = jax.jit(net.apply)
    _, logits, value = apply(params, net.initial_carry(b), obs, reset)
    assert logits.shape == (t, b, 3) and value.shape == (t, b)
    # env 0 from t=3 must equal a fresh sequence starting there
    tail = jax.tree.map(lambda x: x[3:], obs)
    _, l2, v2 = apply(params, net.initial_carry(b), tail, jnp.zeros((3, b), bool).at[0].set(True))
    np.testing.assert_allclose(logits[3:, 0], l2[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value[3:, 0], v2[:, 0], rtol=1e-5, atol=1e-6)
    # env 1 (no reset at 3) has memory: differs from the fresh start
    assert not np.allclose(np.asarray(logits[3:, 1]), np.asarray(l2[:, 1]))
    if core == "lstm":
        return  # the step-by-step check below compiles once more: run it for one core only
    # step-by-step (as in rollouts) equals the whole sequence (as in the PPO update)
    carry = net.initial_carry(b)
    outs = []
    for i in range(t):
        carry, li, _ = apply(
            params, carry, jax.tree.map(lambda x: x[i : i + 1], obs), reset[i : i + 1]
        )
        outs.append(li[0])
    np.testing.assert_allclose(np.stack(outs), logits, rtol=1e-5, atol=1e-6)


def test_standard_maze_network_shapes():
    net = make_actor_critic(NetworkConfig.maze(), 3)
    obs = _obs(1, 2, jax.random.key(2))
    params = net.init(jax.random.key(0), jax.tree.map(lambda x: x[0], obs))
    p = params
    assert p["encoder"]["params"]["Conv_0"]["kernel"].shape == (3, 3, 3, 16)
    assert p["encoder"]["params"]["Embed_0"]["embedding"].shape == (4, 5)
    assert p["core"]["params"]["wh"]["kernel"].shape == (256, 4 * 256)  # LSTM 256
    assert p["heads"]["params"]["actor"]["Dense_0"]["kernel"].shape == (256, 32)
    assert p["heads"]["params"]["actor"]["Dense_1"]["kernel"].shape == (32, 3)
    assert p["heads"]["params"]["critic"]["Dense_0"]["kernel"].shape == (256, 32)
    assert p["heads"]["params"]["critic"]["Dense_1"]["kernel"].shape == (32, 1)
    _, logits, value = jax.jit(net.apply)(params, net.initial_carry(2), obs, jnp.ones((1, 2), bool))
    assert logits.shape == (1, 2, 3) and value.shape == (1, 2)


def test_lstm_hand_written_backward_matches_autodiff():
    from ued.networks import _lstm_fwd_core, lstm_sequence

    k = jax.random.split(jax.random.key(3), 6)
    t, b, h = 9, 3, 8
    wh = jax.random.normal(k[0], (h, 4 * h)) * 0.3
    xp = jax.random.normal(k[1], (t, b, 4 * h))
    reset = jax.random.bernoulli(k[2], 0.25, (t, b)).at[0].set(True).at[4, 1].set(False)
    c0 = (jax.random.normal(k[3], (b, h)), jax.random.normal(k[4], (b, h)))
    w = jax.random.normal(k[5], (t, b, h))

    def loss(f):
        def fn(wh, xp, c0):
            (c, hh), hs = f(wh, xp, reset, c0)
            return jnp.sum(hs * w) + jnp.sum(c**2) + jnp.sum(jnp.sin(hh))

        return fn

    ref = lambda wh, xp, r, c: _lstm_fwd_core(wh, xp, r, c)[:2]
    out = jax.jit(lstm_sequence)(wh, xp, reset, c0)
    np.testing.assert_allclose(out[1], ref(wh, xp, reset, c0)[1], rtol=1e-6, atol=1e-6)
    g = jax.jit(jax.grad(loss(lstm_sequence), argnums=(0, 1, 2)))(wh, xp, c0)
    g_ref = jax.grad(loss(ref), argnums=(0, 1, 2))(wh, xp, c0)
    for a, r in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-5)
    # a reset cuts the gradient to the incoming state of that sequence
    reset_all = jnp.ones((t, b), bool)
    g0 = jax.grad(lambda c: jnp.sum(lstm_sequence(wh, xp, reset_all, c)[1]))(c0)
    assert all(float(jnp.abs(x).max()) == 0.0 for x in g0)


def test_patch_conv_equals_flax_conv():
    import flax.linen as nn

    from ued.networks import _PatchConv

    x = jax.random.uniform(jax.random.key(0), (4, 5, 5, 3))
    ref = nn.Conv(16, (3, 3), padding="VALID")
    p_ref = ref.init(jax.random.key(1), x)
    p = _PatchConv(16).init(jax.random.key(1), x)
    # same parameter names, shapes and initial values as flax's Conv
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a, b), p, p_ref)
    np.testing.assert_allclose(_PatchConv(16).apply(p_ref, x), ref.apply(p_ref, x), atol=1e-5)
    gx = jax.grad(lambda x: jnp.sum(_PatchConv(16).apply(p_ref, x) ** 2))(x)
    gx_ref = jax.grad(lambda x: jnp.sum(ref.apply(p_ref, x) ** 2))(x)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-4, atol=1e-5)


def test_network_config_errors():
    with pytest.raises(ValueError, match="core"):
        NetworkConfig(core="transformer")
    with pytest.raises(ValueError, match="encoder"):
        NetworkConfig(encoder="resnet")


# ----------------------------------------------------------------------------- PPO update


def test_ppo_update_masking_and_determinism():
    net = make_actor_critic(NetworkConfig.small_ff(), 3)
    t, b = 5, 4
    k = jax.random.key(3)
    obs = {"x": jax.random.normal(k, (t, b, 6))}
    params = net.init(jax.random.key(0), jax.tree.map(lambda x: x[0], obs))
    cfg = PPOConfig(num_epochs=2, num_minibatches=2, optimizer="adam-rel")
    tx = make_optimizer(cfg)
    st = StudentState(params, tx.init(params), jnp.zeros((), jnp.int32))
    _, logits, value = net.apply(params, (), obs, jnp.ones((t, b), bool))
    action = jax.random.categorical(k, logits)
    lp = jnp.take_along_axis(jax.nn.log_softmax(logits), action[..., None], -1)[..., 0]
    adv = jax.random.normal(jax.random.key(4), (t, b))
    mask = jnp.zeros((t, b), bool).at[:, :2].set(True)
    batch = Batch(obs, jnp.ones((t, b), bool), action, lp, value, adv, adv + value, mask)
    upd = jax.jit(make_ppo_update(cfg, net))
    pp = PPOParams(lr=1e-2)
    s1, m1 = upd(jax.random.key(5), st, batch, pp)
    s2, m2 = upd(jax.random.key(5), st, batch, pp)
    for a, bb in zip(jax.tree.leaves(s1), jax.tree.leaves(s2), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(bb))
    assert int(s1.num_updates) == 1
    assert float(m1["grad_norm"]) > 0
    # transitions of masked-out envs do not influence the update
    obs2 = {"x": obs["x"].at[:, 2:].set(100.0)}
    batch2 = batch._replace(obs=obs2, advantage=adv.at[:, 2:].set(50.0))
    s3, _ = upd(jax.random.key(5), st, batch2, pp)
    for a, bb in zip(jax.tree.leaves(s1.params), jax.tree.leaves(s3.params), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(bb), rtol=1e-5, atol=1e-6)
