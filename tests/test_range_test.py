"""lr_range_test: the geometric lrs, the smoothed losses and the stop rule
from closed forms; one compile; lazy batches; the suggestion rules; errors;
the plot."""

import functools
import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optax_scheds._range_test import LRRangeTestResult, lr_range_test


def _quadratic(curvature, traces=None):
  def loss_fn(w, batch):
    del batch
    if traces is not None:
      traces.append(None)  # runs once per trace of the jitted step
    return 0.5 * curvature * jnp.sum(w**2)

  return loss_fn


def _scripted(params, batch):
  """A loss that is the batch itself: the test decides the whole curve."""
  return batch + 0.0 * jnp.sum(params)


class _Counting:
  """An iterator over ``values`` (cycled if ``cycle``) that counts the pulls."""

  def __init__(self, values, cycle=False):
    self._it = itertools.cycle(values) if cycle else iter(values)
    self.pulled = 0

  def __iter__(self):
    return self

  def __next__(self):
    value = next(self._it)
    self.pulled += 1
    return value


def _losses(values):
  return _Counting([np.float32(v) for v in values])


def _ema(raw, beta):
  """Bias-corrected EMA in closed form: weights (1 - b) b^(k - j) / (1 - b^(k + 1))."""
  raw = np.asarray(raw, np.float64)
  k = np.arange(len(raw))
  weights = np.where(k[None, :] <= k[:, None],
                     (1 - beta) * beta ** np.maximum(k[:, None] - k[None, :], 0), 0.0)
  return weights @ raw / (1 - beta ** (k + 1))


# The acceptance test: gradient descent on 0.5 L |w|^2 multiplies w by (1 - lr L)
# per update, so it diverges exactly above lr = 2 / L.
@pytest.mark.parametrize("curvature", [4.0, 10.0, 100.0, 1e3, 1e4])
def test_quadratic_suggestion_lies_below_two_over_l_and_the_test_stops_past_it(curvature):
  limit = 2 / curvature
  result = lr_range_test(_quadratic(curvature), jnp.ones(3), itertools.repeat(None))
  assert result.stop_reason == "diverged"
  assert len(result.lrs) < 100
  assert result.lrs[-1] > limit  # stopped, and only past the limit
  stable = result.lrs <= limit
  assert np.all(np.diff(result.raw_losses[stable]) <= 0)
  assert np.all(np.diff(result.losses[stable]) <= 0)
  # Below the limit, and from the fall of the loss, not the flat start.
  assert limit / 50 < result.suggestion < limit
  for method in ("steepest", "minimum", "valley"):
    assert result.suggest(method) < limit


@pytest.mark.parametrize("smoothing", [0.0, 0.5, 0.98])
@pytest.mark.parametrize("jit", [True, False])
def test_lrs_raw_and_smoothed_losses_match_closed_forms(smoothing, jit):
  curvature, min_lr, max_lr, n = 1.5, 1e-3, 0.3, 30  # lr * L <= 0.45: no divergence
  w0 = np.random.default_rng(0).normal(size=4).astype(np.float32)
  with jax.disable_jit(not jit):
    result = lr_range_test(_quadratic(curvature), jnp.asarray(w0), itertools.repeat(None),
                           min_lr=min_lr, max_lr=max_lr, num_steps=n, smoothing=smoothing)
  assert result.stop_reason == "num_steps" and len(result.lrs) == n
  lrs = min_lr * (max_lr / min_lr) ** (np.arange(n) / (n - 1))
  np.testing.assert_allclose(result.lrs, lrs, rtol=1e-7)  # float32 values of the table
  assert result.lrs[0] == np.float32(min_lr) and result.lrs[-1] == np.float32(max_lr)
  factors = np.concatenate([[1.0], np.cumprod((1 - lrs[:-1] * curvature) ** 2)])
  raw = 0.5 * curvature * np.sum(w0.astype(np.float64) ** 2) * factors
  np.testing.assert_allclose(result.raw_losses, raw, rtol=1e-5)
  np.testing.assert_allclose(result.losses, _ema(result.raw_losses, smoothing), rtol=1e-12)
  np.testing.assert_allclose(result.losses, _ema(raw, smoothing), rtol=1e-5)
  assert len(result.losses) == len(result.raw_losses) == n
  for arr in (result.lrs, result.losses, result.raw_losses):
    assert arr.dtype == np.float64 and not arr.flags.writeable


