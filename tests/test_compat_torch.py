"""optax_scheds.compat.torch against the real torch.optim.lr_scheduler.

Expected values come from PyTorch schedulers stepped on a dummy SGD optimizer
(plain Python, outside JAX), or from independent float64 closed forms at steps
PyTorch cannot reach in a test.
"""

import math
import re

import chex
import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

import optax_scheds as osch
from optax_scheds.compat import torch as tc

RTOL = 2e-5
BIG = 2**31 - 1
SEEDS = range(3)
_STEPS = 1024  # as test_compat_keras: eager op caches are per shape

_jit_many = jax.jit(lambda ss, ts: [s(t) for s, t in zip(ss, ts, strict=True)])


def _torch_values(make, lr, n, key="lr"):
  """``[v(0), ..., v(n)]``: the lr (or momentum) after k scheduler steps."""
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
  sched = make(opt)
  opt.step()  # PyTorch warns if scheduler.step() precedes every optimizer.step().

  def read():
    return sched.get_last_lr()[0] if key == "lr" else opt.param_groups[0][key]

  out = [read()]
  for _ in range(n):
    sched.step()
    out.append(read())
  return np.asarray(out, dtype=np.float64)


def _padded(steps):
  """One step-array shape for all tests: eager op caches are per shape."""
  return np.concatenate([steps, np.arange(_STEPS - len(steps))])


def _assert_all_match(cases, eager=1):
  """Each ``(schedule, expected[, steps])`` gives ``expected`` at ``steps``
  (default 0, 1, ...) under jit, and eagerly for the first ``eager`` cases
  (``None``: all). One jit call evaluates all the schedules: compiling once
  costs much less than once per schedule, and eager op compilation is the
  other big cost of these tests."""
  cases = [c if len(c) == 3 else (*c, np.arange(len(c[1]))) for c in cases]
  steps = np.stack([_padded(np.asarray(c[2])) for c in cases])
  jitted = _jit_many([c[0] for c in cases], steps)
  for k, ((sched, expected, _), t, got_jit) in enumerate(
      zip(cases, steps, jitted, strict=True)):
    expected = np.asarray(expected, dtype=np.float64)
    atol = 2e-7 * np.max(np.abs(expected))
    for got in (got_jit, sched(t)) if eager is None or k < eager else (got_jit,):
      assert got.dtype == jnp.float32 and got.shape == t.shape
      np.testing.assert_allclose(np.asarray(got)[:len(expected)], expected, rtol=RTOL,
                                 atol=atol)


# Each draw returns (ours, torch factory, optimizer lr, number of steps).


def _step(rng):
  lr, size, gamma = rng.uniform(0.01, 1), int(rng.integers(1, 20)), rng.uniform(0.1, 1)
  return (tc.StepLR(lr, size, gamma), lambda o: L.StepLR(o, size, gamma), lr,
          5 * size + 7)


def _multistep(rng):
  lr, gamma = rng.uniform(0.01, 1), rng.uniform(0.1, 1)
  ms = [int(m) for m in rng.integers(0, 40, size=5)]  # may repeat, unsorted
  return (tc.MultiStepLR(lr, ms, gamma), lambda o: L.MultiStepLR(o, ms, gamma), lr, 50)


def _constant(rng):
  lr, factor, total = rng.uniform(0.01, 1), rng.uniform(0.01, 1), int(rng.integers(1, 20))
  return (tc.ConstantLR(lr, factor, total), lambda o: L.ConstantLR(o, factor, total), lr,
          2 * total + 5)


def _linear(rng):
  lr, start, end = rng.uniform(0.01, 1), rng.uniform(0.01, 1), rng.uniform(0, 1)
  total = int(rng.integers(1, 30))
  return (tc.LinearLR(lr, start, end, total), lambda o: L.LinearLR(o, start, end, total),
          lr, total + 10)


def _exponential(rng):
  lr, gamma = rng.uniform(0.01, 1), rng.uniform(0.8, 1.05)
  return (tc.ExponentialLR(lr, gamma), lambda o: L.ExponentialLR(o, gamma), lr, 100)


def _polynomial(rng):
  lr, total, power = rng.uniform(0.01, 1), int(rng.integers(1, 30)), rng.uniform(0, 3)
  return (tc.PolynomialLR(lr, total, power), lambda o: L.PolynomialLR(o, total, power),
          lr, total + 10)


def _cosine(rng):
  lr, t_max = rng.uniform(0.01, 1), int(rng.integers(1, 30))
  eta_min = rng.uniform(0, 0.5 * lr) if rng.uniform() < 0.7 else 0.0
  return (tc.CosineAnnealingLR(lr, t_max, eta_min),
          lambda o: L.CosineAnnealingLR(o, t_max, eta_min), lr, 5 * t_max + 3)


