"""Low-precision params through optax with a schedule and plateau reduction.

Under strict dtype promotion (conftest.py), with and without x64: the updates
keep the params' dtype, the plateau state keeps its fixed dtypes, and the
trajectory is the float32 one to the params' precision.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from tests._util import enable_x64

DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]


def _standard_promotion(tx):
  """optax's own adam bias correction (``decay ** count``, float ** int32) fails
  under strict promotion (optax 0.2.8): that transformation alone runs under
  standard promotion; the schedule inside it yields float32 either way, and the
  plateau and everything else stay strict."""

  def init(params):
    with jax.numpy_dtype_promotion("standard"):
      return tx.init(params)

  def update(updates, state, params=None, **extra):
    with jax.numpy_dtype_promotion("standard"):
      return tx.update(updates, state, params, **extra)

  return optax.GradientTransformationExtraArgs(init, update)


OPTIMIZERS = {
    "sgd": lambda lr: optax.sgd(lr, momentum=0.9),
    "adamw": lambda lr: _standard_promotion(optax.adamw(lr, weight_decay=1e-2)),
}
# Relative error of a few steps against float32: a few ulps of each dtype.
RTOL = {jnp.float32: 1e-5, jnp.bfloat16: 5e-2, jnp.float16: 5e-3}


@functools.cache  # the float32 runs are the reference of the others
def _train(optimizer, dtype, x64, steps=12):
  with enable_x64(x64):
    return jax.device_get(_train_steps(optimizer, dtype, steps))


def _train_steps(optimizer, dtype, steps):
  schedule = osch.warmup(osch.cosine_decay(0.1, 20), 3)
  opt = optax.chain(OPTIMIZERS[optimizer](schedule),
                    osch.reduce_on_plateau(factor=0.5, patience=1))
  x = jnp.asarray(np.random.default_rng(0).normal(size=(16, 4)), dtype)
  y = jnp.asarray(np.arange(16) % 3, dtype)
  params = {"w": jnp.zeros(4, dtype), "b": jnp.zeros((), dtype)}
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x @ p["w"] + p["b"] - y) ** 2))(params)
    updates, state = opt.update(grads, state, params, value=loss)
    assert jax.tree.map(lambda u: u.dtype, updates) == jax.tree.map(lambda p: p.dtype, params)
    return optax.apply_updates(params, updates), state, updates

  for _ in range(steps):
    params, state, updates = step(params, state)
  return params, state, updates, osch.learning_rate(schedule, state)


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_updates_keep_the_params_dtype(dtype, optimizer, x64):
  params, state, updates, lr = _train(optimizer, dtype, x64)
  ref_params, ref_state, _, ref_lr = _train(optimizer, jnp.float32, x64)
  fdt = jnp.float64 if x64 else jnp.float32
  for tree in (params, updates):
    for leaf in jax.tree.leaves(tree):
      assert leaf.dtype == dtype
  plateau = state[1]
  assert plateau.scale.dtype == plateau.best_value.dtype == plateau.avg_value.dtype == fdt
  assert plateau.plateau_count.dtype == plateau.cooldown_count.dtype == jnp.int32
  assert lr.dtype == fdt
  assert float(ref_state[1].scale) < 1.0  # the plateau cut at least once
  np.testing.assert_array_equal(plateau.scale, ref_state[1].scale)
  np.testing.assert_allclose(float(lr), float(ref_lr), rtol=1e-6)
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(ref_params)):
    np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32),
                               rtol=RTOL[dtype], atol=RTOL[dtype])
