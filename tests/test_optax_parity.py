"""Every optax counterpart equals optax at every step 0 <= t < 2**24 (float32)."""

import jax
import numpy as np
import optax
import pytest

import optax_scheds as osch
from tests._util import both, optax_values

SEEDS = range(6)


def _steps(rng, length):
  dense = np.arange(0, 3 * length + 2)
  sparse = rng.integers(0, 2**24, size=200)
  return np.concatenate([dense, sparse])


def _check(ours, ref, steps, scale):
  actual = both(ours, steps)
  assert np.all(np.isfinite(actual))
  desired = optax_values(ref, steps, actual, rtol=2e-6, atol=2e-7 * scale)
  np.testing.assert_allclose(actual, desired, rtol=2e-6, atol=2e-7 * scale)


def _draw(rng):
  return dict(
      init=float(rng.uniform(0, 2)),
      peak=float(rng.uniform(0.1, 3)),
      end=float(rng.uniform(0, 0.1)),
      steps=int(rng.integers(1, 400)),
      begin=int(rng.integers(0, 100)),
  )


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_and_polynomial(seed):
  rng = np.random.default_rng(seed)
  d = _draw(rng)
  steps = _steps(rng, d["steps"] + d["begin"])
  _check(osch.linear(d["init"], d["end"], d["steps"], d["begin"]),
         optax.linear_schedule(d["init"], d["end"], d["steps"], d["begin"]), steps, 2)
  power = float(rng.uniform(0.3, 3))
  _check(osch.polynomial(d["init"], d["end"], power, d["steps"], d["begin"]),
         optax.polynomial_schedule(d["init"], d["end"], power, d["steps"], d["begin"]),
         steps, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_cosine_decay(seed):
  rng = np.random.default_rng(seed)
  d = _draw(rng)
  alpha, exponent = float(rng.uniform(0, 0.5)), float(rng.choice([1.0, 2.0, 0.5]))
  _check(osch.cosine_decay(d["peak"], d["steps"], alpha, exponent),
         optax.cosine_decay_schedule(d["peak"], d["steps"], alpha, exponent),
         _steps(rng, d["steps"]), d["peak"])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(seed, staircase):
  rng = np.random.default_rng(seed)
  d = _draw(rng)
  rate = float(rng.uniform(0.1, 0.99)) if seed % 3 else float(rng.uniform(1.001, 1.01))
  end = None if seed % 2 else (d["end"] if rate < 1 else 3 * d["peak"])
  steps = _steps(rng, d["steps"] + d["begin"])[: 3 * (d["steps"] + d["begin"])]
  _check(osch.exponential_decay(d["peak"], d["steps"], rate, d["begin"], staircase, end),
         optax.exponential_decay(d["peak"], d["steps"], rate, d["begin"], staircase, end),
         steps, d["peak"])


def _boundaries_and_scales(rng, n):
  bounds = np.sort(rng.choice(np.arange(0, 50 * n), size=n, replace=False))
  return {int(b): float(s) for b, s in zip(bounds, rng.uniform(0, 2, size=n))}


@pytest.mark.parametrize("seed", SEEDS)
def test_piecewise_constant(seed):
  rng = np.random.default_rng(seed)
  bs = _boundaries_and_scales(rng, int(rng.integers(1, 12)))
  _check(osch.piecewise_constant(1.5, bs), optax.piecewise_constant_schedule(1.5, bs),
         _steps(rng, max(bs) + 1), 1.5 * 2**12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_piecewise_interpolate(seed, kind):
  rng = np.random.default_rng(seed)
  bs = _boundaries_and_scales(rng, int(rng.integers(1, 8)))
  if seed == 0:
    bs = {0: 0.5, **bs}  # a boundary at 0, a zero-length first interval
  _check(osch.piecewise_interpolate(kind, 0.7, bs),
         optax.piecewise_interpolate_schedule(kind, 0.7, bs), _steps(rng, max(bs) + 1),
         0.7 * 2**8)


@pytest.mark.parametrize("seed", SEEDS)
def test_warmups(seed):
  rng = np.random.default_rng(seed)
  d = _draw(rng)
  warm = int(rng.integers(1, 100))
  steps = _steps(rng, warm + d["steps"])
  _check(osch.warmup_constant(d["init"], d["peak"], warm),
         optax.warmup_constant_schedule(d["init"], d["peak"], warm), steps, d["peak"])
  exponent = float(rng.choice([1.0, 2.0]))
  _check(osch.warmup_cosine_decay(d["init"], d["peak"], warm, warm + d["steps"], d["end"],
                                  exponent),
         optax.warmup_cosine_decay_schedule(d["init"], d["peak"], warm, warm + d["steps"],
                                            d["end"], exponent), steps, d["peak"])
  rate = float(rng.uniform(0.2, 0.95))
  _check(osch.warmup_exponential_decay(d["init"], d["peak"], warm, d["steps"], rate,
                                       d["begin"], bool(seed % 2), d["end"]),
         optax.warmup_exponential_decay_schedule(d["init"], d["peak"], warm, d["steps"], rate,
                                                 d["begin"], bool(seed % 2), d["end"]),
         steps, d["peak"])


@pytest.mark.parametrize("seed", SEEDS)
def test_warmup_combinator_equals_optax_warmup_cosine(seed):
  rng = np.random.default_rng(seed)
  d = _draw(rng)
  warm = int(rng.integers(0, 100))
  total = warm + d["steps"]
  ours = osch.warmup(osch.cosine_decay(d["peak"], total - warm, alpha=d["end"] / d["peak"]),
                     warm, init_value=d["init"])
  _check(ours, optax.warmup_cosine_decay_schedule(d["init"], d["peak"], warm, total, d["end"]),
         _steps(rng, total), d["peak"])


@pytest.mark.parametrize("seed", SEEDS)
def test_onecycles(seed):
  rng = np.random.default_rng(seed)
  total = int(rng.integers(1, 500)) if seed else 3  # tiny: zero-length phases
  pct_start = float(rng.uniform(0.05, 0.5))
  pct_final = float(rng.uniform(pct_start, 0.95))
  peak = float(rng.uniform(0.1, 2))
  steps = _steps(rng, total)
  _check(osch.linear_onecycle(total, peak, pct_start, pct_final),
         optax.linear_onecycle_schedule(total, peak, pct_start, pct_final), steps, peak)
  _check(osch.cosine_onecycle(total, peak, pct_start, 10.0, 100.0),
         optax.cosine_onecycle_schedule(total, peak, pct_start, 10.0, 100.0), steps, peak)


@pytest.mark.parametrize("seed", SEEDS)
def test_sgdr(seed):
  rng = np.random.default_rng(seed)
  kwargs = [
      dict(init_value=float(rng.uniform(0, 0.1)), peak_value=float(rng.uniform(0.5, 1)),
           warmup_steps=int(w), decay_steps=int(w + rng.integers(1, 60)),
           end_value=float(rng.uniform(0, 0.1)))
      for w in rng.integers(0, 20, size=int(rng.integers(1, 9)))
  ]
  total = sum(k["decay_steps"] for k in kwargs)
  _check(osch.sgdr(kwargs), optax.sgdr_schedule(kwargs), _steps(rng, total), 1.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_join_mixed_kinds_and_optax_pieces(seed):
  rng = np.random.default_rng(seed)
  pieces_ours, pieces_ref, bounds, at = [], [], [], 0
  for k in range(int(rng.integers(2, 10))):
    n = int(rng.integers(1, 40))
    v0, v1 = (float(x) for x in rng.uniform(0, 1, 2))
    choice = k % 3
    if choice == 0:
      pieces_ours.append(osch.linear(v0, v1, n))
      pieces_ref.append(optax.linear_schedule(v0, v1, n))
    elif choice == 1:
      pieces_ours.append(osch.cosine_decay(v0, n, v1))
      pieces_ref.append(optax.cosine_decay_schedule(v0, n, v1))
    else:  # an optax schedule used directly, as one opaque piece
      pieces_ours.append(optax.exponential_decay(v0, n, 0.9))
      pieces_ref.append(optax.exponential_decay(v0, n, 0.9))
    if k:
      bounds.append(at)
    at += n
  _check(osch.join(pieces_ours, bounds), optax.join_schedules(pieces_ref, bounds),
         _steps(rng, at), 1.0)


def test_constant_returns_float_array():
  out = osch.constant(5)(0)
  assert isinstance(out, jax.Array) and out.dtype == np.float32 and float(out) == 5.0


@pytest.mark.parametrize("rate,end", [(0.5, 2.0), (2.0, 0.5), (0.9, 0.3)])
def test_warmup_exponential_decay_ramps_to_peak_even_when_end_value_clips(rate, end):
  kw = dict(init_value=0.1, peak_value=1.0, warmup_steps=10, transition_steps=10,
            decay_rate=rate, end_value=end)
  _check(osch.warmup_exponential_decay(**kw), optax.warmup_exponential_decay_schedule(**kw),
         np.arange(60), 2.0)
