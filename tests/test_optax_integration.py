"""Schedules inside optax's wrappers: the learning rate each update applies.

Every test feeds known gradients, reads the update optax applies (for sgd,
``update = -lr * grad``, so ``lr = -update / grad``) and compares it with an
independent closed form of the schedule at the step the relation predicts.
The steps run under ``jax.jit`` (one compiled update, called step by step).
optax's own code (adam's bias correction, MultiSteps' counters,
inject_hyperparams' dtype handling) mixes int32 and float32, so the tests that
use it run under standard dtype promotion (the ``standard_promotion``
fixture); the schedules themselves pass strict promotion.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import torch as tc

RTOL = 1e-6  # float32 updates divided by float32 gradients: an ulp or two


# Independent closed forms (numpy, float64).


def warmup_cosine(k, init, peak, warmup, decay, end):
  """optax's warmup_cosine_decay_schedule, written out."""
  if k < warmup:
    return init + (peak - init) * k / warmup
  if k >= decay:
    return end
  return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * (k - warmup) / (decay - warmup)))


def torch_onecycle(k, total, start, peak, final, pct_start=0.3):
  """PyTorch's OneCycleLR (cos) phases from ``start`` to ``peak`` to ``final``:
  its lr with (start, peak, final) = (max_lr/d, max_lr, max_lr/(d f)), its
  momentum with (max_m, base_m, max_m)."""
  phases = [(pct_start * total - 1, start, peak), (total - 1, peak, final)]
  begin = 0.0
  for i, (end_step, a, b) in enumerate(phases):
    if k <= end_step or i == len(phases) - 1:
      pct = (k - begin) / (end_step - begin)
      return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)
    begin = end_step


def torch_cyclic(k, base, top, step_size):
  """PyTorch's CyclicLR('triangular') wave from ``base`` up to ``top``
  (momentum: from ``top`` down to ``base``, i.e. swap them)."""
  cycle = math.floor(1 + k / (2 * step_size))
  x = 1 + k / (2 * step_size) - cycle
  scale = x / 0.5 if x <= 0.5 else (x - 1) / (0.5 - 1)
  return base + (top - base) * scale


def _grads(n, shape, seed=0):
  """Gradients away from 0, so that ``-update / grad`` is well conditioned."""
  rng = np.random.default_rng(seed)
  sign = np.where(rng.random((n, *shape)) < 0.5, -1.0, 1.0)
  return jnp.asarray(sign * rng.uniform(0.5, 1.5, (n, *shape)), jnp.float32)


def _run(optimizer, grads, params, readout, *, values=None, jit=True):
  """Applies ``grads[k]`` one update at a time; returns the updates and
  ``readout(state)`` before the first update and after each one."""

  def step(params, state, g, v):
    extra = {} if v is None else {"value": v}
    updates, state = optimizer.update(g, state, params, **extra)
    return optax.apply_updates(params, updates), state, updates, readout(state)

  step = jax.jit(step) if jit else step
  state = optimizer.init(params)
  read, applied = [readout(state)], []
  for k in range(len(grads)):
    v = None if values is None else jnp.float32(values[k])
    params, state, updates, r = step(params, state, grads[k], v)
    applied.append(updates)
    read.append(r)
  stack = lambda xs: jax.tree.map(lambda *a: np.stack(a), *xs)  # noqa: E731
  return stack(applied), stack(read), state


# inject_hyperparams: the state holds the last lr, learning_rate the next one.

SCHEDULE = osch.warmup_cosine_decay(0.0, 0.1, 3, 10, end_value=0.01)
EXPECTED = np.array([warmup_cosine(k, 0.0, 0.1, 3, 10, 0.01) for k in range(13)])


