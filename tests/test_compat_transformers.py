"""optax_scheds.compat.transformers against the real transformers.optimization.

Expected values come from HF's own ``LambdaLR`` multipliers (``lr_lambdas[0]``,
plain Python float64) on a dummy SGD optimizer: ``lr * lambda(k)`` is the lr of
update ``k`` under HF's Trainer.
"""

import math
import re
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import optax_scheds as osch
from optax_scheds.compat import transformers as hf
from tests._util import enable_x64

transformers = pytest.importorskip("transformers")
from transformers import optimization as O  # noqa: E402
from transformers.trainer_utils import SchedulerType  # noqa: E402

RTOL = 2e-5
BIG = 2**31 - 1
SEEDS = range(16)
PAD = 2048  # one step-array shape for all cases: one compile, shared eager op caches
EAGER = 24  # steps per case checked op by op (jax.disable_jit)
CYCLES = [0.5, 1, 2, 0.3, 1.7, 3.25, 0.5, 7, 0.75, 3.3, 1, 0.5, 2.5, 0.1, 5, 0.5]

_jit_many = jax.jit(lambda ss, ts: [s(t) for s, t in zip(ss, ts, strict=True)])


def _hf(make, lr, steps):
  """``lr * lambda(k)`` of the HF scheduler ``make(optimizer)``, in float64."""
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
  lam = make(opt).lr_lambdas[0]
  return np.asarray([lr * lam(int(k)) for k in steps], dtype=np.float64)


def _phases(rng, seed):
  """``(W, T)`` covering W = 0, W = T - 1, W < T, W = T and W > T by seed."""
  t = int(rng.integers(1, 40) if seed % 2 else rng.integers(40, 400))
  w = [0, t - 1, int(rng.integers(0, t)), t, t + int(rng.integers(1, 5))][seed % 5]
  return w, t


def _steps(rng, end, turns_per_step=0.0):
  """Every step to ``end``, plus huge ones where HF's float64 value is well
  defined: its cosine argument carries an error of about 4e-16 of itself."""
  huge = np.asarray([2**24 + 1, BIG, int(rng.integers(2**24, BIG))])
  huge = huge[4e-16 * 2 * np.pi * abs(turns_per_step) * huge < 1e-7]
  return np.concatenate([np.arange(min(end, PAD - len(huge))), huge])


def _check(cases, eager_every=8):
  """Each ``(schedule, hf_make, lr, steps[, skip])`` matches HF at ``steps``
  (except where ``skip``), under one jit call; every ``eager_every``-th case
  also op by op (``jax.disable_jit``, slow) on a sample of the steps."""
  padded = np.stack([np.pad(np.asarray(c[3], np.int32), (0, PAD - len(c[3])))
                     for c in cases])
  jitted = _jit_many([c[0] for c in cases], padded)
  for k, case in enumerate(cases):
    sched, make, lr, steps = case[:4]
    keep = ~case[4] if len(case) > 4 else np.ones(len(steps), bool)
    expected = _hf(make, lr, steps)
    got = np.asarray(jitted[k])[:len(steps)]
    assert jitted[k].dtype == jnp.float32
    atol = 2e-7 * lr
    np.testing.assert_allclose(got[keep], expected[keep], rtol=RTOL, atol=atol,
                               err_msg=f"case {k}: {sched!r}")
    if k % eager_every:
      continue
    sample = np.unique(np.linspace(0, len(steps) - 1, EAGER).astype(int))
    sample = np.pad(sample[keep[sample]], (0, EAGER), mode="edge")[:EAGER]
    with jax.disable_jit():
      eager = np.asarray(sched(np.asarray(steps)[sample].astype(np.int32)))
    np.testing.assert_allclose(eager, expected[sample], rtol=RTOL, atol=atol,
                               err_msg=f"eager case {k}: {sched!r}")


def _lr(rng):
  return float(rng.choice([1.0, rng.uniform(1e-5, 1e-3), rng.uniform(0.01, 3.0)]))


# ------------------------------------------------------------------ parity


def test_constant_and_constant_with_warmup():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, _) = _lr(rng), _phases(rng, seed)
    steps = _steps(rng, 2 * w + 10)
    cases.append((hf.get_constant_schedule(lr), O.get_constant_schedule, lr, steps))
    cases.append((hf.get_constant_schedule_with_warmup(lr, w),
                  lambda o, w=w: O.get_constant_schedule_with_warmup(o, w), lr, steps))
  _check(cases)


