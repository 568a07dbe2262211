"""Hypergradients: ``jax.grad`` through a training unroll with respect to a
schedule's float hyperparameters agrees with central finite differences.

Every check runs in float64 (``jax.enable_x64``): a central difference in
float32 loses about ``1e-7 * |loss| / eps`` to rounding, i.e. 1e-3 relative at
``eps = 1e-4``, which would need a tolerance loose enough to hide a wrong
derivative. In float64 both errors (rounding ~1e-16/eps, truncation ~eps**2)
are below 1e-8, so the comparison can be tight (rtol 1e-6; the measured
agreement is 4e-8 at worst, ~1e-9 for most families). One test checks that
the float32 hypergradient users get by default matches the float64 one to
float32 accuracy.
"""

import functools
import re
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import torch as tc
from tests._util import enable_x64

STEPS = 20  # updates per unroll
RTOL = 1e-6  # float64 gradient vs float64 central difference


def _problem():
  """A small least-squares problem: train and validation split. Built inside
  the x64 context, so its arrays are float64."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(48, 4))
  y = x @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 * rng.normal(size=48)
  return (jnp.asarray(x[:32]), jnp.asarray(y[:32])), (jnp.asarray(x[32:]), jnp.asarray(y[32:]))


def _mse(w, data):
  x, y = data
  return jnp.mean((x @ w - y) ** 2)


def _mse_grad(w, data):
  """The gradient of :func:`_mse` in closed form: the unroll needs no nested
  ``jax.grad`` (the hypergradient still flows through ``w``)."""
  x, y = data
  return x.T @ (x @ w - y) * (2 / y.shape[0])


def _optax_unroll(optimizer_of, train, val):
  """``(h, n) -> (validation loss, state)`` after STEPS updates of
  ``optimizer_of(h, n)`` in a ``lax.scan``: ``h`` are the float
  hyperparameters, ``n`` the integer step counts (traced, not differentiated)."""

  def loss(h, n):
    optimizer = optimizer_of(h, n)
    w = jnp.zeros(4)

    def step(carry, _):
      w, state = carry
      updates, state = optimizer.update(_mse_grad(w, train), state, w,
                                        value=_mse(w, train))
      return (optax.apply_updates(w, updates), state), None

    (w, state), _ = jax.lax.scan(step, (w, optimizer.init(w)), length=STEPS)
    return _mse(w, val), state

  return loss


def _hand_sgd_unroll(schedule_of, train, val):
  """The same loss from a hand-written SGD, ``w -= lr[k] * grad``, without
  optax: the schedule is called once, on the concrete steps ``0..STEPS-1``
  (the path a traced schedule takes with concrete steps)."""

  def loss(h, n):
    lrs = schedule_of(h, n)(np.arange(STEPS))

    def step(w, lr):
      return w - lr * _mse_grad(w, train), None

    w, _ = jax.lax.scan(step, jnp.zeros(4), lrs)
    return _mse(w, val), None

  return loss


def _sgd(schedule_of):
  return lambda h, n: optax.sgd(schedule_of(h, n))


def _plateau_sgd(h, n):
  # rtol=0.05: an update must cut the loss by 5%, so the scale drops inside
  # the unroll once the loss slows down. The loss ratios stay >= 0.1% away
  # from the 0.95 threshold, far more than the finite differences' shifts
  # (~1e-7) move them: the shifted runs take the same decisions.
  del n
  return optax.chain(
      optax.sgd(osch.warmup_cosine_decay(0.02, h[0], 2, STEPS, end_value=h[1])),
      osch.reduce_on_plateau(factor=0.5, patience=1, rtol=0.05))


def _momentum_sgd(h, n):
  del n
  return optax.inject_hyperparams(optax.sgd)(
      learning_rate=tc.OneCycleLR(h[0], total_steps=STEPS, div_factor=h[1],
                                  final_div_factor=h[2]),
      momentum=tc.OneCycleMomentum(total_steps=STEPS, base_momentum=h[3],
                                   max_momentum=h[4]))


# name -> (unroll, maker(h, n), points [(h, n)]). Each family compiles once
# (the step counts n are traced integers) and is checked at every point.
FAMILIES = {
    # h = (init, peak, end, exponent), n = (warmup_steps, decay_steps).
    "warmup_cosine_decay": (_optax_unroll, _sgd(lambda h, n: osch.warmup_cosine_decay(
        h[0], h[1], n[0], n[1], end_value=h[2], exponent=h[3])), [
            ((0.01, 0.1, 0.02, 1.0), (5, STEPS)),
            ((0.01, 0.1, 0.02, 1.0), (0, STEPS)),  # no warmup: init_value unused
            ((0.01, 0.1, 0.02, 1.0), (STEPS - 2, STEPS - 1)),  # a decay of one step
            # Past decay_steps the cosine factor is exactly 0, where
            # d(c**p)/dp = c**p log c must be 0, not NaN.
            ((0.01, 0.1, 0.02, 1.5), (5, STEPS - 5)),
            ((0.01, 0.1, 0.1, 1.0), (5, STEPS)),  # end == peak: alpha = 1
        ]),
    # h = (init, rate, end), n = (transition_steps,).
    "exponential_decay": (_optax_unroll, _sgd(lambda h, n: osch.exponential_decay(
        h[0], n[0], h[1], end_value=h[2])), [
            ((0.1, 0.8, 1e-6), (4,)),  # end_value never reached
            # end_value clips from step 11 on (0.1 * 0.7**(t/3) < 0.03 for
            # t > 10.13, far from an integer step): clipped steps contribute
            # nothing to d/d rate, everything to d/d end_value.
            ((0.1, 0.7, 0.03), (3,)),
        ]),
    "exponential_decay-staircase": (_optax_unroll, _sgd(lambda h, n: osch.exponential_decay(
        h[0], n[0], h[1], staircase=True)), [((0.1, 0.7), (3,)), ((0.1, 0.9), (1,))]),
    # h = (init, alpha, exponent), n = (decay_steps,): the tail holds alpha * init.
    "cosine_decay": (_optax_unroll, _sgd(lambda h, n: osch.cosine_decay(
        h[0], n[0], alpha=h[1], exponent=h[2])), [
            ((0.1, 0.2, 1.0), (STEPS - 5,)),
            ((0.1, 0.0, 1.0), (STEPS - 5,)),
            ((0.1, 1.0, 2.0), (STEPS - 5,)),  # alpha = 1: a constant
        ]),
    # h = (peak, init, end), n = (warmup, stable, decay).
    "wsd": (_optax_unroll, _sgd(lambda h, n: osch.wsd(
        h[0], n[0], n[1], n[2], init_value=h[1], end_value=h[2], warmup_shape="1-sqrt")), [
            ((0.1, 0.01, 0.01), (4, 8, 8)),
            ((0.1, 0.01, 0.01), (4, 0, 12)),  # no stable phase
            ((0.1, 0.01, 0.01), (4, 4, 10)),  # the last 2 updates use end_value
        ]),
    # h = (peak, end, decay_ratio) of the exponential cooldown.
    "wsd-exponential": (_optax_unroll, _sgd(lambda h, n: osch.wsd(
        h[0], n[0], n[1], n[2], end_value=h[1], decay_shape="exponential",
        decay_ratio=h[2])), [((0.1, 0.01, 0.1), (4, 6, 10)), ((0.1, 0.01, 0.9), (4, 6, 10))]),
    # Three pieces, two of one kind (stacked: each traced value is a row of
    # the stack) after one of another; h = (peak, alpha, second peak),
    # n = (first boundary,), traced boundaries.
    "join": (_optax_unroll, _sgd(lambda h, n: osch.join(
        [osch.linear(0.0, h[0], n[0]), osch.cosine_decay(h[0], 6, alpha=h[1]),
         osch.cosine_decay(h[2], 8)], jnp.stack([n[0], n[0] + 6]))), [
            ((0.1, 0.3, 0.05), (5,)),
            ((0.1, 0.3, 0.05), (1,)),
        ]),
    # pct_start * total_steps == 1: a first phase of length 0 (PyTorch divides
    # by 0); h = (max_lr, div_factor).
    "torch.OneCycleLR-empty-phase": (_optax_unroll, _sgd(lambda h, n: tc.OneCycleLR(
        h[0], total_steps=STEPS, pct_start=1 / STEPS, three_phase=True,
        anneal_strategy="linear", div_factor=h[1])), [((0.1, 25.0), ())]),
    # OneCycle lr and momentum through inject_hyperparams; h = (max_lr,
    # div_factor, final_div_factor, base_momentum, max_momentum).
    "torch.OneCycleLR+OneCycleMomentum": (_optax_unroll, _momentum_sgd, [
        ((0.05, 25.0, 1e4, 0.85, 0.95), ()),
        ((0.1, 5.0, 10.0, 0.5, 0.9), ()),
    ]),
    # schedule * plateau scale: the cuts are decisions (no derivative); peak and
    # end are differentiated through the scaled updates. h = (peak, end).
    "plateau": (_optax_unroll, _plateau_sgd, [((0.1, 0.01), ())]),
    # A hand-written SGD; arithmetic: h = (scale, init, rate, cap) of a growing
    # exponential capped by a minimum (from t = 6.84 on, between two steps),
    # times a scale.
    "hand-sgd-arithmetic": (_hand_sgd_unroll, lambda h, n: h[0] * osch.minimum(
        osch.exponential_decay(h[1], 2, h[2]), h[3]), [((1.0, 0.02, 1.5, 0.08), ())]),
}


def _grad_and_central_differences(loss, h, n):
  """jax.grad of ``loss`` in ``h`` and the central difference of each
  component, all in one compiled function; with the final optimizer states at
  ``h`` and at the shifted points."""
  (_, state), grad = jax.value_and_grad(lambda h: loss(h, n), has_aux=True)(h)
  eps = 1e-6 * jnp.maximum(jnp.abs(h), 0.1)
  shifts = jnp.diag(eps)
  values, shifted = jax.vmap(lambda d: loss(h + d, n))(jnp.concatenate([shifts, -shifts]))
  k = h.shape[0]
  return Point(h, n, grad, (values[:k] - values[k:]) / (2 * eps), state, shifted)


class Point(NamedTuple):
  h: jax.Array  # the float hyperparameters
  n: jax.Array  # the integer step counts
  grad: jax.Array  # jax.grad of the validation loss in h
  fd: jax.Array  # its central differences
  state: Any  # the optimizer state after the unroll
  shifted: Any  # the same at h +- eps in each component (stacked)


@functools.cache
def family_points(name) -> list[Point]:
  """Every point of family ``name``, computed in float64 by one compiled
  function."""
  unroll, make, points = FAMILIES[name]
  with enable_x64(True):
    train, val = _problem()
    both = jax.jit(functools.partial(_grad_and_central_differences,
                                     unroll(make, train, val)))
    return [jax.tree.map(np.asarray, both(jnp.asarray(h, jnp.float64),
                                          jnp.asarray(n, jnp.int32)))
            for h, n in points]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_hypergradient_matches_central_differences(name):
  for p in family_points(name):
    assert np.all(np.isfinite(p.grad)), p
    assert np.max(np.abs(p.fd)) > 1e-2, p  # a derivative worth checking
    # atol: components that do not matter at this point (e.g. init_value
    # without warmup) are 0 in the gradient and ~1e-11 in the difference.
    np.testing.assert_allclose(p.grad, p.fd, rtol=RTOL, atol=1e-9,
                               err_msg=f"{name} h={p.h} n={p.n}")


def test_a_hyperparameter_that_is_never_used_has_exactly_zero_gradient():
  """Without warmup, init_value never reaches an update."""
  p = family_points("warmup_cosine_decay")[1]
  assert p.n[0] == 0 and p.grad[0] == 0.0 and abs(p.fd[0]) < 1e-9


def test_the_plateau_family_cuts_inside_the_unroll():
  """Otherwise "plateau" would only test a chain whose scale stays 1; and the
  finite differences take the same decisions (cuts have no derivative)."""
  [p] = family_points("plateau")
  assert float(p.state[1].scale) == 0.25  # cuts at the 18th and the 20th update
  np.testing.assert_array_equal(p.shifted[1].scale, 0.25)


def test_the_clipped_point_crosses_end_value_inside_the_unroll():
  s = osch.exponential_decay(0.1, 3, 0.7, end_value=0.03)
  values = np.asarray(s(np.arange(STEPS)))
  assert np.all(values[:11] > 0.03) and np.all(values[11:] == np.float32(0.03))


def test_jit_and_no_jit_hypergradients_agree():
  """Three optax.sgd updates in a Python loop, differentiated op by op, and
  the same under jit."""
  def loss(peak, train, val):
    optimizer = optax.sgd(osch.warmup_cosine_decay(0.0, peak, 1, 3, end_value=0.01))
    w = jnp.zeros(4)
    state = optimizer.init(w)
    for _ in range(3):
      updates, state = optimizer.update(_mse_grad(w, train), state, w)
      w = optax.apply_updates(w, updates)
    return _mse(w, val)

  with enable_x64(True):
    train, val = _problem()
    eager = jax.grad(loss)(0.1, train, val)
    jitted = jax.jit(jax.grad(loss))(0.1, train, val)
    fd = (loss(0.1 + 1e-7, train, val) - loss(0.1 - 1e-7, train, val)) / 2e-7
  np.testing.assert_allclose(eager, jitted, rtol=1e-12)
  np.testing.assert_allclose(eager, fd, rtol=RTOL)


def test_float32_hypergradient_matches_float64():
  """What a user gets without x64: finite, and equal to the float64
  derivative to float32 accuracy (20 updates of float32 arithmetic)."""
  unroll, make, [(h, n), *_] = FAMILIES["warmup_cosine_decay"]
  ref = family_points("warmup_cosine_decay")[0].grad
  with enable_x64(True):
    train, val = _problem()
  train, val = jax.tree.map(lambda a: np.asarray(a, np.float32), (train, val))
  grad = jax.jit(jax.grad(lambda h: unroll(make, train, val)(h, n)[0]))(
      jnp.asarray(h, jnp.float32))
  assert grad.dtype == jnp.float32 and np.all(np.isfinite(grad))
  np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-4 * np.max(np.abs(ref)))


def test_gradient_with_respect_to_the_schedule_pytree():
  """Differentiating the schedule itself (allow_int=True): integer step-count
  leaves get float0 gradients; each float leaf's gradient matches a central
  difference of that leaf. The leaves are the schedule's own parameters:
  warmup_cosine_decay stores ``alpha = end_value / peak_value``."""
  with enable_x64(True):
    train, val = _problem()
    schedule = osch.warmup_cosine_decay(0.01, 0.1, 5, STEPS, end_value=0.02)
    leaves, treedef = jax.tree.flatten(schedule)
    floats = [k for k, x in enumerate(leaves) if isinstance(x, float)]
    ints = [k for k, x in enumerate(leaves) if isinstance(x, int)]
    # peak, alpha, exponent, init_value; decay_steps and warmup_steps.
    assert len(floats) == 4 and len(ints) == 2 and len(leaves) == 6

    def loss(s):
      return _optax_unroll(lambda h, n: optax.sgd(s), train, val)(None, None)[0]

    def shifted(d):  # the schedule with d added to its float leaves
      return treedef.unflatten([x + d[floats.index(k)] if k in floats else x
                                for k, x in enumerate(leaves)])

    eps = 1e-6 * np.maximum(np.abs([leaves[k] for k in floats]), 0.1)
    shifts = np.concatenate([np.diag(eps), -np.diag(eps)])

    @jax.jit
    def both(s):
      return jax.grad(loss, allow_int=True)(s), jax.vmap(lambda d: loss(shifted(d)))(shifts)

    grads, values = both(schedule)
    grads, values = jax.tree.leaves(grads), np.asarray(values)
  for k in ints:
    assert grads[k].dtype == jax.dtypes.float0 and grads[k].shape == (), (k, grads[k])
  fd = (values[:4] - values[4:]) / (2 * eps)
  got = np.array([float(grads[k]) for k in floats])
  assert np.all(got != 0.0)
  np.testing.assert_allclose(got, fd, rtol=RTOL)


def test_step_count_arguments_are_not_differentiable():
  """A float step count is refused (it decides pieces); an integer one,
  differentiated with allow_int=True, gets a float0 (zero) gradient."""
  with pytest.raises(TypeError, match=re.escape(
      "`warmup_cosine_decay(warmup_steps=...)` must be an integer number of steps, got "
      "warmup_steps=")):
    jax.grad(lambda w: osch.warmup_cosine_decay(0.0, 0.1, w, 100)(10))(5.0)

  def lr(peak, warmup_steps):
    return osch.warmup_cosine_decay(0.0, peak, warmup_steps, 100)(4)

  d_peak, d_warmup = jax.grad(lr, argnums=(0, 1), allow_int=True)(0.1, 8)
  np.testing.assert_allclose(d_peak, 0.5, rtol=1e-6)  # lr = peak * 4 / 8
  assert d_warmup.dtype == jax.dtypes.float0
  assert jax.dtypes.float0 == jax.grad(lambda b: osch.join(
      [osch.constant(1.0), osch.constant(2.0)], b)(3), allow_int=True)(
          jnp.array([2], jnp.int32)).dtype


def test_integer_decisions_stay_exact_while_differentiating():
  """A traced (differentiated) schedule still decides pieces on integers: a
  boundary at 2**24 + 1, which float32 cannot represent, switches exactly."""
  b = 2**24 + 1

  def at(step):
    return lambda a, c: osch.join([osch.constant(a), osch.constant(c)], [b])(step)

  for step, expected in [(b - 1, (1.0, 0.0)), (b, (0.0, 1.0))]:
    value, grads = jax.value_and_grad(at(step), argnums=(0, 1))(2.0, 3.0)
    assert float(value) == (2.0 if step < b else 3.0)
    np.testing.assert_array_equal([float(g) for g in grads], expected)
  # The same under jit, with a traced integer step.
  grads = jax.jit(jax.grad(lambda a, t: at(t)(a, 3.0)))(
      2.0, jnp.asarray(b - 1, jnp.int32))
  assert float(grads) == 1.0