def test_optimizer_factory_gets_the_schedule_and_its_bound_arguments():
  curvature, momentum, min_lr, max_lr, n = 2.0, 0.9, 1e-3, 1e-1, 25
  w0 = np.array([1.0, -2.0, 0.5])
  traces = []
  result = lr_range_test(_quadratic(curvature, traces), jnp.asarray(w0, jnp.float32),
                         itertools.repeat(None),
                         optimizer=functools.partial(optax.sgd, momentum=momentum),
                         min_lr=min_lr, max_lr=max_lr, num_steps=n, diverge_factor=np.inf)
  lrs = np.geomspace(min_lr, max_lr, n)
  w, trace, raw = w0.copy(), np.zeros(3), []
  for lr in lrs:  # heavy ball, as optax.trace: v = g + m v; w -= lr v
    raw.append(0.5 * curvature * np.sum(w**2))
    trace = curvature * w + momentum * trace
    w = w - lr * trace
  np.testing.assert_allclose(result.raw_losses, raw, rtol=1e-5)
  assert len(traces) == 1  # the optimizer state keeps its types: no retrace


@pytest.mark.usefixtures("standard_promotion")  # optax.adam needs it, not we
def test_adam_follows_its_closed_form():
  curvature, min_lr, max_lr, n = 3.0, 1e-2, 1e-1, 20
  b1, b2, eps = 0.9, 0.999, 1e-8
  w0 = np.array([1.0, -2.0, 0.5])
  traces = []
  result = lr_range_test(_quadratic(curvature, traces), jnp.asarray(w0, jnp.float32),
                         itertools.repeat(None), optimizer=optax.adam, min_lr=min_lr,
                         max_lr=max_lr, num_steps=n)
  w, mu, nu, raw = w0.copy(), np.zeros(3), np.zeros(3), []
  for t, lr in enumerate(np.geomspace(min_lr, max_lr, n), start=1):
    raw.append(0.5 * curvature * np.sum(w**2))
    g = curvature * w
    mu, nu = b1 * mu + (1 - b1) * g, b2 * nu + (1 - b2) * g**2
    w = w - lr * (mu / (1 - b1**t)) / (np.sqrt(nu / (1 - b2**t)) + eps)
  np.testing.assert_allclose(result.raw_losses, raw, rtol=1e-5)
  assert len(traces) == 1  # the optimizer state keeps its types: no retrace


def test_the_step_traces_and_compiles_once():
  traces = []

  def loss_fn(w, batch):
    traces.append(None)  # runs once per trace of the jitted step
    x, y = batch
    return jnp.mean((x @ w - y) ** 2)

  rng = np.random.default_rng(1)
  batches = ((rng.normal(size=(8, 3)).astype(np.float32),
              rng.normal(size=8).astype(np.float32)) for _ in range(60))
  result = lr_range_test(loss_fn, jnp.zeros(3), batches, num_steps=50, max_lr=1e-2)
  assert len(result.lrs) == 50 and result.stop_reason == "num_steps"
  assert len(traces) == 1


def test_divergence_stops_pulling_batches():
  batches = _losses([1.0, 0.8, 0.5, 0.6, 1.9, 2.1, 5.0, 7.0, 9.0])
  result = lr_range_test(_scripted, jnp.zeros(2), batches, num_steps=20, smoothing=0.0)
  # best 0.5; 4 * 0.5 = 2.0 is first exceeded by 2.1 (step 5), which is recorded.
  assert result.stop_reason == "diverged"
  assert batches.pulled == 6
  np.testing.assert_array_equal(result.raw_losses, np.float32([1.0, 0.8, 0.5, 0.6, 1.9, 2.1]))
  np.testing.assert_array_equal(result.losses, result.raw_losses)
  np.testing.assert_allclose(result.lrs, np.geomspace(1e-7, 10.0, 20)[:6], rtol=1e-7)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("smoothing, factor", [(0.9, 1.5), (0.5, 2.0), (0.98, 1.05)])