def test_linear():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t) = _lr(rng), _phases(rng, seed)
    cases.append((hf.get_linear_schedule_with_warmup(lr, w, t),
                  lambda o, w=w, t=t: O.get_linear_schedule_with_warmup(o, w, t), lr,
                  _steps(rng, max(w, t) + 20)))
  _check(cases)


def test_cosine():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t), n = _lr(rng), _phases(rng, seed), CYCLES[seed]
    length = max(1, t - w)
    cases.append((hf.get_cosine_schedule_with_warmup(lr, w, t, n),
                  lambda o, w=w, t=t, n=n: O.get_cosine_schedule_with_warmup(o, w, t, n),
                  lr, _steps(rng, w + 3 * length + 10, n / length)))
  _check(cases)


def _near_restart(n, w, length, steps):
  """Steps whose turns ``n (k - W) / L`` (exact, for the float ``n``) lie
  within 1e-9 of a whole number without being one: HF's float64 rounding
  picks the side of the restart there (see the module docstring)."""
  out = np.zeros(len(steps), bool)
  for k, step in enumerate(steps):
    if w <= step < w + length:
      turns = Fraction(n) * (int(step) - w) / length
      gap = turns - round(turns)
      out[k] = gap != 0 and abs(gap) < 1e-9
  return out


def test_cosine_with_hard_restarts():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t), n = _lr(rng), _phases(rng, seed), CYCLES[seed]
    length = max(1, t - w)
    steps = _steps(rng, w + 2 * length + 10)
    make = lambda o, w=w, t=t, n=n: (  # noqa: E731
        O.get_cosine_with_hard_restarts_schedule_with_warmup(o, w, t, n))
    cases.append((hf.get_cosine_with_hard_restarts_schedule_with_warmup(lr, w, t, n), make,
                  lr, steps, _near_restart(n, w, length, steps)))
  _check(cases)


def test_polynomial():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t) = _lr(rng), _phases(rng, seed)
    t += w == t  # HF divides by zero there (tested below)
    lr_end = [1e-7, 0.1 * lr, -0.05 * lr, 0.9 * lr][seed % 4]
    lr_end = min(lr_end, 0.5 * lr)
    power = [1.0, 0.5, 2.0, 0.0, 3.7][seed % 5]
    make = lambda o, w=w, t=t, e=lr_end, p=power: (  # noqa: E731
        O.get_polynomial_decay_schedule_with_warmup(o, w, t, e, p))
    cases.append((hf.get_polynomial_decay_schedule_with_warmup(lr, w, t, lr_end, power),
                  make, lr, _steps(rng, max(w, t) + 20)))
  _check(cases)


def test_inverse_sqrt():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr = _lr(rng)
    w = [0, int(rng.integers(1, 50)), int(rng.integers(50, 500))][seed % 3]
    timescale = None if seed % 2 else int(rng.integers(1, 1000))
    cases.append((hf.get_inverse_sqrt_schedule(lr, w, timescale),
                  lambda o, w=w, s=timescale: O.get_inverse_sqrt_schedule(o, w, s), lr,
                  _steps(rng, w + 1500)))
  _check(cases)


def _min_lr_args(rng, seed, lr):
  rate = [0.0, float(rng.uniform(0, 0.5)), -0.3, 1.5][seed % 4]
  return {"min_lr": rate * lr} if seed % 3 == 0 else {"min_lr_rate": rate}


def test_cosine_with_min_lr():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t), n = _lr(rng), _phases(rng, seed), CYCLES[seed]
    kw = _min_lr_args(rng, seed, lr)
    length = max(1, t - w)
    make = lambda o, w=w, t=t, n=n, kw=kw: (  # noqa: E731
        O.get_cosine_with_min_lr_schedule_with_warmup(o, w, t, n, **kw))
    cases.append((hf.get_cosine_with_min_lr_schedule_with_warmup(lr, w, t, n, **kw), make,
                  lr, _steps(rng, w + 3 * length + 10, n / length)))
  _check(cases)


