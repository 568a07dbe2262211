"""reduce_on_plateau: optax parity, extensions, errors, readout, training."""

import math
import pickle
import re

import chex
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


def _loss_and_accuracy_plateaus():
  p_loss = osch.reduce_on_plateau(factor=0.5, patience=1, value_in_update=False)
  p_acc = osch.reduce_on_plateau(factor=0.1, patience=5, mode="max", value_in_update=False)
  return p_loss, p_acc, optax.chain(optax.sgd(0.1), p_loss, p_acc)


@pytest.mark.parametrize("jit", [False, True])
def test_observe_updates_its_own_state_only(jit):
  p_loss, p_acc, opt = _loss_and_accuracy_plateaus()
  state = opt.init(PARAMS)
  untouched = p_acc.init(PARAMS)
  observe_loss = jax.jit(p_loss.observe) if jit else p_loss.observe
  observe_acc = jax.jit(p_acc.observe) if jit else p_acc.observe
  for _ in range(2):
    state = observe_loss(state, 1.0)
  assert float(state[1].scale) == 0.5 and float(state[1].best_value) == 1.0
  jax.tree.map(np.testing.assert_array_equal, state[2], untouched)
  state = observe_acc(state, 0.75)
  assert float(state[2].best_value) == 0.75 and float(state[1].best_value) == 1.0
  assert int(state[2].plateau_count) == 0 and int(state[1].plateau_count) == 0


def test_observe_does_not_retrace():
  p_loss, _, opt = _loss_and_accuracy_plateaus()
  state = opt.init(PARAMS)
  observe = jax.jit(chex.assert_max_traces(p_loss.observe, n=1))
  for v in [1.0, 2.0, 3.0]:
    state = observe(state, jnp.float32(v))
  assert float(state[1].scale) == 0.25  # 2.0 and 3.0 do not improve: two cuts
  assert float(state[2].scale) == 1.0 and float(state[2].best_value) == -np.inf


def test_observe_with_indistinguishable_states_says_what_to_do():
  a = osch.reduce_on_plateau(patience=1, value_in_update=False)
  b = osch.reduce_on_plateau(patience=1, value_in_update=False)
  opt = optax.chain(optax.sgd(0.1), a, b)
  with pytest.raises(ValueError, match=re.escape(
      "`reduce_on_plateau(...).observe(opt_state=...)` found 2 plateau states built with "
      "identical arguments and cannot tell which is its own: give each transformation a "
      "distinct `name=`, e.g. `reduce_on_plateau(..., name='val_loss')`.")):
    a.observe(opt.init(PARAMS), 1.0)
  a = osch.reduce_on_plateau(patience=1, value_in_update=False, name="val_loss")
  b = osch.reduce_on_plateau(patience=1, value_in_update=False, name="val_ce")
  state = optax.chain(optax.sgd(0.1), a, b).init(PARAMS)
  state = b.observe(b.observe(state, 1.0), 1.0)
  assert float(state[1].scale) == 1.0 and float(state[2].scale) == pytest.approx(0.1)


def test_observe_without_its_own_state_says_so():
  a = osch.reduce_on_plateau(patience=1)
  b = osch.reduce_on_plateau(patience=2)
  with pytest.raises(ValueError, match=re.escape(
      "`reduce_on_plateau(...).observe(opt_state=...)` found no state of this "
      "transformation in opt_state (it holds 1 other plateau state)")):
    a.observe(optax.chain(optax.sgd(0.1), b).init(PARAMS), 1.0)


def test_state_identity_is_static_deterministic_and_picklable():
  a = osch.reduce_on_plateau(patience=1)
  state = a.init(PARAMS)
  assert isinstance(state, osch.ReduceOnPlateauState)
  # Three leaves; the scale is a field (optax.tree_utils finds it), the rest read by name.
  assert state._fields == ("scale", "values", "counts")
  assert [x.shape for x in state] == [(), (2,), (3,)]
  entries = ("scale", "best_value", "avg_value", "plateau_count", "cooldown_count", "count")
  assert [float(getattr(state, k)) for k in entries] == [1.0, math.inf, 0.0, 0.0, 0.0, 0.0]
  # Built again from the same arguments: the same pytree structure.
  assert jax.tree.structure(osch.reduce_on_plateau(patience=1).init(PARAMS)) == \
      jax.tree.structure(state)
  assert jax.tree.structure(osch.reduce_on_plateau(patience=2).init(PARAMS)) != \
      jax.tree.structure(state)
  restored = pickle.loads(pickle.dumps(state))
  assert type(restored) is type(state)
  assert float(a.observe(restored, 1.0).best_value) == 1.0
  assert repr(state).startswith("ReduceOnPlateauState(scale=")
  assert float(optax.tree_utils.tree_get(state, "scale")) == 1.0


