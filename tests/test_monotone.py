"""Monotonicity and ranges that the decays' docstrings state (hypothesis).

Each decay is drawn with random parameters and evaluated on every step of its
course, on float steps in between, and on huge steps; it must move in the
documented direction only and stay inside its documented range.
"""

import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_scheds as osch

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("ci")

values = st.floats(0.0, 10.0, allow_nan=False)
lengths = st.integers(1, 3_000)
FAR = [2**24 + 1, 2**30, 2**31 - 1]


def _course(total):
  """Every step of the course, half steps, and huge steps, in order."""
  t = np.arange(0, total + 3, dtype=np.float32)
  return np.concatenate([np.sort(np.concatenate([t, t[:-1] + 0.5])), np.float32(FAR)])


def _check(schedule, total, lo, hi, direction):
  out = np.asarray(schedule(jnp.asarray(_course(total))), np.float64)
  scale = 1e-5 * (1 + max(abs(lo), abs(hi)))
  assert np.all(out >= lo - scale) and np.all(out <= hi + scale), (lo, hi, out.min(),
                                                                   out.max())
  steps = np.diff(out)
  if direction < 0:
    assert np.all(steps <= scale), steps.max()
  elif direction > 0:
    assert np.all(steps >= -scale), steps.min()


@given(values, values, st.floats(0.0, 5.0), lengths, st.integers(0, 100))
def test_polynomial_and_linear_move_from_init_to_end(init, end, power, total, begin):
  for s in (osch.polynomial(init, end, power, total, begin), osch.linear(init, end, total,
                                                                          begin)):
    _check(s, total + begin, min(init, end), max(init, end), np.sign(end - init))


@given(values, lengths, st.floats(0.0, 1.0), st.floats(0.0, 4.0))
def test_cosine_decay_is_non_increasing_from_init_to_alpha_init(init, total, alpha, p):
  _check(osch.cosine_decay(init, total, alpha, p), total, alpha * init, init, -1)


@given(st.floats(0.01, 10.0), st.integers(1, 200), st.floats(0.05, 0.999), st.booleans(),
       st.floats(0.0, 1.0))
def test_exponential_decay_is_non_increasing_down_to_end_value(init, steps, rate, stairs,
                                                               frac):
  end = frac * init
  _check(osch.exponential_decay(init, steps, rate, staircase=stairs, end_value=end),
         50 * steps, end, init, -1)


@given(values, lengths, values)
def test_rex_moves_monotonically_from_init_to_end(init, total, end):
  _check(osch.rex(init, total, end), total, min(init, end), max(init, end),
         np.sign(end - init))


@given(values, lengths, values)
def test_tanh_decay_moves_monotonically_towards_end(init, total, end):
  _check(osch.tanh_decay(init, total, end), total, min(init, end), max(init, end),
         np.sign(end - init))


@given(st.floats(0.01, 10.0), st.integers(0, 200), st.integers(1, 5_000))
def test_inverse_sqrt_rises_then_never_increases(peak, warmup, timescale):
  s = osch.inverse_sqrt(peak, warmup, timescale)
  _check(osch.delay(s, 0), warmup, 0.0, peak, 0)
  rise = np.asarray(s(jnp.arange(warmup + 1)))
  assert np.all(np.diff(rise) >= -1e-6 * peak)
  _check(lambda t: s(t + warmup), 5_000, 0.0, peak, -1)


@given(st.floats(0.1, 10.0), st.integers(0, 100), st.integers(0, 100), st.integers(1, 200),
       st.sampled_from(["linear", "cosine", "1-sqrt"]),
       st.sampled_from(["linear", "cosine", "1-sqrt", "1-square", "exponential"]),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_wsd_rises_holds_then_never_increases(peak, w, s_, d, ws, ds, a, b):
  init, end = a * peak, b * peak
  s = osch.wsd(peak, w, s_, d, init, end, ws, ds)
  _check(lambda t: s(t + w), s_ + d, min(end, peak), peak, -1)
  rise = np.asarray(s(jnp.arange(w + 1)))
  assert np.all(np.diff(rise) >= -1e-5 * peak) and rise[-1] == np.float32(peak)


@given(st.floats(0.01, 10.0), st.integers(0, 100), st.integers(0, 100), st.integers(1, 200),
       st.floats(0.0, 1.0), st.floats(0.001, 1.0))
def test_tri_stage_rises_holds_then_never_increases(peak, w, h, d, a, b):
  s = osch.tri_stage(peak, w, h, d, a, b)
  _check(lambda t: s(t + w), h + d, b * peak, peak, -1)


@given(values, lengths, st.floats(0.0, 5.0))
def test_k_decay_keeps_a_decay_non_increasing(init, total, k):
  _check(osch.k_decay(osch.cosine_decay(init, total), total, k), total, 0.0, init, -1)