def test_smoothed_stop_rule_matches_its_closed_form(seed, smoothing, factor):
  rng = np.random.default_rng(seed)
  values = np.exp(np.cumsum(rng.normal(0.05, 0.3, 200))).astype(np.float32)
  batches = _losses(values)
  result = lr_range_test(_scripted, jnp.zeros(2), batches, num_steps=200,
                         smoothing=smoothing, diverge_factor=factor)
  s = _ema(values, smoothing)
  best = np.minimum.accumulate(s)
  stops = np.flatnonzero(s > factor * best)  # positive losses: d * best
  expected = int(stops[0]) + 1 if len(stops) else 200
  assert len(result.losses) == batches.pulled == expected
  assert result.stop_reason == ("diverged" if len(stops) else "num_steps")
  np.testing.assert_allclose(result.losses, s[:expected], rtol=1e-12)


def test_negative_losses_diverge_relative_to_the_best_magnitude():
  # best -3: the threshold is -3 + (4 - 1) * 3 = 6, first exceeded by 7.
  values = [-1.0, -2.0, -3.0, -2.5, 1.0, 5.5, 7.0, 8.0]
  batches = _losses(values)
  result = lr_range_test(_scripted, jnp.zeros(2), batches, num_steps=20, smoothing=0.0)
  assert result.stop_reason == "diverged" and batches.pulled == 7
  np.testing.assert_array_equal(result.losses, values[:7])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_loss_stops_and_is_left_out_of_the_suggestions(bad):
  batches = _losses([1.0, 0.5, bad, 0.1])
  result = lr_range_test(_scripted, jnp.zeros(2), batches, min_lr=1e-3, max_lr=1.0,
                         num_steps=5, smoothing=0.0)
  assert result.stop_reason == "non_finite" and batches.pulled == 3
  assert len(result.losses) == 3 and not np.isfinite(result.losses[-1])
  lrs = np.geomspace(1e-3, 1.0, 5)
  np.testing.assert_allclose(result.suggestion, lrs[0], rtol=1e-6)  # the 1.0 -> 0.5 fall
  np.testing.assert_allclose(result.suggest("minimum"), lrs[1] / 10, rtol=1e-6)


def test_an_infinite_diverge_factor_stops_only_at_the_last_step():
  batches = _Counting([np.float32(v) for v in [1.0, 1e-3, 1e3, 1e6]], cycle=True)
  result = lr_range_test(_scripted, jnp.zeros(2), batches, num_steps=12, smoothing=0.0,
                         diverge_factor=float("inf"))
  assert result.stop_reason == "num_steps" and len(result.lrs) == 12
  assert batches.pulled == 12  # not one more


def test_an_infinite_iterator_gives_exactly_num_steps_batches():
  batches = _Counting([np.float32(1.0)], cycle=True)
  result = lr_range_test(_scripted, jnp.zeros(2), batches, num_steps=37)
  assert batches.pulled == 37 and len(result.lrs) == 37


def test_batches_running_out_stop_the_test_there():
  batches = _losses([3.0, 2.0, 1.5, 1.2, 1.1])
  result = lr_range_test(_scripted, jnp.zeros(2), batches, min_lr=1e-4, max_lr=1.0,
                         num_steps=10, smoothing=0.0)
  assert result.stop_reason == "batches" and len(result.lrs) == 5
  np.testing.assert_allclose(result.lrs, np.geomspace(1e-4, 1.0, 10)[:5], rtol=1e-7)
  # 10 // 10 = 1 point skipped: the 2 -> 1.5 fall leaves point 1
  np.testing.assert_allclose(result.suggestion, result.lrs[1], rtol=0)
  np.testing.assert_allclose(result.lrs[1], 1e-4 * 10 ** (4 / 9), rtol=1e-6)


def test_empty_batches_are_refused():
  with pytest.raises(ValueError, match=re.escape(
      "`lr_range_test(batches=...)` must be a non-empty iterable of batches, got "
      "batches=[].")):
    lr_range_test(_scripted, jnp.zeros(2), [])


