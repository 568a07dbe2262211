"""`optax_scheds.compat.big_vision` gives big_vision's ``create_learning_rate_schedule``.

big_vision cannot be installed here (it is not on PyPI), so the reference is
a NumPy float64 re-implementation of its formulas and of its ``steps``
duration helper, written below from big_vision's semantics
(``big_vision/utils.py``, snapshot 0127fb6), plus values computed by hand
and big_vision's own test table. Where big_vision's cooldown goes negative
(past ``total_steps``) the port holds 0; the reference does both.
"""

import math
import re

import jax
import numpy as np
import pytest

import optax_scheds as osch
from optax_scheds.compat import big_vision as bv
from tests._util import jit_eager_vmap

BIG = 2**31 - 1
RTOL = 2e-5
FN = "create_learning_rate_schedule"
SUFFIXES = ("steps", "examples", "epochs", "percent")
DECAY_TYPES = ("linear", "polynomial", "cosine", "rsqrt", "stair")


def reference_steps(prefix, config, data_size, batch_size, total_steps, default):
  """big_vision's ``steps``: one ``{prefix}_*`` entry that is set (not None,
  not negative), converted to steps, or ``default``."""
  given = [s for s in SUFFIXES
           if config.get(f"{prefix}_{s}") is not None and config[f"{prefix}_{s}"] >= 0]
  assert len(given) <= 1
  if not given:
    return default
  suffix, x = given[0], config[f"{prefix}_{given[0]}"]
  if suffix == "steps":
    return x

  def to_steps(v):
    return max(1, round(v)) if v else 0

  if suffix == "examples" and batch_size:
    return to_steps(x / batch_size)
  if suffix == "epochs" and batch_size and data_size:
    return to_steps(x * (data_size / batch_size))
  if suffix == "percent" and total_steps:
    assert 0 <= x <= 1
    return to_steps(x * total_steps)
  return default


def reference(at, /, total_steps, batch_size=None, data_size=None, base=1.0,
              decay_type="stair", scale_with_batchsize=False, clamp=True, **kw):
  """big_vision's schedule in float64; ``clamp=False`` keeps its negative
  cooldown past ``total_steps``. The stair boundaries are ``kw["steps"]``; the
  steps to evaluate are ``at``."""
  def dur(prefix, default=0):
    return reference_steps(prefix, kw, data_size, batch_size, total_steps, default)

  w, c = dur("warmup"), dur("cooldown")
  t = np.asarray(at, np.int64).astype(np.float64)
  lr = base * batch_size / 256.0 if scale_with_batchsize else base
  progress = np.clip((t - w) / float(total_steps - w), 0.0, 1.0) if total_steps != w else 0
  if decay_type in ("linear", "polynomial"):
    end = kw.get("end", kw.get("linear_end", 0))
    out = end + (lr - end) * (1.0 - progress) ** kw.get("power", 1)
  elif decay_type == "cosine":
    out = lr * 0.5 * (1.0 + np.cos(np.pi * progress))
  elif decay_type == "rsqrt":
    tau = dur("timescale", kw.get("timescale", 10_000))
    shift = dur("shift", kw.get("shift", 0))
    out = np.where(w <= t, lr / np.sqrt(1 + (t + shift - w) / tau), lr / np.sqrt(1 + shift / tau))
  else:
    i = np.searchsorted(np.asarray(kw.get("steps", []), np.int64),
                        np.asarray(at, np.int64) + 1)
    out = lr * np.asarray([1.0, *kw.get("mults", [])])[i]
  out = out * np.ones_like(t)
  if w:
    out = out * np.minimum(1.0, t / w)
  if c:
    factor = np.minimum(1.0, (total_steps - t) / c)
    out = out * (np.maximum(factor, 0.0) if clamp else factor)
  return out


ours = jit_eager_vmap


def close(actual, desired, rtol=RTOL, err_msg=""):
  """Equal to ``rtol``, or to float32 rounding of the largest value."""
  desired = np.asarray(desired, np.float64)
  np.testing.assert_allclose(actual, desired, rtol=rtol,
                             atol=2e-7 * float(np.max(np.abs(desired))), err_msg=err_msg)


def assert_matches(at, /, *args, **kw):
  close(ours(bv.create_learning_rate_schedule(*args, **kw), at),
        reference(at, *args, **kw), err_msg=repr((args, kw)))


