"""The schedule contract: pytree, jit/vmap, exact steps, dtypes, errors."""

import math
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from tests._util import enable_x64


def test_schedules_are_pytrees_with_numeric_leaves():
  s = osch.warmup_cosine_decay(0.0, 1.0, 10, 100, end_value=0.1)
  leaves = jax.tree.leaves(s)
  assert 1.0 in leaves and 10 in leaves
  doubled = jax.tree.map(lambda x: x, s)
  np.testing.assert_array_equal(doubled(jnp.arange(200)), s(jnp.arange(200)))


def test_no_retrace_when_a_number_changes():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def lr(schedule, step):
    return schedule(step)

  for peak in [1.0, 2.0, 3.0]:
    for warm in [5, 10]:
      out = lr(osch.warmup_cosine_decay(0.0, peak, warm, 100), 100)
      np.testing.assert_allclose(out, 0.0, atol=1e-6)
  out = lr(osch.warmup_cosine_decay(0.0, 3.0, 5, 100), 5)
  np.testing.assert_allclose(out, 3.0, rtol=1e-6)


def test_vmap_over_a_hyperparameter_sweep():
  peaks = jnp.array([0.1, 0.5, 1.0])
  out = jax.vmap(lambda p: osch.warmup_cosine_decay(0.0, p, 1_000, 100_000)(1_000))(peaks)
  np.testing.assert_allclose(out, peaks, rtol=1e-6)
  steps = jnp.array([0, 500, 51_000])
  grid = jax.vmap(lambda p: osch.warmup_cosine_decay(0.0, p, 1_000, 101_000)(steps))(peaks)
  np.testing.assert_allclose(grid, np.outer(peaks, [0.0, 0.5, 0.5]), atol=1e-6)


def test_vmap_over_join_pieces_and_boundaries():
  def make(peak, boundary):
    return osch.join([osch.constant(peak), osch.linear(peak, 0.0, 10)], [boundary])(12)

  out = jax.vmap(make)(jnp.array([1.0, 2.0]), jnp.array([7, 10]))
  np.testing.assert_allclose(out, [0.5, 1.6], rtol=1e-6)


def test_array_of_steps_needs_no_vmap():
  s = osch.cosine_decay(1.0, 100)
  steps = jnp.arange(12).reshape(3, 4)
  out = s(steps)
  assert out.shape == (3, 4)
  np.testing.assert_allclose(out, jax.vmap(jax.vmap(s))(steps), rtol=1e-6)


def test_repr_is_the_call_as_written():
  assert repr(osch.cosine_decay(1.0, 100)) == "cosine_decay(1.0, 100)"
  r = repr(osch.join([osch.constant(1.0), osch.constant(2.0)], [5]))
  assert r == "join([constant(1.0), constant(2.0)], [5])"
  assert repr(osch.constant(1) * 2) == "constant(1) * 2"


def test_repr_without_a_recorded_call_shows_the_fields():
  s = jax.tree.map(lambda x: x, osch.cosine_decay(1.0, 100))
  assert repr(s) == "CosineDecay(init_value=1.0, decay_steps=100, alpha=0.0, exponent=1.0)"


@pytest.mark.parametrize("make", [
    lambda: osch.piecewise_constant(1.0, {2**31 - 2: 0.5}),
    lambda: osch.join([osch.constant(1.0), osch.constant(0.5)], [2**31 - 2]),
    lambda: osch.stretch(osch.table([1.0, 0.5]), 2**30 - 1, staircase=True),
    lambda: osch.exponential_decay(1.0, 2**31 - 2, 0.5, staircase=True),
])
def test_integer_decisions_are_exact_near_int32_max(make):
  s = make()
  out = jax.jit(lambda t: s(t))(jnp.array([2**31 - 3, 2**31 - 2, 2**31 - 1], jnp.int32))
  if isinstance(s, osch.Schedule) and repr(s).startswith("stretch("):
    np.testing.assert_array_equal(out, [0.5, 0.5, 0.5])  # unit 1 starts at 2**30 - 1
  else:
    np.testing.assert_array_equal(out, [1.0, 0.5, 0.5])


