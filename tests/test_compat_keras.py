"""`optax_scheds.compat.keras` gives Keras 3's value at every step.

References: the real ``keras.optimizers.schedules`` classes and the real
``keras.callbacks.LearningRateScheduler`` below 2**24 (Keras casts the step to
float32), except where Keras' own float32 arithmetic misplaces a restart; and
float64 closed forms written here, at every step up to 2**31 - 1.
"""

import math
import re
from fractions import Fraction

import chex
import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

from optax_scheds.compat import keras as kc

KS = keras.optimizers.schedules
SEEDS = range(3)
IMAX = 2**31 - 1
STEPS = np.arange(1024)  # one length for all: eager op caches are per shape


def _f32(x):
  """A parameter as the float32 both libraries compute with, in float64."""
  return float(np.float32(x))


def keras_values(schedule, steps, *, vmap=False):
  """The real Keras schedule called eagerly on a whole step array (it runs
  under standard promotion; ``vmap`` for an ``ops.cond`` that needs a scalar
  step)."""
  steps = jnp.asarray(steps)
  with jax.numpy_dtype_promotion("standard"):
    out = jax.vmap(schedule)(steps) if vmap else schedule(steps)
  return np.asarray(out, dtype=np.float64)


def keras_scalar_values(schedule, steps):
  """The real Keras schedule called on one scalar step at a time, as its
  optimizer calls it."""
  with jax.numpy_dtype_promotion("standard"):
    return np.asarray([float(schedule(jnp.asarray(step))) for step in steps])


def compare_with_keras(actual, reference, steps, peak, *, period=None, vmap=False,
                       scalar=True):
  """``actual`` equals the Keras schedule ``reference`` at every step.

  With ``period``, whole multiples of it are floor/ceil decisions in Keras
  (``floor(t / T)``, ``ceil(t / T)``). XLA's CPU division of a whole float32
  array is not correctly rounded (97 / 97 gives 0.99999994), which moves
  those floors in an array call; there Keras is called one scalar step at a
  time, as its optimizer does, where the division is exact (``scalar=False``
  skips them: CosineDecayRestarts' ``ops.cond`` retraces on every call).
  """
  steps = np.asarray(steps)
  decision = np.zeros(steps.shape, bool)
  if period is not None:
    decision = (steps % period == 0) & (steps > 0)
  desired = keras_values(reference, steps, vmap=vmap)
  assert_close(actual[~decision], desired[~decision], peak)
  where = np.flatnonzero(decision)[:6]
  if scalar and len(where):
    assert_close(actual[where], keras_scalar_values(reference, steps[where]), peak)


def jitted(schedule, steps):
  return np.asarray(jax.jit(lambda s, t: s(t))(schedule, np.asarray(steps)),
                    dtype=np.float64)


def ours(schedule, steps, *, eager=True):
  """Our values under jit and, if ``eager``, checked eagerly on a fixed-size
  sample of the steps (eager dispatch compiles every op for every new shape,
  which is slow: one draw per test does it)."""
  steps = np.asarray(steps)
  values = jitted(schedule, steps)
  if eager:
    sample = np.linspace(0, len(steps) - 1, min(len(steps), 32)).astype(int)
    np.testing.assert_allclose(np.asarray(schedule(steps[sample]), dtype=np.float64),
                               values[sample], rtol=1e-6,
                               atol=1e-7 * np.max(np.abs(values)))
  return values


def assert_close(actual, desired, peak):
  assert np.all(np.isfinite(actual))
  np.testing.assert_allclose(actual, desired, rtol=2e-5, atol=2e-7 * peak)


# Float64 closed forms, independent of the code under test.


