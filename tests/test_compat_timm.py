"""optax_scheds.compat.timm against the real timm 1.0.31 schedulers.

Expected values come from timm's scheduler classes driving a torch SGD
optimizer (plain Python float64, outside JAX): ``s(0)`` is the optimizer's lr
right after the scheduler is built, ``s(t)`` for ``t >= 1`` the lr after
``scheduler.step(t)`` (or ``step_update(t)`` for per-update schedulers).
timm is loaded without torchvision by ``tests/_timm.py``.
"""

import logging
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from _timm import timm_scheduler

import optax_scheds as osch
from optax_scheds.compat import timm as tm

RTOL = 2e-5
BIG = 2**31 - 1
_STEPS = 1024  # one step-array shape for every case: compile once per test
TIMM = timm_scheduler()
logging.getLogger("timm").setLevel(logging.ERROR)  # "no effect" warnings for t_initial=1

_jit_many = jax.jit(lambda ss, ts: [s(t) for s, t in zip(ss, ts, strict=True)])


def _optimizer(lr):
  return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def _timm_values(make, lr, steps, per_update=False):
  """timm's lr at each step: the constructor's at 0, else after step(t)."""
  opt = _optimizer(lr)
  sched = make(opt)
  initial = opt.param_groups[0]["lr"]
  out = []
  for t in np.asarray(steps).tolist():
    if t > 0:
      (sched.step_update if per_update else sched.step)(t)
    out.append(opt.param_groups[0]["lr"] if t > 0 else initial)
  return np.asarray(out, np.float64)


def _padded(steps):
  steps = np.asarray(steps, np.int64)
  return np.concatenate([steps, np.zeros(_STEPS - len(steps), np.int64)]).astype(np.int32)


def _assert_all_match(cases, eager=1):
  """Each ``(schedule, expected, steps, lr)`` gives ``expected`` under one jit
  call for all cases (compiling once is much cheaper than once per case), and
  op by op (``jax.disable_jit``) on a sample of the steps for the first
  ``eager`` cases."""
  steps = np.stack([_padded(c[2]) for c in cases])
  jitted = _jit_many([c[0] for c in cases], steps)
  for k, ((sched, expected, t, lr), got) in enumerate(zip(cases, jitted, strict=True)):
    assert got.dtype == jnp.float32 and got.shape == (_STEPS,)
    atol = 2e-7 * lr
    np.testing.assert_allclose(np.asarray(got)[:len(expected)], expected, rtol=RTOL,
                               atol=atol, err_msg=f"case {k}: {sched!r}"[:2000])
    if k < eager:
      sample = np.unique(np.linspace(0, len(t) - 1, 24).astype(int))
      with jax.disable_jit():
        eager_values = np.asarray(sched(np.asarray(t)[sample].astype(np.int32)))
      np.testing.assert_allclose(eager_values, expected[sample], rtol=RTOL, atol=atol)


# --------------------------------------------------------------------------
# Seeded random parameters. Each draw returns (ours, timm factory, lr, steps).


def _warmup(rng, lr):
  warmup_t = int(rng.choice([0, 0, int(rng.integers(1, 8))]))
  return dict(warmup_t=warmup_t, warmup_lr_init=float(rng.uniform(0, lr)),
              warmup_prefix=bool(rng.integers(2)))


def _cycle_kwargs(rng, lr):
  mul = float(rng.choice([1.0, 1.0, 2.0, rng.uniform(0.6, 0.95), rng.uniform(1.1, 2.5)]))
  kw = dict(t_initial=int(rng.integers(1, 25)), lr_min=float(rng.choice([0, rng.uniform(0, lr)])),
            cycle_mul=mul, cycle_decay=float(rng.uniform(0.3, 1)),
            cycle_limit=int(rng.integers(0, 5)), **_warmup(rng, lr))
  return kw


def _cycle_steps(kw):
  t, m, n = kw["t_initial"], kw["cycle_mul"], max(kw["cycle_limit"], 1)
  if m < 1:  # timm's log fails from t = t_initial / (1 - m) on (after the warmup prefix)
    return np.arange(math.ceil(t / (1 - m)) + (kw["warmup_t"] if kw["warmup_prefix"] else 0))
  length = t * n if m == 1 else t * (m**n - 1) / (m - 1)
  return np.arange(min(int(length) + kw["warmup_t"] + 2 * t + 5, _STEPS))