# ---------------------------------------------------------------- hand values


@pytest.mark.parametrize("decay_type, extra, step, expected", [
    # big_vision's own CreateLearningRateScheduleTest table.
    ("linear", {}, 13, 0.5),
    ("polynomial", {"end": 0.1, "power": 2}, 13, 0.325),
    ("cosine", {}, 13, 0.5),
    ("rsqrt", {"timescale": 1}, 13, 1 / 3),
    ("stair", {"steps": [10], "mults": [0.5]}, 5, 1.0),
    ("stair", {"steps": [10], "mults": [0.5]}, 10, 0.5),
    ("rsqrt", {"timescale": 1}, 3, 0.6),
    ("rsqrt", {"timescale": 1}, 20, 0.05),
])
def test_big_vision_test_table(decay_type, extra, step, expected):
  s = bv.create_learning_rate_schedule(21, batch_size=512, base=0.5, decay_type=decay_type,
                                       scale_with_batchsize=True, warmup_steps=5,
                                       cooldown_steps=5, **extra)
  np.testing.assert_allclose(ours(s, [step]), [expected], rtol=1e-6)


def test_cosine_probe_by_hand():
  s = bv.create_learning_rate_schedule(10, decay_type="cosine", warmup_steps=2)
  c = [0.5 * (1 + math.cos(math.pi * k / 8)) for k in range(1, 8)]
  close(ours(s, range(12)), [0, 0.5, 1, *c, 0, 0], rtol=1e-6)


def test_cooldown_past_total_steps_holds_zero():
  kw = dict(batch_size=512, base=0.5, decay_type="rsqrt", scale_with_batchsize=True,
            warmup_steps=5, cooldown_steps=5, timescale=1)
  # big_vision: 1 / sqrt(1 + 17) * (21 - 22) / 5 < 0 at step 22, and falling.
  raw = reference([21, 22, 30], 21, clamp=False, **kw)
  np.testing.assert_allclose(raw, [0, -0.2 / math.sqrt(18), -1.8 / math.sqrt(26)])
  s = bv.create_learning_rate_schedule(21, **kw)
  np.testing.assert_array_equal(ours(s, [21, 22, 30, 10**6, BIG]), [0, 0, 0, 0, 0])


def test_durations_by_hand():
  # 250 examples / 100 per batch = 2.5 steps: rounded half to even, to 2.
  s = bv.create_learning_rate_schedule(100, batch_size=100, warmup_examples=250)
  np.testing.assert_allclose(ours(s, [1, 2]), [0.5, 1.0])
  s = bv.create_learning_rate_schedule(100, batch_size=100, warmup_examples=350)  # 3.5 -> 4
  np.testing.assert_allclose(ours(s, [2, 4]), [0.5, 1.0])
  s = bv.create_learning_rate_schedule(100, batch_size=100, warmup_examples=10)  # 0.1 -> 1
  np.testing.assert_allclose(ours(s, [0, 1]), [0.0, 1.0])
  # 0.5 epochs of 1000 examples at 100 per batch: 5 steps.
  s = bv.create_learning_rate_schedule(100, batch_size=100, data_size=1000,
                                       warmup_epochs=0.5)
  np.testing.assert_allclose(ours(s, [1, 5]), [0.2, 1.0], rtol=1e-6)
  s = bv.create_learning_rate_schedule(40, cooldown_percent=0.25)  # 10 steps
  np.testing.assert_allclose(ours(s, [29, 30, 35, 40]), [1.0, 1.0, 0.5, 0.0], rtol=1e-6)
  # A negative entry means "not set", so warmup_percent counts (big_vision's own test).
  s = bv.create_learning_rate_schedule(10, batch_size=100, data_size=1000, warmup_steps=-1,
                                       warmup_epochs=-1, warmup_examples=-1,
                                       warmup_percent=0.3)
  np.testing.assert_allclose(ours(s, [1, 3]), [1 / 3, 1.0], rtol=1e-6)
  # A percentage with total_steps=0 falls back to no warmup, as in big_vision.
  s = bv.create_learning_rate_schedule(0, warmup_percent=0.5)
  np.testing.assert_allclose(ours(s, [0, 5]), [1.0, 1.0])


