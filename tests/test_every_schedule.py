"""Properties every public schedule has, native and ported.

The schedules come from the catalogue's example list (docs/catalogue.py),
which tests/test_catalogue.py keeps complete against the public API, so a new
schedule is covered here as soon as it is public.
"""

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._util import enable_x64, random_example

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogue", ROOT / "docs" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

NAMES = sorted(catalogue.EXAMPLES)
EDGES = [0, 1, 2, 9, 10, 11, 29, 30, 31, 99, 100, 101, 2**24 - 1, 2**24, 2**24 + 1,
         2**31 - 2, 2**31 - 1]


def _steps(name):
  n = catalogue.EXAMPLES[name][2]
  return np.unique(np.concatenate([EDGES, np.arange(n + 2)])).astype(np.int32)


@pytest.mark.parametrize("name", NAMES)
def test_finite_everywhere_and_eager_equals_jit_equals_vmap(name):
  s = catalogue.build(name)
  steps = _steps(name)
  jitted = np.asarray(jax.jit(lambda sched, t: sched(t))(s, steps))
  assert jitted.dtype == np.float32 and np.all(np.isfinite(jitted)), name
  mapped = np.asarray(jax.jit(jax.vmap(lambda t: s(t)))(steps))
  np.testing.assert_allclose(mapped, jitted, rtol=1e-6, atol=1e-7)
  sample = steps[:: max(1, len(steps) // 12)]
  with jax.disable_jit():
    eager = np.asarray(s(sample))
  scale = 1 + np.max(np.abs(jitted))
  np.testing.assert_allclose(eager, jitted[:: max(1, len(steps) // 12)], rtol=4e-6,
                             atol=2e-6 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_steps_below_zero_give_the_value_at_zero(name):
  s = catalogue.build(name)
  out = np.asarray(s(jnp.array([0, -1, -7, -2**31], jnp.int32)))
  np.testing.assert_array_equal(out[1:], np.full(3, out[0]))


@pytest.mark.parametrize("name", NAMES)
def test_int64_steps_under_x64(name):
  with enable_x64(True):
    s = catalogue.build(name)
    out = s(np.array([0, 2**31 + 5, 2**40, 2**62], np.int64))
    assert out.dtype == jnp.float64 and np.all(np.isfinite(np.asarray(out))), name


def _float_leaves_grad(s, steps):
  def total(sched):
    return jnp.sum(sched(steps))
  grads = jax.grad(total, allow_int=True)(s)
  return [np.asarray(g) for g, leaf in zip(jax.tree.leaves(grads), jax.tree.leaves(s))
          if jnp.issubdtype(jnp.result_type(leaf), jnp.floating)]


@pytest.mark.parametrize("name", NAMES)
def test_gradients_with_respect_to_every_float_leaf_are_finite(name):
  s = catalogue.build(name)
  steps = jnp.asarray(_steps(name))
  for g in _float_leaves_grad(s, steps):
    assert np.all(np.isfinite(g)), (name, g)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_random_parameters_stay_finite_consistent_and_differentiable(name, data):
  # The example's numbers replaced by random ones (tests/_util.random_example):
  # finite at every int32 edge, jit == vmap, finite gradients for every float
  # leaf, all in one compiled program per example.
  s = random_example(catalogue, name, data)
  steps = jnp.asarray(_steps(name))

  def check(sched):
    return sched(steps), jax.vmap(sched)(steps), jax.grad(
        lambda x: jnp.sum(x(steps)), allow_int=True)(sched)

  values, mapped, grads = jax.jit(check)(s)
  values, mapped = np.asarray(values), np.asarray(mapped)
  assert np.all(np.isfinite(values)), (name, repr(s))
  np.testing.assert_allclose(mapped, values, rtol=1e-6, atol=1e-7 * (1 + np.abs(values).max()))
  for g, leaf in zip(jax.tree.leaves(grads), jax.tree.leaves(s)):
    if jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
      assert np.all(np.isfinite(np.asarray(g))), (name, repr(s))
