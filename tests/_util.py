"""Helpers shared by the tests."""

import jax
import numpy as np


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