def _restarts(rng):
  lr, t_0, t_mult = rng.uniform(0.01, 1), int(rng.integers(1, 10)), int(rng.integers(1, 4))
  eta_min = rng.uniform(0, 0.5 * lr)
  n = min(300, t_0 * (1 + t_mult + t_mult**2 + t_mult**3) + 3)
  return (tc.CosineAnnealingWarmRestarts(lr, t_0, t_mult, eta_min),
          lambda o: L.CosineAnnealingWarmRestarts(o, t_0, t_mult, eta_min), lr, n)


def _f(e):
  """The integer step as float32: strict dtype promotion refuses ``0.9 ** e``."""
  return e.astype(jnp.float32)


_LAMBDAS = [  # (jnp version for us, Python version for PyTorch)
    (lambda e: 0.95 ** _f(e), lambda e: 0.95**e),
    (lambda e: jnp.where(e < 7, (e + 1) / 7, 0.9 ** _f(e - 7)),
     lambda e: (e + 1) / 7 if e < 7 else 0.9 ** (e - 7)),
    (lambda e: 0.5 ** _f(e // 10), lambda e: 0.5 ** (e // 10)),
    (lambda e: jax.lax.rsqrt(_f(e + 1)), lambda e: 1.0 / math.sqrt(e + 1)),
]


def _lambda(rng):
  lr = rng.uniform(0.01, 1)
  ours, theirs = _LAMBDAS[int(rng.integers(len(_LAMBDAS)))]
  return tc.LambdaLR(lr, ours), lambda o: L.LambdaLR(o, theirs), lr, 60


_FACTORS = [  # (jnp version for us, Python version for PyTorch): factors near 1
    (lambda e: jnp.where(e % 3 == 0, 0.9, 1.01), lambda e: 0.9 if e % 3 == 0 else 1.01),
    (lambda e: 0.999 ** _f(e), lambda e: 0.999**e),
    (lambda e: jnp.where(e < 20, 1.05, 0.97), lambda e: 1.05 if e < 20 else 0.97),
]


def _multiplicative(rng):
  lr, total = rng.uniform(0.01, 1), int(rng.integers(1, 80))
  ours, theirs = _FACTORS[int(rng.integers(len(_FACTORS)))]
  # Past total_steps - 1 ours holds, where PyTorch keeps multiplying.
  return (tc.MultiplicativeLR(lr, ours, total), lambda o: L.MultiplicativeLR(o, theirs),
          lr, total - 1)


def _cyclic_args(rng):
  base = rng.uniform(0.001, 0.1)
  top = base + rng.uniform(0.01, 1)
  up = int(rng.integers(1, 10))
  down = [None, 0, int(rng.integers(1, 10))][int(rng.integers(3))]
  mode = ["triangular", "triangular2", "exp_range"][int(rng.integers(3))]
  kw = dict(step_size_up=up, step_size_down=down, mode=mode, gamma=rng.uniform(0.9, 1))
  total = up + (up if down is None else down)
  return base, top, kw, 4 * total + 3


def _cyclic(rng):
  base, top, kw, n = _cyclic_args(rng)
  return tc.CyclicLR(base, top, **kw), lambda o: L.CyclicLR(o, base, top, **kw), 1.0, n


def _cyclic_scale_fn(rng):
  base, top, kw, n = _cyclic_args(rng)
  if rng.uniform() < 0.5:
    # Under strict dtype promotion the integer cycle / step must be cast.
    ours, theirs, mode = (lambda c: 1.0 / _f(c)), (lambda c: 1.0 / c), "cycle"
  else:
    ours = lambda t: 0.5 * (1 + jnp.cos(_f(t) * 0.1))  # noqa: E731
    theirs = lambda t: 0.5 * (1 + math.cos(t * 0.1))  # noqa: E731
    mode = "iterations"
  kw.update(scale_fn=None, scale_mode=mode, mode="triangular")
  return (tc.CyclicLR(base, top, **{**kw, "scale_fn": ours}),
          lambda o: L.CyclicLR(o, base, top, **{**kw, "scale_fn": theirs}), 1.0, n)


def _onecycle_args(rng):
  three = bool(rng.integers(2))
  kw = dict(pct_start=float(rng.uniform(0.02, 0.5 if three else 0.95)),
            anneal_strategy=["cos", "linear"][int(rng.integers(2))],
            div_factor=float(rng.uniform(2, 50)),
            final_div_factor=float(rng.uniform(10, 1e4)), three_phase=three)
  if rng.uniform() < 0.5:
    kw["total_steps"] = total = int(rng.integers(1, 150))
  else:
    kw["epochs"], kw["steps_per_epoch"] = int(rng.integers(1, 10)), int(rng.integers(1, 20))
    total = kw["epochs"] * kw["steps_per_epoch"]
  return kw, total


def _onecycle(rng):
  kw, total = _onecycle_args(rng)
  top = rng.uniform(0.01, 1)
  return tc.OneCycleLR(top, **kw), lambda o: L.OneCycleLR(o, top, **kw), 1.0, total


CASES = {
    "StepLR": _step,
    "MultiStepLR": _multistep,
    "ConstantLR": _constant,
    "LinearLR": _linear,
    "ExponentialLR": _exponential,
    "PolynomialLR": _polynomial,
    "CosineAnnealingLR": _cosine,
    "CosineAnnealingWarmRestarts": _restarts,
    "LambdaLR": _lambda,
    "MultiplicativeLR": _multiplicative,
    "CyclicLR": _cyclic,
    "CyclicLR(scale_fn)": _cyclic_scale_fn,
    "OneCycleLR": _onecycle,
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
  cases = []
  for seed in SEEDS:
    ours, make, lr, n = CASES[name](np.random.default_rng([seed, len(name)]))
    cases.append((ours, _torch_values(make, lr, n)))
  _assert_all_match(cases)


def test_cyclic_momentum_matches_torch():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng([seed, 101])
    _, _, kw, n = _cyclic_args(rng)
    lo, hi = rng.uniform(0.5, 0.8), rng.uniform(0.8, 0.99)
    expected = _torch_values(lambda o, kw=kw, lo=lo, hi=hi: L.CyclicLR(
        o, 0.01, 0.1, base_momentum=lo, max_momentum=hi, **kw), 1.0, n, "momentum")
    cases.append((tc.CyclicMomentum(lo, hi, **kw), expected))
  _assert_all_match(cases)


def test_onecycle_momentum_matches_torch():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng([seed, 102])
    kw, total = _onecycle_args(rng)
    lo, hi = rng.uniform(0.5, 0.85), rng.uniform(0.85, 0.99)
    del kw["div_factor"], kw["final_div_factor"]
    expected = _torch_values(lambda o, kw=kw, lo=lo, hi=hi: L.OneCycleLR(
        o, 1.0, base_momentum=lo, max_momentum=hi, **kw), 1.0, total, "momentum")
    cases.append((tc.OneCycleMomentum(base_momentum=lo, max_momentum=hi, **kw), expected))
  _assert_all_match(cases)


def test_onecycle_small_totals_and_hold():
  cases = []
  for total in (1, 3, 10):
    for anneal, three_phase in [("cos", False), ("linear", False), ("cos", True),
                                ("linear", True)]:
      kw = dict(total_steps=total, pct_start=0.45 if three_phase else 0.3,
                anneal_strategy=anneal, three_phase=three_phase)
      expected = _torch_values(lambda o, kw=kw: L.OneCycleLR(o, 1.0, **kw), 1.0, total)
      # PyTorch raises past total_steps; we hold the value at total_steps - 1.
      low = 1.0 / 25.0 / 1e4
      steps = np.asarray([*range(total + 1), total + 1, 10**7, BIG])
      cases.append((tc.OneCycleLR(1.0, **kw), [*expected, low, low, low], steps))
  _assert_all_match(cases)


def test_onecycle_zero_length_phase():
  # PyTorch divides by zero when pct_start * total_steps == 1; the phase's end
  # value (max_lr) is used, and the rest matches a nearby pct_start.
  s = tc.OneCycleLR(1.0, total_steps=10, pct_start=0.1)
  near = _torch_values(lambda o: L.OneCycleLR(o, 1.0, total_steps=10, pct_start=0.1001),
                       1.0, 10)
  got = np.asarray(s(np.arange(_STEPS)))
  assert got[0] == pytest.approx(1.0)
  np.testing.assert_allclose(got[1:11], near[1:], rtol=2e-3)


# SequentialLR / ChainedScheduler: children drawn from the cases above, one lr.


_MULTIPLICATIVE = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                   "PolynomialLR"]


def _child(rng, lr, length, kind=None):
  """(ours, torch factory) of a random scheduler (a random multiplicative one
  if ``kind`` is None) on base lr ``lr`` that runs for ``length`` steps (its
  own steps 0 .. length - 1)."""
  if kind is None:
    kind = _MULTIPLICATIVE[int(rng.integers(len(_MULTIPLICATIVE)))]
  g = float(rng.uniform(0.3, 0.95))
  k = int(rng.integers(1, 8))
  if kind == "StepLR":
    return tc.StepLR(lr, k, g), lambda o: L.StepLR(o, k, g)
  if kind == "MultiStepLR":
    ms = sorted(int(m) for m in rng.integers(0, 20, size=3))
    return tc.MultiStepLR(lr, ms, g), lambda o: L.MultiStepLR(o, ms, g)
  if kind == "ConstantLR":
    return tc.ConstantLR(lr, g, k), lambda o: L.ConstantLR(o, g, k)
  if kind == "LinearLR":
    e = rng.uniform(0, 1)
    return tc.LinearLR(lr, g, e, k), lambda o: L.LinearLR(o, g, e, k)
  if kind == "ExponentialLR":
    return tc.ExponentialLR(lr, g), lambda o: L.ExponentialLR(o, g)
  if kind == "PolynomialLR":
    return tc.PolynomialLR(lr, k + 5, g), lambda o: L.PolynomialLR(o, k + 5, g)
  if kind == "CosineAnnealingLR":
    return tc.CosineAnnealingLR(lr, k, 0.1 * lr), \
        lambda o: L.CosineAnnealingLR(o, k, 0.1 * lr)
  if kind == "CosineAnnealingWarmRestarts":
    return tc.CosineAnnealingWarmRestarts(lr, k, 2), \
        lambda o: L.CosineAnnealingWarmRestarts(o, k, 2)
  if kind == "LambdaLR":
    return tc.LambdaLR(lr, lambda e: g ** _f(e)), lambda o: L.LambdaLR(o, lambda e: g**e)
  if kind == "CyclicLR":
    return tc.CyclicLR(lr, 3 * lr, k, mode="triangular2"), \
        lambda o: L.CyclicLR(o, lr, 3 * lr, k, mode="triangular2")
  top = lr * 25.0  # OneCycleLR's base lr is max_lr / div_factor
  total = max(length - 1, 1)
  return tc.OneCycleLR(top, total), lambda o: L.OneCycleLR(o, top, total)


# Every kind of scheduler, first and later in a SequentialLR.
_SEQUENCES = [
    ["OneCycleLR", "CosineAnnealingLR", "StepLR"],
    ["ConstantLR", "CyclicLR", "OneCycleLR"],
    ["LinearLR", "CosineAnnealingWarmRestarts", "LambdaLR"],
    ["CyclicLR", "MultiStepLR", "PolynomialLR", "ExponentialLR"],
    ["CosineAnnealingWarmRestarts", "LinearLR"],
]


def test_sequential_matches_torch():
  cases = []
  for seed, kinds in enumerate(_SEQUENCES):
    rng = np.random.default_rng([seed, 103])
    n = 60
    milestones = sorted(int(m) for m in rng.choice(np.arange(1, 45), len(kinds) - 1,
                                                    replace=False))
    lr = 1.0 / 25.0 * 1.5
    lengths = np.diff([0, *milestones, n + 1])
    pairs = [_child(rng, lr, int(d), kind) for d, kind in zip(lengths, kinds, strict=True)]

    def make(o, pairs=pairs, milestones=milestones):
      return L.SequentialLR(o, [p[1](o) for p in pairs], milestones)

    cases.append((tc.SequentialLR([p[0] for p in pairs], milestones),
                  _torch_values(make, lr, n)))
  _assert_all_match(cases)


def test_chained_matches_torch():
  cases = []
  for seed in range(6):
    rng = np.random.default_rng([seed, 104])
    lr = rng.uniform(0.01, 1)
    pairs = [_child(rng, lr, 80) for _ in range(int(rng.integers(1, 4)))]
    if seed % 2:  # a ChainedScheduler inside a ChainedScheduler
      pairs[0] = (tc.ChainedScheduler([pairs[0][0]]),
                  lambda o, f=pairs[0][1]: L.ChainedScheduler([f(o)]))

    def make(o, pairs=pairs):
      return L.ChainedScheduler([p[1](o) for p in pairs])

    cases.append((tc.ChainedScheduler([p[0] for p in pairs]), _torch_values(make, lr, 80)))
  _assert_all_match(cases)


def test_multiplicative_in_chained_and_sequential_matches_torch():
  ours_f, theirs_f = _FACTORS[0]
  chained = tc.ChainedScheduler([tc.StepLR(0.5, 7, 0.5), tc.MultiplicativeLR(0.5, ours_f, 60)])
  seq = tc.SequentialLR([tc.MultiplicativeLR(0.5, ours_f, 60), tc.ConstantLR(0.5, 0.25, 5)],
                        [30])
  _assert_all_match([
      (chained, _torch_values(lambda o: L.ChainedScheduler(
          [L.StepLR(o, 7, 0.5), L.MultiplicativeLR(o, theirs_f)]), 0.5, 59)),
      (seq, _torch_values(lambda o: L.SequentialLR(
          o, [L.MultiplicativeLR(o, theirs_f), L.ConstantLR(o, 0.25, 5)], [30]), 0.5, 60)),
  ], eager=None)


def test_cosine_annealing_with_a_period_past_the_largest_step():
  t_max = 2**30 + 5
  s = tc.CosineAnnealingLR(1.0, t_max)
  steps = np.array([0, t_max, BIG], np.int64)
  expected = [0.5 * (1 + math.cos(math.pi * t / t_max)) if t <= t_max
              else 0.5 * (1 - math.cos(math.pi * (t - t_max) / t_max)) for t in steps]
  np.testing.assert_allclose(s(steps), expected, atol=1e-6)


def test_multiplicative_holds_past_total_steps():
  s = tc.MultiplicativeLR(1.0, lambda k: jnp.where(k > 0, 0.5, 7.0), total_steps=4)
  np.testing.assert_array_equal(s(jnp.array([0, 1, 3, 4, 100, BIG])),
                                [1.0, 0.5, 0.125, 0.125, 0.125, 0.125])


def test_sequential_milestone_zero_and_single():
  s = tc.SequentialLR([tc.ConstantLR(1.0, 0.5, 3), tc.ExponentialLR(1.0, 0.5)], [0])
  expected = _torch_values(lambda o: L.SequentialLR(
      o, [L.ConstantLR(o, 0.5, 3), L.ExponentialLR(o, 0.5)], [0]), 1.0, 6)
  one = tc.SequentialLR([tc.StepLR(1.0, 2, 0.5)], [])
  _assert_all_match([(s, expected), (one, 0.5 ** (np.arange(7) // 2))])


# Large steps: independent float64 closed forms with exact integer decisions.

_LARGE = np.asarray([0, 1, 10**7, 10**7 + 1, 2**24 + 1, 2**30 - 2, 2**30 - 1, 2**30,
                     BIG - 3, BIG - 2, BIG - 1, BIG])


def _restarts_closed_form(t, lr, t_0, t_mult, eta_min):
  if t_mult == 1:
    start, length = t - t % t_0, t_0
  else:
    start, length = 0, t_0
    while t >= start + length:
      start, length = start + length, length * t_mult
  return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * (t - start) / length)) / 2


def _cyclic_closed_form(t, base, top, up, down, mode, gamma):
  total = up + down
  k, r = divmod(t, total)
  w = r / up if r <= up else (total - r) / down
  g = {"triangular": 1.0, "triangular2": math.ldexp(1.0, -k), "exp_range": gamma**t}[mode]
  return base + (top - base) * w * g


_LARGE_CASES = [
    (lambda: tc.StepLR(1.0, 2**30 - 1, 0.5), lambda t: 0.5 ** (t // (2**30 - 1))),
    (lambda: tc.MultiStepLR(1.0, [10**7, BIG - 1, BIG - 1], 0.5),
     lambda t: 0.5 ** ((t >= 10**7) + 2 * (t >= BIG - 1))),
    (lambda: tc.CosineAnnealingLR(1.0, 12345, 0.01),
     lambda t: 0.01 + 0.99 * (1 + math.cos(math.pi * (t % 24690) / 12345)) / 2),
    (lambda: tc.CosineAnnealingLR(1.0, 2**30 - 1),
     lambda t: (1 + math.cos(math.pi * (t % (2**31 - 2)) / (2**30 - 1))) / 2),
    (lambda: tc.CosineAnnealingWarmRestarts(1.0, 1000, 1, 0.1),
     lambda t: _restarts_closed_form(t, 1.0, 1000, 1, 0.1)),
    (lambda: tc.CosineAnnealingWarmRestarts(1.0, 3, 2, 0.0),
     lambda t: _restarts_closed_form(t, 1.0, 3, 2, 0.0)),
    (lambda: tc.CyclicLR(0.1, 1.0, 1000, 2345),
     lambda t: _cyclic_closed_form(t, 0.1, 1.0, 1000, 2345, "triangular", 1.0)),
    (lambda: tc.CyclicLR(0.1, 1.0, 3, 4, mode="triangular2"),
     lambda t: _cyclic_closed_form(t, 0.1, 1.0, 3, 4, "triangular2", 1.0)),
    (lambda: tc.CyclicLR(0.1, 1.0, 3, 4, mode="exp_range", gamma=0.99),
     lambda t: _cyclic_closed_form(t, 0.1, 1.0, 3, 4, "exp_range", 0.99)),
    (lambda: tc.SequentialLR([tc.StepLR(1.0, 5), tc.CosineAnnealingLR(1.0, 1000)],
                             [2**30]),
     lambda t: 0.1 ** (t // 5) if t < 2**30
     else (1 + math.cos(math.pi * ((t - 2**30) % 2000) / 1000)) / 2),
]


def test_large_steps():
  # Eagerly too for the first cases: stairs, milestones, cosine periods.
  _assert_all_match([(make(), [closed_form(int(t)) for t in _LARGE], _LARGE)
                     for make, closed_form in _LARGE_CASES], eager=3)


def test_cyclic_triangular2_where_torch_overflows():
  # PyTorch raises OverflowError from cycle 1025 (2.0 ** 1024, step 2048); we
  # hold base_lr.
  s = tc.CyclicLR(0.1, 1.0, 1, 1, mode="triangular2")
  with pytest.raises(OverflowError):
    _torch_values(lambda o: L.CyclicLR(o, 0.1, 1.0, 1, 1, mode="triangular2"), 1.0, 2048)
  steps = np.asarray([2 * 1024, 2 * 1025 + 1, 2 * 1100 + 1, BIG])
  _assert_all_match([(s, [0.1] * len(steps), steps)], eager=None)


@hypothesis.settings(max_examples=8, deadline=None)
@hypothesis.given(up=st.integers(1, 10**6), down=st.integers(0, 10**6),
                  t=st.integers(0, BIG))
def test_cyclic_any_step(up, down, t):
  s = tc.CyclicLR(0.1, 1.0, up, down)
  expected = _cyclic_closed_form(t, 0.1, 1.0, up, down, "triangular", 1.0)
  np.testing.assert_allclose(float(s(t)), expected, rtol=RTOL, atol=2e-7)


# jit, vmap and pytree behaviour.


def test_hyperparameters_are_leaves_no_retrace():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def f(s, t):
    return s(t)

  for gamma in (0.1, 0.5, 0.9):
    np.testing.assert_allclose(float(f(tc.StepLR(0.1, 10, gamma), 25)), 0.1 * gamma**2,
                               rtol=RTOL)
  chex.clear_trace_counter()


_VMAP_CASES = [
    (lambda g: tc.StepLR(0.1, 10, gamma=g), [0.1, 0.5, 0.9]),
    (lambda m: tc.CosineAnnealingLR(1.0, 10, eta_min=m), [0.0, 0.1, 0.3]),
    (lambda top: tc.CyclicLR(0.1, top, 3, 5, mode="triangular2"), [0.5, 1.0]),
    (lambda top: tc.OneCycleLR(top, 50, three_phase=True), [0.5, 1.0]),
    (lambda lr: tc.SequentialLR([tc.LinearLR(lr, 0.1, total_iters=5),
                                 tc.CosineAnnealingLR(lr, 20)], [5]), [0.1, 1.0]),
]


def test_vmap_over_hyperparameter():
  # Schedules built under vmap (traced hyperparameters, value checks skipped)
  # give the values of the schedules built one value at a time.
  steps = np.arange(60)

  @jax.jit
  def swept(values):
    return [jax.vmap(lambda v, b=build: b(v)(steps))(v)
            for (build, _), v in zip(_VMAP_CASES, values, strict=True)]

  got = swept([jnp.asarray(values, jnp.float32) for _, values in _VMAP_CASES])
  singles = _jit_many([build(v) for build, values in _VMAP_CASES for v in values],
                      [steps] * sum(len(values) for _, values in _VMAP_CASES))
  expected = iter(singles)
  for (build, values), g in zip(_VMAP_CASES, got, strict=True):
    want = np.stack([np.asarray(next(expected)) for _ in values])
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6, atol=1e-7, err_msg=build)


def test_stairs_are_exact_for_float_steps():
  s = tc.StepLR(1.0, 3, 0.5)
  np.testing.assert_allclose(np.asarray(s(np.asarray([2.9, 3.0, 5.99]))),
                             [1.0, 0.5, 0.5])


def test_gamma_zero_as_torch():
  _assert_all_match(eager=None, cases=[
      (ours, _torch_values(make, 1.0, 8)) for ours, make in [
          (tc.StepLR(1.0, 3, 0.0), lambda o: L.StepLR(o, 3, 0.0)),
          (tc.ExponentialLR(1.0, 0.0), lambda o: L.ExponentialLR(o, 0.0)),
          (tc.MultiStepLR(1.0, [2], 0.0), lambda o: L.MultiStepLR(o, [2], 0.0))]])


def test_is_a_schedule_for_optax():
  import optax

  s = tc.CosineAnnealingLR(0.1, 10)
  assert isinstance(s, osch.Schedule)
  opt = optax.sgd(s)

  @jax.jit
  def two_updates(params):
    state = opt.init(params)
    first, state = opt.update(jnp.ones(()), state, params)
    second, _ = opt.update(jnp.ones(()), state, params)
    return first, second

  first, second = two_updates(jnp.zeros(()))  # optax's count 0, then 1
  np.testing.assert_allclose([float(first), float(second)],
                             [-0.1, -(0.1 * (1 + math.cos(math.pi / 10)) / 2)], rtol=RTOL)


# Errors.

_ERRORS = [
    (lambda: tc.StepLR(0.1, 0), ValueError,
     "`StepLR(step_size=...)` must be positive, got step_size=0."),
    (lambda: tc.StepLR(-0.1, 3), ValueError, "`StepLR(lr=...)` must be non-negative, "
     "got lr=-0.1."),
    (lambda: tc.StepLR(0.1, 3, gamma=-0.5), ValueError,
     "`StepLR(gamma=...)` must be non-negative, got gamma=-0.5."),
    (lambda: tc.StepLR(0.1, 2.5), ValueError,
     "`StepLR(step_size=...)` must be a whole number of steps, got step_size=2.5."),
    (lambda: tc.MultiStepLR(0.1, [3, -1]), ValueError,
     "`MultiStepLR(milestones=...)` must be non-negative, got milestones=-1."),
    (lambda: tc.MultiStepLR(0.1, 5), TypeError,
     "`MultiStepLR(milestones=...)` must be a sequence of integer steps, got milestones=5."),
    (lambda: tc.ConstantLR(0.1, factor=1.5), ValueError,
     "`ConstantLR(factor=...)` must be in [0, 1], got factor=1.5."),
    (lambda: tc.ConstantLR(0.1, total_iters=-1), ValueError,
     "`ConstantLR(total_iters=...)` must be non-negative, got total_iters=-1."),
    (lambda: tc.LinearLR(0.1, start_factor=0.0), ValueError,
     "`LinearLR(start_factor=...)` must be in (0, 1], got start_factor=0.0."),
    (lambda: tc.LinearLR(0.1, end_factor=2.0), ValueError,
     "`LinearLR(end_factor=...)` must be in [0, 1], got end_factor=2.0."),
    (lambda: tc.PolynomialLR(0.1, power=-1.0), ValueError,
     "`PolynomialLR(power=...)` must be non-negative, got power=-1.0."),
    (lambda: tc.CosineAnnealingLR(0.1, 0), ValueError,
     "`CosineAnnealingLR(T_max=...)` must be positive, got T_max=0."),
    (lambda: tc.CosineAnnealingWarmRestarts(0.1, 10, T_mult=1.5), ValueError,
     "`CosineAnnealingWarmRestarts(T_mult=...)` must be an integer >= 1, got T_mult=1.5."),
    (lambda: tc.CosineAnnealingWarmRestarts(0.1, 10, T_mult=0), ValueError,
     "`CosineAnnealingWarmRestarts(T_mult=...)` must be an integer >= 1, got T_mult=0."),
    (lambda: tc.LambdaLR(0.1, 0.5), TypeError,
     "`LambdaLR(lr_lambda=...)` must be a callable step -> factor, got lr_lambda=0.5."),
    (lambda: tc.CyclicLR(0.1, 1.0, mode="tri"), ValueError,
     "`CyclicLR(mode=...)` must be one of 'triangular', 'triangular2', 'exp_range', "
     "got mode='tri'."),
    (lambda: tc.CyclicLR(0.1, 1.0, step_size_up=0), ValueError,
     "`CyclicLR(step_size_up=...)` must be positive, got step_size_up=0."),
    (lambda: tc.CyclicLR(0.1, 1.0, mode="exp_range", gamma=1.5), ValueError,
     "`CyclicLR(gamma=...)` must be in (0, 1] with mode='exp_range', got gamma=1.5."),
    (lambda: tc.CyclicLR(0.1, 1.0, scale_mode="epoch"), ValueError,
     "`CyclicLR(scale_mode=...)` must be one of 'cycle', 'iterations', "
     "got scale_mode='epoch'."),
    (lambda: tc.OneCycleLR(1.0), ValueError,
     "`OneCycleLR(total_steps=...)` must be given, or epochs and steps_per_epoch, "
     "got total_steps=None."),
    (lambda: tc.OneCycleLR(1.0, total_steps=100, epochs=3, steps_per_epoch=10), ValueError,
     "`OneCycleLR(total_steps=...)` must equal epochs * steps_per_epoch when both are "
     "given (or give only one), got total_steps=100, epochs=3, steps_per_epoch=10."),
    (lambda: tc.OneCycleLR(1.0, 100, pct_start=1.5), ValueError,
     "`OneCycleLR(pct_start=...)` must be in [0, 1], got pct_start=1.5."),
    (lambda: tc.OneCycleLR(1.0, 100, pct_start=0.6, three_phase=True), ValueError,
     "`OneCycleLR(pct_start=...)` must be in [0, 0.5] with three_phase=True, "
     "got pct_start=0.6."),
    (lambda: tc.OneCycleLR(1.0, 100, anneal_strategy="cosine"), ValueError,
     "`OneCycleLR(anneal_strategy=...)` must be one of 'cos', 'linear', "
     "got anneal_strategy='cosine'."),
    (lambda: tc.OneCycleLR(1.0, 100, div_factor=0.0), ValueError,
     "`OneCycleLR(div_factor=...)` must be positive, got div_factor=0.0."),
    (lambda: tc.OneCycleLR(1.0, 0), ValueError,
     "`OneCycleLR(total_steps=...)` must be positive, got total_steps=0."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.StepLR(0.2, 3)], [5]), ValueError,
     "`SequentialLR(schedulers=...)` must share one base lr (in PyTorch they share one "
     "optimizer), got schedulers=[StepLR(lr=0.1), StepLR(lr=0.2)]."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.OneCycleLR(1.0, 10)], [5]), ValueError,
     "got schedulers=[StepLR(lr=0.1), OneCycleLR(lr=0.04)]. CyclicLR's base lr is "
     "base_lr and OneCycleLR's is max_lr / div_factor."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.StepLR(0.1, 3)], [5, 6]), ValueError,
     "`SequentialLR(milestones=...)` must have one entry fewer than schedulers, got 2 "
     "schedulers and milestones=[5, 6]."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3)] * 3, [5, 5]), ValueError,
     "`SequentialLR(milestones=...)` must be strictly increasing, got milestones=[5, 5]."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), osch.constant(0.1)], [5]), TypeError,
     "`SequentialLR(schedulers=...)` must hold schedulers from optax_scheds.compat.torch, "
     "got schedulers[1]=constant(0.1)."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.SequentialLR([tc.StepLR(0.1, 3)], [])],
                             [5]), TypeError,
     "`SequentialLR(schedulers=...)` must not hold SequentialLR (PyTorch cannot restart "
     "it at a milestone), got schedulers[1]=SequentialLR."),
    (lambda: tc.ChainedScheduler([tc.StepLR(0.1, 3), tc.CosineAnnealingLR(0.1, 10)]),
     ValueError,
     "`ChainedScheduler(schedulers=...)` must hold only multiplicative schedulers "
     "(StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, "
     "MultiplicativeLR, ChainedScheduler), got schedulers[1]=CosineAnnealingLR."),
    (lambda: tc.ChainedScheduler([tc.StepLR(0.1, 3), tc.ExponentialLR(0.2, 0.9)]),
     ValueError, "`ChainedScheduler(schedulers=...)` must share one base lr"),
    (lambda: tc.ChainedScheduler([]), TypeError,
     "`ChainedScheduler(schedulers=...)` must be a non-empty sequence of compat "
     "schedulers, got schedulers=[]."),
]