# num_steps=20: the first 2 points are skipped; lrs from 1e-3 to 1e-1.
_CURVE = [10.0, 1.0, 9.0, 8.5, 8.0, 6.0, 5.9, 5.8, 3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3,
          2.2, 2.3, 5.0, 9.0]


def _designed(curve=_CURVE):
  return lr_range_test(_scripted, jnp.zeros(2), _losses(curve), min_lr=1e-3, max_lr=1e-1,
                       num_steps=len(curve), smoothing=0.0, diverge_factor=np.inf)


def test_suggestion_rules_on_a_designed_curve():
  lrs = np.geomspace(1e-3, 1e-1, 20)
  result = _designed()
  assert isinstance(result, LRRangeTestResult)
  # steepest: the 5.8 -> 3.0 fall leaves point 7 (the 10 -> 1 fall lies in the skipped tenth)
  np.testing.assert_allclose(result.suggestion, lrs[7], rtol=1e-6)
  np.testing.assert_allclose(result.suggest("steepest"), lrs[7], rtol=1e-6)
  # minimum: 2.2 at point 16 (the 1.0 at point 1 is skipped), over 10
  np.testing.assert_allclose(result.suggest("minimum"), lrs[16] / 10, rtol=1e-6)
  # valley: points 2..16 fall, 15 of them: 14 - 15 + 5 + 2 = 6 from point 2
  np.testing.assert_allclose(result.suggest("valley"), lrs[8], rtol=1e-6)


def _fastai_valley(losses):
  """fastai's double loop, with its start clipped to the valley's first point."""
  n = len(losses)
  max_start, max_end = 0, 0
  lds = [1] * n
  for i in range(1, n):
    for j in range(0, i):
      if losses[i] < losses[j] and lds[i] < lds[j] + 1:
        lds[i] = lds[j] + 1
      if lds[max_end] < lds[i]:
        max_end = i
        max_start = max_end - lds[max_end]
  sections = (max_end - max_start) / 3
  idx = max_start + int(sections) + int(sections / 2)
  return max(idx, max_end - lds[max_end] + 1)


@pytest.mark.parametrize("seed", range(40))
def test_valley_matches_fastais_loop(seed):
  rng = np.random.default_rng(seed)
  n = int(rng.integers(2, 40))
  curve = np.round(rng.normal(size=n).cumsum(), int(rng.integers(0, 2))) + 100  # with ties
  result = lr_range_test(_scripted, jnp.zeros(2), _losses(curve), min_lr=1e-3, max_lr=1.0,
                         num_steps=n, smoothing=0.0, diverge_factor=np.inf)
  start = n // 10
  k = start + _fastai_valley(result.losses[start:].tolist())
  assert result.suggest("valley") == result.lrs[k]


@pytest.mark.parametrize("curve, index", [([1.0, 2.0, 3.0], 0), ([3.0, 2.0, 4.0, 5.0], 0),
                                          ([2.0, 2.0, 2.0], 0), ([4.0, 5.0, 3.0, 6.0], 1)])
def test_valley_of_short_valleys_is_their_first_point(curve, index):
  # l <= 2: fastai's e - l would be -1 (wrapping to the last point) for a curve that
  # never falls; the rule takes e - l + 1.
  result = _designed(curve)
  assert result.suggest("valley") == result.lrs[index]


def test_suggestions_after_batches_ran_out_at_once_say_to_give_more():
  result = lr_range_test(_scripted, jnp.zeros(2), _losses([1.0, 0.5, 0.2]), num_steps=40)
  assert result.stop_reason == "batches"
  with pytest.raises(ValueError, match=re.escape(
      "first 4 steps (num_steps // 10, skipped), got 0 of the 3 steps run "
      "(stop_reason='batches'): give more batches.")):
    result.suggest("valley")