def _cosine(rng):
  lr = float(rng.uniform(0.01, 1))
  kw = _cycle_kwargs(rng, lr)
  kw["k_decay"] = float(rng.choice([1.0, rng.uniform(0.3, 3)]))
  return (tm.CosineLRScheduler(lr, **kw), lambda o: TIMM.CosineLRScheduler(o, **kw), lr,
          _cycle_steps(kw))


def _tanh(rng):
  lr = float(rng.uniform(0.01, 1))
  kw = _cycle_kwargs(rng, lr)
  kw.update(lb=float(rng.uniform(-8, -1)), ub=float(rng.uniform(0, 4)))
  return (tm.TanhLRScheduler(lr, **kw), lambda o: TIMM.TanhLRScheduler(o, **kw), lr,
          _cycle_steps(kw))


def _poly(rng):
  lr = float(rng.uniform(0.01, 1))
  kw = _cycle_kwargs(rng, lr)
  kw.update(power=float(rng.choice([0.5, rng.uniform(0, 3)])),
            k_decay=float(rng.choice([1.0, rng.uniform(0.3, 3)])))
  return (tm.PolyLRScheduler(lr, **kw), lambda o: TIMM.PolyLRScheduler(o, **kw), lr,
          _cycle_steps(kw))


def _step(rng):
  lr = float(rng.uniform(0.01, 1))
  decay_t = rng.choice([int(rng.integers(1, 30)), 2.4, 2.5, 0.3, 1 / 3, 7.7, 90.0])
  rate = float(rng.choice([0.5, rng.uniform(0.2, 1)]))
  kw = dict(decay_t=float(decay_t), decay_rate=rate, **_warmup(rng, lr))
  n = min(_STEPS, int(60 * decay_t) + 20)
  return (tm.StepLRScheduler(lr, **kw), lambda o: TIMM.StepLRScheduler(o, **kw), lr,
          np.arange(n))


def _multistep(rng):
  lr = float(rng.uniform(0.01, 1))
  milestones = sorted(int(m) for m in rng.integers(0, 60, size=rng.integers(0, 5)))
  if rng.integers(2):
    milestones = sorted(milestones + [float(rng.uniform(0, 60))])
  kw = dict(decay_t=milestones, decay_rate=float(rng.uniform(0, 1)), **_warmup(rng, lr))
  return (tm.MultiStepLRScheduler(lr, **kw), lambda o: TIMM.MultiStepLRScheduler(o, **kw),
          lr, np.arange(80))


def _square(x):  # a callable decay both timm (floats) and JAX (arrays) can run
  return 1 - x * x


def _wsd(rng):
  lr = float(rng.uniform(0.01, 1))
  t_initial = int(rng.integers(1, 200))
  stable_fn = str(rng.choice(["constant", "rsqrt", "power"]))
  warmup_t = int(rng.choice([0, rng.integers(1, 20)]))
  kw = dict(t_initial=t_initial, decay_t=int(rng.integers(1, t_initial + 1)),
            lr_min=float(rng.choice([0, rng.uniform(0, 0.5 * lr), rng.uniform(lr, 2 * lr)])),
            stable_fn=stable_fn, stable_power=float(rng.uniform(0.1, 2)),
            decay_fn=rng.choice(["linear", "1-sqrt", "cosine", "power", "exp", _square]),
            decay_power=float(rng.uniform(0.1, 3)), decay_ratio=float(rng.uniform(0.01, 0.9)),
            warmup_t=warmup_t, warmup_lr_init=float(rng.uniform(0, lr)))
  if stable_fn != "constant" and (warmup_t == 0 or rng.integers(2)):
    kw["stable_timescale"] = float(rng.choice([rng.integers(1, 50), rng.uniform(0.5, 50)]))
  return (tm.WSDLRScheduler(lr, **kw), lambda o: TIMM.WSDLRScheduler(o, **kw), lr,
          np.arange(min(_STEPS, t_initial + warmup_t + 20)))