_ERRORS += [
    (lambda: tc.MultiplicativeLR(0.1, lambda k: 0.9 if k > 3 else 1.0, 10), TypeError,
     "`MultiplicativeLR(lr_lambda=...)` must be traceable with jnp (it runs inside jit on a "
     "traced integer step)"),
    (lambda: tc.MultiplicativeLR(0.1, lambda k: jnp.where(k == 5, jnp.inf, 1.0), 10),
     ValueError, "`MultiplicativeLR(lr_lambda=...)` must give finite factors, got "
     "lr_lambda(5)=inf."),
    (lambda: tc.MultiplicativeLR(0.1, lambda k: 0.9, 0), ValueError,
     "`MultiplicativeLR(total_steps=...)` must be positive, got total_steps=0."),
    (lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.MultiplicativeLR(0.1, lambda k: 0.9,
                                                                      10)], [5]),
     ValueError, "`SequentialLR(schedulers=...)` must hold MultiplicativeLR only first, got "
     "schedulers[1]=MultiplicativeLR."),
    (lambda: tc.MultiplicativeLR(0.1, 0.9, 10), TypeError,
     "`MultiplicativeLR(lr_lambda=...)` must be a callable step -> factor, got "
     "lr_lambda=0.9."),
]


@pytest.mark.parametrize("call, error, message", _ERRORS)
def test_errors(call, error, message):
  with pytest.raises(error, match=re.escape(message)):
    call()