@pytest.mark.parametrize("jit", [True, False], ids=["jit", "no-jit"])
def test_inject_hyperparams_holds_the_last_lr_and_learning_rate_gives_the_next(jit):
  """After k updates: the k-th update applied schedule(k-1), optax's
  ``hyperparams['learning_rate']`` holds schedule(k-1) (schedule(0) at init)
  and ``osch.learning_rate`` gives schedule(k), the lr of the next update."""
  optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=SCHEDULE)
  grads = _grads(12, (3,))

  def readout(state):
    return state.hyperparams["learning_rate"], osch.learning_rate(SCHEDULE, state)

  updates, (held, following), _ = _run(optimizer, grads, jnp.zeros(3), readout, jit=jit)
  applied = -updates / grads
  np.testing.assert_allclose(applied, np.repeat(EXPECTED[:12, None], 3, 1), rtol=RTOL,
                             atol=1e-9)
  np.testing.assert_allclose(held[1:], EXPECTED[:12], rtol=RTOL, atol=1e-9)  # k-1
  assert held[0] == np.float32(EXPECTED[0])  # at init: schedule(0)
  np.testing.assert_allclose(following, EXPECTED[:13], rtol=RTOL, atol=1e-9)  # k


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw's code needs it
def test_inject_hyperparams_adamw_applies_the_held_relation_too():
  """The same relation through adam: with a constant gradient g, adam's
  direction is g / (|g| + eps) exactly (bias-corrected moments are g and
  g**2), so the update reveals the lr."""
  optimizer = optax.inject_hyperparams(optax.adamw)(learning_rate=SCHEDULE, weight_decay=0.0)
  grads = jnp.broadcast_to(_grads(1, (3,)), (12, 3))

  def readout(state):
    return state.hyperparams["learning_rate"], osch.learning_rate(SCHEDULE, state)

  updates, (held, following), _ = _run(optimizer, grads, jnp.zeros(3), readout)
  g = np.asarray(grads, np.float64)
  applied = -np.asarray(updates, np.float64) * (np.abs(g) + 1e-8) / g
  np.testing.assert_allclose(applied, np.repeat(EXPECTED[:12, None], 3, 1), rtol=1e-5,
                             atol=1e-9)
  np.testing.assert_allclose(held[1:], EXPECTED[:12], rtol=RTOL, atol=1e-9)
  np.testing.assert_allclose(following, EXPECTED[:13], rtol=RTOL, atol=1e-9)


# Gradient accumulation: the schedule and the plateau count real updates.


