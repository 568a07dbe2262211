"""`optax_scheds.compat.t5x` gives t5x's ``create_learning_rate_scheduler`` values.

t5x cannot be installed here (it is not on PyPI), so the reference is a NumPy
float64 re-implementation of its formulas written below from t5x's
documented semantics (``t5x/utils.py``, snapshot cc342d4), plus values
computed by hand. t5x itself computes in float32 (its cosine phase drifts at
large steps); the float64 reference is the exact value, which the port
follows at every int32 step.
"""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_scheds as osch
from optax_scheds.compat import t5x
from tests._util import jit_eager_vmap

BIG = 2**31 - 1
RTOL = 2e-5
FN = "create_learning_rate_scheduler"
FACTORS = ("constant", "linear_warmup", "linear_decay", "rsqrt_decay",
           "rsqrt_normalized_decay", "decay_every", "cosine_decay")


def reference(steps, factors="constant * linear_warmup * rsqrt_decay", base_learning_rate=0.5,
              warmup_steps=1000, decay_factor=0.5, steps_per_decay=20000,
              steps_per_cycle=100000, step_offset=0, min_learning_rate=1e-8):
  """t5x's schedule in float64: the product of the factors, then the floor."""
  u = np.maximum(0, np.asarray(steps, np.int64) - step_offset)
  x = u.astype(np.float64)
  w = float(warmup_steps)
  out = np.ones_like(x)
  for name in (n.strip() for n in factors.split("*")):
    if name == "constant":
      out = out * base_learning_rate
    elif name == "linear_warmup":
      out = out * np.minimum(1.0, x / w)
    elif name == "linear_decay":
      out = out * base_learning_rate * np.minimum(x / w, 1.0 + decay_factor * (w - x))
    elif name == "rsqrt_decay":
      out = out / np.sqrt(np.maximum(x, w))
    elif name == "rsqrt_normalized_decay":
      out = out * np.sqrt(w) / np.sqrt(np.maximum(x, w))
    elif name == "decay_every":
      out = out * decay_factor ** (u // steps_per_decay).astype(np.float64)
    elif name == "cosine_decay":
      progress = np.maximum(0.0, (x - w) / float(steps_per_cycle))
      out = out * np.maximum(0.0, 0.5 * (1.0 + np.cos(np.pi * (progress % 1.0))))
    else:
      raise AssertionError(name)
  return np.maximum(out, min_learning_rate)


ours = jit_eager_vmap


def close(actual, desired, rtol=RTOL):
  """Equal to ``rtol``, or to float32 rounding of the largest value."""
  desired = np.asarray(desired, np.float64)
  np.testing.assert_allclose(actual, desired, rtol=rtol,
                             atol=2e-7 * float(np.max(np.abs(desired))))


def assert_matches(schedule, steps, **kw):
  desired = reference(steps, **kw)
  actual = ours(schedule, steps)
  np.testing.assert_allclose(actual, desired, rtol=RTOL,
                             atol=2e-7 * float(np.max(np.abs(desired))), err_msg=repr(kw))


def boundary_steps(kw, rng):
  """Dense steps from 0, the edges of every phase, and large steps."""
  w, spd, spc = kw["warmup_steps"], kw["steps_per_decay"], kw["steps_per_cycle"]
  off = kw["step_offset"]
  edges = [off + w, off + spd, off + 2 * spd, off + w + spc, off + w + 3 * spc]
  if kw["decay_factor"] > 0:
    edges.append(off + w + int(1 / kw["decay_factor"]))  # where linear_decay reaches 0
  near = [e + d for e in edges for d in (-1, 0, 1)]
  big = [BIG, BIG - 1, 2**24 + 1, *rng.integers(2**24, BIG, 4).tolist()]
  steps = np.arange(0, 3 * (off + w + spc) + 1, max(1, (off + w + spc) // 150))
  return np.unique(np.clip(np.concatenate([steps, near, big]), 0, BIG))


# ---------------------------------------------------------------- hand values


def test_default_by_hand():
  s = t5x.create_learning_rate_scheduler()
  # 0.5 * min(1, k / 1000) / sqrt(max(k, 1000)), floored at 1e-8.
  close(ours(s, [0, 1, 500, 1000, 4000, 250_000]),
        [1e-8, 0.5 / 1000 / math.sqrt(1000), 0.25 / math.sqrt(1000), 0.5 / math.sqrt(1000),
         0.5 / math.sqrt(4000), 0.5 / 500])
  np.testing.assert_allclose(ours(s, [1, 1000, 4000]), [1.5811e-5, 0.015811, 0.0079057],
                             rtol=1e-4)  # MODERN.md's probe of the real t5x


def test_default_is_the_native_inverse_sqrt_with_a_floor():
  native = osch.maximum(osch.inverse_sqrt(0.5 / math.sqrt(1000), 1000), 1e-8)
  steps = np.arange(0, 20_000, 7)
  close(ours(t5x.create_learning_rate_scheduler(), steps), ours(native, steps), rtol=1e-6)


def test_t5_pretraining_and_finetuning_configs_by_hand():
  # t5x/configs/runs/pretrain.gin and finetune.gin.
  s = t5x.create_learning_rate_scheduler("constant * rsqrt_decay", 1.0, 10_000)
  np.testing.assert_allclose(ours(s, [0, 9_999, 10_000, 40_000, 1_000_000]),
                             [0.01, 0.01, 0.01, 0.005, 0.001], rtol=1e-6)
  s = t5x.create_learning_rate_scheduler("constant", 0.001, 1000)
  np.testing.assert_allclose(ours(s, [0, 10**6, BIG]), [0.001] * 3, rtol=1e-7)


def test_linear_decay_of_a_finetuning_config_by_hand():
  # contrib/gpu finetune_mnli.gin: fine-tuning from the 1M-step checkpoint.
  s = t5x.create_learning_rate_scheduler("linear_decay", 0.001, warmup_steps=1_001_000,
                                         decay_factor=1.67e-5, min_learning_rate=1e-5)
  w = 1_001_000
  np.testing.assert_allclose(
      ours(s, [0, 1_000_000, w, w + 10_000, w + 59_000, w + 60_000, BIG]),
      [1e-5, 0.001 * 1_000_000 / w, 0.001, 0.001 * (1 - 0.167), 0.001 * (1 - 0.9853),
       1e-5, 1e-5], rtol=2e-5)


def test_other_factors_by_hand():
  s = t5x.create_learning_rate_scheduler("constant * decay_every", 1.0, decay_factor=0.5,
                                         steps_per_decay=10)
  np.testing.assert_allclose(ours(s, [0, 9, 10, 25, 30]), [1, 1, 0.5, 0.25, 0.125])
  s = t5x.create_learning_rate_scheduler("constant * linear_warmup * cosine_decay", 2.0,
                                         warmup_steps=10, steps_per_cycle=100)
  close(ours(s, [0, 5, 10, 60, 109, 110, 160]),
        [1e-8, 1.0, 2.0, 1.0, 1 + math.cos(math.pi * 0.99), 2.0, 1.0])
  s = t5x.create_learning_rate_scheduler("rsqrt_normalized_decay", warmup_steps=100)
  np.testing.assert_allclose(ours(s, [0, 100, 400, 10_000]), [1, 1, 0.5, 0.1], rtol=1e-6)
  s = t5x.create_learning_rate_scheduler("constant * constant", 0.1)
  np.testing.assert_allclose(ours(s, [0, BIG]), [0.01, 0.01], rtol=1e-6)


@pytest.mark.parametrize("offset", [-1, -7, -1500])
def test_negative_step_offset_starts_mid_schedule(offset):
  kw = dict(factors="constant * linear_warmup * rsqrt_decay", base_learning_rate=0.5,
            warmup_steps=1000, step_offset=offset)
  s = t5x.create_learning_rate_scheduler(**kw)
  steps = np.concatenate([np.arange(0, 3000), [2**31 - 1 + offset, 2**31 - 1]])
  np.testing.assert_allclose(np.asarray(s(steps.astype(np.int32))),
                             reference(steps, **kw), rtol=2e-5, atol=2e-7 * 0.5)


def test_step_offset_by_hand():
  s = t5x.create_learning_rate_scheduler(step_offset=500)
  base = t5x.create_learning_rate_scheduler()
  close(ours(s, [0, 499, 500, 501, 1500, 4500]), ours(base, [0, 0, 0, 1, 1000, 4000]),
        rtol=1e-6)


# ------------------------------------------------- random configs vs reference


def _random_config(rng):
  names = list(rng.choice(FACTORS, size=int(rng.integers(1, 4))))
  while names.count("linear_decay") > 1:  # refused: see test_linear_decay_twice_raises
    names.remove("linear_decay")
  w = int(rng.choice([1, int(rng.integers(1, 50)), int(rng.integers(50, 3000))]))
  if "cosine_decay" in names and rng.random() < 0.3 and not set(names) & {
      "linear_warmup", "linear_decay", "rsqrt_decay", "rsqrt_normalized_decay"}:
    w = 0
  return dict(
      factors=" * ".join(names),
      base_learning_rate=float(rng.choice([0.5, rng.uniform(1e-4, 2)])),
      warmup_steps=w,
      decay_factor=float(rng.choice([0.5, rng.uniform(0.05, 1), rng.uniform(1e-5, 1e-2)])),
      steps_per_decay=int(rng.integers(1, 500)),
      steps_per_cycle=int(rng.integers(1, 2000)),
      step_offset=int(rng.choice([0, 0, int(rng.integers(1, 300))])),
      min_learning_rate=float(rng.choice([1e-8, 0.0, rng.uniform(0, 1e-3)])),
  )


@pytest.mark.parametrize("seed", range(12))
def test_random_configs_match_the_reference(seed):
  rng = np.random.default_rng(seed)
  for _ in range(3):
    kw = _random_config(rng)
    assert_matches(t5x.create_learning_rate_scheduler(**kw), boundary_steps(kw, rng), **kw)


@pytest.mark.parametrize("factor", FACTORS)
def test_each_factor_matches_the_reference(factor):
  rng = np.random.default_rng(sum(map(ord, factor)))
  kw = dict(factors=f"constant * {factor}", base_learning_rate=0.3, warmup_steps=37,
            decay_factor=0.01 if factor == "linear_decay" else 0.7, steps_per_decay=23,
            steps_per_cycle=101, step_offset=11, min_learning_rate=1e-6)
  s = t5x.create_learning_rate_scheduler(**kw)
  assert_matches(s, boundary_steps(kw, rng), **kw)
  assert np.all(np.isfinite(ours(s, [BIG, BIG - 1])))


# ------------------------------------------- exact integers at any int32 step


def test_stairs_and_restarts_are_exact_at_large_steps():
  spd = 715_827_883  # about 2**31 / 3: stairs at spd and 2 spd
  s = t5x.create_learning_rate_scheduler("decay_every", warmup_steps=0, decay_factor=0.5,
                                         steps_per_decay=spd)
  np.testing.assert_array_equal(
      ours(s, [spd - 1, spd, 2 * spd - 1, 2 * spd, BIG]), [1, 0.5, 0.5, 0.25, 0.25])
  w, spc = 12_345, 1_000_003
  s = t5x.create_learning_rate_scheduler("cosine_decay", warmup_steps=w, steps_per_cycle=spc,
                                         min_learning_rate=0.0)
  k = (BIG - w) // spc - 1  # the last whole cycle below 2**31
  restart = w + k * spc
  got = ours(s, [restart - 1, restart, restart + spc // 2, BIG])
  # float32 t5x computes (step - W) / P near 2147 and loses the phase here.
  np.testing.assert_allclose(got[1:3], [1.0, 0.5], rtol=1e-5)
  np.testing.assert_allclose(got[[0, 3]], reference([restart - 1, BIG], "cosine_decay",
                                                    warmup_steps=w, steps_per_cycle=spc,
                                                    min_learning_rate=0.0), rtol=1e-3,
                             atol=1e-6)


def test_warmup_ends_exactly_at_large_warmups():
  w = BIG - 10
  s = t5x.create_learning_rate_scheduler("linear_warmup", warmup_steps=w,
                                         min_learning_rate=0.0)
  np.testing.assert_allclose(ours(s, [w // 2, w - 1, w, BIG]),
                             [0.5, (w - 1) / w, 1.0, 1.0], rtol=1e-6)


def test_finite_at_the_largest_step_for_every_factor():
  kw = dict(factors=" * ".join(FACTORS), warmup_steps=1000, decay_factor=1e-10,
            steps_per_decay=2**30, steps_per_cycle=3, min_learning_rate=0.0)
  steps = [BIG - 2, BIG - 1, BIG]
  values = ours(t5x.create_learning_rate_scheduler(**kw), steps)
  assert np.all(np.isfinite(values)) and np.all(values > 0)
  np.testing.assert_allclose(values, reference(steps, **kw), rtol=RTOL)


# ----------------------------------------------------------------- tracing


def test_vmap_over_the_base_learning_rate():
  bases = np.asarray([0.1, 0.5, 2.0], np.float32)
  steps = np.asarray([0, 10, 1000, 5000], np.int32)
  swept = jax.vmap(lambda b: t5x.create_learning_rate_scheduler(
      base_learning_rate=b, warmup_steps=100)(steps))(bases)
  for b, row in zip(bases, np.asarray(swept)):
    np.testing.assert_allclose(
        row, reference(steps, base_learning_rate=float(b), warmup_steps=100), rtol=1e-5)


def test_traced_decay_factor_with_decay_every():
  steps = np.asarray([0, 10, 20], np.int32)
  out = jax.jit(lambda d: t5x.create_learning_rate_scheduler(
      "decay_every", decay_factor=d, steps_per_decay=10, warmup_steps=0)(steps))(0.5)
  np.testing.assert_allclose(out, [1, 0.5, 0.25])


# ------------------------------------------------------------------ errors


def _msg(name, constraint, value):
  return f"`{FN}({name}=...)` must be {constraint}, got {name}={value!r}."


@pytest.mark.parametrize("factors, bad", [
    ("constant * linear_warmpu", "linear_warmpu"),
    ("constant * ", ""),
    ("", ""),
    ("Constant", "Constant"),
    ("exponential_decay", "exponential_decay"),
])
def test_unknown_factor_raises(factors, bad):
  known = ", ".join(FACTORS)
  with pytest.raises(ValueError, match=re.escape(_msg(
      "factors", f"'*'-separated names from {known}; {bad!r} is not one (t5x raises "
      f"'Unknown factor {bad}.' at the first call)", factors))):
    t5x.create_learning_rate_scheduler(factors)


def test_linear_decay_twice_raises():
  # Two lines below 0 multiply into a growing lr in t5x; the floor cannot stop it.
  with pytest.raises(ValueError, match=re.escape(_msg(
      "factors", "a product with 'linear_decay' at most once (t5x multiplies its lines, "
      "which fall below 0 for ever, into an lr that grows without bound)",
      "linear_decay * linear_decay"))):
    t5x.create_learning_rate_scheduler("linear_decay * linear_decay")


@pytest.mark.parametrize("factor, why", [
    ("linear_warmup", "step / warmup_steps is NaN at step 0"),
    ("linear_decay", "step / warmup_steps is NaN at step 0"),
    ("rsqrt_decay", "1 / sqrt(max(step, warmup_steps)) is inf at step 0"),
    ("rsqrt_normalized_decay",
     "sqrt(warmup_steps) / sqrt(max(step, warmup_steps)) is NaN at step 0"),
])
def test_zero_warmup_with_a_factor_that_divides_by_it_raises(factor, why):
  with pytest.raises(ValueError, match=re.escape(_msg(
      "warmup_steps", f"positive with factor {factor!r} (in t5x {why})", 0))):
    t5x.create_learning_rate_scheduler(f"constant * {factor}", warmup_steps=0)


def test_zero_warmup_is_fine_where_no_factor_divides_by_it():
  s = t5x.create_learning_rate_scheduler("constant * decay_every * cosine_decay", 1.0,
                                         warmup_steps=0, steps_per_decay=10,
                                         steps_per_cycle=10)
  assert_matches(s, np.arange(40), factors="constant * decay_every * cosine_decay",
                 base_learning_rate=1.0, warmup_steps=0, steps_per_decay=10,
                 steps_per_cycle=10)


@pytest.mark.parametrize("kw, name, constraint, value", [
    (dict(factors="decay_every", steps_per_decay=0), "steps_per_decay",
     "positive with factor 'decay_every' (t5x divides the step by it)", 0),
    (dict(factors="cosine_decay", steps_per_cycle=0), "steps_per_cycle",
     "positive with factor 'cosine_decay' (t5x divides by it)", 0),
    (dict(factors="decay_every", decay_factor=0.0), "decay_factor",
     "in (0, 1] with factor 'decay_every' (0 drops the lr to the floor for good, more than "
     "1 grows it to inf)", 0.0),
    (dict(factors="decay_every", decay_factor=1.5), "decay_factor",
     "in (0, 1] with factor 'decay_every' (0 drops the lr to the floor for good, more than "
     "1 grows it to inf)", 1.5),
    (dict(base_learning_rate=-0.1), "base_learning_rate", "non-negative", -0.1),
    (dict(decay_factor=-0.5), "decay_factor", "non-negative", -0.5),
    (dict(min_learning_rate=-1e-8), "min_learning_rate", "non-negative", -1e-8),
    (dict(warmup_steps=-1), "warmup_steps", "non-negative", -1),
    (dict(steps_per_cycle=-1), "steps_per_cycle", "non-negative", -1),
    (dict(warmup_steps=1000.5), "warmup_steps", "a whole number of steps", 1000.5),
    (dict(base_learning_rate=math.nan), "base_learning_rate", "a number, not NaN", math.nan),
    (dict(min_learning_rate=math.inf), "min_learning_rate", "finite", math.inf),
    (dict(warmup_steps=2**31), "warmup_steps",
     "at most 2147483647 (the largest step; enable jax_enable_x64 for more)", 2**31),
])
def test_bad_values_raise(kw, name, constraint, value):
  with pytest.raises(ValueError, match=re.escape(_msg(name, constraint, value))):
    t5x.create_learning_rate_scheduler(**kw)


def test_unused_parameters_are_only_checked_for_type_and_sign():
  # steps_per_decay=0 matters only with decay_every, as in t5x.
  s = t5x.create_learning_rate_scheduler(steps_per_decay=0, steps_per_cycle=0,
                                         decay_factor=3.0)
  np.testing.assert_allclose(ours(s, [1000]), [0.5 / math.sqrt(1000)], rtol=1e-6)


def test_bad_types_raise():
  with pytest.raises(TypeError, match=re.escape(_msg(
      "factors", "a string of factor names separated by '*'", ["constant"]))):
    t5x.create_learning_rate_scheduler(["constant"])
  with pytest.raises(TypeError, match=re.escape(_msg(
      "warmup_steps", "an integer number of steps", "1000"))):
    t5x.create_learning_rate_scheduler(warmup_steps="1000")
  with pytest.raises(TypeError, match=re.escape(
      f"`{FN}(decay_factor=...)` must be a concrete number with factor 'linear_decay' (it "
      "fixes where the decay reaches 0), got decay_factor=")):
    jax.jit(lambda d: t5x.create_learning_rate_scheduler("linear_decay",
                                                         decay_factor=d)(0))(0.5)
  with pytest.raises(TypeError, match=re.escape(
      f"`{FN}(warmup_steps=...)` must be a concrete integer (it fixes the structure), got "
      "warmup_steps=")):
    jax.jit(lambda w: t5x.create_learning_rate_scheduler(warmup_steps=w)(0))(10)


def test_module_surface():
  assert t5x.__all__ == ["create_learning_rate_scheduler"]
  assert dir(t5x) == t5x.__all__
  assert isinstance(t5x.create_learning_rate_scheduler(), osch.Schedule)
  assert jnp.asarray(t5x.create_learning_rate_scheduler()(0)).dtype == jnp.float32