@pytest.mark.parametrize("draw, seeds", [(_cosine, 28), (_tanh, 16), (_poly, 16),
                                         (_step, 16), (_multistep, 16), (_wsd, 24)],
                         ids=["cosine", "tanh", "poly", "step", "multistep", "wsd"])
def test_random_parameters_match_timm(draw, seeds):
  cases = []
  for seed in range(seeds):
    ours, make, lr, steps = draw(np.random.default_rng(seed))
    cases.append((ours, _timm_values(make, lr, steps), steps, lr))
  _assert_all_match(cases)


# --------------------------------------------------------------------------
# Quirks.


def test_value_at_zero_is_the_constructors_not_get_lr_0():
  tanh = TIMM.TanhLRScheduler(_optimizer(0.1), t_initial=10)
  multi = TIMM.MultiStepLRScheduler(_optimizer(0.1), decay_t=[1, 5], decay_rate=0.5)
  assert tanh._get_lr(0)[0] != 0.1 and multi._get_lr(0)[0] == 0.05  # timm's own quirk
  assert tanh.optimizer.param_groups[0]["lr"] == 0.1 == multi.optimizer.param_groups[0]["lr"]
  s = tm.TanhLRScheduler(0.1, t_initial=10)
  m = tm.MultiStepLRScheduler(0.1, decay_t=[1, 5], decay_rate=0.5)
  np.testing.assert_allclose([s(0), m(0), m(1), m(3), m(4)], [0.1, 0.1, 0.05, 0.05, 0.025],
                             rtol=1e-6)


def test_multistep_milestone_takes_effect_one_step_early():
  s = tm.MultiStepLRScheduler(1.0, decay_t=[10], decay_rate=0.1)
  assert float(s(8)) == 1.0 and float(s(9)) == pytest.approx(0.1)


def _restart_quirks():
  """(t_initial, cycle_mul, t) where timm's float log starts a cycle one step
  after the exact restart step t."""
  found = []
  for t_initial, m in [(1, 10.0), (2, 3.0), (1, 3.0), (5, 1.5), (3, 10.0)]:
    for k in range(1, 40):
      start = t_initial * (m**k - 1) / (m - 1)
      if start > BIG:
        break
      if start.is_integer() and math.floor(math.log(1 - start / t_initial * (1 - m), m)) < k:
        found.append((t_initial, m, int(start)))
  return found


def test_float_log_restart_placement_matches_timm():
  quirks = _restart_quirks()
  assert (1, 10.0, 111) in quirks and len(quirks) >= 5
  cases = []
  for t_initial, m, t in quirks[::3]:
    steps = np.asarray([t - 1, t, t + 1, t + 2])
    def make(o, t_initial=t_initial, m=m):
      return TIMM.CosineLRScheduler(o, t_initial, cycle_mul=m, cycle_limit=100)

    expected = _timm_values(make, 0.5, steps)
    assert expected[1] == 0.0 and expected[2] > 0.4  # lr_min, then the late restart
    cases.append((tm.CosineLRScheduler(0.5, t_initial, cycle_mul=m, cycle_limit=100),
                  expected, steps, 0.5))
  _assert_all_match(cases, eager=1)


def test_restarts_match_timm_over_the_whole_int32_range():
  rng = np.random.default_rng(0)
  cases = []
  for draw in range(12):
    t_initial = int(rng.integers(1, 1000))
    m = float(rng.choice([rng.uniform(1.05, 3), rng.integers(2, 5)]))
    if draw == 0:
      t_initial, m = 1, 10.0
    starts = [t_initial * (m**k - 1) / (m - 1) for k in range(200)]
    near = sorted({max(0, min(BIG, int(s) + d)) for s in starts if s < BIG
                   for d in (-1, 0, 1, 2)} | {BIG - 1, BIG})[:_STEPS]
    steps = np.asarray(near)
    kw = dict(t_initial=t_initial, cycle_mul=m, cycle_limit=10**6, k_decay=0.7,
              lr_min=0.01, cycle_decay=0.999)
    expected = _timm_values(lambda o, kw=kw: TIMM.CosineLRScheduler(o, **kw), 1.0, steps)
    cases.append((tm.CosineLRScheduler(1.0, **kw), expected, steps, 1.0))
  _assert_all_match(cases, eager=1)