def test_suggestions_need_two_points_after_the_skipped_tenth():
  result = lr_range_test(_scripted, jnp.zeros(2), _losses([1.0, 10.0]), smoothing=0.0)
  assert result.stop_reason == "diverged" and len(result.lrs) == 2
  message = ("`LRRangeTestResult.suggest()` needs at least 2 finite smoothed losses after the "
             "first 10 steps (num_steps // 10, skipped), got 0 of the 2 steps run "
             "(stop_reason='diverged'): lower min_lr (the loss diverged from the start) or "
             "raise diverge_factor.")
  with pytest.raises(ValueError, match=re.escape(message)):
    _ = result.suggestion
  for method in ("minimum", "valley"):
    with pytest.raises(ValueError, match=re.escape(message)):
      result.suggest(method)


def test_unknown_suggestion_method():
  with pytest.raises(ValueError, match=re.escape(
      "`LRRangeTestResult.suggest(method=...)` must be one of 'steepest', 'minimum', "
      "'valley', got method='fastest'.")):
    _designed().suggest("fastest")


def test_repr_says_how_far_it_went():
  assert repr(_designed()) == (
      "LRRangeTestResult(20 of 20 steps, lrs from 0.001 to 0.1, stop_reason='num_steps')")


def test_plot_draws_the_smoothed_curve_on_a_log_axis_and_marks_the_suggestion():
  figure = pytest.importorskip("matplotlib.figure")
  result = _designed()
  ax = figure.Figure().subplots()
  assert result.plot(ax=ax) is ax
  assert ax.get_xscale() == "log"
  curve, mark = ax.get_lines()
  np.testing.assert_array_equal(curve.get_xdata(), result.lrs)
  np.testing.assert_array_equal(curve.get_ydata(), result.losses)
  np.testing.assert_array_equal(mark.get_xdata(), [result.suggestion])
  np.testing.assert_array_equal(mark.get_ydata(), [result.losses[7]])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_plot_makes_its_own_figure(bad):
  matplotlib = pytest.importorskip("matplotlib")
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  result = lr_range_test(_scripted, jnp.zeros(2), _losses([1.0, 0.5, bad]), num_steps=5)
  ax = result.plot()
  try:
    assert ax.get_xscale() == "log"
    (curve, mark) = ax.get_lines()
    np.testing.assert_array_equal(curve.get_ydata(), result.losses)
    ax.figure.canvas.draw()  # a non-finite last point draws without a warning
  finally:
    plt.close(ax.figure)


def test_plot_of_a_curve_too_short_to_suggest_has_no_mark():
  figure = pytest.importorskip("matplotlib.figure")
  result = lr_range_test(_scripted, jnp.zeros(2), _losses([1.0, 10.0]), smoothing=0.0)
  ax = result.plot(ax=figure.Figure().subplots())
  assert len(ax.get_lines()) == 1


def _fails_to_build(learning_rate):
  del learning_rate
  return 3