def test_cosine_warmup_with_min_lr_rate():
  cases = []
  for seed in SEEDS:
    rng = np.random.default_rng(seed)
    lr, (w, t), n = _lr(rng), _phases(rng, seed), CYCLES[seed]
    kw = _min_lr_args(rng, seed, lr)
    if seed % 2:
      kw["warmup_lr_rate"] = [0.0, float(rng.uniform(0, 1)), -0.5][seed % 3]
    length = max(1, t - w)
    make = lambda o, w=w, t=t, n=n, kw=kw: (  # noqa: E731
        O.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(o, w, t, n, **kw))
    cases.append((hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(lr, w, t, n, **kw),
                  make, lr, _steps(rng, w + 3 * length + 10, n / length)))
  _check(cases)


def test_wsd():
  cases = []
  shapes = ["linear", "cosine", "1-sqrt"]
  for seed in range(24):
    rng = np.random.default_rng(seed)
    lr, n = _lr(rng), CYCLES[seed % len(CYCLES)]
    w, s, d = (int(x) for x in rng.integers([0, 0, 0], [40, 40, 60]))
    w, d = (0 if seed % 7 == 0 else w), (0 if seed % 5 == 0 else d)
    kw = dict(warmup_type=shapes[seed % 3], decay_type=shapes[(seed // 3) % 3],
              min_lr_ratio=[0, 0.1, 0.37, -0.2][seed % 4], num_cycles=n)
    if seed % 2:
      kw["num_stable_steps"] = s
    else:
      kw["num_training_steps"] = w + s + d
    make = lambda o, w=w, d=d, kw=kw: O.get_wsd_schedule(o, w, d, **kw)  # noqa: E731
    cases.append((hf.get_wsd_schedule(lr, w, d, **kw), make, lr,
                  _steps(rng, w + s + d + 20)))
  _check(cases)


def test_documented_quirks():
  """The quirks the docs list, in numbers (HF's probes in MODERN.md)."""
  cos = hf.get_cosine_schedule_with_warmup(1.0, 4, 10)
  np.testing.assert_allclose(cos(np.arange(10, 13)), [0.0, 0.066987, 0.25], atol=1e-6)
  hard = hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 4, 10, num_cycles=2)
  np.testing.assert_allclose(hard(np.arange(12)),
                             [0, .25, .5, .75, 1, .75, .25, 1, .75, .25, 0, 0], atol=1e-6)
  poly = hf.get_polynomial_decay_schedule_with_warmup(1.0, 2, 6, lr_end=0.1)
  np.testing.assert_allclose(poly([6, 7, BIG]), [0.1, 0.1, 0.1], rtol=1e-6)
  rate = hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(1.0, 4, 10, min_lr_rate=.1)
  np.testing.assert_allclose(rate(np.arange(12)), [.25, .5, .75, 1, .9397, .775, .55, .325,
                                                   .1603, .1, .1603, .325], atol=1e-4)
  w = hf.get_wsd_schedule(1.0, 4, 3, num_stable_steps=2, decay_type="1-sqrt",
                          min_lr_ratio=0.1, warmup_type="linear")
  np.testing.assert_allclose(w(np.arange(11)), [.1, .325, .55, .775, 1, 1, 1, .4804, .2652,
                                                .1, .1], atol=1e-4)


def test_hard_restarts_take_num_cycles_as_written():
  # 1.7 cycles over 17 steps: the second decay starts at step 10 exactly. The
  # float 1.7 is a hair below 17/10; HF's float64 arithmetic rounds it back.
  s = hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 17, num_cycles=1.7)
  expected = _hf(lambda o: O.get_cosine_with_hard_restarts_schedule_with_warmup(
      o, 0, 17, 1.7), 1.0, [9, 10, 11])
  np.testing.assert_allclose(s(np.asarray([9, 10, 11])), expected, rtol=RTOL, atol=2e-7)
  assert expected[1] == 1.0


# ------------------------------------------------------------ vmap over lr


