"""reduce_on_plateau: optax parity, extensions, errors, readout, training."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch

PARAMS = {"w": jnp.ones(3)}


def _scales(transform, values, params=PARAMS):
  state = transform.init(params)
  step = jax.jit(lambda s, v: transform.update(params, s, value=v))
  out = []
  for v in values:
    _, state = step(state, jnp.float32(v))
    out.append(float(state.scale))
  return np.array(out), state


def _random_config(rng):
  kw = dict(factor=float(rng.uniform(0.05, 0.95)), patience=int(rng.integers(1, 6)),
            rtol=float(rng.choice([0.0, 1e-4, 1e-2, 0.1, 0.9])),
            atol=float(rng.choice([0.0, 1e-3, 0.05])), cooldown=int(rng.integers(0, 4)),
            accumulation_size=int(rng.integers(1, 4)),
            min_scale=float(rng.choice([0.0, 0.01, 0.3])))
  if kw["rtol"] == 0 and kw["atol"] == 0:
    kw["atol"] = 1e-3  # optax refuses both zero
  return kw


def _positive_metrics(rng, n=60):
  vals = np.abs(1 + np.cumsum(rng.normal(0, 0.05, n)) * rng.choice([0.1, 1])) + 0.01
  return np.where(rng.random(n) < 0.3, np.round(vals, 1), vals).astype(np.float32)


@pytest.mark.parametrize("seed", range(30))
def test_parity_with_optax_contrib(seed):
  rng = np.random.default_rng(seed)
  kw = _random_config(rng)
  values = _positive_metrics(rng)
  ours, _ = _scales(osch.reduce_on_plateau(**kw), values)
  with jax.numpy_dtype_promotion("standard"):
    ref, _ = _scales(optax.contrib.reduce_on_plateau(**kw), values)
  np.testing.assert_array_equal(ours, ref)


def test_update_is_scaled_by_the_scale_after_observing_the_value():
  t = osch.reduce_on_plateau(factor=0.5, patience=1)
  state = t.init(PARAMS)
  _, state = t.update(PARAMS, state, value=1.0)
  updates, state = t.update(PARAMS, state, value=1.0)
  np.testing.assert_array_equal(updates["w"], 0.5 * np.ones(3))


@pytest.mark.parametrize("seed", range(5))
def test_max_mode_is_min_mode_on_the_negated_metric(seed):
  rng = np.random.default_rng(seed)
  kw = _random_config(rng)
  values = rng.normal(0, 1, 50).cumsum().astype(np.float32)
  up, _ = _scales(osch.reduce_on_plateau(mode="max", **kw), values)
  down, _ = _scales(osch.reduce_on_plateau(mode="min", **kw), -values)
  np.testing.assert_array_equal(up, down)


def test_negative_metrics_reduce():
  ours, _ = _scales(osch.reduce_on_plateau(factor=0.5, patience=2), [-1.0] * 7)
  np.testing.assert_array_equal(ours, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125])
  with jax.numpy_dtype_promotion("standard"):
    ref, _ = _scales(optax.contrib.reduce_on_plateau(factor=0.5, patience=2), [-1.0] * 7)
  assert np.all(ref == 1.0)  # optax never reduces on a negative loss


def test_relative_threshold_uses_the_magnitude_of_best():
  # best = -10; rtol 0.1: an improvement must go below -11.
  t = osch.reduce_on_plateau(factor=0.5, patience=1, rtol=0.1)
  scales, state = _scales(t, [-10.0, -10.5, -11.5])
  np.testing.assert_array_equal(scales, [1.0, 0.5, 0.5])
  assert float(state.best_value) == -11.5


def test_non_finite_values_never_improve_nor_touch_best():
  t = osch.reduce_on_plateau(factor=0.5, patience=2)
  scales, state = _scales(t, [1.0, np.nan, -np.inf, np.inf, np.nan])
  np.testing.assert_array_equal(scales, [1.0, 1.0, 0.5, 0.5, 0.25])
  assert float(state.best_value) == 1.0


def test_patience_zero_reduces_on_every_bad_evaluation():
  scales, _ = _scales(osch.reduce_on_plateau(factor=0.5, patience=0),
                      [3.0, 2.0, 2.0, 1.0, 1.0, 1.0])
  np.testing.assert_array_equal(scales, [1, 1, 0.5, 0.5, 0.25, 0.125])


def test_cooldown_longer_than_the_run():
  scales, state = _scales(osch.reduce_on_plateau(factor=0.5, patience=1, cooldown=100),
                          [1.0] * 20)
  np.testing.assert_array_equal(scales, [1.0] + [0.5] * 19)
  assert int(state.cooldown_count) == 100 - 18


def test_zero_tolerances_count_any_strict_improvement():
  scales, _ = _scales(osch.reduce_on_plateau(factor=0.5, patience=1, rtol=0.0, atol=0.0),
                      [1.0, 0.9999999, 0.9999999])
  np.testing.assert_array_equal(scales, [1.0, 1.0, 0.5])


def test_accumulation_averages_values():
  t = osch.reduce_on_plateau(factor=0.5, patience=1, accumulation_size=3)
  scales, state = _scales(t, [1.0, 2.0, 3.0, 1.0, 3.0, 2.0])
  # Means: 2.0 (improves on inf), then 2.0 (no improvement): reduce at call 6.
  np.testing.assert_array_equal(scales, [1, 1, 1, 1, 1, 0.5])
  assert float(state.best_value) == 2.0 and int(state.count) == 0


def test_min_scale():
  scales, _ = _scales(osch.reduce_on_plateau(factor=0.1, patience=1, min_scale=0.05),
                      [1.0] * 5)
  np.testing.assert_allclose(scales, [1, 0.1, 0.05, 0.05, 0.05], rtol=1e-6)


def test_bf16_params_under_strict_promotion():
  params = {"w": jnp.ones(3, jnp.bfloat16), "b": jnp.ones((), jnp.float16)}
  opt = optax.chain(optax.sgd(0.1), osch.reduce_on_plateau(factor=0.5, patience=1))
  state = opt.init(params)
  step = jax.jit(lambda s: opt.update(params, s, params, value=jnp.float32(1.0)))
  for _ in range(3):
    updates, state = step(state)
  assert updates["w"].dtype == jnp.bfloat16 and updates["b"].dtype == jnp.float16
  np.testing.assert_allclose(updates["w"].astype(np.float32), -0.1 * 0.25, rtol=1e-2)


def test_observe_feeds_an_evaluation_metric():
  schedule = osch.constant(1.0)
  plateau = osch.reduce_on_plateau(factor=0.5, patience=1, value_in_update=False)
  opt = optax.chain(optax.sgd(schedule), plateau)
  state = opt.init(PARAMS)
  train = jax.jit(lambda s: opt.update(PARAMS, s, PARAMS))
  observe = jax.jit(plateau.observe)
  lrs = []
  for epoch_loss in [1.0, 1.0, 1.0]:
    for _ in range(2):
      updates, state = train(state)
    state = observe(state, epoch_loss)
    lrs.append(float(osch.learning_rate(schedule, state)))
  np.testing.assert_array_equal(lrs, [1.0, 0.5, 0.25])
  np.testing.assert_array_equal(train(state)[0]["w"], -0.25 * np.ones(3))


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw needs it, not we
def test_learning_rate_readout_is_the_next_updates_lr():
  schedule = osch.linear(1.0, 0.0, 10)
  opt = optax.chain(optax.adamw(schedule), osch.reduce_on_plateau(factor=0.5, patience=1))
  state = opt.init(PARAMS)
  # Constant metric, patience 1: the scale halves from the 2nd update on.
  for k, scale in enumerate([1.0, 1.0, 0.5, 0.25]):
    assert float(osch.learning_rate(schedule, state)) == pytest.approx(
        float(schedule(k)) * scale)
    _, state = opt.update(PARAMS, state, PARAMS, value=1.0)
  jitted = jax.jit(osch.learning_rate)(schedule, state)
  assert float(jitted) == pytest.approx(0.6 * 0.125)


def test_learning_rate_with_constant_lr_needs_step():
  opt = optax.chain(optax.sgd(0.1), osch.reduce_on_plateau())
  state = opt.init(PARAMS)
  with pytest.raises(ValueError, match=re.escape("pass the update count as `step=`")):
    osch.learning_rate(0.1, state)
  assert float(osch.learning_rate(0.1, state, step=0)) == pytest.approx(0.1)


def test_missing_value_is_a_type_error_that_says_how():
  t = osch.reduce_on_plateau()
  with pytest.raises(TypeError, match=re.escape(
      "call `update(updates, state, params, value=loss)`")):
    t.update(PARAMS, t.init(PARAMS))


@pytest.mark.parametrize("kwargs,message", [
    (dict(factor=1.0), "`reduce_on_plateau(factor=...)` must be in the open interval (0, 1), "
     "got factor=1.0."),
    (dict(factor=0.0), "`reduce_on_plateau(factor=...)` must be in the open interval (0, 1), "
     "got factor=0.0."),
    (dict(patience=-1), "`reduce_on_plateau(patience=...)` must be non-negative, got "
     "patience=-1."),
    (dict(cooldown=-2), "`reduce_on_plateau(cooldown=...)` must be non-negative, got "
     "cooldown=-2."),
    (dict(rtol=-0.1), "`reduce_on_plateau(rtol=...)` must be non-negative, got rtol=-0.1."),
    (dict(atol=-1.0), "`reduce_on_plateau(atol=...)` must be non-negative, got atol=-1.0."),
    (dict(accumulation_size=0), "`reduce_on_plateau(accumulation_size=...)` must be "
     "positive, got accumulation_size=0."),
    (dict(mode="avg"), "`reduce_on_plateau(mode=...)` must be one of 'min', 'max', got "
     "mode='avg'."),
    (dict(min_scale=2.0), "`reduce_on_plateau(min_scale=...)` must be in [0, 1], got "
     "min_scale=2.0."),
])
def test_errors(kwargs, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    osch.reduce_on_plateau(**kwargs)


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw needs it, not we
def test_training_with_warmup_cosine_and_plateau():
  """A small real problem: the effective lr drops after the loss plateaus."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(256, 4)), jnp.float32)
  y = x @ jnp.array([1.0, -2.0, 0.5, 3.0]) + jnp.asarray(rng.normal(0, 0.5, 256), jnp.float32)
  schedule = osch.warmup(osch.cosine_decay(0.1, 600), 20)
  opt = optax.chain(optax.adamw(schedule), osch.reduce_on_plateau(factor=0.3, patience=5,
                                                                   rtol=1e-3))
  params = jnp.zeros(4)
  state = opt.init(params)

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, loss

  lrs, losses = [], []
  for _ in range(300):
    params, state, loss = step(params, state)
    losses.append(float(loss))
    lrs.append(float(osch.learning_rate(schedule, state)))
  scale = float(state[1].scale)
  assert losses[-1] < 0.3 < losses[0]
  assert scale < 1.0  # the noise floor is a plateau
  first_cut = next(k for k in range(300) if lrs[k] < float(schedule(k + 1)) - 1e-9)
  assert 20 < first_cut < 300
  np.testing.assert_allclose(lrs[-1], float(schedule(300)) * scale, rtol=1e-6)