def exp_closed(init, steps, rate, staircase, t):
  t = np.asarray(t, dtype=np.int64)
  p = (t // steps).astype(np.float64) if staircase else t / steps
  return _f32(init) * _f32(rate) ** p


def inverse_time_closed(init, steps, rate, staircase, t):
  t = np.asarray(t, dtype=np.int64)
  p = (t // steps).astype(np.float64) if staircase else t / steps
  return _f32(init) / (1 + _f32(rate) * p)


def polynomial_closed(init, steps, end, power, cycle, t):
  t = np.asarray(t, dtype=np.int64)
  if cycle:
    k = np.maximum(-(-t // steps), 1)  # exact integer ceil, 1 at t = 0
    frac = (k * steps - t) / (k * steps).astype(np.float64)
  else:
    frac = 1 - np.minimum(t, steps) / steps
  init, end = _f32(init), _f32(end)
  return (init - end) * frac ** _f32(power) + end


def cosine_closed(init, steps, alpha, target, warmup, t):
  t = np.asarray(t, dtype=np.float64)
  peak = _f32(init) if target is None else _f32(target)
  decay = np.minimum(np.maximum(t - warmup, 0), steps)
  value = peak * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * decay / steps)) + alpha)
  if target is None or warmup == 0:
    return value
  ramp = _f32(init) + (peak - _f32(init)) * t / warmup
  return np.where(t < warmup, ramp, value)


def restart_starts(first, t_mul, last, count=None):
  """Exact cycle starts ``S_k = T (m**k - 1) / (m - 1)`` up to ``last`` (at
  most ``count`` of them)."""
  m, starts, start, k, last = Fraction(t_mul), [], Fraction(0), 0, int(last)
  while start <= last and (count is None or k < count):
    starts.append(start)
    start += first * m**k
    k += 1
  return starts


def restarts_closed(init, first, t_mul, m_mul, alpha, t):
  t = np.asarray(t, dtype=np.int64)
  if t_mul == 1:
    k = t // first
    start = (k * first).astype(np.float64)
  else:
    starts = restart_starts(first, t_mul, int(t.max()))
    ceil_starts = np.asarray([math.ceil(s) for s in starts], dtype=np.int64)
    k = np.searchsorted(ceil_starts, t, side="right") - 1
    start = np.asarray([float(s) for s in starts])[k]
  x = (t - start) / (first * float(t_mul) ** k)
  cosine = 0.5 * _f32(m_mul) ** k * (1 + np.cos(np.pi * x))
  return _f32(init) * ((1 - _f32(alpha)) * cosine + _f32(alpha))


def piecewise_closed(boundaries, values, t):
  # values[k] where k = number of boundaries strictly below t.
  return np.asarray(values, dtype=np.float64)[
      np.searchsorted(np.asarray(boundaries), np.asarray(t), side="left")]


# Every step of several periods, random hyperparameters, against real Keras.


@pytest.mark.parametrize("seed", SEEDS)
def test_exponential_decay(seed):
  rng = np.random.default_rng(seed)
  init, steps = float(10 ** rng.uniform(-4, 0)), int(rng.integers(1, 200))
  rate = float(rng.uniform(1.0, 1.3)) if seed == 2 else float(rng.uniform(0.3, 0.99))
  staircase = bool(seed % 2)
  t = STEPS
  actual = ours(kc.ExponentialDecay(init, steps, rate, staircase), t, eager=seed == 0)
  peak = max(init, float(actual.max()))
  compare_with_keras(actual, KS.ExponentialDecay(init, steps, rate, staircase), t, peak,
                     period=steps if staircase else None)
  assert_close(actual, exp_closed(init, steps, rate, staircase, t), peak)


@pytest.mark.parametrize("seed", SEEDS)
def test_piecewise_constant_decay(seed):
  rng = np.random.default_rng(seed)
  n = int(rng.integers(1, 7))
  boundaries = sorted(rng.choice(300, size=n, replace=False).tolist())
  if seed == 0:
    boundaries[0] = 0
  values = rng.uniform(0, 1, size=n + 1).tolist()
  t = STEPS
  actual = ours(kc.PiecewiseConstantDecay(boundaries, values), t, eager=seed == 0)
  compare_with_keras(actual, KS.PiecewiseConstantDecay(boundaries, values), t, 1)
  assert_close(actual, piecewise_closed(boundaries, values, t), 1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cycle", [False, True])
def test_polynomial_decay(seed, cycle):
  rng = np.random.default_rng(seed)
  init, steps = float(10 ** rng.uniform(-3, 0)), int(rng.integers(1, 150))
  end = 0.0001 if seed == 0 else float(init * rng.uniform(0, 0.5))
  power = float(rng.choice([1.0, 2.0, rng.uniform(0.3, 3)]))
  kwargs = dict(end_learning_rate=end, power=power, cycle=cycle)
  t = STEPS
  actual = ours(kc.PolynomialDecay(init, steps, **kwargs), t, eager=seed == 0)
  assert_close(actual, polynomial_closed(init, steps, end, power, cycle, t), init)
  compare_with_keras(actual, KS.PolynomialDecay(init, steps, **kwargs), t, init,
                     period=steps if cycle else None)


def test_polynomial_decay_defaults_and_cycle_vector():
  # ANCHORS 3 [ran]: cycle=True gives .1 at t=10 and .505 at t=11.
  s = kc.PolynomialDecay(1.0, 10, end_learning_rate=0.1, cycle=True)
  np.testing.assert_allclose(jitted(s, np.array([0, 10, 11, 20, 21])),
                             [1.0, 0.1, 0.505, 0.1, 0.37], rtol=1e-6)
  np.testing.assert_allclose(kc.PolynomialDecay(1.0, 10)(10), 1e-4, rtol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_inverse_time_decay(seed):
  rng = np.random.default_rng(seed)
  init, steps = float(10 ** rng.uniform(-4, 0)), int(rng.integers(1, 200))
  rate, staircase = float(rng.uniform(0, 5)), bool(seed % 2)
  t = STEPS
  actual = ours(kc.InverseTimeDecay(init, steps, rate, staircase), t, eager=seed == 0)
  compare_with_keras(actual, KS.InverseTimeDecay(init, steps, rate, staircase), t, init,
                     period=steps if staircase else None)
  assert_close(actual, inverse_time_closed(init, steps, rate, staircase, t), init)


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_decay(seed):
  rng = np.random.default_rng(seed)
  init, steps = float(rng.uniform(0, 1)), int(rng.integers(1, 300))
  alpha = float(rng.uniform(0, 0.5))
  target = None if seed == 0 else float(rng.uniform(0.1, 2))
  warmup = 0 if target is None or seed == 1 else int(rng.integers(1, 100))
  kwargs = dict(alpha=alpha, warmup_target=target, warmup_steps=warmup)
  t = STEPS
  actual = ours(kc.CosineDecay(init, steps, **kwargs), t, eager=seed == 0)
  peak = max(init, target or 0)
  reference = KS.CosineDecay(init, steps, **kwargs)
  compare_with_keras(actual, reference, t, peak, vmap=target is not None)
  assert_close(actual, cosine_closed(init, steps, alpha, target, warmup, t), peak)


def test_cosine_decay_vector():
  # ANCHORS 3 [ran]: (0 -> 1, warmup 10, decay 10, alpha .1).
  s = kc.CosineDecay(0.0, 10, alpha=0.1, warmup_target=1.0, warmup_steps=10)
  np.testing.assert_allclose(jitted(s, np.array([5, 10, 15, 20, 1000])),
                             [0.5, 1.0, 0.55, 0.1, 0.1], rtol=1e-6)


RESTARTS = [(5, 3.0), (7, 1.0), (13, None)]  # (first, t_mul); None: a random t_mul


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_decay_restarts(seed):
  rng = np.random.default_rng(seed)
  first, t_mul = RESTARTS[seed]
  if t_mul is None:
    t_mul = float(rng.uniform(1.05, 2.75))  # an arbitrary double, not a dyadic
  init, m_mul = float(rng.uniform(0.1, 2)), float(rng.uniform(0.3, 1.0))
  alpha = float(rng.uniform(0, 0.3))
  t = STEPS
  actual = ours(kc.CosineDecayRestarts(init, first, t_mul, m_mul, alpha), t, eager=seed == 0)
  assert_close(actual, restarts_closed(init, first, t_mul, m_mul, alpha, t), init)
  # Keras finds the cycle with a float32 log (or float32 t / T for t_mul=1)
  # and may misplace a restart by a step: compare away from the restarts.
  starts = np.asarray([float(s) for s in restart_starts(first, t_mul, t.max())])
  near = np.any(np.abs(t[:, None] - starts) < 1, axis=1)
  assert 4 <= len(starts) and near.mean() < 0.2
  desired = keras_values(KS.CosineDecayRestarts(init, first, t_mul, m_mul, alpha), t)
  assert_close(actual[~near], desired[~near], init)


def test_cosine_decay_restarts_vector_and_unscaled_floor():
  # ANCHORS 3 [ran]: (1, 10, 2, .5): t=10 -> .5, t=30 -> .25, t=70 -> .125.
  s = kc.CosineDecayRestarts(1.0, 10, 2.0, 0.5)
  np.testing.assert_allclose(jitted(s, np.array([10, 30, 70])), [0.5, 0.25, 0.125], rtol=1e-6)
  # The alpha floor is not scaled by m_mul: late cycles end at alpha * I.
  s = kc.CosineDecayRestarts(2.0, 10, 1.0, 0.5, alpha=0.1)
  np.testing.assert_allclose(jitted(s, np.array([99, 100])),
                             [0.2 + 1.8 * 0.5**9 * 0.5 * (1 + np.cos(0.9 * np.pi)),
                              0.2 + 1.8 * 0.5**10], rtol=1e-5)


@pytest.mark.parametrize(
    "name",
    ["ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "CosineDecay",
     "CosineDecayRestarts"],
)
def test_float_steps(name):
  t = np.arange(0, 60, 0.25, dtype=np.float32)
  args = {
      "ExponentialDecay": (0.3, 7, 0.6),
      "InverseTimeDecay": (0.3, 7, 0.6),
      "PolynomialDecay": (0.3, 7, 0.01, 1.5, True),
      "CosineDecay": (0.3, 40, 0.1),
      "CosineDecayRestarts": (0.3, 7, 1.0, 0.7),
  }[name]
  period = 7 if name in ("PolynomialDecay", "CosineDecayRestarts") else None
  compare_with_keras(ours(getattr(kc, name)(*args), t), getattr(KS, name)(*args), t, 0.3,
                     period=period, scalar=name != "CosineDecayRestarts")


# Large steps: exact integer decisions, against float64 closed forms.


def _around(points):
  return np.unique(np.clip(np.concatenate([np.asarray(points, np.int64) + d
                                           for d in (-2, -1, 0, 1, 2)]), 0, IMAX))


def test_large_steps_staircases():
  steps = 10**8 + 7  # multiples are not float32 numbers
  t = _around([k * steps for k in range(1, 22)])
  for staircase in (False, True):
    assert_close(ours(kc.ExponentialDecay(1.0, steps, 0.5, staircase), t),
                 exp_closed(1.0, steps, 0.5, staircase, t), 1.0)
    assert_close(ours(kc.InverseTimeDecay(1.0, steps, 3.0, staircase), t, eager=False),
                 inverse_time_closed(1.0, steps, 3.0, staircase, t), 1.0)
  # Continuous decay at large steps, with a rate that keeps values normal.
  t = np.array([2**24 + 1, 2**28 + 3, IMAX])
  assert_close(ours(kc.ExponentialDecay(1.0, 10**6, 0.999), t, eager=False),
               exp_closed(1.0, 10**6, 0.999, False, t), 1.0)


def test_large_steps_piecewise_constant():
  boundaries = [2**24, 2**24 + 1, 2**30 - 1, IMAX - 2, IMAX]
  values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
  t = _around(boundaries)
  assert_close(ours(kc.PiecewiseConstantDecay(boundaries, values), t, eager=False),
               piecewise_closed(boundaries, values, t), 1.0)


@pytest.mark.parametrize("steps", [1000, 7, 10**8 + 7])
def test_large_steps_polynomial_cycle(steps):
  t = _around([k * steps for k in (2**24 // steps + 1, 2**30 // steps, IMAX // steps)])
  assert_close(ours(kc.PolynomialDecay(1.0, steps, 0.0, 1.0, cycle=True), t, eager=False),
               polynomial_closed(1.0, steps, 0.0, 1.0, True, t), 1.0)


@pytest.mark.parametrize("first,t_mul", [(3, 2.0), (5, 1.5), (7, 1.0)])
def test_large_steps_restarts(first, t_mul):
  if t_mul == 1:
    starts = [k * first for k in (2**24 // first + 1, 2**30 // first, IMAX // first)]
  else:
    starts = [math.ceil(s) for s in restart_starts(first, t_mul, IMAX) if s > 2**23]
  t = _around(starts)
  assert_close(ours(kc.CosineDecayRestarts(1.0, first, t_mul, 0.9, 0.1), t, eager=False),
               restarts_closed(1.0, first, t_mul, 0.9, 0.1, t), 1.0)


def test_large_steps_learning_rate_scheduler():
  spe = 10**8 + 7
  s = kc.LearningRateScheduler(lambda epoch: 0.5**epoch, 1.0, spe, 20)
  t = _around([k * spe for k in range(1, 22)])
  assert_close(ours(s, t, eager=False), 0.5 ** np.minimum(t // spe, 19), 1.0)


# vmap over a hyperparameter, and no retracing when only values change.


VMAP_CASES = {  # (ours, Keras, period of Keras' floor/ceil decisions)
    "ExponentialDecay(initial_learning_rate)": (
        lambda x: kc.ExponentialDecay(x, 7, 0.8), lambda x: KS.ExponentialDecay(x, 7, 0.8),
        None),
    "InverseTimeDecay(decay_rate)": (
        lambda x: kc.InverseTimeDecay(0.1, 5, x, True),
        lambda x: KS.InverseTimeDecay(0.1, 5, x, True), 5),
    "PolynomialDecay(end_learning_rate)": (
        lambda x: kc.PolynomialDecay(1.0, 9, x, 2.0, cycle=True),
        lambda x: KS.PolynomialDecay(1.0, 9, x, 2.0, cycle=True), 9),
    "CosineDecay(warmup_target)": (
        lambda x: kc.CosineDecay(0.0, 20, 0.1, warmup_target=x, warmup_steps=5),
        lambda x: KS.CosineDecay(0.0, 20, 0.1, warmup_target=x, warmup_steps=5), None),
    "CosineDecayRestarts(m_mul)": (
        lambda x: kc.CosineDecayRestarts(1.0, 8, 1.0, x, 0.05),
        lambda x: KS.CosineDecayRestarts(1.0, 8, 1.0, x, 0.05), 8),
    "PiecewiseConstantDecay(values)": (
        lambda x: kc.PiecewiseConstantDecay([5, 9], [1.0, x, x / 2]),
        lambda x: KS.PiecewiseConstantDecay([5, 9], [1.0, x, x / 2]), None),
}


@pytest.mark.parametrize("case", list(VMAP_CASES))
def test_vmap_over_hyperparameter(case):
  build, reference, period = VMAP_CASES[case]
  xs = np.array([0.2, 0.5, 0.9], np.float32)
  t = np.arange(60)
  actual = np.asarray(jax.jit(jax.vmap(lambda x: build(x)(t)))(xs), dtype=np.float64)
  for x, row in zip(xs, actual):
    compare_with_keras(row, reference(float(x)), t, 1.0, period=period,
                       vmap="CosineDecay(" in case, scalar="Restarts" not in case)


def test_jit_does_not_retrace_for_new_values():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def evaluate(schedule, t):
    return schedule(t)

  t = np.arange(30)
  for rate in (0.5, 0.7, 0.9):
    np.testing.assert_allclose(evaluate(kc.ExponentialDecay(0.1, 4, rate, True), t),
                               exp_closed(0.1, 4, rate, True, t), rtol=1e-6)


# LearningRateScheduler against the real callback.


def keras_callback_lrs(schedule, initial_learning_rate, num_epochs):
  """The learning rate the real callback sets at each epoch start."""
  with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=initial_learning_rate),
                  loss="mse")
    callback = keras.callbacks.LearningRateScheduler(schedule)
    callback.set_model(model)
    lrs = []
    for epoch in range(num_epochs):
      callback.on_epoch_begin(epoch)
      lrs.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
  return np.asarray(lrs)


def _cosine_epochs(epoch):
  return 0.05 * (1 + math.cos(math.pi * epoch / 20))


def _with_default(epoch, lr=0.3):
  return lr * 0.9 if epoch % 2 else lr


SCHEDULE_FUNCTIONS = {
    "step decay (epoch, lr)": lambda epoch, lr: lr * 0.5 if epoch % 3 == 2 else lr,
    "closed form (epoch)": lambda epoch: 0.1 * 0.9**epoch,
    "cosine (epoch)": _cosine_epochs,
    "float32 result": lambda epoch, lr: np.float32(lr * 0.95),
    "default lr argument": _with_default,
}


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("name", list(SCHEDULE_FUNCTIONS))
def test_learning_rate_scheduler(name, seed):
  rng = np.random.default_rng(seed)
  fn = SCHEDULE_FUNCTIONS[name]
  init, spe = float(rng.uniform(0.01, 0.5)), int(rng.integers(1, 20))
  epochs = int(rng.integers(5, 25))
  expected = keras_callback_lrs(fn, init, epochs)
  t = np.arange(epochs * spe + 3 * spe)
  actual = ours(kc.LearningRateScheduler(fn, init, spe, epochs), t, eager=seed == 0)
  assert_close(actual, expected[np.minimum(t // spe, epochs - 1)], expected.max())


def test_seed_example_drives_optax_sgd_like_keras_fit():
  # The example of Keras' LearningRateScheduler docstring, verbatim.
  def scheduler(epoch, lr):
    if epoch < 10:
      return lr
    else:
      return lr * keras.ops.exp(-0.1)

  # Keras' callback requires a float: under the JAX backend it rejects the
  # Array its own example returns, so the Keras run uses np.exp, the only change.
  def scheduler_np(epoch, lr):
    if epoch < 10:
      return lr
    else:
      return lr * np.exp(-0.1)

  epochs, samples = 15, 5
  with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
    keras.utils.set_random_seed(0)
    model = keras.models.Sequential([keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(), loss="mse")
    history = model.fit(np.arange(100.0).reshape(samples, 20), np.zeros((samples, 10)),
                        epochs=epochs, batch_size=1, verbose=0,
                        callbacks=[keras.callbacks.LearningRateScheduler(scheduler_np)])
    keras_lrs = np.asarray(history.history["learning_rate"])
    assert int(model.optimizer.iterations) == epochs * samples
  assert round(float(keras_lrs[-1]), 5) == 0.00607  # the docstring's number

  with jax.numpy_dtype_promotion("standard"):  # keras.ops.exp inside the port
    schedule = kc.LearningRateScheduler(scheduler, initial_learning_rate=0.01,
                                        steps_per_epoch=samples, num_epochs=epochs)
  optimizer = optax.sgd(learning_rate=schedule)
  params = jnp.asarray(np.random.default_rng(0).normal(size=(20, 10)), jnp.float32)
  grads = jnp.asarray(np.random.default_rng(1).normal(size=(epochs * samples, 20, 10)),
                      jnp.float32)

  @jax.jit
  def train(params, grads):
    def step(carry, grad):
      params, state = carry
      updates, state = optimizer.update(grad, state, params)
      return (optax.apply_updates(params, updates), state), updates
    (params, _), updates = jax.lax.scan(step, (params, optimizer.init(params)), grads)
    return params, updates

  _, updates = train(params, grads)
  lrs = jitted(schedule, np.arange(epochs * samples))
  np.testing.assert_allclose(updates, -lrs[:, None, None] * grads, rtol=1e-6, atol=0)
  # The learning rate sgd used, per step, is Keras' for that step's epoch.
  used = np.asarray(-updates[:, 0, 0] / grads[:, 0, 0], dtype=np.float64)
  assert_close(used, np.repeat(keras_lrs, samples), 0.01)
  assert_close(np.asarray(lrs[::samples]), keras_lrs, 0.01)


def test_keras_rejects_its_own_docstring_example_under_jax():
  # Documents the quirk in LearningRateScheduler's docstring: ours accepts it.
  with pytest.raises(ValueError, match=re.escape("should be a float")):
    keras_callback_lrs(lambda epoch, lr: lr * keras.ops.exp(-0.1), 0.01, 1)


def test_learning_rate_scheduler_call_order_and_fallback():
  calls = []

  def two_args(epoch, lr):
    calls.append((epoch, lr))
    return lr / 2

  s = kc.LearningRateScheduler(two_args, 1.0, steps_per_epoch=3, num_epochs=3)
  assert calls == [(0, 1.0), (1, 0.5), (2, 0.25)]
  np.testing.assert_allclose(jitted(s, np.arange(12)), np.repeat([0.5, 0.25, 0.125, 0.125], 3))
  epochs = []
  kc.LearningRateScheduler(lambda epoch: epochs.append(epoch) or 0.1, 1.0, 3, 4)
  assert epochs == [0, 1, 2, 3]


# Errors: exact messages, and Keras refuses the same arguments.


ERRORS = [
    (lambda: kc.ExponentialDecay(0.1, 0, 0.9), ValueError,
     "`ExponentialDecay(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: kc.ExponentialDecay(0.1, 2.5, 0.9), ValueError,
     "`ExponentialDecay(decay_steps=...)` must be a whole number of steps, got "
     "decay_steps=2.5."),
    (lambda: kc.ExponentialDecay(0.1, 10, 0.0), ValueError,
     "`ExponentialDecay(decay_rate=...)` must be positive, got decay_rate=0.0."),
    (lambda: kc.ExponentialDecay(0.1, 10, 0.9, staircase=1), TypeError,
     "`ExponentialDecay(staircase=...)` must be a bool, got staircase=1."),
    (lambda: kc.PiecewiseConstantDecay([10, 20], [1.0, 0.5]), ValueError,
     "`PiecewiseConstantDecay(values=...)` must have one entry more than boundaries, "
     "got 2 values for 2 boundaries: values=[1.0, 0.5]."),
    (lambda: kc.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]), ValueError,
     "`PiecewiseConstantDecay(boundaries=...)` must be strictly increasing, got "
     "boundaries=[20, 10]."),
    (lambda: kc.PiecewiseConstantDecay([-1], [1.0, 0.5]), ValueError,
     "`PiecewiseConstantDecay(boundaries=...)` must be non-negative, got boundaries=-1."),
    (lambda: kc.PiecewiseConstantDecay([10], ["a", 0.5]), TypeError,
     "`PiecewiseConstantDecay(values=...)` must be a real number or a real array, got "
     "values='a'."),
    (lambda: kc.PolynomialDecay(0.1, -5), ValueError,
     "`PolynomialDecay(decay_steps=...)` must be positive, got decay_steps=-5."),
    (lambda: kc.PolynomialDecay(0.1, 10, cycle="yes"), TypeError,
     "`PolynomialDecay(cycle=...)` must be a bool, got cycle='yes'."),
    (lambda: kc.InverseTimeDecay(0.1, 0, 0.5), ValueError,
     "`InverseTimeDecay(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: kc.InverseTimeDecay(0.1, 10, -0.5), ValueError,
     "`InverseTimeDecay(decay_rate=...)` must be non-negative, got decay_rate=-0.5."),
    (lambda: kc.CosineDecay(0.1, 0), ValueError,
     "`CosineDecay(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: kc.CosineDecay(0.1, 100, warmup_steps=10), ValueError,
     "`CosineDecay(warmup_steps=...)` must be 0 when warmup_target is None (Keras "
     "ignores it then; pass warmup_target=initial_learning_rate for a constant warmup, "
     "or the target to warm up to), got warmup_steps=10."),
    (lambda: kc.CosineDecay(0.1, 100, warmup_target=1.0, warmup_steps=-1), ValueError,
     "`CosineDecay(warmup_steps=...)` must be non-negative, got warmup_steps=-1."),
    (lambda: kc.CosineDecay(0.1, 100, warmup_target="high"), TypeError,
     "`CosineDecay(warmup_target=...)` must be a real number or a real array, got "
     "warmup_target='high'."),
    (lambda: kc.CosineDecayRestarts(0.1, 0), ValueError,
     "`CosineDecayRestarts(first_decay_steps=...)` must be positive, got "
     "first_decay_steps=0."),
    (lambda: kc.CosineDecayRestarts(0.1, 10, t_mul=0.5), ValueError,
     "`CosineDecayRestarts(t_mul=...)` must be a finite number >= 1, got t_mul=0.5."),
    (lambda: kc.CosineDecayRestarts(0.1, 10, t_mul=None), TypeError,
     "`CosineDecayRestarts(t_mul=...)` must be a concrete number >= 1 (it fixes where "
     "restarts fall), got t_mul=None."),
    (lambda: kc.CosineDecayRestarts(0.1, 10, alpha=float("nan")), ValueError,
     "`CosineDecayRestarts(alpha=...)` must be a number, not NaN, got alpha=nan."),
    (lambda: kc.LearningRateScheduler(3, 0.1, 10, 5), TypeError,
     "`LearningRateScheduler(schedule=...)` must be a function (epoch, lr) -> lr or "
     "(epoch) -> lr, got schedule=3."),
    (lambda: kc.LearningRateScheduler(lambda e: 0.1, 0.1, 0, 5), ValueError,
     "`LearningRateScheduler(steps_per_epoch=...)` must be positive, got "
     "steps_per_epoch=0."),
    (lambda: kc.LearningRateScheduler(lambda e: 0.1, 0.1, 10, 0), ValueError,
     "`LearningRateScheduler(num_epochs=...)` must be positive, got num_epochs=0."),
    (lambda: kc.LearningRateScheduler(lambda e, lr: "0.1", 0.1, 10, 3), TypeError,
     "`LearningRateScheduler(schedule=...)` must return a number for every epoch, got "
     "schedule(epoch=0)='0.1'."),
    (lambda: kc.LearningRateScheduler(lambda e, lr: np.array([lr]), 0.1, 10, 3),
     TypeError,
     "`LearningRateScheduler(schedule=...)` must return a number for every epoch, got "
     "schedule(epoch=0)=array([0.1])."),
    (lambda: kc.LearningRateScheduler(lambda e, lr: lr if e < 2 else math.nan, 0.1, 10, 3),
     ValueError,
     "`LearningRateScheduler(schedule=...)` must return a finite number for every "
     "epoch, got schedule(epoch=2)=nan."),
]


@pytest.mark.parametrize("make,error,message", ERRORS)
def test_errors(make, error, message):
  with pytest.raises(error, match=re.escape(message)):
    make()


@pytest.mark.parametrize(
    "name,args",
    [("ExponentialDecay", (0.1, 0, 0.9)), ("PolynomialDecay", (0.1, -5)),
     ("InverseTimeDecay", (0.1, 0, 0.5)), ("CosineDecay", (0.1, 0)),
     ("CosineDecayRestarts", (0.1, 0)),
     ("PiecewiseConstantDecay", ([10, 20], [1.0, 0.5]))],
)
def test_keras_refuses_the_same(name, args):
  with pytest.raises(ValueError):
    getattr(KS, name)(*args)
  with pytest.raises(ValueError):
    getattr(kc, name)(*args)


def test_traced_arguments_skip_value_checks():
  # Inside jit the values are unknown: construction must not raise.
  out = jax.jit(lambda rate: kc.InverseTimeDecay(0.1, 10, rate)(20))(-0.25)
  np.testing.assert_allclose(out, 0.2, rtol=1e-6)