def _all_schedules(lr):
  return [
      hf.get_constant_schedule(lr),
      hf.get_constant_schedule_with_warmup(lr, 5),
      hf.get_linear_schedule_with_warmup(lr, 5, 30),
      hf.get_linear_schedule_with_warmup(lr, 5, 3),
      hf.get_cosine_schedule_with_warmup(lr, 5, 30),
      hf.get_cosine_schedule_with_warmup(lr, 5, 30, 1.7),
      hf.get_cosine_with_hard_restarts_schedule_with_warmup(lr, 5, 30),
      hf.get_cosine_with_hard_restarts_schedule_with_warmup(lr, 5, 30, 3),
      hf.get_polynomial_decay_schedule_with_warmup(lr, 5, 30, power=2.0),
      hf.get_polynomial_decay_schedule_with_warmup(lr, 5, 3),
      hf.get_inverse_sqrt_schedule(lr, 5),
      hf.get_cosine_with_min_lr_schedule_with_warmup(lr, 5, 30, min_lr=1e-3),
      hf.get_cosine_with_min_lr_schedule_with_warmup(lr, 5, 30, 2, min_lr_rate=-0.1),
      hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(lr, 5, 30, min_lr_rate=0.1),
      hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
          lr, 5, 30, min_lr=1e-3, warmup_lr_rate=0.2),
      hf.get_wsd_schedule(lr, 5, 10, num_training_steps=30),
      hf.get_wsd_schedule(lr, 5, 10, num_stable_steps=4, decay_type="cosine", num_cycles=2,
                          min_lr_ratio=-0.1),
  ]


def test_vmap_and_jit_over_lr():
  lrs = np.asarray([0.5, 1.0, 2.0], np.float32)
  steps = np.arange(40)
  swept = jax.jit(jax.vmap(lambda lr: jnp.stack([s(steps) for s in _all_schedules(lr)]),
                           out_axes=1))(lrs)
  for k, lr in enumerate(lrs):
    one = np.stack([np.asarray(s(steps)) for s in _all_schedules(float(lr))])
    np.testing.assert_allclose(np.asarray(swept[:, k]), one, rtol=1e-6, atol=1e-7)


def test_float_steps_interpolate_inside_a_step():
  s = hf.get_cosine_schedule_with_warmup(1.0, 0, 10, num_cycles=1.7)
  mid = float(s(3.5))
  assert min(float(s(3)), float(s(4))) <= mid <= max(float(s(3)), float(s(4)))


# ------------------------------------------------------------- get_scheduler

_DISPATCH = [  # (name, W, T, kwargs)
    ("linear", 3, 20, None),
    ("cosine", 3, 20, {"num_cycles": 1.5}),
    ("cosine_with_restarts", 3, 20, {"num_cycles": 3}),
    ("polynomial", 3, 20, {"lr_end": 1e-3, "power": 2.0}),
    ("constant", 3, 20, {"junk": 1}),  # warmup, T and kwargs ignored
    ("constant", None, None, None),
    ("constant_with_warmup", 3, 20, {"junk": 1}),  # kwargs ignored
    ("inverse_sqrt", 3, None, {"timescale": 7}),
    ("cosine_with_min_lr", 3, 20, {"min_lr": 1e-3}),
    ("cosine_warmup_with_min_lr", 3, 20, {"min_lr_rate": 0.1, "warmup_lr_rate": 0.2}),
    ("warmup_stable_decay", 3, 20, {"num_decay_steps": 5}),
    ("warmup_stable_decay", 3, None, {"num_decay_steps": 5, "num_stable_steps": 4,
                                      "decay_type": "1-sqrt", "min_lr_ratio": 0.1}),
]


@pytest.mark.parametrize("enum", [False, True])
def test_get_scheduler_dispatch(enum):
  lr, steps = 0.3, np.arange(40)
  cases = []
  for name, w, t, kw in _DISPATCH:
    key = SchedulerType(name) if enum else name
    ours = hf.get_scheduler(key, lr, w, t, kw)
    make = lambda o, key=key, w=w, t=t, kw=kw: O.get_scheduler(key, o, w, t, kw)  # noqa: E731
    cases.append((ours, make, lr, steps))
  _check(cases)


def test_get_scheduler_matches_the_functions():
  lr, steps = 0.3, np.arange(30)
  pairs = [
      (hf.get_scheduler("constant", lr, 5, 20), hf.get_constant_schedule(lr)),
      (hf.get_scheduler("constant_with_warmup", lr, 5, 20, {"x": 1}),
       hf.get_constant_schedule_with_warmup(lr, 5)),
      (hf.get_scheduler("warmup_stable_decay", lr, 5, 20, {"num_decay_steps": 4}),
       hf.get_wsd_schedule(lr, 5, 4, 20)),
  ]
  for a, b in pairs:
    np.testing.assert_array_equal(np.asarray(a(steps)), np.asarray(b(steps)))


