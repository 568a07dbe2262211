"""Step rules at the edges of the integer range, and no NaN from finite input.

Expected values come from closed forms evaluated here in Python (exact
integers, Decimal), never from the library itself.
"""

import bisect
import math
import re
from decimal import Decimal, getcontext

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from tests._util import enable_x64

LIMIT = "at most 2147483647 (the largest step; enable jax_enable_x64 for larger steps)"


def _saw(period=10):
  """Value ``(t mod period) / period`` for integer t: tells any two steps of a
  cycle apart."""
  return osch.cycle(osch.linear(0.0, 1.0, period), period)


# ---------------------------------------------------------------- integer steps


@pytest.mark.parametrize("step", [
    np.int64(2**33 + 3), 2**31, np.uint32(2**32 - 1), np.uint64(2**40),
    np.array([5, 2**31], np.int64), jnp.array([1, 2**31], jnp.uint32),
])
def test_integer_steps_past_the_largest_step_raise_instead_of_wrapping(step):
  with pytest.raises(ValueError, match=re.escape(f"`Schedule.__call__(step=...)` must be "
                                                 f"{LIMIT}")):
    _saw()(step)


@pytest.mark.parametrize("step", [2**31 - 1, np.int64(2**31 - 1), np.uint32(2**31 - 1),
                                  np.uint64(2**31 - 1)])
def test_the_largest_step_itself_is_exact_in_every_integer_type(step):
  assert float(_saw()(step)) == pytest.approx(((2**31 - 1) % 10) / 10)


def test_wide_negative_integers_mean_step_zero_not_a_wrapped_step():
  # -2**33 + 3 wraps to 3 when cast to int32.
  out = _saw()(np.array([-2**33 + 3, -1, 3], np.int64))
  np.testing.assert_allclose(out, [0.0, 0.0, 0.3], atol=1e-7)
  assert float(_saw()(-2**40)) == 0.0


def test_traced_integer_steps_past_the_largest_step_give_nan():
  out = jax.jit(lambda t: _saw()(t))(jnp.array([7, 2**31 - 1, 2**31, 2**32 - 1], jnp.uint32))
  np.testing.assert_allclose(out[:2], [0.7, 0.7], atol=1e-7)
  assert np.all(np.isnan(out[2:]))


def test_x64_steps_past_int32_are_exact():
  with enable_x64(True):
    assert float(_saw()(np.int64(2**33 + 3))) == pytest.approx(0.5)  # 2**33 + 3 = ...595
    assert float(_saw()(2**40 + 5)) == pytest.approx(0.1)  # 2**40 + 5 = ...781
    with pytest.raises(ValueError, match=re.escape("must be at most 9223372036854775807")):
      _saw()(np.uint64(2**63))


# ------------------------------------------------------------------ float steps


@pytest.mark.parametrize("step", [float("nan"), np.float32("nan"), float("inf"),
                                  jnp.array([1.0, jnp.nan]), np.array([np.inf])])
def test_nan_or_inf_float_steps_raise(step):
  with pytest.raises(ValueError, match=re.escape(
      "`Schedule.__call__(step=...)` must be a finite number, not NaN or inf")):
    osch.constant(1.0)(step)


def test_traced_nan_float_steps_give_nan_not_the_value_at_step_zero():
  s = osch.linear(1.0, 0.0, 10)
  out = jax.jit(lambda t: s(t))(jnp.array([jnp.nan, jnp.inf, 5.0, -jnp.inf]))
  assert np.isnan(out[0]) and np.isnan(out[1])
  np.testing.assert_allclose(out[2:], [0.5, 1.0])


def test_finite_float_steps_past_the_largest_step_are_the_largest_step():
  assert float(_saw()(3e9)) == pytest.approx(0.7)


@pytest.mark.parametrize("step", ["3", b"3", True, [1, "a"], None])
def test_steps_of_the_wrong_type_name_the_call(step):
  with pytest.raises(TypeError, match=re.escape(
      "`Schedule.__call__(step=...)` must be an integer or float scalar or array")):
    osch.constant(1.0)(step)


