"""``ued.initializers.orthogonal``: the orthogonal init without LAPACK, and the guard that no
vmapped initialisation in the toolkit lowers to a (batched) LAPACK call, which hangs XLA:CPU on a
2-core machine (see the module docstring of ``ued.initializers``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ued.initializers import orthogonal, orthonormal_columns


@pytest.mark.parametrize("shape", [(4, 64), (64, 64), (256, 1024), (149, 96), (3, 3, 3, 16)])
def test_orthogonal_rows_or_columns_and_scale(shape):
    w = jax.jit(lambda k: orthogonal(2.0)(k, shape))(jax.random.key(0))
    assert w.shape == shape and w.dtype == jnp.float32
    m = np.asarray(w, np.float64).reshape(-1, shape[-1])
    g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(g, 4.0 * np.eye(g.shape[0]), atol=2e-5)
    ref = jax.nn.initializers.orthogonal(2.0)(jax.random.key(0), shape)
    assert ref.shape == w.shape


def test_gram_schmidt_equals_sign_fixed_lapack_qr():
    a = jax.random.normal(jax.random.key(1), (40, 12))
    q, r = np.linalg.qr(np.asarray(a, np.float64))
    q = q * np.sign(np.diag(r))  # the unique Q with a positive-diagonal R
    np.testing.assert_allclose(orthonormal_columns(a), q, atol=1e-5)
    with pytest.raises(ValueError, match="m >= k"):
        orthonormal_columns(jnp.zeros((3, 4)))
    with pytest.raises(ValueError, match="rank >= 2"):
        orthogonal()(jax.random.key(0), (5,))


def test_orthogonal_deterministic_vmap_scan():
    init = orthogonal(np.sqrt(2))
    keys = jax.random.split(jax.random.key(3), 4)
    a = jax.jit(jax.vmap(lambda k: init(k, (8, 5))))(keys)
    b = jax.jit(jax.vmap(lambda k: init(k, (8, 5))))(keys)
    np.testing.assert_array_equal(a, b)
    _, c = jax.lax.scan(lambda _, k: (None, init(k, (8, 5))), None, keys)
    np.testing.assert_allclose(a, c, atol=1e-6)
    assert not np.allclose(a[0], a[1])


def _no_lapack(fn, *args):
    text = jax.jit(fn).lower(*args).as_text().lower()
    for needle in ("lapack", "geqrf", "householder", "orgqr"):
        assert needle not in text, f"a LAPACK call ({needle}) is lowered"


def test_vmapped_initialisations_lower_to_no_lapack_call():
    from meta.hades import PolicyConfig, make_policy
    from meta.learners import LearnerConfig, default_hparams, make_learner
    from meta.synth import make_real_env
    from meta.targets import make_target
    from ued.networks import NetworkConfig, make_actor_critic

    keys = jax.random.split(jax.random.key(0), 3)
    net = make_actor_critic(NetworkConfig.maze(), 3)
    obs = {"image": jnp.zeros((2, 5, 5, 3), jnp.uint8), "dir": jnp.zeros((2,), jnp.int32)}
    _no_lapack(jax.vmap(lambda k: net.init(k, obs)), keys)

    fns = make_policy(make_target("cartpole"), PolicyConfig(), True)
    _no_lapack(jax.vmap(fns.init), keys)

    real = make_real_env("pendulum")
    lrn = make_learner("td3", real.env, LearnerConfig(num_steps=16, batch_size=4), real.params)
    _no_lapack(jax.vmap(lambda k: lrn.train(k, real.params, default_hparams())), keys)