def test_get_scheduler_plateau():
  plateau = hf.get_scheduler("reduce_lr_on_plateau", 0.1, 5, 20, {"patience": 2})
  assert isinstance(plateau, osch.PlateauTransformation)
  assert isinstance(hf.get_reduce_on_plateau_schedule(0.1, factor=0.5),
                    osch.PlateauTransformation)


_SCHEDULER_ERRORS = [
    (("foo", 0.1, 1, 2), ValueError,
     "`get_scheduler(name=...)` must be one of 'linear', 'cosine', 'cosine_with_restarts', "
     "'polynomial', 'constant', 'constant_with_warmup', 'inverse_sqrt', "
     "'reduce_lr_on_plateau', 'cosine_with_min_lr', 'cosine_warmup_with_min_lr', "
     "'warmup_stable_decay', 'greedy', got name='foo'."),
    (("greedy", 0.1, 1, 2), ValueError,
     "`get_scheduler(name=...)` must name a scheduler ported to optax_scheds, got "
     "name='greedy'. HF's GreedyLR is not ported"),
    (("linear", 0.1, None, 2), ValueError,
     "`get_scheduler(num_warmup_steps=...)` must be given for name='linear', got "
     "num_warmup_steps=None."),
    (("inverse_sqrt", 0.1), ValueError,
     "`get_scheduler(num_warmup_steps=...)` must be given for name='inverse_sqrt', got "
     "num_warmup_steps=None."),
    (("cosine", 0.1, 1, None), ValueError,
     "`get_scheduler(num_training_steps=...)` must be given for name='cosine', got "
     "num_training_steps=None."),
    (("cosine", 0.1, 1, 2, [1]), TypeError,
     "`get_scheduler(scheduler_specific_kwargs=...)` must be a dict or None, got "
     "scheduler_specific_kwargs=[1]."),
    ((3, 0.1, 1, 2), TypeError,
     "`get_scheduler(name=...)` must be a scheduler name (a string or HF's SchedulerType), "
     "got name=3."),
    (("warmup_stable_decay", 0.1, 1, 10), TypeError, "num_decay_steps"),
    (("warmup_stable_decay", 0.1, 1, 10, {"num_decay_steps": 2, "num_warmup_steps": 1}),
     TypeError, "multiple values for keyword argument 'num_warmup_steps'"),
    (("cosine", 0.1, 1, 10, {"power": 2}), TypeError, "unexpected keyword argument 'power'"),
]


@pytest.mark.parametrize("args, error, message", _SCHEDULER_ERRORS)
def test_get_scheduler_errors(args, error, message):
  with pytest.raises(error, match=re.escape(message)):
    hf.get_scheduler(*args)


@pytest.mark.parametrize("args", [a for a, e, _ in _SCHEDULER_ERRORS
                                  if e is ValueError and a[0] not in ("greedy", 3)])
def test_hf_get_scheduler_raises_there_too(args):
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
  with pytest.raises(ValueError):
    O.get_scheduler(args[0], opt, *args[2:])


# ------------------------------------------------------------------- errors

P, C = "get_polynomial_decay_schedule_with_warmup", "get_cosine_with_min_lr_schedule_with_warmup"
R, W = C + "_lr_rate", "get_wsd_schedule"