def test_optax_loses_decisions_above_2_24_and_we_do_not():
  b = 2**25 + 1
  steps = jnp.array([b - 1, b], jnp.int32)
  ours = jax.jit(osch.piecewise_constant(1.0, {b: 0.5}))(steps)
  np.testing.assert_array_equal(ours, [1.0, 0.5])
  with jax.numpy_dtype_promotion("standard"):
    ref = jax.jit(jax.vmap(optax.exponential_decay(1.0, b, 0.5, staircase=True)))(steps)
  np.testing.assert_array_equal(jax.jit(osch.exponential_decay(1.0, b, 0.5, staircase=True))(
      steps), [1.0, 0.5])
  assert not np.array_equal(ref, [1.0, 0.5])  # float32 cannot tell b - 1 from b


def test_safe_increment_saturated_step():
  s = osch.linear(1.0, 0.0, 100)
  top = optax.safe_increment(jnp.asarray(2**31 - 1, jnp.int32))
  assert float(s(top)) == 0.0


def test_x64_steps_and_values():
  with enable_x64(True):
    s = osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 2**40)], [2**33])
    out = s(jnp.array([2**33 - 1, 2**33, 2**33 + 2**39], jnp.int64))
    assert out.dtype == jnp.float64
    np.testing.assert_array_equal(out, [1.0, 1.0, 0.5])
    assert osch.cosine_decay(1.0, 10)(3).dtype == jnp.float64


def test_float_steps_floor_decisions_and_interpolate_positions():
  s = osch.join([osch.linear(0.0, 1.0, 10), osch.constant(5.0)], [10])
  np.testing.assert_allclose(s(jnp.array([2.5, 9.99, 10.0, 10.5])), [0.25, 0.999, 5.0, 5.0],
                             rtol=1e-5)
  stairs = osch.piecewise_constant(1.0, {3: 0.5})
  np.testing.assert_array_equal(stairs(jnp.array([2.999, 3.0, 3.5])), [1.0, 0.5, 0.5])


def test_negative_steps_give_the_value_at_step_zero():
  for s in [osch.cosine_decay(1.0, 10), osch.linear(2.0, 0.0, 10),
            osch.piecewise_interpolate("linear", 1.0, {10: 0.5})]:
    np.testing.assert_array_equal(s(jnp.array([-5, -1])), [s(0), s(0)])
    np.testing.assert_array_equal(s(jnp.array([-0.5, -7.5])), [s(0), s(0)])


def test_always_a_default_float_array_under_strict_promotion():
  for s in [osch.constant(5), osch.table([1, 2]), osch.linear(1, 0, 10),
            osch.piecewise_constant(2, {3: 1})]:
    for step in [3, np.int64(3), jnp.int8(3), jnp.uint32(3), 3.0, jnp.bfloat16(3)]:
      out = s(step)
      assert isinstance(out, jax.Array) and out.dtype == jnp.float32, (s, step)


def test_step_of_wrong_type():
  with pytest.raises(TypeError, match=re.escape(
      "`Schedule.__call__(step=...)` must be an integer or float")):
    osch.constant(1.0)(True)


def test_no_nan_for_finite_steps():
  steps = jnp.concatenate([jnp.arange(0, 300), jnp.array([2**24, 2**31 - 1])])
  for s in [osch.polynomial(1.0, 0.0, 0.37, 7), osch.cosine_decay(1.0, 7, exponent=0.3),
            osch.warmup(osch.cosine_decay(1.0, 7), 3, ramp="exponential", init_value=1e-3),
            osch.linear_onecycle(1, 1.0), osch.cosine_onecycle(2, 1.0)]:
    for out in [s(steps), jax.jit(s)(steps), s(steps.astype(jnp.float32) + 0.5)]:
      assert np.all(np.isfinite(out)), s