@pytest.mark.usefixtures("standard_promotion")  # optax.MultiSteps' code needs it
def test_multisteps_advances_the_schedule_once_per_real_update():
  """MultiSteps(sgd(schedule), k) emits, on every k-th micro-step, the mean
  of the k gradients times -schedule(m) for the m-th real update (0-based),
  and zeros in between; learning_rate reads schedule(real updates so far)."""
  k, n = 3, 12
  optimizer = optax.MultiSteps(optax.sgd(SCHEDULE), every_k_schedule=k)
  grads = _grads(n, (2,))
  updates, following, state = _run(optimizer, grads, jnp.zeros(2),
                                   lambda s: osch.learning_rate(SCHEDULE, s))
  g = np.asarray(grads, np.float64)
  for j in range(n):
    if (j + 1) % k:
      np.testing.assert_array_equal(updates[j], 0.0)
    else:
      m = (j + 1) // k - 1
      expected = -EXPECTED[m] * g[j + 1 - k:j + 1].mean(axis=0)
      np.testing.assert_allclose(updates[j], expected, rtol=1e-5, atol=1e-9)
  # Before micro-step j + 1, (j + 1) // k real updates are done.
  np.testing.assert_allclose(following, EXPECTED[[(j + 1) // k for j in range(-1, n)]],
                             rtol=RTOL, atol=1e-9)
  assert int(state.gradient_step) == n // k


def plateau_scales(values, factor, patience, rtol):
  """reduce_on_plateau's rule for positive metrics, written out: the scale
  after observing each value."""
  best, bad, scale, out = None, 0, 1.0, []
  for v in values:
    if best is None or v < best * (1 - rtol):
      best, bad = v, 0
    else:
      bad += 1
      if bad >= patience:
        scale, bad = scale * factor, 0
    out.append(scale)
  return out


# Micro-batch losses of 4 real updates (k = 2). Their last values (1, 2, 0.5,
# 1) and their means (2, 1.5, 1.25, 1) lead the plateau to different cuts.
MICRO_LOSSES = [3.0, 1.0, 1.0, 2.0, 2.0, 0.5, 1.0, 1.0]


@pytest.mark.usefixtures("standard_promotion")  # optax.MultiSteps' code needs it
@pytest.mark.parametrize("where", ["inside", "after"])
def test_plateau_with_multisteps_evaluates_once_per_real_update(where):
  """Inside MultiSteps the plateau sees the last micro-batch value of each
  real update; chained after it with accumulation_size=k, their mean
  (docs/plateau.md). Either way patience counts real updates, and the m-th
  real update applies schedule(m) times the scale after its evaluation."""
  k, factor, patience, rtol = 2, 0.5, 1, 1e-4
  sgd = optax.sgd(SCHEDULE)
  if where == "inside":
    plateau = osch.reduce_on_plateau(factor=factor, patience=patience, rtol=rtol)
    optimizer = optax.MultiSteps(optax.chain(sgd, plateau), every_k_schedule=k)
    metrics = MICRO_LOSSES[k - 1::k]
  else:
    plateau = osch.reduce_on_plateau(factor=factor, patience=patience, rtol=rtol,
                                     accumulation_size=k)
    optimizer = optax.chain(optax.MultiSteps(sgd, every_k_schedule=k).gradient_transformation(),
                            plateau)
    metrics = np.mean(np.reshape(MICRO_LOSSES, (-1, k)), axis=1)
  scales = plateau_scales(metrics, factor, patience, rtol)
  assert scales == ([1.0, 0.5, 0.5, 0.25] if where == "inside" else [1.0] * 4)
  grads = jnp.ones((len(MICRO_LOSSES), 2))
  updates, following, _ = _run(optimizer, grads, jnp.zeros(2),
                               lambda s: osch.learning_rate(SCHEDULE, s), values=MICRO_LOSSES)
  applied = -updates[k - 1::k, 0]
  np.testing.assert_allclose(applied, EXPECTED[:4] * scales, rtol=RTOL, atol=1e-9)
  np.testing.assert_array_equal(updates[0::k], 0.0)
  # After the m-th real update: schedule(m) times the scale so far.
  np.testing.assert_allclose(following[k::k], EXPECTED[1:5] * scales, rtol=RTOL, atol=1e-9)


# Parameter groups.

PARAMS = {"w": jnp.zeros(3), "b": jnp.zeros(1)}
LABELS = {"w": "weights", "b": "biases"}


def test_partition_with_no_warmup_for_biases():
  """Weights warm up; biases start at the peak (``init_value = peak``) and
  follow the same decay. Both groups count the same updates, so
  learning_rate reads either group's next lr from the whole state."""
  weights = osch.warmup_cosine_decay(0.0, 0.1, 3, 10, end_value=0.01)
  biases = osch.warmup_cosine_decay(0.1, 0.1, 3, 10, end_value=0.01)
  optimizer = optax.partition({"weights": optax.sgd(weights), "biases": optax.sgd(biases)},
                              LABELS)
  grads = {"w": _grads(12, (3,), seed=1), "b": _grads(12, (1,), seed=2)}
  per_step = [jax.tree.map(lambda g, k=k: g[k], grads) for k in range(12)]

  def readout(state):
    return osch.learning_rate(weights, state), osch.learning_rate(biases, state)

  updates, (next_w, next_b), _ = _run(optimizer, per_step, PARAMS, readout)
  expected_w = np.array([warmup_cosine(k, 0.0, 0.1, 3, 10, 0.01) for k in range(13)])
  expected_b = np.array([warmup_cosine(k, 0.1, 0.1, 3, 10, 0.01) for k in range(13)])
  np.testing.assert_allclose(-updates["w"] / grads["w"],
                             np.repeat(expected_w[:12, None], 3, 1), rtol=RTOL, atol=1e-9)
  np.testing.assert_allclose(-updates["b"] / grads["b"], expected_b[:12, None], rtol=RTOL)
  np.testing.assert_array_equal(expected_b[:4], 0.1)  # no warmup
  np.testing.assert_allclose(next_w, expected_w, rtol=RTOL, atol=1e-9)
  np.testing.assert_allclose(next_b, expected_b, rtol=RTOL)


def test_layerwise_lr_decay():
  """Layer i of L gets ``decay ** (L - 1 - i) * schedule`` (schedule
  arithmetic), through one partition group per layer."""
  depth, decay, n = 3, 0.5, 8
  base = osch.cosine_decay(0.1, n)
  groups = {f"layer{i}": decay ** (depth - 1 - i) * base for i in range(depth)}
  optimizer = optax.partition({name: optax.sgd(s) for name, s in groups.items()},
                              {name: name for name in groups})
  params = {name: jnp.zeros(2) for name in groups}
  grads = _grads(n, (depth, 2), seed=3)
  per_step = [{f"layer{i}": grads[k, i] for i in range(depth)} for k in range(n)]
  updates, following, _ = _run(optimizer, per_step, params, lambda s: {
      name: osch.learning_rate(sched, s) for name, sched in groups.items()})
  cosine = np.array([0.1 * 0.5 * (1 + math.cos(math.pi * k / n)) for k in range(n + 1)])
  for i in range(depth):
    factor = decay ** (depth - 1 - i)
    np.testing.assert_allclose(-updates[f"layer{i}"] / grads[:, i],
                               np.repeat(factor * cosine[:n, None], 2, 1), rtol=RTOL,
                               atol=1e-9)
    np.testing.assert_allclose(following[f"layer{i}"], factor * cosine, rtol=RTOL, atol=1e-9)


def test_a_group_with_its_own_plateau_reads_its_lr_from_its_sub_state():
  """learning_rate multiplies every plateau scale it finds: on the whole
  state of a partition where only the weights have a plateau, the biases'
  readout would carry the weights' cuts. Reading from the group's own
  sub-state gives the lr that group applies."""
  schedule = osch.linear(0.1, 0.0, 20)
  plateau = osch.reduce_on_plateau(factor=0.5, patience=1)
  optimizer = optax.partition(
      {"weights": optax.chain(optax.sgd(schedule), plateau), "biases": optax.sgd(schedule)},
      LABELS)
  ones = jax.tree.map(jnp.ones_like, PARAMS)

  def readout(state):
    return {"whole": osch.learning_rate(schedule, state),
            "weights": osch.learning_rate(schedule, state.inner_states["weights"]),
            "biases": osch.learning_rate(schedule, state.inner_states["biases"])}

  updates, read, _ = _run(optimizer, [ones] * 4, PARAMS, readout, values=[1.0] * 4)
  lin = np.array([0.1 * (1 - k / 20) for k in range(5)])
  scales = np.array(plateau_scales([1.0] * 4, 0.5, 1, 1e-4))  # 1, .5, .25, .125
  np.testing.assert_allclose(-updates["w"][:, 0], lin[:4] * scales, rtol=RTOL)
  np.testing.assert_allclose(-updates["b"][:, 0], lin[:4], rtol=RTOL)
  np.testing.assert_allclose(read["weights"][1:], lin[1:] * scales, rtol=RTOL)
  np.testing.assert_allclose(read["biases"][1:], lin[1:], rtol=RTOL)
  np.testing.assert_allclose(read["whole"][1:], lin[1:] * scales, rtol=RTOL)  # not the biases'


# Schedules for other hyperparameters.

T = 12  # total steps of the momentum cycles

MOMENTUM_CASES = {
    "onecycle": (tc.OneCycleLR(0.1, total_steps=T),
                 tc.OneCycleMomentum(total_steps=T, base_momentum=0.85, max_momentum=0.95),
                 lambda k: torch_onecycle(k, T, 0.1 / 25, 0.1, 0.1 / 25 / 1e4),
                 lambda k: torch_onecycle(k, T, 0.95, 0.85, 0.95)),
    "cyclic": (tc.CyclicLR(0.01, 0.1, step_size_up=3),
               tc.CyclicMomentum(0.8, 0.9, step_size_up=3),
               lambda k: torch_cyclic(k, 0.01, 0.1, 3),
               lambda k: torch_cyclic(k, 0.9, 0.8, 3)),
}


@pytest.mark.parametrize("name", list(MOMENTUM_CASES))
def test_momentum_cycles_with_the_lr(name):
  """inject_hyperparams(sgd)(learning_rate=lr, momentum=m): update k keeps
  ``trace = g + m(k) * trace`` and applies ``-lr(k) * trace``, as PyTorch's
  SGD with cycle_momentum."""
  lr, momentum, lr_ref, m_ref = MOMENTUM_CASES[name]
  optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=momentum)
  grads = _grads(T, (2,), seed=4)
  updates, held, _ = _run(optimizer, grads, jnp.zeros(2),
                          lambda s: s.hyperparams["momentum"])
  lrs = np.array([lr_ref(k) for k in range(T)])
  ms = np.array([m_ref(k) for k in range(T)])
  assert lrs.argmax() == ms.argmin() and ms.min() < ms.max()  # the cycles are opposed
  trace, expected = np.zeros(2), []
  for k in range(T):
    trace = np.asarray(grads[k], np.float64) + ms[k] * trace
    expected.append(-lrs[k] * trace)
  np.testing.assert_allclose(updates, expected, rtol=1e-5, atol=1e-9)
  np.testing.assert_allclose(held[1:], ms, rtol=RTOL)  # the last momentum used


@pytest.mark.usefixtures("standard_promotion")  # optax.adam's code needs it
def test_adam_b1_schedule_uses_the_current_b1_in_its_bias_correction():
  """inject_hyperparams(adam)(b1=schedule): update k uses b1(k) in the
  moment and ``1 - b1(k) ** (k + 1)`` in the bias correction (optax
  rebuilds adam with the current b1; the correction is not the product of
  the past b1's)."""
  b1 = tc.CyclicMomentum(0.8, 0.95, step_size_up=3)
  optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=0.01, b1=b1)
  grads = _grads(T, (2,), seed=5)
  updates, _, _ = _run(optimizer, grads, jnp.zeros(2), lambda s: None)
  mu, nu, expected = np.zeros(2), np.zeros(2), []
  for k in range(T):
    g, beta = np.asarray(grads[k], np.float64), torch_cyclic(k, 0.95, 0.8, 3)
    mu = beta * mu + (1 - beta) * g
    nu = 0.999 * nu + 0.001 * g * g
    mu_hat, nu_hat = mu / (1 - beta ** (k + 1)), nu / (1 - 0.999 ** (k + 1))
    expected.append(-0.01 * mu_hat / (np.sqrt(nu_hat) + 1e-8))
  np.testing.assert_allclose(updates, expected, rtol=1e-4)


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw's code needs it
@pytest.mark.parametrize("how", ["adamw", "inject_hyperparams"])
def test_weight_decay_schedule(how):
  """adamw multiplies the decay by the lr: with zero gradients (adam's
  direction is then 0) each update is ``-lr(k) * wd(k) * params``, for a
  weight-decay schedule given to adamw directly or injected."""
  lr = osch.warmup_cosine_decay(0.0, 0.1, 3, 10)
  wd = osch.linear(0.01, 0.1, 10)  # a growing decay
  if how == "adamw":
    optimizer = optax.adamw(lr, weight_decay=wd)
  else:
    optimizer = optax.inject_hyperparams(optax.adamw)(learning_rate=lr, weight_decay=wd)
  params = jnp.asarray([1.0, -2.0])
  updates, _, _ = _run(optimizer, jnp.zeros((12, 2)), params, lambda s: None)
  p, expected = np.array([1.0, -2.0]), []
  for k in range(12):
    shrink = warmup_cosine(k, 0.0, 0.1, 3, 10, 0.0) * (0.01 + 0.09 * min(k, 10) / 10)
    expected.append(-shrink * p)
    p = p * (1 - shrink)
  np.testing.assert_allclose(updates, expected, rtol=1e-5, atol=1e-10)


# Skipped updates do not advance the schedule.


def test_a_skipped_update_does_not_advance_the_schedule():
  """optax.apply_if_finite drops a non-finite update and keeps the inner
  state: the next finite update applies the lr the dropped one would have,
  and learning_rate keeps reading it."""
  optimizer = optax.apply_if_finite(optax.sgd(SCHEDULE), max_consecutive_errors=3)
  grads = jnp.ones((6, 2)).at[2].set(jnp.nan)
  updates, following, _ = _run(optimizer, grads, jnp.zeros(2),
                               lambda s: osch.learning_rate(SCHEDULE, s))
  np.testing.assert_array_equal(updates[2], 0.0)
  np.testing.assert_allclose(-updates[[0, 1, 3, 4, 5], 0], EXPECTED[:5], rtol=RTOL,
                             atol=1e-9)
  np.testing.assert_allclose(following, EXPECTED[[0, 1, 2, 2, 3, 4, 5]], rtol=RTOL,
                             atol=1e-9)
