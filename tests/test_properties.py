"""Properties (hypothesis): continuity of joins, ranges, eager == jit == vmap."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_scheds as osch

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("ci")

values = st.floats(0.0, 10.0, allow_nan=False)
lengths = st.integers(1, 10_000)


@st.composite
def pieces(draw):
  """A list of (schedule, length, start value, end value) with known ranges."""
  out = []
  for _ in range(draw(st.integers(1, 6))):
    kind = draw(st.sampled_from(["linear", "cosine", "constant", "poly"]))
    v0, v1, n = draw(values), draw(values), draw(lengths)
    if kind == "linear":
      out.append((osch.linear(v0, v1, n), n, v0, v1))
    elif kind == "poly":
      out.append((osch.polynomial(v0, v1, draw(st.floats(0.2, 4.0)), n), n, v0, v1))
    elif kind == "cosine":
      alpha = draw(st.floats(0.0, 1.0))
      out.append((osch.cosine_decay(v0, n, alpha), n, v0, v0 * alpha))
    else:
      out.append((osch.constant(v0), n, v0, v0))
  return out


def _join(ps):
  starts = np.cumsum([0] + [n for _, n, _, _ in ps])
  return osch.join([s for s, _, _, _ in ps], starts[1:-1].tolist()), starts


@given(pieces(), st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=20))
def test_join_values_stay_within_the_pieces_ranges(ps, steps):
  s, _ = _join(ps)
  lo = min(min(a, b) for _, _, a, b in ps)
  hi = max(max(a, b) for _, _, a, b in ps)
  out = np.asarray(s(jnp.asarray(steps, jnp.int32)))
  assert np.all(out >= lo - 1e-5 * (1 + abs(lo))) and np.all(out <= hi + 1e-5 * (1 + hi))


@given(pieces())
def test_join_is_continuous_where_pieces_meet_continuously(ps):
  # Make each piece start where the previous one ended.
  chained, prev_end = [], None
  for sched, n, v0, v1 in ps:
    if prev_end is not None:
      sched = sched - v0 + prev_end
      v1 = v1 - v0 + prev_end
    chained.append((sched, n, None, v1))
    prev_end = v1
  s, starts = _join(chained)
  scale = 1 + max(abs(float(s(t))) for t in starts)
  for b, (sched, n, _, _) in zip(starts[1:-1], chained[:-1]):
    left = float(sched(n))  # the previous piece's own end value
    np.testing.assert_allclose(float(s(b)), left, atol=2e-5 * scale)


@settings(max_examples=12)  # eager evaluation is op by op: slow
@given(pieces(), st.lists(st.integers(0, 100_000), min_size=1, max_size=16))
def test_eager_jit_vmap_agree(ps, steps):
  s, _ = _join(ps)
  t = jnp.asarray(steps, jnp.int32)
  with jax.disable_jit():
    eager = s(t)
  jitted = jax.jit(lambda sched, x: sched(x))(s, t)
  mapped = jax.vmap(s)(t)
  scale = 1 + float(jnp.max(jnp.abs(eager)))
  np.testing.assert_allclose(jitted, eager, rtol=4e-6, atol=2e-6 * scale)
  np.testing.assert_allclose(mapped, eager, rtol=4e-6, atol=2e-6 * scale)


@given(st.integers(1, 1000), st.integers(1, 50), st.floats(0.0, 0.9), st.integers(0, 2**30))
def test_cycle_selection_matches_integer_arithmetic(cycle_steps, mul, decay, step):
  s = osch.cycle(osch.constant(1.0), cycle_steps, length_mul=mul if mul < 5 else 1,
                 value_mul=decay)
  m = mul if mul < 5 else 1
  k, start, length = 0, 0, cycle_steps
  while step >= start + length:
    start, length, k = start + length, length * m, k + 1
  # A wrong cycle would be off by a factor <= 0.9; float32 pow is good to 1e-4 here.
  np.testing.assert_allclose(float(s(step)), decay**k, rtol=1e-4, atol=1e-30)


@given(st.dictionaries(st.integers(0, 2**31 - 1), st.floats(0.0, 2.0), max_size=12),
       st.integers(0, 2**31 - 1))
def test_piecewise_constant_counts_reached_boundaries(bs, step):
  s = osch.piecewise_constant(1.0, bs)
  expected = np.prod([v for b, v in bs.items() if b <= step], dtype=np.float64)
  np.testing.assert_allclose(float(s(step)), expected, rtol=1e-5, atol=1e-30)