_ERRORS = [
    # Where HF raises ValueError.
    (lambda: hf.get_polynomial_decay_schedule_with_warmup(0.1, 1, 10, lr_end=0.1),
     f"`{P}(lr_end=...)` must be smaller than lr (HF's initial lr), got lr_end=0.1, lr=0.1."),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 1, 10, min_lr=0.01,
                                                            min_lr_rate=0.1),
     f"`{C}(min_lr=...)` must be None when min_lr_rate is given (set only one of them), "
     "got min_lr=0.01."),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 1, 10),
     f"`{C}(min_lr_rate=...)` must be given when min_lr is None (set exactly one of them), "
     "got min_lr_rate=None."),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(0.1, 1, 10, min_lr=0.01,
                                                                    min_lr_rate=0.1),
     f"`{R}(min_lr=...)` must be None when min_lr_rate is given (set only one of them), "
     "got min_lr=0.01."),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(0.1, 1, 10),
     f"`{R}(min_lr_rate=...)` must be given when min_lr is None (set exactly one of them), "
     "got min_lr_rate=None."),
    (lambda: hf.get_wsd_schedule(0.1, 1, 10),
     f"`{W}(num_training_steps=...)` must be given when num_stable_steps is None (the "
     "stable phase lasts num_training_steps - num_warmup_steps - num_decay_steps), got "
     "num_training_steps=None."),
    (lambda: hf.get_wsd_schedule(0.1, 1, 10, 20, warmup_type="exp"),
     f"`{W}(warmup_type=...)` must be one of 'linear', 'cosine', '1-sqrt', got "
     "warmup_type='exp'."),
    (lambda: hf.get_wsd_schedule(0.1, 1, 10, 20, decay_type="1-square"),
     f"`{W}(decay_type=...)` must be one of 'linear', 'cosine', '1-sqrt', got "
     "decay_type='1-square'."),
    # Where HF divides by zero.
    (lambda: hf.get_polynomial_decay_schedule_with_warmup(0.1, 10, 10),
     f"`{P}(num_training_steps=...)` must differ from num_warmup_steps (HF divides by "
     "num_training_steps - num_warmup_steps), got num_training_steps=10, "
     "num_warmup_steps=10."),
    (lambda: hf.get_polynomial_decay_schedule_with_warmup(0.0, 1, 10, lr_end=-0.1),
     f"`{P}(lr=...)` must be positive (HF divides by it), got lr=0.0."),
    (lambda: hf.get_polynomial_decay_schedule_with_warmup(0.1, 1, 10, power=-1.0),
     f"`{P}(power=...)` must be non-negative, got power=-1.0."),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.0, 1, 10, min_lr=0.0),
     f"`{C}(lr=...)` must be positive when min_lr is given (HF divides min_lr by it), got "
     "lr=0.0."),
    (lambda: hf.get_inverse_sqrt_schedule(0.1, 5, timescale=0),
     "`get_inverse_sqrt_schedule(timescale=...)` must be positive, got timescale=0."),
    # Checks of our own.
    (lambda: hf.get_wsd_schedule(0.1, 5, 10, num_training_steps=12),
     f"`{W}(num_training_steps=...)` must be at least num_warmup_steps + num_decay_steps = "
     "15 (HF would start the decay part-way through), got num_training_steps=12."),
    (lambda: hf.get_wsd_schedule(0.1, 5, 10, num_stable_steps=-1),
     f"`{W}(num_stable_steps=...)` must be non-negative, got num_stable_steps=-1."),
    (lambda: hf.get_linear_schedule_with_warmup(0.1, -1, 10),
     "`get_linear_schedule_with_warmup(num_warmup_steps=...)` must be non-negative, got "
     "num_warmup_steps=-1."),
    (lambda: hf.get_cosine_schedule_with_warmup(0.1, 2.5, 10),
     "`get_cosine_schedule_with_warmup(num_warmup_steps=...)` must be a whole number of "
     "steps, got num_warmup_steps=2.5."),
    (lambda: hf.get_constant_schedule(-0.1),
     "`get_constant_schedule(lr=...)` must be non-negative, got lr=-0.1."),
    (lambda: hf.get_constant_schedule_with_warmup(math.nan, 3),
     "`get_constant_schedule_with_warmup(lr=...)` must be a number, not NaN, got lr=nan."),
    (lambda: hf.get_cosine_schedule_with_warmup(0.1, 1, 10, num_cycles=math.inf),
     "`get_cosine_schedule_with_warmup(num_cycles=...)` must be finite, got num_cycles=inf."),
    (lambda: hf.get_wsd_schedule(0.1, 1, 2, 10, min_lr_ratio=math.nan),
     f"`{W}(min_lr_ratio=...)` must be a number, not NaN, got min_lr_ratio=nan."),
]