def test_arithmetic_min_max_clip():
  a, b = osch.linear(0.0, 1.0, 10), osch.constant(0.5)
  t = jnp.arange(12)
  av = np.minimum(np.arange(12) / 10, 1.0)
  np.testing.assert_allclose((a + b)(t), av + 0.5, rtol=1e-6)
  np.testing.assert_allclose((2 * a - 1)(t), 2 * av - 1, rtol=1e-6, atol=1e-7)
  np.testing.assert_allclose((a * b / 4)(t), av / 8, rtol=1e-6)
  np.testing.assert_allclose((1 - a)(t), 1 - av, atol=1e-7)
  np.testing.assert_allclose((-a)(t), -av, rtol=1e-6)
  np.testing.assert_allclose(osch.minimum(a, b)(t), np.minimum(av, 0.5), rtol=1e-6)
  np.testing.assert_allclose(osch.maximum(a, 0.3)(t), np.maximum(av, 0.3), rtol=1e-6)
  np.testing.assert_allclose(osch.clip(a, 0.2, 0.7)(t), np.clip(av, 0.2, 0.7), rtol=1e-6)
  with pytest.raises(TypeError):
    a * "x"


def test_warmup_ramps():
  s = osch.constant(2.0)
  t = jnp.arange(0, 12)
  x = np.minimum(np.arange(12) / 10, 1)
  np.testing.assert_allclose(osch.warmup(s, 10, 1.0)(t), 1 + x, rtol=1e-6)
  np.testing.assert_allclose(osch.warmup(s, 10, 1.0, "cosine")(t),
                             2 - 0.5 * (1 + np.cos(np.pi * x)), rtol=1e-6)
  np.testing.assert_allclose(osch.warmup(s, 10, 1.0, "exponential")(t), 2.0**x, rtol=1e-6)
  np.testing.assert_array_equal(osch.warmup(s, 0, 1.0)(t), np.full(12, 2.0))


def test_warmup_child_sees_shifted_step():
  inner = osch.linear(1.0, 0.0, 10)
  s = osch.warmup(inner, 5)
  np.testing.assert_allclose(s(jnp.arange(5, 16)), inner(jnp.arange(0, 11)), rtol=1e-6)