def test_state_replace_changes_named_entries_and_keeps_the_owner():
  state = osch.reduce_on_plateau(patience=1).init(PARAMS)
  new = state.replace(best_value=2.5, count=3, scale=0.5)
  assert type(new) is type(state)
  assert (float(new.scale), float(new.best_value), float(new.avg_value)) == (0.5, 2.5, 0.0)
  assert (int(new.plateau_count), int(new.cooldown_count), int(new.count)) == (0, 0, 3)
  assert [x.dtype for x in new] == [x.dtype for x in state]  # cast to each leaf's dtype
  assert new.counts is not state.counts and new.replace().values is new.values
  with pytest.raises(TypeError, match=re.escape(
      "`ReduceOnPlateauState.replace` got unknown entries ['best']")):
    state.replace(best=1.0)
  with pytest.raises(TypeError, match=re.escape(
      "`ReduceOnPlateauState.replace` needs an integer count, got count=2.5")):
    state.replace(count=2.5)
  assert "best_value=" in repr(new) and "plateau_count=" in repr(new)


def test_loss_and_validation_plateaus_share_a_chain():
  """A fast cut on the training loss (update's value=) and a slow one on the
  validation accuracy (observe); optax.chain forwards value= to both."""
  p_train = osch.reduce_on_plateau(factor=0.5, patience=2)
  p_val = osch.reduce_on_plateau(factor=0.1, patience=1, mode="max", value_in_update=False)
  opt = optax.chain(optax.sgd(1.0), p_train, p_val)
  state = opt.init(PARAMS)
  ones = jax.tree.map(jnp.ones_like, PARAMS)
  train = jax.jit(lambda s, v: opt.update(ones, s, PARAMS, value=v))
  observe = jax.jit(p_val.observe)
  lrs = []
  for accuracy in [0.5, 0.6, 0.6]:  # epochs of 3 steps, constant training loss
    for _ in range(3):
      updates, state = train(state, 1.0)
      lrs.append(-float(updates["w"][0]))
    state = observe(state, accuracy)
  # Training loss: first value improves, then cuts at calls 3, 5, 7, 9.
  # Validation accuracy: 0.5, 0.6 improve, 0.6 does not: x0.1 after the last epoch.
  np.testing.assert_allclose(lrs, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625],
                             rtol=1e-6)
  assert float(state[1].scale) == 0.0625 and float(state[2].scale) == pytest.approx(0.1)
  assert float(state[2].best_value) == pytest.approx(0.6)
  updates, state = train(state, 1.0)  # both cuts apply to the next update
  assert -float(updates["w"][0]) == pytest.approx(0.00625)


@pytest.mark.usefixtures("standard_promotion")  # optax.MultiSteps needs it, not we
def test_multisteps_hands_the_plateau_the_last_micro_batch_value():
  """What docs/plateau.md says of optax.MultiSteps, and its recipe."""
  losses, ones, params = [4.0, 3.0, 2.0, 1.0], jnp.ones(2), jnp.zeros(2)
  inside = optax.MultiSteps(optax.chain(optax.sgd(0.1), osch.reduce_on_plateau()), 4)
  state = inside.init(params)
  for loss in losses:
    _, state = inside.update(ones, state, params, value=loss)
  assert float(state.inner_opt_state[1].best_value) == 1.0  # the last one
  after = optax.chain(optax.MultiSteps(optax.sgd(0.1), 4).gradient_transformation(),
                      osch.reduce_on_plateau(factor=0.5, patience=1, accumulation_size=4))
  state = after.init(params)
  applied = []
  for loss in losses * 2:
    updates, state = after.update(ones, state, params, value=loss)
    applied.append(-float(updates[0]))
  assert float(state[1].best_value) == 2.5  # the mean of the micro-batches
  # The second optimizer step sees the same mean: cut, applied to its update.
  np.testing.assert_allclose(applied, [0, 0, 0, 0.1, 0, 0, 0, 0.05], rtol=1e-6)


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