def test_fractional_decay_t_is_python_floor_division_at_any_step():
  # 0.5 ** n is exact in float32, so a stair off by one would be off by 2x.
  cases = []
  for decay_t in (21474836.4, 25000000.5, 17179869.2, 9999999.7):
    n = np.arange(int(BIG / decay_t) + 1)
    edges = np.floor(n * decay_t).astype(np.int64)
    steps = np.unique(np.clip(np.concatenate([edges - 1, edges, edges + 1, [BIG]]), 0, BIG))
    def make(o, d=decay_t):
      return TIMM.StepLRScheduler(o, decay_t=d, decay_rate=0.5)

    cases.append((tm.StepLRScheduler(1.0, decay_t, decay_rate=0.5),
                  _timm_values(make, 1.0, steps), steps, 1.0))
    assert len(steps) <= _STEPS
  _assert_all_match(cases, eager=1)


def test_past_the_largest_step_saturates_instead_of_wrapping():
  s = tm.CosineLRScheduler(1.0, 10, warmup_t=5, lr_min=0.25)
  got = jax.jit(s)(jnp.asarray([BIG - 5, BIG - 1, BIG], jnp.int32))
  np.testing.assert_allclose(got, [0.25, 0.25, 0.25])


def test_cycle_mul_below_one_is_lr_min_where_timm_fails():
  sched = TIMM.CosineLRScheduler(_optimizer(0.1), 10, cycle_mul=0.5, cycle_limit=1000)
  with pytest.raises(ValueError, match="math domain error"):
    sched._get_lr(20)
  s = tm.CosineLRScheduler(0.1, 10, cycle_mul=0.5, cycle_limit=1000, lr_min=0.01)
  steps = np.arange(20)
  expected = _timm_values(lambda o: TIMM.CosineLRScheduler(o, 10, cycle_mul=0.5,
                                                           cycle_limit=1000, lr_min=0.01),
                          0.1, steps)
  np.testing.assert_allclose(s(steps), expected, rtol=RTOL, atol=2e-8)
  np.testing.assert_allclose(s(np.asarray([20, 21, BIG])), 0.01)


def test_traced_values_and_float_steps():
  @jax.jit
  def f(lr, lr_min, t):
    return tm.CosineLRScheduler(lr, 10, lr_min=lr_min, warmup_t=2)(t)

  expected = _timm_values(lambda o: TIMM.CosineLRScheduler(o, 10, lr_min=0.01, warmup_t=2),
                          0.1, np.arange(15))
  np.testing.assert_allclose(f(0.1, 0.01, jnp.arange(15)), expected, rtol=RTOL)
  # Float steps are floored for the cycle and interpolate inside it.
  s = tm.CosineLRScheduler(1.0, 10)
  assert float(s(3.0)) == pytest.approx(float(s(3)))
  assert float(s(3)) > float(s(3.5)) > float(s(4))


# --------------------------------------------------------------------------
# create_scheduler_v2.

_FACTORY = [
    dict(sched="cosine", num_epochs=20, warmup_epochs=2, cooldown_epochs=1, min_lr=1e-4),
    dict(sched="cosine", num_epochs=12, warmup_epochs=3, warmup_prefix=True, cycle_limit=3,
         cycle_mul=1.5, k_decay=1.5),
    dict(sched="tanh", num_epochs=15, warmup_epochs=2, cycle_limit=2, cycle_decay=0.5),
    dict(sched="tanh", num_epochs=15, warmup_epochs=2, warmup_prefix=True),
    dict(sched="poly", num_epochs=10, decay_rate=2.0, min_lr=1e-3, cooldown_epochs=2),
    dict(sched="step", num_epochs=30, decay_epochs=2.4, warmup_epochs=2),
    dict(sched="step", num_epochs=30, warmup_epochs=2, warmup_prefix=True),
    dict(sched="constant", num_epochs=10, warmup_epochs=3),
    dict(sched="multistep", num_epochs=30, decay_milestones=[5, 10, 10], warmup_epochs=1),
    dict(sched="wsd", num_epochs=30, warmup_epochs=3, cooldown_epochs=2),
    dict(sched="wsd", num_epochs=30, warmup_epochs=3, decay_epochs=7, warmup_prefix=True,
         decay_fn="cosine"),
    dict(sched="rsqrt", num_epochs=30, warmup_epochs=4),
    dict(sched="rsqrt", num_epochs=30, stable_timescale=2.5),
    dict(sched="none", num_epochs=30, warmup_epochs=4, warmup_prefix=True),
]