def test_rsqrt_shift_and_timescale_by_hand():
  s = bv.create_learning_rate_schedule(1000, base=2.0, decay_type="rsqrt", warmup_steps=10,
                                       timescale_steps=100, shift_steps=300)
  peak = 2.0 / math.sqrt(1 + 3)
  np.testing.assert_allclose(ours(s, [0, 5, 10, 110, 510]),
                             [0, peak / 2, peak, 2 / math.sqrt(5), 2 / math.sqrt(9)],
                             rtol=1e-6)
  s = bv.create_learning_rate_schedule(1000, decay_type="rsqrt")  # timescale 10_000
  np.testing.assert_allclose(ours(s, [0, 30_000]), [1.0, 0.5], rtol=1e-6)


def test_stairs_by_hand():
  s = bv.create_learning_rate_schedule(100, base=0.1, steps=[0, 50, 80], mults=[0.5, 0.1, 1])
  np.testing.assert_allclose(ours(s, [0, 49, 50, 79, 80, BIG]),
                             [0.05, 0.05, 0.01, 0.01, 0.1, 0.1], rtol=1e-6)
  s = bv.create_learning_rate_schedule(100, base=0.1)  # the default: no stairs
  np.testing.assert_allclose(ours(s, [0, BIG]), [0.1, 0.1], rtol=1e-6)
  # A stair inside the warmup shows through it.
  s = bv.create_learning_rate_schedule(100, warmup_steps=10, steps=[4], mults=[0.5])
  np.testing.assert_allclose(ours(s, [2, 4, 10]), [0.2, 0.2, 0.5], rtol=1e-6)


def test_configs_from_big_vision_by_hand():
  # configs/mlp_mixer_i1k.py: lr 0.001 applied on top (config.lr), linear to 1e-5.
  s = 0.001 * bv.create_learning_rate_schedule(300_000, decay_type="linear",
                                               warmup_steps=10_000, linear_end=1e-5)
  np.testing.assert_allclose(ours(s, [5_000, 10_000, 155_000, 300_000, 400_000]),
                             [5e-4, 1e-3, 1e-3 * (0.5 + 0.5e-5), 1e-8, 1e-8], rtol=1e-5)
  # configs/proj/givt: cosine with warmup_percent=0.1.
  s = bv.create_learning_rate_schedule(1000, decay_type="cosine", warmup_percent=0.1)
  np.testing.assert_allclose(ours(s, [50, 100, 550, 1000]), [0.5, 1.0, 0.5, 0.0],
                             rtol=1e-6, atol=1e-7)


def test_native_equivalents():
  steps = np.arange(0, 1200, 3)
  s = bv.create_learning_rate_schedule(1000, decay_type="cosine", warmup_steps=100, base=0.3)
  close(ours(s, steps), ours(osch.warmup(osch.cosine_decay(0.3, 900), 100), steps), 1e-6)
  s = bv.create_learning_rate_schedule(1000, decay_type="rsqrt", warmup_steps=100,
                                       timescale=100)
  close(ours(s, steps), ours(osch.inverse_sqrt(1.0, 100), steps), 1e-6)


# ------------------------------------------------- random configs vs reference


def _duration_kw(rng, prefix, steps, total, batch, data, positive=False):
  """A spelling of about ``steps`` steps, sometimes with an unset (-1) sibling."""
  kind = str(rng.choice(SUFFIXES))
  if kind == "steps":
    value = steps
  elif kind == "examples":
    value = max(0.0, steps * batch + float(rng.uniform(-batch / 2, batch / 2)))
  elif kind == "epochs":
    value = max(0.0, (steps + float(rng.uniform(-0.6, 0.6))) * batch / data)
  else:
    value = min(1.0, max(0.0, (steps + float(rng.uniform(-1, 1))) / total))
  if positive and value == 0:
    value = 1 if kind == "steps" else 1e-6
  kw = {f"{prefix}_{kind}": value}
  if rng.random() < 0.3:
    kw[f"{prefix}_{rng.choice([x for x in SUFFIXES if x != kind])}"] = -1
  return kw