def test_learning_rate_with_constant_lr_needs_no_step():
  opt = optax.chain(optax.sgd(0.1), osch.reduce_on_plateau(factor=0.5, patience=1))
  state = opt.init(PARAMS)
  for _ in range(3):
    _, state = opt.update(PARAMS, state, PARAMS, value=1.0)
  # 0.1 * 0.5**2: the step of a constant cannot matter.
  assert float(osch.learning_rate(0.1, state)) == pytest.approx(0.025)
  assert float(jax.jit(osch.learning_rate)(0.1, state)) == pytest.approx(0.025)


def test_learning_rate_without_a_count_says_how_to_give_one():
  opt = optax.chain(optax.sgd(0.1), osch.reduce_on_plateau())
  state = opt.init(PARAMS)
  schedule = osch.linear(1.0, 0.0, 10)
  with pytest.raises(ValueError, match=re.escape(
      "`learning_rate(opt_state=...)` holds no update count (no ScaleByScheduleState, as "
      "`optax.adamw(schedule)` keeps, and no `optax.inject_hyperparams` state): pass the "
      "number of updates applied so far as `step=`.")):
    osch.learning_rate(schedule, state)
  assert float(osch.learning_rate(schedule, state, step=4)) == pytest.approx(0.6)


def test_learning_rate_names_itself_for_a_bad_schedule():
  state = osch.reduce_on_plateau().init(PARAMS)
  with pytest.raises(TypeError, match=re.escape(
      "`learning_rate(schedule=...)` must be a schedule (a callable of the step) or a "
      "number, got schedule='x'.")):
    osch.learning_rate("x", state)


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw needs it, not we
def test_learning_rate_reads_inject_hyperparams():
  schedule = osch.linear(1.0, 0.0, 10)
  opt = optax.inject_hyperparams(optax.adamw)(learning_rate=schedule)
  state = opt.init(PARAMS)
  for k in range(4):
    # The next update's lr after k updates: 1 - k/10.
    assert float(osch.learning_rate(schedule, state)) == pytest.approx(1 - k / 10)
    _, state = opt.update(PARAMS, state, PARAMS)
  assert float(jax.jit(osch.learning_rate)(schedule, state)) == pytest.approx(0.6)


def test_learning_rate_with_inject_hyperparams_is_the_lr_the_next_update_uses():
  """optax itself is the reference: sgd's update is -lr * grad, grad = 1."""
  schedule = osch.linear(1.0, 0.0, 10)
  plateau = osch.reduce_on_plateau(factor=0.5, patience=1, value_in_update=False)
  opt = optax.chain(optax.inject_hyperparams(optax.sgd)(learning_rate=schedule), plateau)
  state = opt.init(PARAMS)
  ones = jax.tree.map(jnp.ones_like, PARAMS)
  for k in range(6):
    predicted = float(osch.learning_rate(schedule, state))
    updates, state = opt.update(ones, state, PARAMS)
    np.testing.assert_allclose(-updates["w"], predicted, rtol=1e-6)
    if k % 2:
      state = plateau.observe(state, 1.0)
  assert float(state[1].scale) == 0.25  # the readout saw two cuts


def test_learning_rate_reads_the_legacy_inject_state():
  schedule = osch.linear(1.0, 0.0, 10)
  state = (optax.InjectHyperparamsState(count=jnp.asarray(3, jnp.int32),
                                        hyperparams={"learning_rate": jnp.float32(0.8)},
                                        inner_state=optax.EmptyState()),
           osch.reduce_on_plateau().init(PARAMS))
  assert float(osch.learning_rate(schedule, state)) == pytest.approx(0.7)


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
    (dict(patience=2.5), "`reduce_on_plateau(patience=...)` must be a whole number of "
     "evaluations, got patience=2.5."),
    (dict(cooldown=0.5), "`reduce_on_plateau(cooldown=...)` must be a whole number of "
     "evaluations, got cooldown=0.5."),
    (dict(accumulation_size=1.5), "`reduce_on_plateau(accumulation_size=...)` must be a "
     "whole number of values, got accumulation_size=1.5."),
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