_ERRORS = [
    (dict(loss_fn=3), TypeError,
     "`lr_range_test(loss_fn=...)` must be a callable (params, batch) -> scalar loss, got "
     "loss_fn=3."),
    (dict(batches=5), TypeError,
     "`lr_range_test(batches=...)` must be an iterable of batches (one batch is a pytree: pass "
     "e.g. itertools.repeat(batch) to reuse it), got batches=5."),
    (dict(batches={"x": 1.0}), TypeError, "must be an iterable of batches"),
    (dict(batches="abc"), TypeError, "got batches='abc'."),
    (dict(optimizer=3), TypeError,
     "`lr_range_test(optimizer=...)` must be an optimizer factory such as optax.sgd, called as "
     "optimizer(learning_rate=schedule), got optimizer=3."),
    (dict(optimizer=optax.sgd(0.1)), TypeError,
     "`lr_range_test(optimizer=...)` must be an optimizer factory such as optax.sgd, called as "
     "optimizer(learning_rate=schedule), got an optimizer already built "
     "(GradientTransformationExtraArgs). Pass the factory, e.g. optimizer=optax.sgd or "
     "optimizer=functools.partial(optax.sgd, momentum=0.9)."),
    (dict(optimizer=optax.chain), TypeError,
     "got optimizer=chain, which takes no learning_rate keyword."),
    (dict(optimizer=_fails_to_build), TypeError,
     "`lr_range_test(optimizer=...)` must return an optax GradientTransformation when called "
     "as optimizer(learning_rate=schedule), got int."),
    (dict(min_lr=0.0), ValueError, "`lr_range_test(min_lr=...)` must be positive, got min_lr=0.0."),
    (dict(min_lr=-1), ValueError, "`lr_range_test(min_lr=...)` must be positive, got min_lr=-1.0."),
    (dict(min_lr=True), TypeError,
     "`lr_range_test(min_lr=...)` must be a real number or a real array, got min_lr=True."),
    (dict(min_lr=float("nan")), ValueError,
     "`lr_range_test(min_lr=...)` must be a number, not NaN, got min_lr=nan."),
    (dict(min_lr=np.array([1e-3, 2e-3])), TypeError,
     "`lr_range_test(min_lr=...)` must be a concrete scalar, got min_lr=array([0.001, 0.002])."),
    (dict(min_lr="1e-3"), TypeError, "must be a real number or a real array, got min_lr='1e-3'."),
    (dict(max_lr=1e-8), ValueError,
     "`lr_range_test(max_lr=...)` must be greater than min_lr=1e-07, got max_lr=1e-08."),
    (dict(min_lr=1.0, max_lr=1.0), ValueError,
     "`lr_range_test(max_lr=...)` must be greater than min_lr=1.0, got max_lr=1.0."),
    (dict(max_lr=float("inf")), ValueError,
     "`lr_range_test(max_lr=...)` must be finite, got max_lr=inf."),
    (dict(num_steps=1), ValueError,
     "`lr_range_test(num_steps=...)` must be >= 2, got num_steps=1."),
    (dict(num_steps=2.5), ValueError,
     "`lr_range_test(num_steps=...)` must be a whole number of steps, got num_steps=2.5."),
    (dict(num_steps=True), TypeError,
     "`lr_range_test(num_steps=...)` must be an integer number of steps, got num_steps=True."),
    (dict(num_steps="100"), TypeError,
     "`lr_range_test(num_steps=...)` must be an integer number of steps, got num_steps='100'."),
    (dict(smoothing=1.0), ValueError,
     "`lr_range_test(smoothing=...)` must be in [0, 1), got smoothing=1.0."),
    (dict(smoothing=-0.1), ValueError,
     "`lr_range_test(smoothing=...)` must be in [0, 1), got smoothing=-0.1."),
    (dict(smoothing=False), TypeError,
     "`lr_range_test(smoothing=...)` must be a real number or a real array, got "
     "smoothing=False."),
    (dict(diverge_factor=1.0), ValueError,
     "`lr_range_test(diverge_factor=...)` must be greater than 1, got diverge_factor=1.0."),
    (dict(diverge_factor=float("nan")), ValueError,
     "`lr_range_test(diverge_factor=...)` must be a number, not NaN, got diverge_factor=nan."),
    (dict(diverge_factor=True), TypeError,
     "`lr_range_test(diverge_factor=...)` must be a real number or a real array, got "
     "diverge_factor=True."),
]


@pytest.mark.parametrize("kwargs, error, message", _ERRORS,
                         ids=[f"{k}-{next(iter(kw))}" for k, (kw, _, _) in enumerate(_ERRORS)])
def test_bad_arguments_raise_before_any_batch_is_pulled(kwargs, error, message):
  batches = _Counting([np.float32(1.0)], cycle=True)
  arguments = dict(loss_fn=_scripted, params=jnp.zeros(2), batches=batches) | kwargs
  with pytest.raises(error, match=re.escape(message)):
    lr_range_test(**arguments)
  assert batches.pulled == 0


@pytest.mark.parametrize("loss, shown", [
    (lambda w, b: w, "shape (3,) and dtype float32"),
    (lambda w, b: jnp.sum(w).astype(jnp.int32), "shape () and dtype int32"),
])
def test_a_loss_that_is_not_a_scalar_float_is_refused(loss, shown):
  with pytest.raises(TypeError, match=re.escape(
      f"`lr_range_test(loss_fn=...)` must return a scalar float loss, got a loss of {shown}.")):
    lr_range_test(loss, jnp.zeros(3), itertools.repeat(None))