def _random_config(rng, decay_type):
  total = int(rng.integers(2, 400))
  batch = int(rng.choice([32, 100, 256, 512]))
  data = int(rng.integers(batch, 50 * batch))
  kw = dict(batch_size=batch, data_size=data, base=float(rng.uniform(0.01, 3)),
            decay_type=decay_type, scale_with_batchsize=bool(rng.integers(2)))
  if rng.random() < 0.7:
    kw.update(_duration_kw(rng, "warmup", int(rng.integers(0, total // 2 + 1)), total,
                           batch, data))
  if rng.random() < 0.6:
    kw.update(_duration_kw(rng, "cooldown", int(rng.integers(0, total + 1)), total, batch,
                           data))
  if decay_type in ("linear", "polynomial"):
    if rng.random() < 0.7:
      kw[str(rng.choice(["end", "linear_end"]))] = float(rng.uniform(0, 0.5))
    if rng.random() < 0.7:
      kw["power"] = float(rng.choice([1, 2, rng.uniform(0, 4)]))
  elif decay_type == "rsqrt":
    if rng.random() < 0.5:
      kw.update(_duration_kw(rng, "timescale", int(rng.integers(1, 500)), total, batch, data,
                             positive=True))
    elif rng.random() < 0.5:
      kw["timescale"] = int(rng.integers(1, 20_000))
    if rng.random() < 0.5:
      kw["shift"] = int(rng.integers(0, 5000))
  elif decay_type == "stair":
    n = int(rng.integers(0, 5))
    kw["steps"] = sorted(rng.choice(np.arange(0, total + 50), n, replace=False).tolist())
    kw["mults"] = rng.uniform(0, 1.5, n).tolist()
  return total, kw


def _dense_steps(total, rng):
  steps = np.arange(0, total + 40)
  big = [BIG, BIG - 1, 2**24 + 1, *rng.integers(total, BIG, 4).tolist()]
  return np.concatenate([steps, big])


@pytest.mark.parametrize("decay_type", DECAY_TYPES)
@pytest.mark.parametrize("seed", range(4))
def test_random_configs_match_the_reference(decay_type, seed):
  rng = np.random.default_rng([seed, DECAY_TYPES.index(decay_type)])
  for _ in range(3):
    total, kw = _random_config(rng, decay_type)
    w = reference_steps("warmup", kw, kw["data_size"], kw["batch_size"], total, 0)
    if w >= total:
      continue  # refused (big_vision asserts it): see test_warmup_as_long_as_the_run_raises
    assert_matches(_dense_steps(total, rng), total, **kw)


# ------------------------------------------- exact integers at any int32 step


def test_stairs_and_phase_ends_are_exact_at_large_steps():
  s = bv.create_learning_rate_schedule(BIG, steps=[BIG - 2, BIG - 1], mults=[0.5, 0.25])
  # big_vision's step + 1 wraps to -2**31 at the largest step, giving 1.0 there.
  np.testing.assert_array_equal(ours(s, [BIG - 3, BIG - 2, BIG - 1, BIG]),
                                [1, 0.5, 0.25, 0.25])
  w = BIG - 100
  s = bv.create_learning_rate_schedule(BIG, decay_type="rsqrt", warmup_steps=w,
                                       cooldown_steps=50, timescale=10)
  close(ours(s, [w - 1, w, w + 1, BIG - 50, BIG - 25, BIG]),
        reference([w - 1, w, w + 1, BIG - 50, BIG - 25, BIG], BIG, decay_type="rsqrt",
                  warmup_steps=w, cooldown_steps=50, timescale=10))


@pytest.mark.parametrize("decay_type", DECAY_TYPES)
def test_finite_at_the_largest_step(decay_type):
  kw = dict(decay_type=decay_type, warmup_steps=1000, shift=2**30) if decay_type == "rsqrt" \
      else dict(decay_type=decay_type, warmup_steps=1000)
  s = bv.create_learning_rate_schedule(10**6, **kw)
  values = ours(s, [BIG - 1, BIG])
  assert np.all(np.isfinite(values))
  close(values, reference([BIG - 1, BIG], 10**6, **kw))


def test_vmap_over_base():
  bases = np.asarray([0.1, 1.0, 3.0], np.float32)
  steps = np.asarray([0, 5, 50, 99, 120], np.int32)
  swept = jax.vmap(lambda b: bv.create_learning_rate_schedule(
      100, base=b, decay_type="cosine", warmup_steps=10, cooldown_steps=20)(steps))(bases)
  for b, row in zip(bases, np.asarray(swept)):
    close(row, reference(steps, 100, base=float(b), decay_type="cosine", warmup_steps=10,
                         cooldown_steps=20))


# ------------------------------------------------------------------ errors


def _msg(name, constraint, value):
  return f"`{FN}({name}=...)` must be {constraint}, got {name}={value!r}."


@pytest.mark.parametrize("kw, name, constraint, value", [
    # big_vision's assertions.
    (dict(warmup_steps=5, warmup_epochs=1, batch_size=1, data_size=1), "warmup_epochs",
     "left out when warmup_steps is given (one warmup duration only; big_vision asserts "
     "this)", 1),
    (dict(cooldown_percent=1.5), "cooldown_percent",
     "in [0, 1] (a fraction of total_steps; big_vision asserts this)", 1.5),
    (dict(decay_type="rsqrt", timescale_examples=10, timescale_percent=0.1, batch_size=2),
     "timescale_percent", "left out when timescale_examples is given (one timescale "
     "duration only; big_vision asserts this)", 0.1),
    # Unknown decay type, at construction rather than at the first call.
    (dict(decay_type="exponential"), "decay_type",
     "one of 'linear', 'polynomial', 'cosine', 'rsqrt', 'stair' (big_vision raises 'Unknown "
     "lr type' at the first call)", "exponential"),
    # What big_vision silently ignores.
    (dict(decay_type="cosine", linear_end=1e-5), "linear_end",
     "left out with decay_type='cosine' (big_vision ignores it; only 'linear' and "
     "'polynomial' read it)", 1e-5),
    (dict(decay_type="linear", timescale=100), "timescale",
     "left out with decay_type='linear' (big_vision ignores it; only 'rsqrt' reads it)", 100),
    (dict(decay_type="cosine", steps=[10], mults=[0.1]), "steps",
     "left out with decay_type='cosine' (big_vision ignores it; only 'stair' reads it)", [10]),
    (dict(decay_type="linear", end=0.1, linear_end=0.2), "linear_end",
     "left out when end is given (big_vision would use end and ignore it)", 0.2),
    (dict(decay_type="rsqrt", timescale=100, timescale_steps=50), "timescale",
     "left out when timescale_steps is given (big_vision would use timescale_steps and "
     "ignore it)", 100),
    (dict(warmup_examples=100), "batch_size",
     "given with warmup_examples (big_vision silently ignores warmup_examples without it)",
     None),
    (dict(cooldown_epochs=1, batch_size=10), "data_size",
     "given with cooldown_epochs (big_vision silently ignores cooldown_epochs without "
     "batch_size and data_size)", None),
    (dict(scale_with_batchsize=True), "batch_size", "given with scale_with_batchsize=True",
     None),
    # Divisions by zero and infinite powers.
    (dict(decay_type="rsqrt", timescale=0), "timescale", "positive", 0),
    (dict(decay_type="rsqrt", timescale_percent=0.0), "timescale_percent",
     "positive (big_vision divides by it)", 0.0),
    (dict(decay_type="polynomial", power=-1.0), "power", "non-negative", -1.0),
    (dict(decay_type="rsqrt", shift=-3), "shift", "non-negative", -3),
    # Values.
    (dict(warmup_steps=0.1), "warmup_steps",
     "a whole number of steps (big_vision uses a fractional one unrounded; for a fraction of "
     "total_steps use warmup_percent)", 0.1),
    (dict(batch_size=0), "batch_size", "positive", 0.0),
    (dict(data_size=-5), "data_size", "positive", -5.0),
    (dict(base=math.nan), "base", "a number, not NaN", math.nan),
    (dict(warmup_percent=math.nan), "warmup_percent", "a number, not NaN", math.nan),
    (dict(steps=[50, 10], mults=[0.1, 0.01]), "steps", "strictly increasing", [50, 10]),
    (dict(steps=[-1], mults=[0.1]), "steps", "non-negative", -1),
    (dict(steps=[10.5], mults=[0.1]), "steps", "a whole number of steps", 10.5),
    (dict(steps=[10], mults=[math.inf]), "mults", "finite", math.inf),
])
def test_bad_configs_raise(kw, name, constraint, value):
  with pytest.raises(ValueError, match=re.escape(_msg(name, constraint, value))):
    bv.create_learning_rate_schedule(100, **kw)


def test_mults_of_the_wrong_length_raise():
  with pytest.raises(ValueError, match=re.escape(
      f"`{FN}(mults=...)` must have one entry per step in steps, got 1 mults for 2 steps: "
      "mults=[0.1].")):
    bv.create_learning_rate_schedule(100, steps=[10, 20], mults=[0.1])


@pytest.mark.parametrize("total, kw, name, constraint, value", [
    (10, dict(warmup_steps=10), "warmup_steps",
     "less than total_steps=10 in steps (big_vision asserts warmup_steps < total_steps)", 10),
    (10, dict(warmup_percent=1.0), "warmup_percent",
     "less than total_steps=10 in steps (big_vision asserts warmup_steps < total_steps; it "
     "gives 10 steps)", 1.0),
])
def test_warmup_as_long_as_the_run_raises(total, kw, name, constraint, value):
  with pytest.raises(ValueError, match=re.escape(_msg(name, constraint, value))):
    bv.create_learning_rate_schedule(total, **kw)


@pytest.mark.parametrize("decay_type", ["linear", "polynomial", "cosine"])
@pytest.mark.parametrize("total, warmup", [(0, 0), (1, 1), (1, 5)])
def test_decays_without_length_raise(decay_type, total, warmup):
  # big_vision lets total_steps <= 1 pass its assertion, then divides by
  # total_steps - warmup_steps (NaN at the end of the warmup).
  with pytest.raises(ValueError, match=re.escape(_msg(
      "total_steps", f"greater than the warmup ({warmup} steps) for decay_type="
      f"{decay_type!r} (big_vision divides by total_steps - warmup_steps)", total))):
    bv.create_learning_rate_schedule(total, decay_type=decay_type, warmup_steps=warmup)


@pytest.mark.parametrize("decay_type", ["rsqrt", "stair"])
def test_debug_runs_of_zero_or_one_step(decay_type):
  # total_steps <= 1 skips big_vision's assertion; rsqrt and stair do not divide by it.
  for total, w, c in [(0, 0, 0), (1, 0, 1), (1, 5, 0), (0, 0, 3)]:
    steps = np.arange(8)
    assert_matches(steps, total, decay_type=decay_type, warmup_steps=w, cooldown_steps=c)


def test_cooldown_longer_than_the_run():
  assert_matches(np.arange(30), 20, decay_type="cosine", cooldown_steps=50)


def test_bad_types_raise():
  with pytest.raises(TypeError, match=re.escape(_msg(
      "warmup_step", "a keyword big_vision reads (warmup_* and cooldown_* as _steps, "
      "_examples, _epochs or _percent; end, linear_end, power; timescale, shift and their _* "
      "forms; steps, mults)", 100))):
    bv.create_learning_rate_schedule(1000, warmup_step=100)
  with pytest.raises(TypeError, match=re.escape(_msg(
      "mult", "a keyword big_vision reads (warmup_* and cooldown_* as _steps, _examples, "
      "_epochs or _percent; end, linear_end, power; timescale, shift and their _* forms; "
      "steps, mults); big_vision.optax.make's `mult` is `base` here", 0.5))):
    bv.create_learning_rate_schedule(1000, mult=0.5)
  with pytest.raises(TypeError, match=re.escape(_msg("warmup_steps", "a number", "100"))):
    bv.create_learning_rate_schedule(1000, warmup_steps="100")
  with pytest.raises(TypeError, match=re.escape(_msg(
      "scale_with_batchsize", "a bool", 1))):
    bv.create_learning_rate_schedule(1000, scale_with_batchsize=1)
  with pytest.raises(TypeError, match=re.escape(_msg("decay_type", "a string", None))):
    bv.create_learning_rate_schedule(1000, decay_type=None)
  with pytest.raises(TypeError, match=re.escape(_msg(
      "total_steps", "an integer number of steps", "1000"))):
    bv.create_learning_rate_schedule("1000")


def test_module_surface():
  assert bv.__all__ == ["create_learning_rate_schedule"]
  assert dir(bv) == bv.__all__
  assert isinstance(bv.create_learning_rate_schedule(10), osch.Schedule)
