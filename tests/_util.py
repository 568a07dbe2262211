"""Helpers shared by the tests."""

import math

import jax
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from optax_scheds import _registry
from optax_scheds._base import enable_x64  # noqa: F401  (jax.enable_x64 on any supported jax)


def optax_values(fn, steps, actual=None, rtol=2e-6, atol=0.0):
  """An optax schedule (the reference) under standard promotion.

  Evaluated through jit(vmap) (several optax schedules accept only scalar
  steps). XLA compiles ``x / T`` with a constant ``T`` as ``x * (1/T)``, which
  moves optax's staircase boundaries and can make ``(1 - t/T)**p`` NaN; so
  where those values disagree with ``actual``, the reference is recomputed
  step by step in eager mode, where optax's float arithmetic is exact.
  """
  steps = np.asarray(steps, np.int32)
  with jax.numpy_dtype_promotion("standard"):
    out = np.array(jax.jit(jax.vmap(fn))(steps), dtype=np.float32)
    if actual is not None:
      suspect = ~np.isclose(actual, out, rtol=rtol, atol=atol)
      with jax.disable_jit():
        for k in np.flatnonzero(suspect):
          out[k] = float(fn(int(steps[k])))
  return out


def both(schedule, steps, eager_samples=48):
  """Our schedule's values under jit on all ``steps``, checked against eager
  evaluation (``jax.disable_jit``, op by op, slow) on a spread-out sample."""
  steps = np.asarray(steps, np.int32)
  jitted = np.asarray(jax.jit(lambda s, t: s(t))(schedule, steps))
  sample = np.unique(np.linspace(0, len(steps) - 1, eager_samples).astype(int))
  with jax.disable_jit():
    eager = np.asarray(schedule(steps[sample]))
  # XLA may fuse differently under jit (FMA, vectorised cos): equal to float32
  # rounding, relative to the schedule's scale.
  np.testing.assert_allclose(eager, jitted[sample], rtol=4e-6,
                             atol=2e-6 * np.max(np.abs(jitted)))
  return jitted


def jit_eager_vmap(schedule, steps):
  """A schedule's values under jit (float64), checked against eager calls and vmap
  over the steps, equal to float32 rounding relative to the largest value (XLA
  fuses differently in each; the native ramps' ``(init - peak)(1 - p) + peak``
  rounds to about 6e-8 of the peak near step 0)."""
  steps = np.asarray(steps, np.int32)
  jitted = np.asarray(jax.jit(lambda s, t: s(t))(schedule, steps))
  atol = 2e-7 * float(np.max(np.abs(jitted)))
  np.testing.assert_allclose(np.asarray(schedule(steps)), jitted, rtol=4e-6, atol=atol)
  mapped = np.asarray(jax.jit(jax.vmap(lambda t: schedule(t)))(steps))
  np.testing.assert_allclose(mapped, jitted, rtol=4e-6, atol=atol)
  assert jitted.dtype == np.float32
  return jitted.astype(np.float64)


def random_example(catalogue, name, data):
  """The catalogue's example of ``name`` with random numbers in place of its
  numbers (floats scaled by 1/4 to 4, those in (0, 1) kept at most 1; integers
  raised by 0 to 7), rebuilt through
  the public constructors; examples the constructor refuses are rejected."""
  spec = _mutate(data, _registry.call_of(catalogue.build(name)))
  try:
    return _build(spec)
  except (ValueError, TypeError):
    assume(False)  # the random numbers broke a constraint: refused, as it should be


def _mutate(data, x):
  """Random numbers in place of the example's numbers (same types)."""
  if isinstance(x, _registry.Call):
    args = tuple(_mutate(data, v) for v in x.args)
    kwargs = {k: _mutate(data, v) for k, v in x.kwargs.items()}
    return _registry.CONSTRUCTORS[x.name] if x.name not in _registry.OPERATORS else \
        _registry.OPERATORS[x.name], args, kwargs
  if isinstance(x, bool) or x is None or isinstance(x, str):
    return x
  if isinstance(x, int):
    return x + data.draw(st.integers(0, 7))
  if isinstance(x, float):
    if not math.isfinite(x):
      return x
    # A number in (0, 1) (a rate, factor or fraction) stays at most 1.
    top = min(4.0, 1.0 / x) if 0.0 < x < 1.0 else 4.0
    return x * data.draw(st.floats(0.25, top))
  if isinstance(x, list):
    return [_mutate(data, v) for v in x]
  if isinstance(x, tuple):
    return tuple(_mutate(data, v) for v in x)
  if isinstance(x, dict):
    return {k: _mutate(data, v) for k, v in x.items()}
  return x


def _build(spec):
  if isinstance(spec, tuple) and len(spec) == 3 and callable(spec[0]):
    fn, args, kwargs = spec
    return fn(*(_build(a) for a in args), **{k: _build(v) for k, v in kwargs.items()})
  if isinstance(spec, list):
    return [_build(v) for v in spec]
  if isinstance(spec, tuple):
    return tuple(_build(v) for v in spec)
  if isinstance(spec, dict):
    return {k: _build(v) for k, v in spec.items()}
  return spec
