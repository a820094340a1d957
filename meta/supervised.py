"""Supervised dataset distillation with the same ES machinery, on scikit-learn's digits.

``sklearn.datasets.load_digits`` ships inside the scikit-learn wheel (1797 images of 8x8
pixels, 10 classes), so nothing is downloaded. The candidate is one synthetic image per class
(``float32[10, 64]``, pixel values scaled to [0, 1]) with fixed labels; its fitness is the
cross-entropy on the real training split of an MLP classifier trained only on those 10 images
from fresh initialisations (minimised). The baseline trains the same classifier on one random
real training image per class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from meta.es import Problem
from ued.networks import MLP
from ued.optim import apply_step, make_adam

NUM_CLASSES = 10
IMAGE_DIM = 64
_HE_GAIN = float(np.sqrt(2.0))  # the He-normal gain of ``MLP(kernel_init="he")``


@dataclasses.dataclass(frozen=True)
class DigitsConfig:
    """Static settings of digits distillation."""

    hidden: int = 64  # MLP hidden width (one ReLU layer)
    steps: int = 100  # full-batch Adam steps of the classifier on the 10 images
    lr: float = 0.01
    num_inits: int = 2  # classifier initialisations per candidate and generation
    test_fraction: float = 0.3
    split_seed: int = 0

    def __post_init__(self):
        if not 1 <= self.hidden <= 4096:
            raise ValueError(f"hidden: must be in [1, 4096], got {self.hidden!r}")
        if not 1 <= self.steps <= 100_000:
            raise ValueError(f"steps: must be in [1, 100000], got {self.steps!r}")
        if not 0 < self.lr <= 10:
            raise ValueError(f"lr: must be in (0, 10], got {self.lr!r}")
        if not 1 <= self.num_inits <= 64:
            raise ValueError(f"num_inits: must be in [1, 64], got {self.num_inits!r}")
        if not 0.05 <= self.test_fraction <= 0.95:
            raise ValueError(f"test_fraction: must be in [0.05, 0.95], got {self.test_fraction}")


class DigitsDistillation(NamedTuple):
    """Pure functions and data of digits distillation (see :func:`make_digits_distillation`)."""

    config: DigitsConfig
    problem: Problem  # candidate float32[10, 64], fitness = real train CE, maximize=False
    class_means: jax.Array  # float32[10, 64] initial mean of the ES
    train_x: jax.Array  # float32[n_train, 64]
    train_y: jax.Array  # int32[n_train]
    test_x: jax.Array
    test_y: jax.Array
    # key, x float32[n, 64], y int32[n] -> the classifier's flax variables (a ued.networks.MLP)
    train_classifier: Callable[[jax.Array, jax.Array, jax.Array], dict]
    accuracy: Callable[[dict, jax.Array, jax.Array], jax.Array]
    random_real: Callable[[jax.Array], jax.Array]  # key -> float32[10, 64] one image per class


def make_digits_distillation(config: DigitsConfig = DigitsConfig()) -> DigitsDistillation:
    """Build digits distillation (host-only; loads the bundled data)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int32)
    perm = np.random.default_rng(config.split_seed).permutation(len(y))
    n_test = int(round(config.test_fraction * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    train_x, train_y = jnp.asarray(x[train]), jnp.asarray(y[train])
    test_x, test_y = jnp.asarray(x[test]), jnp.asarray(y[test])
    class_means = jnp.stack([train_x[train_y == c].mean(0) for c in range(NUM_CLASSES)])
    labels = jnp.arange(NUM_CLASSES, dtype=jnp.int32)
    opt = make_adam(max_grad_norm=None, eps=1e-8)  # plain Adam

    # He-normal kernels, the output layer's scaled down 10x (small initial logits), zero biases
    net = MLP(
        hidden=(config.hidden,),
        out=NUM_CLASSES,
        activation="relu",
        kernel_init="he",
        hidden_scale=_HE_GAIN,
        out_scale=0.1 * _HE_GAIN,
    )

    def init(key):
        return net.init(key, jnp.zeros((IMAGE_DIM,), jnp.float32))

    def logits(params, xs):
        return net.apply(params, xs)

    def ce(params, xs, ys):
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits(params, xs), ys))

    def train_classifier(key, xs, ys):
        params = init(key)

        def body(carry, _):
            params, st = carry
            g = jax.grad(ce)(params, xs, ys)
            return apply_step(opt, g, st, params, config.lr), None

        (params, _), _ = jax.lax.scan(body, (params, opt.init(params)), None, config.steps)
        return params

    def accuracy(params, xs, ys):
        return jnp.mean(jnp.argmax(logits(params, xs), -1) == ys)

    def evaluate(key, images):
        def one(k):
            return ce(train_classifier(k, images, labels), train_x, train_y)

        return jnp.mean(jax.vmap(one)(jax.random.split(key, config.num_inits)))

    def random_real(key):
        keys = jax.random.split(key, NUM_CLASSES)

        def pick(k, c):
            p = (train_y == c).astype(jnp.float32)
            return train_x[jax.random.choice(k, train_y.shape[0], p=p / p.sum())]

        return jax.vmap(pick)(keys, labels)

    problem = Problem(template=class_means, evaluate=evaluate, maximize=False)
    return DigitsDistillation(
        config,
        problem,
        class_means,
        train_x,
        train_y,
        test_x,
        test_y,
        train_classifier,
        accuracy,
        random_real,
    )


def distilled_accuracies(
    key: jax.Array, task: DigitsDistillation, images: jax.Array, num: int = 16
) -> jax.Array:
    """Test accuracy of ``num`` classifiers (fresh inits) trained only on ``images``
    (float32[10, 64], labels 0..9): float32[num]. Jittable."""
    labels = jnp.arange(NUM_CLASSES, dtype=jnp.int32)

    def one(k):
        params = task.train_classifier(k, images, labels)
        return task.accuracy(params, task.test_x, task.test_y)

    return jax.vmap(one)(jax.random.split(key, num))


def baseline_accuracies(key: jax.Array, task: DigitsDistillation, num: int = 16) -> jax.Array:
    """Test accuracy of classifiers trained on one random real training image per class (a
    fresh random pick and init per classifier): float32[num]. Jittable."""

    def one(k):
        k1, k2 = jax.random.split(k)
        images = task.random_real(k1)
        labels = jnp.arange(NUM_CLASSES, dtype=jnp.int32)
        params = task.train_classifier(k2, images, labels)
        return task.accuracy(params, task.test_x, task.test_y)

    return jax.vmap(one)(jax.random.split(key, num))