def test_traced_arguments_skip_value_checks():
  # Inside jit the values are unknown: no check, no error.
  out = jax.jit(lambda g: tc.LinearLR(1.0, g, total_iters=4)(2))(jnp.float32(0.5))
  np.testing.assert_allclose(float(out), 0.75, rtol=RTOL)


@pytest.mark.parametrize("make,cls,kwargs", [
    (lambda: tc.ConstantLR(0.3, factor=0.5, total_iters=0), "ConstantLR",
     dict(factor=0.5, total_iters=0)),
    (lambda: tc.LinearLR(0.3, start_factor=0.5, end_factor=0.8, total_iters=0), "LinearLR",
     dict(start_factor=0.5, end_factor=0.8, total_iters=0)),
    (lambda: tc.PolynomialLR(0.3, total_iters=0, power=2.0), "PolynomialLR",
     dict(total_iters=0, power=2.0)),
])
def test_total_iters_zero_matches_torch(make, cls, kwargs):
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
  sched = getattr(torch.optim.lr_scheduler, cls)(opt, **kwargs)
  expected = [sched.get_last_lr()[0]]
  for _ in range(6):
    opt.step()
    sched.step()
    expected.append(sched.get_last_lr()[0])
  np.testing.assert_allclose(make()(np.arange(7)), expected, rtol=2e-6)