@pytest.mark.parametrize("call, message", _ERRORS)
def test_value_errors(call, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    call()


def _sgd():
  return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize("call", [
    lambda: O.get_polynomial_decay_schedule_with_warmup(_sgd(), 1, 10, lr_end=0.1),
    lambda: O.get_cosine_with_min_lr_schedule_with_warmup(_sgd(), 1, 10, min_lr=0.01,
                                                           min_lr_rate=0.1),
    lambda: O.get_cosine_with_min_lr_schedule_with_warmup(_sgd(), 1, 10),
    lambda: O.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(_sgd(), 1, 10),
    lambda: O.get_wsd_schedule(_sgd(), 1, 10),
    lambda: O.get_wsd_schedule(_sgd(), 1, 10, 20, warmup_type="exp"),
    lambda: O.get_wsd_schedule(_sgd(), 1, 10, 20, decay_type="1-square"),
])
def test_hf_raises_value_error_there_too(call):
  with pytest.raises(ValueError):
    call()


@pytest.mark.parametrize("make, step", [
    (lambda o: O.get_polynomial_decay_schedule_with_warmup(o, 10, 10), 10),
    (lambda o: O.get_inverse_sqrt_schedule(o, 5, timescale=0), 5),
])
def test_hf_divides_by_zero_there(make, step):
  lam = make(_sgd()).lr_lambdas[0]
  with pytest.raises(ZeroDivisionError):
    lam(step)


def test_wsd_warns_when_both_lengths_are_given():
  message = ("`get_wsd_schedule` got both num_training_steps=30 and num_stable_steps=4; "
             "num_stable_steps is used (as HF).")
  with pytest.warns(UserWarning, match=re.escape(message)):
    s = hf.get_wsd_schedule(1.0, 2, 3, num_training_steps=30, num_stable_steps=4)
  assert float(s(6)) == 1.0 and float(s(9)) == 0.0


@pytest.mark.parametrize("call, message", [
    (lambda: jax.jit(lambda n: hf.get_cosine_schedule_with_warmup(0.1, 1, 10, n))(0.5),
     "`get_cosine_schedule_with_warmup(num_cycles=...)` must be a concrete number (it fixes "
     "the period)"),
    (lambda: jax.jit(lambda w: hf.get_linear_schedule_with_warmup(0.1, w, 10))(2),
     "`get_linear_schedule_with_warmup(num_warmup_steps=...)` must be a concrete integer"),
    (lambda: hf.get_inverse_sqrt_schedule("0.1", 2),
     "`get_inverse_sqrt_schedule(lr=...)` must be a real number or a real array, got "
     "lr='0.1'."),
])
def test_type_errors(call, message):
  with pytest.raises(TypeError, match=re.escape(message)):
    call()


def test_exact_phase_at_any_step_with_x64():
  # Past 2**31 (x64 steps) the wave's turns are still reduced exactly.
  n, w, t = 1.7, 3, 1003
  s = hf.get_cosine_schedule_with_warmup(1.0, w, t, n)
  steps = [2**31 + 7, 2**40 + 3, 2**62 + 11]

  def exact(k):
    turns = Fraction("1.7") * (k - w) / (t - w)
    return 0.5 * (1 + math.cos(2 * math.pi * float(turns - math.floor(turns))))

  with enable_x64():
    got = np.asarray(s(np.asarray(steps, np.int64)))
  np.testing.assert_allclose(got, [exact(k) for k in steps], rtol=1e-12, atol=1e-14)


def test_module_lists_its_api():
  api = {"get_constant_schedule", "get_constant_schedule_with_warmup",
         "get_linear_schedule_with_warmup", "get_cosine_schedule_with_warmup",
         "get_cosine_with_hard_restarts_schedule_with_warmup",
         "get_polynomial_decay_schedule_with_warmup", "get_inverse_sqrt_schedule",
         "get_cosine_with_min_lr_schedule_with_warmup",
         "get_cosine_with_min_lr_schedule_with_warmup_lr_rate", "get_wsd_schedule",
         "get_reduce_on_plateau_schedule", "get_scheduler"}
  assert set(hf.__all__) == api and set(dir(hf)) == api
  assert all(callable(getattr(hf, name)) for name in api)
  namespace = {}
  exec(f"from {hf.__name__} import *", namespace)
  assert set(namespace) - {"__builtins__"} == api