def test_delay_and_stretch():
  inner = osch.linear(1.0, 0.0, 10)
  np.testing.assert_allclose(osch.delay(inner, 3)(jnp.arange(15)),
                             inner(np.maximum(np.arange(15) - 3, 0)), rtol=1e-6)
  smooth = osch.stretch(inner, 4)
  np.testing.assert_allclose(smooth(jnp.arange(41)), 1 - np.minimum(np.arange(41) / 40, 1),
                             rtol=1e-6, atol=1e-7)
  stairs = osch.stretch(inner, 4, staircase=True)
  np.testing.assert_allclose(stairs(jnp.arange(41)), 1 - (np.arange(41) // 4) / 10,
                             rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("length_mul", [1, 2, 3, 1.5])
def test_cycle_against_closed_form(length_mul):
  T, d = 7, 0.8
  s = osch.cycle(osch.cosine_decay(1.0, T), T, length_mul=length_mul, value_mul=d)
  steps = np.arange(0, 400)
  expected = []
  for t in steps:
    k, start, length = 0, 0.0, float(T)
    while t >= start + length:
      start, length, k = start + length, length * length_mul, k + 1
    expected.append(d**k * 0.5 * (1 + math.cos(math.pi * (t - start) / length)))
  np.testing.assert_allclose(s(steps), expected, rtol=2e-6, atol=2e-7)
  np.testing.assert_allclose(jax.jit(s)(steps), expected, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("d", [0.0, 0.5, 0.7, 0.95, 0.999, 0.99999])
@pytest.mark.parametrize("length_mul", [1, 2])
def test_cycle_factor_is_the_power_to_an_ulp_in_every_cycle(d, length_mul):
  # d ** k of the float32 d: 1 in cycle 0, within an ulp of the float64 power
  # (XLA's power flushes subnormal results to 0), the same to each cycle's end.
  T = 1000
  s = osch.cycle(osch.constant(1.0), T, length_mul=length_mul, value_mul=d)
  k = np.arange(0, 2**31 // T + 1 if length_mul == 1 else 21)
  starts = k * T if length_mul == 1 else T * (2**k - 1)
  got = np.asarray(jax.jit(jax.vmap(s))(jnp.asarray(starts, jnp.int32)))
  with np.errstate(under="ignore"):
    exact = (np.float64(np.float32(d)) ** k.astype(np.float64)).astype(np.float32)
  np.testing.assert_allclose(got, exact, rtol=2.4e-7, atol=np.finfo(np.float32).tiny)
  assert got[0] == 1.0
  ends = np.minimum(starts[-8:] + T - 1, 2**31 - 1)
  np.testing.assert_array_equal(s(ends), got[-8:])
  if length_mul == 1 and d < 0.99:
    assert got[-1] == 0.0 and s(2**31 - 1) == 0.0


def test_cycle_is_exact_at_large_steps():
  s = osch.cycle(osch.linear(1.0, 0.0, 1000), 1000, length_mul=2)
  # cycle k starts at 1000 * (2**k - 1); k = 20 starts at 1048575000.
  start = 1000 * (2**20 - 1)
  out = s(jnp.array([start - 1, start], jnp.int32))
  # The last step of cycle 19 is 1 step before the end of its linear decay.
  np.testing.assert_allclose(out, [1 / (2**19 * 1000), 1.0], atol=1e-7)


def test_table():
  s = osch.table(np.array([3.0, 2.0, 1.0]))
  np.testing.assert_array_equal(s(jnp.arange(6)), [3, 2, 1, 1, 1, 1])


def test_join_accepts_optax_callables():
  s = osch.join([optax.constant_schedule(1), optax.linear_schedule(1.0, 0.0, 4)], [2])
  np.testing.assert_allclose(s(jnp.arange(8)), [1, 1, 1, 0.75, 0.5, 0.25, 0, 0])


def test_join_of_n_pieces_has_constant_program_size():
  def hlo(n):
    pieces = [osch.cosine_decay(1.0 + k, 10) for k in range(n)]
    s = osch.join(pieces, [10 * k for k in range(1, n)])
    return jax.jit(lambda t: s(t)).lower(jnp.arange(4)).as_text()

  small, large = hlo(100), hlo(1000)
  # The stacked parameters are constants; strip them, the ops must not grow.
  strip = lambda text: re.sub(r"dense<[^>]*>", "dense<>", text)  # noqa: E731
  assert strip(small).count("\n") == strip(large).count("\n")


ERRORS = [
    (lambda: osch.join([osch.constant(1.0)] * 3, [10, 5]),
     "`join(boundaries=...)` must be strictly increasing, got boundaries=[10, 5]."),
    (lambda: osch.join([osch.constant(1.0)] * 3, [5]),
     "`join(boundaries=...)` must have one entry fewer than schedules, got 3 schedules and "
     "boundaries=[5]."),
    (lambda: osch.join([osch.constant(1.0)] * 2, [-1]),
     "`join(boundaries=...)` must be non-negative, got boundaries=-1."),
    (lambda: osch.join([], []),
     "`join(schedules=...)` must be a non-empty sequence of schedules, got schedules=[]."),
    (lambda: osch.cosine_decay(1.0, 0),
     "`cosine_decay(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: osch.linear(1.0, 0.0, -3),
     "`linear(transition_steps=...)` must be positive, got transition_steps=-3."),
    (lambda: osch.linear(1.0, 0.0, 10, transition_begin=-1),
     "`linear(transition_begin=...)` must be non-negative, got transition_begin=-1."),
    (lambda: osch.exponential_decay(1.0, 0, 0.5),
     "`exponential_decay(transition_steps=...)` must be positive, got transition_steps=0."),
    (lambda: osch.exponential_decay(1.0, 10, 0.0),
     "`exponential_decay(decay_rate=...)` must be positive, got decay_rate=0.0."),
    (lambda: osch.linear(float("nan"), 0.0, 10),
     "`linear(init_value=...)` must be a number, not NaN, got init_value=nan."),
    (lambda: osch.linear("1", 0.0, 10),
     "`linear(init_value=...)` must be a real number or a real array, got init_value='1'."),
    (lambda: osch.cosine_decay(1.0, 10.5),
     "`cosine_decay(decay_steps=...)` must be a whole number of steps, got decay_steps=10.5."),
    (lambda: osch.warmup_cosine_decay(0.0, 1.0, 10, 10),
     "`warmup_cosine_decay(decay_steps=...)` must be greater than warmup_steps (it includes "
     "the warmup), got decay_steps=10, warmup_steps=10."),
    (lambda: osch.piecewise_constant(1.0, {10: -0.5}),
     "`piecewise_constant(boundaries_and_scales=...)` must be a dict of non-negative scales, "
     "got boundaries_and_scales={10: -0.5}."),
    (lambda: osch.piecewise_interpolate("cubic", 1.0, {}),
     "`piecewise_interpolate(interpolate_type=...)` must be one of 'linear', 'cosine', "
     "got interpolate_type='cubic'."),
    (lambda: osch.warmup(osch.constant(1.0), 5, ramp="exponential"),
     "`warmup(init_value=...)` must be positive for an exponential ramp, got init_value=0.0."),
    (lambda: osch.cycle(osch.constant(1.0), 10, length_mul=0.5),
     "`cycle(length_mul=...)` must be a finite number >= 1, got length_mul=0.5."),
    (lambda: osch.stretch(osch.constant(1.0), 0),
     "`stretch(steps_per_unit=...)` must be positive, got steps_per_unit=0."),
    (lambda: osch.table([]),
     "`table(values=...)` must be a non-empty 1-D sequence, got values=[]."),
    (lambda: osch.linear_onecycle(0, 1.0),
     "`linear_onecycle(transition_steps=...)` must be positive, got transition_steps=0."),
    (lambda: osch.clip(osch.constant(1.0), 2.0, 1.0),
     "`clip(min_value=...)` must not exceed max_value, got min_value=2.0, max_value=1.0."),
    (lambda: osch.linear(1.0, 0.0, 2**31),
     "`linear(transition_steps=...)` must be at most 2147483647 (the largest step; enable "
     "jax_enable_x64 for more), got transition_steps=2147483648."),
]


@pytest.mark.parametrize("make,message", ERRORS)
def test_errors(make, message):
  with pytest.raises((ValueError, TypeError), match=re.escape(message)):
    make()


def test_error_types():
  with pytest.raises(TypeError):
    osch.linear("1", 0.0, 10)
  with pytest.raises(ValueError):
    osch.cosine_decay(1.0, 0)


def test_traced_arguments_skip_value_checks():
  out = jax.jit(lambda n: osch.cosine_decay(1.0, n)(0))(jnp.asarray(5))
  assert float(out) == 1.0


def test_schedule_traced_under_x64_still_runs_after_leaving_it():
  s = osch.sgdr([dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10)] * 3)
  p = osch.piecewise_constant(1.0, {10: 0.5, 20: 0.1})
  with enable_x64(True):
    jax.jit(s)(jnp.arange(3))
    jax.jit(p)(jnp.arange(3))
  np.testing.assert_allclose(p(15), 0.5)
  np.testing.assert_allclose(s(jnp.array([2, 12])), [1.0, 1.0], rtol=1e-6)