def test_array_parameters_that_do_not_broadcast_with_the_steps():
  with pytest.raises(ValueError, match=re.escape(
      "`Schedule.__call__(step=...)` must broadcast with the schedule's array parameters "
      "(shapes (2,)), got a step of shape (3,).")):
    osch.cosine_decay(jnp.array([1.0, 2.0]), 10)(jnp.arange(3))


# ---------------------------------------------------------- NaN from finite input


@pytest.mark.parametrize("make, step, expected", [
    (lambda: osch.exponential_decay(0.0, 1, 2.0), 1000, 0.0),
    (lambda: osch.exponential_decay(0.0, 1, 2.0, end_value=5.0), 1000, 0.0),
    (lambda: osch.exponential_decay(0.0, 1, 2.0, staircase=True), 10**6, 0.0),
    (lambda: osch.exponential_decay(1.0, 10, 1.5, end_value=3.0), 10**6, 3.0),
    (lambda: osch.exponential_decay(2.0, 1, 1e6, end_value=float("inf")), 10, math.inf),
    (lambda: osch.cycle(osch.constant(0.0), 1, value_mul=2.0), 10**6, 0.0),
    (lambda: osch.cycle(osch.linear(0.0, 1.0, 4), 4, value_mul=3.0), 4 * 500, 0.0),
    (lambda: osch.polynomial(1.0, 0.5, 0.0, 10), 10, 1.0),  # 0 ** 0 = 1
])
def test_no_nan_from_finite_parameters(make, step, expected):
  s = make()
  for out in (s(step), jax.jit(lambda t: s(t))(step)):
    assert float(out) == expected


def test_growth_without_end_value_overflows_to_inf_as_documented():
  assert float(osch.exponential_decay(1.0, 10, 1.5)(10**6)) == math.inf


def test_exponential_ramp_towards_a_non_positive_value_is_refused():
  for target in (-1.0, 0.0):
    with pytest.raises(ValueError, match=re.escape(
        "`warmup(schedule=...)` must start at a positive value for an exponential ramp")):
      osch.warmup(osch.constant(target), 10, 0.1, "exponential")


def _finite_difference(f, x, h=1e-3):
  return (float(f(x + h)) - float(f(max(x - h, 0.0)))) / (x + h - max(x - h, 0.0))


@pytest.mark.parametrize("step, value_at", [(3, 0.0), (13, 0.0), (23, 0.0)])
def test_gradient_of_value_mul_at_zero(step, value_at):
  # d/dd of d**k * s at d = 0 is 0 in cycle 0 (no dependence) and cycle 2, and
  # s in cycle 1; finite differences agree.
  del value_at
  def f(d):
    return osch.cycle(osch.linear(1.0, 0.5, 10), 10, value_mul=d)(step)
  g = float(jax.grad(f)(0.0))
  assert math.isfinite(g)
  np.testing.assert_allclose(g, _finite_difference(f, 0.0), atol=2e-3)


def test_gradient_of_keras_m_mul_at_zero_in_the_first_cycle():
  g = jax.grad(lambda m: kc.CosineDecayRestarts(1.0, 10, m_mul=m)(3))(0.0)
  assert float(g) == 0.0


def test_gradient_behind_an_end_value_clip_is_finite():
  def f(r, step):
    return osch.exponential_decay(0.1, 10, r, end_value=1.0)(step)
  assert float(jax.grad(f)(1.5, 10**6)) == 0.0  # clipped: no dependence on r
  # Before the clip, the gradient is I * p * r**(p-1) with p = t / T.
  np.testing.assert_allclose(jax.grad(f)(1.5, 20), 0.1 * 2 * 1.5, rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda p: osch.polynomial(1.0, 0.0, p, 10),
    lambda p: osch.cosine_decay(1.0, 10, exponent=p),
    lambda p: osch.warmup_cosine_decay(0.0, 1.0, 2, 10, exponent=p),
    lambda p: kc.PolynomialDecay(1.0, 10, power=p),
])
@pytest.mark.parametrize("power", [0.0, 0.5, 2.0])
def test_gradient_of_the_exponent_is_finite_where_the_base_is_zero(make, power):
  for step in (0, 5, 10, 11):
    assert math.isfinite(float(jax.grad(lambda p, t=step: make(p)(t))(power)))


# ------------------------------------------------------------------ cycle layout