def _factory_cases(kw, step_on_epochs, updates_per_epoch):
  lr = 0.1
  ours, n = tm.create_scheduler_v2(lr, step_on_epochs=step_on_epochs,
                                   updates_per_epoch=updates_per_epoch, **kw)
  timm_sched, timm_n = TIMM.create_scheduler_v2(
      _optimizer(lr), step_on_epochs=step_on_epochs, updates_per_epoch=updates_per_epoch,
      **kw)
  assert n == timm_n
  if timm_sched is None:
    assert ours is None
    return []

  def make(o):
    return TIMM.create_scheduler_v2(o, step_on_epochs=step_on_epochs,
                                    updates_per_epoch=updates_per_epoch, **kw)[0]

  epochs = n + 3
  if step_on_epochs:
    per_epoch = _timm_values(make, lr, np.arange(epochs))
    if updates_per_epoch:
      steps = np.arange(min(epochs * updates_per_epoch, _STEPS))
      return [(ours, per_epoch[steps // updates_per_epoch], steps, lr)]
    return [(ours, per_epoch, np.arange(epochs), lr)]
  steps = np.arange(min(epochs * updates_per_epoch, _STEPS))
  return [(ours, _timm_values(make, lr, steps, per_update=True), steps, lr)]


def test_create_scheduler_v2_matches_timm():
  cases = []
  for kw in _FACTORY:
    for step_on_epochs, updates in ((True, 0), (True, 7), (False, 5)):
      cases += _factory_cases(kw, step_on_epochs, updates)
  assert {kw["sched"] for kw in _FACTORY} == set(tm._SCHEDS)
  _assert_all_match(cases, eager=1)


def test_create_scheduler_v2_defaults():
  ours, n = tm.create_scheduler_v2(0.1)
  timm_sched, timm_n = TIMM.create_scheduler_v2(_optimizer(0.1))
  assert n == timm_n == 300
  steps = np.arange(0, 400, 7)
  np.testing.assert_allclose(
      ours(steps), _timm_values(lambda o: TIMM.create_scheduler_v2(o)[0], 0.1, steps),
      rtol=RTOL, atol=2e-8)


def test_api_surface():
  api = {"CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler",
         "TanhLRScheduler", "WSDLRScheduler", "create_scheduler_v2"}
  assert set(tm.__all__) == set(dir(tm)) == api
  namespace = {}
  exec("from optax_scheds.compat.timm import *", namespace)
  assert set(namespace) - {"__builtins__"} == api
  assert isinstance(tm.StepLRScheduler(0.1, 3, 0.5), osch.Schedule)


# --------------------------------------------------------------------------
# Errors: where timm raises, and what this port refuses.

_ERRORS = [
    (lambda: tm.CosineLRScheduler(0.1, 0), ValueError,
     "`CosineLRScheduler(t_initial=...)` must be positive, got t_initial=0."),
    (lambda: tm.CosineLRScheduler(0.1, 10, lr_min=-1.0), ValueError,
     "`CosineLRScheduler(lr_min=...)` must be non-negative, got lr_min=-1.0."),
    (lambda: tm.CosineLRScheduler(0.1, 10, cycle_mul=0.0), ValueError,
     "`CosineLRScheduler(cycle_mul=...)` must be positive (timm takes its log in base "
     "cycle_mul), got cycle_mul=0.0."),
    (lambda: tm.CosineLRScheduler(0.1, 10, k_decay=-1.0), ValueError,
     "`CosineLRScheduler(k_decay=...)` must be non-negative (timm divides by zero at "
     "a restart for k < 0), got k_decay=-1.0."),
    (lambda: tm.CosineLRScheduler(float("nan"), 10), ValueError,
     "`CosineLRScheduler(lr=...)` must be a number, not NaN, got lr=nan."),
    (lambda: tm.CosineLRScheduler(0.1, 10, warmup_lr_init=math.inf), ValueError,
     "`CosineLRScheduler(warmup_lr_init=...)` must be finite, got warmup_lr_init=inf."),
    (lambda: tm.CosineLRScheduler(0.1, 10, warmup_t=-2), ValueError,
     "`CosineLRScheduler(warmup_t=...)` must be non-negative, got warmup_t=-2."),
    (lambda: tm.CosineLRScheduler(0.1, 10, cycle_mul=1.0001, cycle_limit=10**6), ValueError,
     "`CosineLRScheduler(cycle_limit=...)` must be at most 65536 (restarts are tabled one "
     "per cycle; cycle_mul=1.0001 puts more below the largest step), got "
     "cycle_limit=1000000."),
    (lambda: tm.CosineLRScheduler(0.1, 10, noise_range_t=(3, 8)), ValueError,
     "`CosineLRScheduler(noise_range_t=...)` must be None (timm's lr noise draws from "
     "torch's CPU generator, whose stream JAX cannot reproduce), got noise_range_t=(3, 8). "
     "Multiply the schedule by your own noise if you need it."),
    (lambda: tm.TanhLRScheduler(0.1, 10, lb=3.0, ub=3.0), ValueError,
     "`TanhLRScheduler(lb=...)` must be below ub (ub=3.0), got lb=3.0."),
    (lambda: tm.TanhLRScheduler(0.1, 10, cycle_limit=-1), ValueError,
     "`TanhLRScheduler(cycle_limit=...)` must be non-negative, got cycle_limit=-1."),
    (lambda: tm.PolyLRScheduler(0.1, 10, power=-0.5), ValueError,
     "`PolyLRScheduler(power=...)` must be non-negative, got power=-0.5."),
    (lambda: tm.StepLRScheduler(0.1, 0), ValueError,
     "`StepLRScheduler(decay_t=...)` must be positive (timm divides by it), got "
     "decay_t=0.0."),
    (lambda: tm.StepLRScheduler(0.1, 0.123456789), ValueError,
     "`StepLRScheduler(decay_t=...)` must be a whole number or a simple fraction such as "
     "2.5 or 2.4 (its stairs are placed with exact integer arithmetic), got "
     "decay_t=0.123456789."),
    (lambda: tm.StepLRScheduler(0.1, 3, decay_rate=-0.1), ValueError,
     "`StepLRScheduler(decay_rate=...)` must be non-negative, got decay_rate=-0.1."),
    (lambda: tm.MultiStepLRScheduler(0.1, [60, 30]), ValueError,
     "`MultiStepLRScheduler(decay_t=...)` must be sorted (timm's bisect assumes it), got "
     "decay_t=[60, 30]."),
    (lambda: tm.MultiStepLRScheduler(0.1, 30), TypeError,
     "`MultiStepLRScheduler(decay_t=...)` must be a sequence of milestones, got decay_t=30."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 11), ValueError,
     "`WSDLRScheduler(decay_t=...)` must be in (0, t_initial] (t_initial=10), got "
     "decay_t=11."),
    (lambda: tm.WSDLRScheduler(0.1, 0, 1), ValueError,
     "`WSDLRScheduler(t_initial=...)` must be positive, got t_initial=0."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, stable_fn="linear"), ValueError,
     "`WSDLRScheduler(stable_fn=...)` must be one of 'constant', 'rsqrt', 'power', got "
     "stable_fn='linear'."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, decay_fn="square"), ValueError,
     "`WSDLRScheduler(decay_fn=...)` must be one of 'linear', '1-sqrt', 'cosine', 'power', "
     "'exp' or a callable, got decay_fn='square'."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, decay_ratio=1.0), ValueError,
     "`WSDLRScheduler(decay_ratio=...)` must be in the open interval (0, 1), got "
     "decay_ratio=1.0."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, decay_power=0.0), ValueError,
     "`WSDLRScheduler(decay_power=...)` must be positive, got decay_power=0.0."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, stable_power=0.0), ValueError,
     "`WSDLRScheduler(stable_power=...)` must be positive, got stable_power=0.0."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, lr_min=-0.1), ValueError,
     "`WSDLRScheduler(lr_min=...)` must be non-negative, got lr_min=-0.1."),
    (lambda: tm.WSDLRScheduler(0.1, 10, 2, stable_fn="rsqrt"), ValueError,
     "`WSDLRScheduler(stable_timescale=...)` must be positive for stable_fn='rsqrt' (it "
     "defaults to warmup_t=0; set it explicitly when there is no warmup), got "
     "stable_timescale=None."),
    (lambda: tm.create_scheduler_v2(0.1, "plateau"), ValueError,
     "`create_scheduler_v2(sched=...)` must not be 'plateau' (deprecated in timm; it steps "
     "on an eval metric, which a schedule of the step cannot see), got sched='plateau'. "
     "Use optax_scheds.compat.torch.ReduceLROnPlateau (timm's PlateauLRScheduler wraps "
     "torch's) or osch.reduce_on_plateau."),
    (lambda: tm.create_scheduler_v2(0.1, "cosin"), ValueError,
     "`create_scheduler_v2(sched=...)` must be one of 'cosine', 'tanh', 'step', "
     "'constant', 'multistep', 'poly', 'wsd', 'rsqrt', 'none', got sched='cosin'."),
    (lambda: tm.create_scheduler_v2(0.1, step_on_epochs=False), ValueError,
     "`create_scheduler_v2(updates_per_epoch=...)` must be positive with "
     "step_on_epochs=False (the number of updates per epoch), got updates_per_epoch=0."),
    (lambda: tm.create_scheduler_v2(0.1, noise=[0.5]), ValueError,
     "`create_scheduler_v2(noise=...)` must be None (timm's lr noise draws from torch's "
     "CPU generator, whose stream JAX cannot reproduce), got noise=[0.5]."),
    (lambda: tm.create_scheduler_v2(0.1, "wsd", num_epochs=10, warmup_epochs=4,
                                    decay_epochs=7), ValueError,
     "`create_scheduler_v2(decay_epochs=...)` must be in (0, num_epochs - warmup_epochs] "
     "after rounding to epochs (a value in (0, 1) is a fraction of it; got a decay of 7 "
     "and a stable + decay length of 6), got decay_epochs=7.0."),
    (lambda: tm.create_scheduler_v2(0.1, "cosine", num_epochs=0), ValueError,
     "`create_scheduler_v2(num_epochs=...)` must be positive, got num_epochs=0."),
    (lambda: tm.create_scheduler_v2(0.1, "step", decay_epochs=0.123456789), ValueError,
     "`create_scheduler_v2(decay_epochs=...)` must be a whole number or a simple fraction "
     "such as 2.5 or 2.4 (its stairs are placed with exact integer arithmetic), got "
     "decay_epochs=0.123456789."),
    (lambda: tm.create_scheduler_v2(0.1, "rsqrt", num_epochs=10), ValueError,
     "`create_scheduler_v2(stable_timescale=...)` must be positive for stable_fn='rsqrt' "
     "(it defaults to warmup_epochs=0; set it explicitly when there is no warmup), got "
     "stable_timescale=None."),
]


@pytest.mark.parametrize("make, error, message", _ERRORS,
                         ids=[f"{k}" for k in range(len(_ERRORS))])
def test_errors(make, error, message):
  with pytest.raises(error, match=re.escape(message)):
    make()


def test_timm_raises_where_we_raise():
  opt = _optimizer(0.1)
  with pytest.raises(ValueError, match=re.escape("Invalid decay_t (11)")):
    TIMM.WSDLRScheduler(opt, 10, 11)
  with pytest.raises(AssertionError):
    TIMM.TanhLRScheduler(opt, 10, lb=3.0, ub=3.0)
  with pytest.raises(ZeroDivisionError):
    TIMM.StepLRScheduler(opt, 0)._get_lr(1)
  with pytest.raises(ZeroDivisionError):
    TIMM.CosineLRScheduler(opt, 10, cycle_limit=2, k_decay=-1.0)._get_lr(10)
  with pytest.raises(ValueError, match=re.escape("Unknown scheduler 'cosin'")):
    TIMM.create_scheduler_v2(opt, "cosin")
  with pytest.raises(ValueError, match="wsd schedule requires"):
    TIMM.create_scheduler_v2(opt, "wsd", num_epochs=10, warmup_epochs=4, decay_epochs=7)