def _restarts(cycle_steps, length_mul, count):
  """The first ``count`` restart steps ceil(S_k), S_k = T (m**k - 1) / (m - 1),
  from 100-digit decimals (independent of the library's fixed point)."""
  getcontext().prec = 100
  m, t = Decimal(length_mul), Decimal(cycle_steps)
  out, power = [], Decimal(1)
  for _ in range(count):
    start = t * (power - 1) / (m - 1)
    out.append((math.ceil(start), start, power))
    power *= m
  return out


@pytest.mark.parametrize("cycle_steps, length_mul, count", [
    (10, 1.001, 12_000), (10, 1.005, 2_800), (7, 1.01, 1_400), (1, 1.1, 200),
    (3, 1.5, 45), (100, 2.5, 20), (1000, 1.0001, 2_000),
])
def test_cycle_restarts_are_exact_for_real_length_mul(cycle_steps, length_mul, count):
  s = osch.cycle(osch.linear(0.0, 1.0, cycle_steps), cycle_steps, length_mul=length_mul)
  table = [r for r in _restarts(cycle_steps, length_mul, count) if r[0] < 2**31 - 2]
  rng = np.random.default_rng(0)
  picked = sorted(set(range(1, min(40, len(table)))) | set(
      rng.integers(1, len(table), 150).tolist()) | {len(table) - 1})
  ceilings = [c for c, _, _ in table]
  steps, expected = [], []
  for k in picked:
    for t in (ceilings[k] - 1, ceilings[k], ceilings[k] + 1):
      if t >= ceilings[-1]:
        continue
      _, start, power = table[bisect.bisect_right(ceilings, t) - 1]
      steps.append(t)
      expected.append(float((Decimal(t) - start) / power / cycle_steps))
  out = np.asarray(s(np.asarray(steps)))
  np.testing.assert_allclose(out, expected, atol=2e-5)


def test_keras_restarts_with_t_mul_near_one_build_quickly_and_stay_in_range():
  # 26 s to build before (an exact rational per cycle); the layout is now a
  # few ms. Values must stay in [alpha * I, I] over the whole step range.
  s = kc.CosineDecayRestarts(0.1, 10, t_mul=1.005, alpha=0.1)
  out = np.asarray(s(np.linspace(0, 2**31 - 1, 4001).astype(np.int64)))
  assert np.all(out >= 0.01 - 1e-7) and np.all(out <= 0.1 + 1e-7)


def test_cycles_past_the_exact_table_stay_in_range_and_keep_restarting():
  # length_mul so close to 1 that more than 65536 cycles start below 2**31.
  s = osch.cycle(osch.linear(0.0, 1.0, 10), 10, length_mul=1.00005, value_mul=1.0)
  steps = np.linspace(0, 2**31 - 1, 20_001).astype(np.int64)
  out = np.asarray(s(steps))
  assert np.all(out >= 0) and np.all(out <= 1)
  assert np.ptp(out[-2000:]) > 0.9  # still cycling near the end of the range


# --------------------------------------------------------------------------- repr


def test_repr_of_a_huge_join_is_short_and_jit_of_it_works():
  s = osch.join([osch.linear(1.0, 0.0, 10)] * 10_000, list(range(10, 100_000, 10)))
  text = repr(s)
  assert text == ("join([linear(1.0, 0.0, 10), linear(1.0, 0.0, 10), linear(1.0, 0.0, 10), "
                  "...<9997 more>], [10, 20, 30, ...<9996 more>])")
  structural = repr(jax.tree.map(lambda x: x, s))  # no recorded call: the fields, bounded
  assert structural == ("join(<10000 pieces of 1 kind(s)>, boundaries=array(shape=(9999,), "
                        "dtype=int32))")
  assert float(jax.jit(s)(15)) == pytest.approx(0.5)


def test_repr_of_a_small_join_lists_its_pieces():
  s = osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 10)], [5])
  assert repr(s) == "join([constant(1.0), linear(1.0, 0.0, 10)], [5])"
  assert repr(jax.tree.map(lambda x: x, s)) == (
      "join(schedules=[Constant(value=1.0), Polynomial(init_value=1.0, end_value=0.0, "
      "power=1.0, transition_steps=10, transition_begin=0)], boundaries=[5])")
