"""timm's ``timm.scheduler`` schedulers as optax_scheds schedules.

Each name here takes the optimizer's base learning rate first, then timm
1.0.31's own parameter names and defaults (without ``optimizer``,
``t_in_epochs`` and ``initialize``), and returns a jittable
:class:`~optax_scheds.Schedule` ``s`` over timm's own counter ``t``:

* ``s(t)`` for ``t >= 1`` is timm's ``_get_lr(t)``, the lr that
  ``scheduler.step(t)`` (per epoch) or ``scheduler.step_update(t)`` (per
  update) sets;
* ``s(0)`` is the lr the optimizer holds right after the scheduler is built:
  ``warmup_lr_init`` with a warmup, else the base lr. That is not always
  ``_get_lr(0)`` (timm's quirk): a tanh schedule's ``_get_lr(0)`` is
  ``0.99999917 * lr``, and a multistep milestone at 0 or 1 already applies in
  ``_get_lr(0)``.

``t`` counts whatever the timm scheduler counted: epochs (``t_in_epochs=True``,
timm's ``step(epoch + 1)`` after each epoch) or updates (``step_update``
after each update), so update ``k`` of the run uses ``s(k)``, optax's
``count == k``. :func:`create_scheduler_v2` builds a per-update schedule from
a per-epoch one with ``updates_per_epoch``. Each is built from native
schedules, named in its docstring.
"""

import functools
import math
import numbers
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._arithmetic import maximum
from optax_scheds._base import (
  Schedule,
  as_float,
  as_int,
  clipped_position,
  int_dtype,
  locate,
  position,
  schedule_class,
  static_field,
)
from optax_scheds._combinators import Advance, cooldown, k_decay, stretch, warmup
from optax_scheds._composites import inverse_sqrt
from optax_scheds._join import join
from optax_scheds._primitives import (
  constant,
  cosine_decay,
  exponential_decay,
  linear,
  piecewise_constant,
  polynomial,
  tanh_decay,
)
from optax_scheds._registry import constructor

__all__ = [
    "CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler",
    "TanhLRScheduler", "WSDLRScheduler", "create_scheduler_v2",
]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


# Restart steps are tabled one per cycle; more than this many cycles below the
# largest step (only for a cycle_mul very close to 1 with a huge cycle_limit)
# are refused rather than placed approximately.
_MAX_RESTARTS = 2**16


# --------------------------------------------------------------------------
# Private pieces: only where no native composition gives timm's values.


def _timm_cycle_index(t: int, t_initial: int, cycle_mul: float) -> float:
  """timm's cycle index of step ``t`` for ``cycle_mul != 1``, its float64
  expression verbatim; ``inf`` where timm's ``math.log`` fails (``cycle_mul < 1``
  past the last cycle)."""
  try:
    return math.floor(math.log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))
  except (ValueError, OverflowError):
    return math.inf


@functools.lru_cache(maxsize=64)
def _restart_layout(t_initial: int, cycle_mul: float, cycle_limit: int, imax: int):
  """timm's restarts for ``cycle_mul != 1``: the first step ``R_k`` of each
  cycle ``k <= cycle_limit`` below ``imax`` as timm's float64 ``floor(log(...))``
  places it, with timm's float64 cycle start ``S_k``'s offset ``R_k - S_k`` and
  length ``cycle_mul**k * t_initial``.

  ``R_k`` starts from the ceiling of the real start and moves until timm's
  own index expression changes between ``R_k - 1`` and ``R_k``, so it is
  exact for every step (timm's index is monotone in ``t``). One entry per
  cycle; returns ``None`` past ``_MAX_RESTARTS`` entries.
  """
  T, m = t_initial, cycle_mul
  starts, cycles, offsets, lengths = [0], [0], [0.0], [float(T)]
  for k in range(1, cycle_limit + 1):
    if k > _MAX_RESTARTS:
      return None
    try:
      guess = math.ceil(T * (m**k - 1) / (m - 1))
    except OverflowError:
      break
    c = max(starts[-1], min(guess, imax + 1))
    while c > starts[-1] and _timm_cycle_index(c - 1, T, m) >= k:
      c -= 1
    while c <= imax and _timm_cycle_index(c, T, m) < k:
      c += 1
    if c > imax:
      break
    if _timm_cycle_index(c, T, m) == math.inf:
      # timm's log fails from here on: no cycle of timm's has a value, so the
      # schedule is past its last cycle (lr_min).
      starts.append(c)
      cycles.append(cycle_limit)
      offsets.append(0.0)
      lengths.append(1.0)
      break
    starts.append(c)
    cycles.append(k)
    offsets.append(c - (1 - m**k) / (1 - m) * T)  # timm's t_curr at R_k
    lengths.append(m**k * T)
  return (np.asarray(starts, np.int64), np.asarray(cycles, np.int64),
          np.asarray(offsets, np.float64), np.asarray(lengths, np.float64))


@schedule_class
class _TimmCycles(Schedule):
  """timm's cycles: ``shape``, a unit curve over ``[0, t_initial]`` (a native
  ``cosine_decay``, ``tanh_decay`` or ``polynomial``), placed in timm's cycles
  and mapped onto ``[lr_min, lr * cycle_decay**i]``; ``lr_min`` from cycle
  ``cycle_limit`` on. ``osch.cycle`` gives the same curves with exact
  restarts; this class reproduces timm's float64 restart placement."""

  shape: Schedule
  lr: jax.typing.ArrayLike
  lr_min: jax.typing.ArrayLike
  cycle_decay: jax.typing.ArrayLike
  t_initial: int = static_field()
  cycle_mul: float = static_field(default=1.0)
  cycle_limit: int = static_field(default=1)

  def _value(self, i, f):
    T = self.t_initial
    if self.cycle_mul == 1:
      k = i // T
      inner_i, inner_f = i - k * T, f
    else:
      starts, cycles, offsets, lengths = _restart_layout(
          T, self.cycle_mul, self.cycle_limit, int(np.iinfo(int_dtype()).max))
      e = locate(starts, i) - 1
      k = as_int(cycles)[e]
      t_curr = position(i - as_int(starts)[e], f) + as_float(offsets)[e]
      u = t_curr / as_float(lengths)[e] * T  # timm's t_curr / t_i, on the shape's clock
      floor = jnp.clip(jnp.floor(u), 0, T)
      inner_i, inner_f = floor.astype(int_dtype()), jnp.clip(u - floor, 0, 1)
    unit = self.shape._value(inner_i, inner_f)
    d, kf = as_float(self.cycle_decay), as_float(k)
    # d**0 = 1 exactly, with a finite gradient at d = 0.
    gamma = jnp.where(k == 0, jnp.ones_like(d), d ** jnp.maximum(kf, 1))
    lr, lr_min = as_float(self.lr), as_float(self.lr_min)
    out = lr_min + (lr * gamma - lr_min) * unit
    limit = min(self.cycle_limit, int(np.iinfo(int_dtype()).max))
    return jnp.where(k < limit, out, jnp.broadcast_to(lr_min, out.shape))


@functools.lru_cache(maxsize=64)
def _stair_fraction(decay_t: float, imax: int):
  """``(P, Q, late)`` such that Python's ``t // decay_t`` (the floor of the
  exact quotient) is ``floor(t Q / P)``, minus 1 where ``late`` and ``t`` is a
  positive multiple of ``P``, for every ``0 <= t <= imax``; ``None`` if no
  fraction with ``P * Q <= imax`` does (e.g. ``decay_t=0.123456789``).

  ``decay_t`` is a binary float, e.g. ``2.4`` is ``2.39999999999999991...``:
  ``P / Q`` is its nearest simple fraction, close enough that no ``t`` in
  range falls between the two quotients except at exact multiples of ``P``,
  where the sign of the difference decides (``late``: ``decay_t > P / Q``).
  """
  exact = Fraction(decay_t)
  q = 1
  while q <= imax:
    c = exact.limit_denominator(q)
    P, Q = c.numerator, c.denominator
    if P * Q > imax:
      return None
    delta = exact - c
    if P > 0 and (delta == 0 or imax * abs(delta) * P < c * exact):
      return P, Q, delta > 0
    q *= 2
  return None


@schedule_class
class _FractionalStairs(Schedule):
  """``lr * rate**(t // decay_t)`` for a fractional ``decay_t = P / Q``
  (see :func:`_stair_fraction`): the stair index in integers, at any step."""

  lr: jax.typing.ArrayLike
  rate: jax.typing.ArrayLike
  P: int = static_field()
  Q: int = static_field()
  late: bool = static_field(default=False)

  def _value(self, i, f):
    P, Q = self.P, self.Q
    n = (i // P) * Q + ((i % P) * Q) // P
    if self.late:
      n = n - ((i > 0) & (i % P == 0)).astype(n.dtype)
    rate, nf = as_float(self.rate), as_float(n)
    power = jnp.where(n == 0, jnp.ones_like(rate), rate ** jnp.maximum(nf, 1))
    return as_float(self.lr) * power


@schedule_class
class _PowerStable(Schedule):
  """timm's WSD ``'rsqrt'`` / ``'power'`` stable phase:
  ``lr * (1 + t / timescale) ** -power``."""

  lr: jax.typing.ArrayLike
  timescale: jax.typing.ArrayLike
  power: jax.typing.ArrayLike

  def _value(self, i, f):
    x = position(i, f) / as_float(self.timescale)
    return as_float(self.lr) * (1 + x) ** -as_float(self.power)


@schedule_class
class _DecayFactor(Schedule):
  """timm's WSD decay factor for ``decay_fn='power'`` (``1 - x**power``) or a
  callable ``fn(x)``: 1 until ``start``, then of ``x = min((t - start) /
  steps, 1)`` (so ``fn(1)`` after the end, as timm)."""

  start: jax.typing.ArrayLike
  steps: jax.typing.ArrayLike
  power: jax.typing.ArrayLike = 0.5
  fn: Callable | None = static_field(default=None)

  def _value(self, i, f):
    d = i - as_int(self.start)
    x = clipped_position(d, f, self.steps) / as_float(self.steps)
    if self.fn is None:
      factor = 1 - x ** as_float(self.power)
    else:
      factor = jnp.broadcast_to(as_float(self.fn(x)), x.shape)
    after = (d > 0) if f is None else (d > 0) | ((d == 0) & (f > 0))
    return jnp.where(after, factor, jnp.ones_like(factor))


# --------------------------------------------------------------------------
# Validation, in the name of the public function the user called.


def _check_lr(fn: str, name: str, x):
  return _checks.check_value(fn, name, x, low=0.0, constraint="non-negative")


def _check_bool(fn: str, name: str, x) -> bool:
  if not isinstance(x, bool):
    _checks.fail(fn, name, "a bool", x, TypeError)
  return x


def _check_concrete_number(fn: str, name: str, x, constraint: str, ok) -> float:
  """A concrete real number (it fixes the structure) satisfying ``ok``."""
  if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.number)) or (
      isinstance(x, np.ndarray)):
    _checks.fail(fn, name, f"a concrete number, {constraint}", x, TypeError)
  x = float(x)
  if not (math.isfinite(x) and ok(x)):
    _checks.fail(fn, name, constraint, x)
  return x


def _check_noise(fn: str, noise_range_t) -> None:
  if noise_range_t is not None:
    raise ValueError(
        f"`{fn}(noise_range_t=...)` must be None (timm's lr noise draws from "
        f"torch's CPU generator, whose stream JAX cannot reproduce), got "
        f"noise_range_t={noise_range_t!r}. Multiply the schedule by your own "
        "noise if you need it.")


def _check_k_decay(fn: str, name: str, x):
  # timm evaluates 0.0 ** k at the start of every cycle: ZeroDivisionError for k < 0.
  return _checks.check_value(
      fn, name, x, low=0.0,
      constraint="non-negative (timm divides by zero at a restart for k < 0)")


def _check_layout(fn: str, names: dict, t_initial: int, cycle_mul: float,
                  cycle_limit: int) -> None:
  if cycle_mul != 1 and _restart_layout(t_initial, cycle_mul, cycle_limit,
                                        int(np.iinfo(int_dtype()).max)) is None:
    name = names.get("cycle_limit", "cycle_limit")
    _checks.fail(fn, name, f"at most {_MAX_RESTARTS} (restarts are tabled one per "
                 f"cycle; {names.get('cycle_mul', 'cycle_mul')}={cycle_mul} puts more "
                 "below the largest step)", cycle_limit)


def _check_decay_t(fn: str, name: str, decay_t, shown=None) -> float | int:
  """A positive number of steps per stair whose stairs can be placed exactly."""
  d = _check_concrete_number(fn, name, decay_t,
                             "positive (timm divides by it)", lambda v: v > 0)
  if d.is_integer():
    return _checks.check_steps(fn, name, int(d), minimum=1)
  if _stair_fraction(d, int(np.iinfo(int_dtype()).max)) is None:
    _checks.fail(fn, name, "a whole number or a simple fraction such as 2.5 or 2.4 "
                 "(its stairs are placed with exact integer arithmetic)",
                 decay_t if shown is None else shown)
  return d


# --------------------------------------------------------------------------
# Builders: validated values in, schedules out.


def _with_warmup(lr, warmup_t: int, warmup_lr_init, warmup_prefix: bool,
                 after: Schedule, ramp_to_after: bool = False) -> Schedule:
  """timm's value at t = 0 and its warmup around ``after``, the schedule of
  timm's post-warmup ``t`` (``t - warmup_t`` with ``warmup_prefix``, else
  ``t``): the ramp goes from ``warmup_lr_init`` to ``lr`` (or to
  ``after``'s value at ``warmup_t`` with ``ramp_to_after``, tanh's way)."""
  if warmup_t == 0:
    # The constructor sets the base lr; _get_lr runs from t = 1 on.
    return join([constant(lr), Advance(after, 1)], [1])
  raw = after if warmup_prefix else Advance(after, warmup_t)
  if ramp_to_after:
    return warmup(raw, warmup_t, init_value=warmup_lr_init)
  return join([linear(warmup_lr_init, lr, warmup_t), raw], [warmup_t])


def _cycles(shape: Schedule, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit,
            k) -> Schedule:
  if not (_checks.is_concrete(k) and np.ndim(k) == 0 and float(k) == 1.0):
    shape = k_decay(shape, t_initial, k)
  return _TimmCycles(shape, lr, lr_min, cycle_decay, t_initial,
                     1.0 if cycle_mul == 1 else cycle_mul, cycle_limit)


def _step(lr, decay_t, decay_rate) -> Schedule:
  """``lr * decay_rate ** (t // decay_t)``, Python's floor division."""
  if isinstance(decay_t, int):
    if _checks.is_concrete(decay_rate) and np.ndim(decay_rate) == 0 and decay_rate == 0:
      return join([constant(lr), constant(0.0)], [decay_t])
    return exponential_decay(lr, decay_t, decay_rate, staircase=True)
  P, Q, late = _stair_fraction(decay_t, int(np.iinfo(int_dtype()).max))
  return _FractionalStairs(lr, decay_rate, P, Q, late)


def _multistep(fn: str, name: str, lr, decay_t, decay_rate) -> Schedule:
  """``lr * decay_rate ** bisect_right(decay_t, t + 1)``."""
  if isinstance(decay_t, (str, bytes, dict)) or not isinstance(decay_t, Sequence | np.ndarray):
    _checks.fail(fn, name, "a sequence of milestones", decay_t, TypeError)
  milestones = [_check_concrete_number(fn, name, m, "finite and non-negative",
                                       lambda v: v >= 0) for m in list(decay_t)]
  if any(b < a for a, b in zip(milestones, milestones[1:])):
    _checks.fail(fn, name, "sorted (timm's bisect assumes it)", list(decay_t))
  imax = int(np.iinfo(int_dtype()).max)
  # t + 1 >= m from t = ceil(m) - 1 on: one step before the milestone.
  counts = Counter(max(math.ceil(m) - 1, 0) for m in milestones)
  scales = {b: decay_rate**c for b, c in sorted(counts.items()) if b <= imax}
  return piecewise_constant(lr, scales)


def _wsd(lr, t_initial, decay_t, lr_min, stable_fn, stable_timescale, stable_power,
         decay_fn, decay_power, decay_ratio, warmup_t, warmup_lr_init) -> Schedule:
  if stable_fn == "constant":
    stable = constant(lr)
  elif stable_fn == "rsqrt" and float(stable_timescale).is_integer():
    stable = inverse_sqrt(lr, 0, timescale=int(stable_timescale))
  else:
    power = 0.5 if stable_fn == "rsqrt" else stable_power
    stable = _PowerStable(lr, float(stable_timescale), power)
  start = t_initial - decay_t
  if callable(decay_fn) or decay_fn == "power":
    factor = _DecayFactor(start, decay_t, decay_power,
                          decay_fn if callable(decay_fn) else None)
  else:
    shape = {"exp": "exponential"}.get(decay_fn, decay_fn)
    factor = cooldown(constant(1.0), start, decay_t, 0.0, shape, decay_ratio)
  after = lr_min + (maximum(stable, lr_min) - lr_min) * factor
  return _with_warmup(lr, warmup_t, warmup_lr_init, True, after)


# --------------------------------------------------------------------------
# Public API.


def _cycle_args(fn, names, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit,
                warmup_t, warmup_lr_init, warmup_prefix):
  """The arguments shared by the cycle schedulers, validated."""
  n = names.get
  t_initial = _checks.check_static_int(fn, n("t_initial", "t_initial"), t_initial,
                                       minimum=1)
  lr_min = _check_lr(fn, n("lr_min", "lr_min"), lr_min)
  cycle_mul = _check_concrete_number(
      fn, n("cycle_mul", "cycle_mul"), cycle_mul,
      "positive (timm takes its log in base cycle_mul)", lambda v: v > 0)
  cycle_decay = _checks.check_non_negative(fn, n("cycle_decay", "cycle_decay"), cycle_decay)
  cycle_limit = _checks.check_static_int(fn, n("cycle_limit", "cycle_limit"), cycle_limit)
  warmup_t = _checks.check_static_int(fn, n("warmup_t", "warmup_t"), warmup_t)
  warmup_lr_init = _check_lr(fn, n("warmup_lr_init", "warmup_lr_init"), warmup_lr_init)
  warmup_prefix = _check_bool(fn, "warmup_prefix", warmup_prefix)
  _check_layout(fn, names, t_initial, cycle_mul, cycle_limit)
  return (t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init,
          warmup_prefix)


@constructor
def CosineLRScheduler(
    lr: jax.typing.ArrayLike,
    t_initial: int,
    lr_min: jax.typing.ArrayLike = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: jax.typing.ArrayLike = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    warmup_prefix: bool = False,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""timm's ``CosineLRScheduler``: cosine cycles (SGDR) with warmup and k-decay.

  With :math:`W` = ``warmup_t``, :math:`t' = t - W` if ``warmup_prefix``
  else :math:`t`, cycle :math:`i` of length :math:`T_i = T m^i` starting at
  :math:`S_i = T (m^i - 1)/(m - 1)` (:math:`iT` for :math:`m = 1`) and
  :math:`t_c = t' - S_i`:

  .. math::
    s(t) = \begin{cases}
      \mathrm{lr}\ (W = 0) \text{ or } I\ (W > 0) & t = 0 \\
      I + t\,(\mathrm{lr} - I)/W & t < W \\
      \eta_{min} + \tfrac12 (\mathrm{lr}\, d^{i} - \eta_{min})
        \left(1 + \cos \frac{\pi t_c^k}{T_i^k}\right) & i < L \\
      \eta_{min} & i \ge L
    \end{cases}

  with :math:`I` = ``warmup_lr_init``, :math:`d` = ``cycle_decay``,
  :math:`L` = ``cycle_limit``, :math:`k` = ``k_decay``. Built from
  ``osch.cosine_decay(1.0, t_initial)`` (inside ``osch.k_decay`` when
  ``k_decay != 1``) placed in timm's cycles by a small private schedule, and
  ``osch.join`` with ``osch.linear`` for the warmup.

  Quirks reproduced: without ``warmup_prefix`` the warmup overlaps the decay
  (the lr jumps at ``t = W`` from below ``lr`` to the decay's value at ``W``,
  never reaching ``lr``); ``lr_min`` is reached one step after each cycle's
  last step; ``cycle_decay`` scales the peaks, not ``lr_min``. For
  ``cycle_mul != 1`` timm finds the cycle with a float64
  ``floor(log(1 - t/T (1 - m), m))``, which at exact cycle boundaries can
  start a cycle one step late (``cycle_mul=10, t_initial=1``: ``lr_min`` at
  111, restart at 112); here the restart steps are tabled once, in Python,
  with timm's own float64 expression, so they fall where timm's do at every
  step below ``2**31``. ``osch.cycle(..., length_mul=m, value_mul=d)``
  places restarts exactly instead. With ``cycle_mul < 1`` timm's ``log``
  fails (``ValueError``) once the shrinking cycles run out; here the value is
  ``lr_min`` from there on.

  Args:
    lr: the optimizer's base lr (timm's ``initial_lr``).
    t_initial: length ``T`` of the first cycle, ``> 0``; a concrete integer.
    lr_min: the floor :math:`\eta_{min} \ge 0`.
    cycle_mul: growth ``m > 0`` of each cycle's length; a concrete number.
    cycle_decay: factor ``d >= 0`` on each cycle's peak.
    cycle_limit: number of cycles ``L >= 0``; a concrete integer.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``I >= 0`` at step 0 of the warmup.
    warmup_prefix: count the cycles from the end of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t`` (as timm).
    noise_std: ignored without ``noise_range_t`` (as timm).
    noise_seed: ignored without ``noise_range_t`` (as timm).
    k_decay: the exponent ``k >= 0`` of k-decay.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t`` (epochs or updates).

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``cycle_mul``.
    ValueError: for NaN or infinity, negative lrs, ``t_initial <= 0`` or
      ``cycle_mul <= 0`` (as timm), negative counts, ``cycle_decay < 0``,
      ``k_decay < 0`` (timm divides by zero), a ``noise_range_t``, or more
      than 65536 restarts below ``2**31``.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.CosineLRScheduler(0.1, t_initial=10, lr_min=0.01, warmup_t=2,
    ...                          warmup_lr_init=0.001)
    >>> print(" ".join(f"{s(t):.4f}" for t in (0, 1, 2, 5, 9, 10, 50)))
    0.0010 0.0505 0.0914 0.0550 0.0122 0.0100 0.0100
    >>> s = tm.CosineLRScheduler(1.0, t_initial=1, cycle_mul=10, cycle_limit=5)
    >>> print(f"{s(110):.5f} {s(111):.5f} {s(112):.5f}")
    0.00025 0.00000 1.00000

  References:
    Loshchilov & Hutter, `SGDR: Stochastic Gradient Descent with Warm
    Restarts <https://arxiv.org/abs/1608.03983>`_, 2017; Zhang & Li,
    `k-decay <https://arxiv.org/abs/2004.05909>`_, 2020.
  """
  fn = "CosineLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  (t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init,
   warmup_prefix) = _cycle_args(fn, {}, t_initial, lr_min, cycle_mul, cycle_decay,
                                cycle_limit, warmup_t, warmup_lr_init, warmup_prefix)
  k = _check_k_decay(fn, "k_decay", k_decay)
  _check_noise(fn, noise_range_t)
  after = _cycles(cosine_decay(1.0, t_initial), lr, t_initial, lr_min, cycle_mul,
                  cycle_decay, cycle_limit, k)
  return _with_warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, after)


@constructor
def TanhLRScheduler(
    lr: jax.typing.ArrayLike,
    t_initial: int,
    lb: jax.typing.ArrayLike = -7.0,
    ub: jax.typing.ArrayLike = 3.0,
    lr_min: jax.typing.ArrayLike = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: jax.typing.ArrayLike = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    warmup_prefix: bool = False,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
) -> Schedule:
  r"""timm's ``TanhLRScheduler``: hyperbolic-tangent cycles with warmup.

  With the cycles of :func:`CosineLRScheduler` (:math:`i`, :math:`t_c`,
  :math:`T_i`) and :math:`r = t_c / T_i`, after the warmup:

  .. math::
    s(t) = \eta_{min} + \tfrac12 (\mathrm{lr}\, d^{i} - \eta_{min})
      \big(1 - \tanh(l_b (1 - r) + u_b\, r)\big) \quad (i < L),
    \qquad \eta_{min} \quad (i \ge L)

  and ``s(0) = lr`` without warmup (timm's constructor value, not the curve's
  :math:`0.99999917\,\mathrm{lr}`). Built from ``osch.tanh_decay(1.0,
  t_initial, 0.0, lb, ub)`` in timm's cycles, with ``osch.join`` and
  ``osch.linear`` (or ``osch.warmup``) for the warmup.

  Quirks reproduced: the warmup ramps linearly from ``warmup_lr_init`` to
  ``lr`` with ``warmup_prefix``, but to the curve's value at ``warmup_t``
  without it (continuous); the curve never reaches its end points (about
  ``0.0025`` of the range is left at the end of a cycle); the cycle
  placement quirks of :func:`CosineLRScheduler`.

  Args:
    lr: the optimizer's base lr.
    t_initial: length ``T`` of the first cycle, ``> 0``; a concrete integer.
    lb: ``tanh``'s argument at the start of a cycle, below ``ub``.
    ub: ``tanh``'s argument at the end of a cycle.
    lr_min: the floor :math:`\eta_{min} \ge 0`.
    cycle_mul: growth ``m > 0`` of each cycle's length; a concrete number.
    cycle_decay: factor ``d >= 0`` on each cycle's peak.
    cycle_limit: number of cycles ``L >= 0``; a concrete integer.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``>= 0`` at step 0 of the warmup.
    warmup_prefix: count the cycles from the end of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t``.
    noise_std: ignored without ``noise_range_t``.
    noise_seed: ignored without ``noise_range_t``.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t``.

  Raises:
    TypeError: for non-numeric values or non-integer or traced counts.
    ValueError: as :func:`CosineLRScheduler`, and for ``lb >= ub`` (as timm).

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.TanhLRScheduler(0.1, t_initial=10)
    >>> print(" ".join(f"{s(t):.5f}" for t in (0, 1, 5, 7, 9, 10)))
    0.10000 0.10000 0.09820 0.05000 0.00180 0.00000

  References:
    Hsueh et al., `Stochastic Gradient Descent with Hyperbolic-Tangent Decay
    on Classification <https://arxiv.org/abs/1806.01593>`_, WACV 2019.
  """
  fn = "TanhLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  lb = _checks.check_value(fn, "lb", lb)
  ub = _checks.check_value(fn, "ub", ub)
  if _checks.is_concrete((lb, ub)) and np.any(np.asarray(lb) >= np.asarray(ub)):
    _checks.fail(fn, "lb", f"below ub (ub={ub!r})", lb)
  (t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init,
   warmup_prefix) = _cycle_args(fn, {}, t_initial, lr_min, cycle_mul, cycle_decay,
                                cycle_limit, warmup_t, warmup_lr_init, warmup_prefix)
  _check_noise(fn, noise_range_t)
  after = _cycles(tanh_decay(1.0, t_initial, 0.0, lb, ub), lr, t_initial, lr_min,
                  cycle_mul, cycle_decay, cycle_limit, 1.0)
  return _with_warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, after,
                      ramp_to_after=not warmup_prefix)


@constructor
def PolyLRScheduler(
    lr: jax.typing.ArrayLike,
    t_initial: int,
    power: jax.typing.ArrayLike = 0.5,
    lr_min: jax.typing.ArrayLike = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: jax.typing.ArrayLike = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    warmup_prefix: bool = False,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""timm's ``PolyLRScheduler``: polynomial-decay cycles with warmup and k-decay.

  With the cycles of :func:`CosineLRScheduler`, after the warmup:

  .. math::
    s(t) = \eta_{min} + (\mathrm{lr}\, d^{i} - \eta_{min})
      \left(1 - \frac{t_c^k}{T_i^k}\right)^{p} \quad (i < L),
    \qquad \eta_{min} \quad (i \ge L)

  Built from ``osch.polynomial(1.0, 0.0, power, t_initial)`` (inside
  ``osch.k_decay`` when ``k_decay != 1``) in timm's cycles, with
  ``osch.join`` and ``osch.linear`` for the warmup.

  Quirks reproduced: those of :func:`CosineLRScheduler`. Note that
  :func:`create_scheduler_v2` passes its ``decay_rate`` (default 0.1) as
  ``power``.

  Args:
    lr: the optimizer's base lr.
    t_initial: length ``T`` of the first cycle, ``> 0``; a concrete integer.
    power: the exponent ``p >= 0``.
    lr_min: the floor :math:`\eta_{min} \ge 0`.
    cycle_mul: growth ``m > 0`` of each cycle's length; a concrete number.
    cycle_decay: factor ``d >= 0`` on each cycle's peak.
    cycle_limit: number of cycles ``L >= 0``; a concrete integer.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``>= 0`` at step 0 of the warmup.
    warmup_prefix: count the cycles from the end of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t``.
    noise_std: ignored without ``noise_range_t``.
    noise_seed: ignored without ``noise_range_t``.
    k_decay: the exponent ``k >= 0`` of k-decay.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t``.

  Raises:
    TypeError: for non-numeric values or non-integer or traced counts.
    ValueError: as :func:`CosineLRScheduler`, and for ``power < 0``.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.PolyLRScheduler(0.1, t_initial=10, power=2.0)
    >>> print(" ".join(f"{s(t):.4f}" for t in (0, 1, 5, 9, 10)))
    0.1000 0.0810 0.0250 0.0010 0.0000

  References:
    Zhang & Li, `k-decay <https://arxiv.org/abs/2004.05909>`_, 2020.
  """
  fn = "PolyLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  power = _checks.check_non_negative(fn, "power", power)
  (t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr_init,
   warmup_prefix) = _cycle_args(fn, {}, t_initial, lr_min, cycle_mul, cycle_decay,
                                cycle_limit, warmup_t, warmup_lr_init, warmup_prefix)
  k = _check_k_decay(fn, "k_decay", k_decay)
  _check_noise(fn, noise_range_t)
  after = _cycles(polynomial(1.0, 0.0, power, t_initial), lr, t_initial, lr_min,
                  cycle_mul, cycle_decay, cycle_limit, k)
  return _with_warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, after)


def _warmup_args(fn, names, warmup_t, warmup_lr_init, warmup_prefix):
  n = names.get
  return (_checks.check_static_int(fn, n("warmup_t", "warmup_t"), warmup_t),
          _check_lr(fn, n("warmup_lr_init", "warmup_lr_init"), warmup_lr_init),
          _check_bool(fn, "warmup_prefix", warmup_prefix))


@constructor
def StepLRScheduler(
    lr: jax.typing.ArrayLike,
    decay_t: float,
    decay_rate: jax.typing.ArrayLike = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    warmup_prefix: bool = True,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
) -> Schedule:
  r"""timm's ``StepLRScheduler``: multiply by ``decay_rate`` every ``decay_t``.

  With :math:`t' = t - W` if ``warmup_prefix`` else :math:`t`, after the
  warmup of :func:`CosineLRScheduler`:

  .. math:: s(t) = \mathrm{lr} \cdot r^{\lfloor t' / D \rfloor}

  with Python's floor division: :math:`D` = ``decay_t`` may be fractional
  (timm's ``--decay-epochs`` is a float). A whole ``decay_t`` is
  ``osch.exponential_decay(lr, decay_t, decay_rate, staircase=True)``; a
  fractional one is a small private schedule that computes the stair index
  with integers from the simplest fraction ``P/Q`` equal to ``decay_t`` at
  every step (e.g. ``2.4`` is the float ``2.3999999999999999``, and ``12 //
  2.4 == 5``, as here), so stairs fall on timm's steps at any step.

  Quirks reproduced: the warmup is a prefix by default (unlike the cycle
  schedulers); a ``decay_t`` that is no simple fraction (e.g. ``0.123456789``)
  is refused rather than placed approximately.

  Args:
    lr: the optimizer's base lr.
    decay_t: steps ``D > 0`` per stair, whole or a simple fraction.
    decay_rate: factor ``r >= 0`` per stair.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``>= 0`` at step 0 of the warmup.
    warmup_prefix: count the stairs from the end of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t``.
    noise_std: ignored without ``noise_range_t``.
    noise_seed: ignored without ``noise_range_t``.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t``.

  Raises:
    TypeError: for non-numeric values or a non-integer or traced ``warmup_t``.
    ValueError: for NaN or infinity, negative lrs or ``decay_rate``,
      ``decay_t <= 0`` (timm divides by zero) or not a simple fraction,
      ``warmup_t < 0``, or a ``noise_range_t``.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.StepLRScheduler(0.1, decay_t=2.5, decay_rate=0.5)
    >>> print(" ".join(f"{s(t):.4f}" for t in range(7)))
    0.1000 0.1000 0.1000 0.0500 0.0500 0.0250 0.0250
  """
  fn = "StepLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  decay_t = _check_decay_t(fn, "decay_t", decay_t)
  decay_rate = _checks.check_non_negative(fn, "decay_rate", decay_rate)
  warmup_t, warmup_lr_init, warmup_prefix = _warmup_args(fn, {}, warmup_t, warmup_lr_init,
                                                         warmup_prefix)
  _check_noise(fn, noise_range_t)
  return _with_warmup(lr, warmup_t, warmup_lr_init, warmup_prefix,
                      _step(lr, decay_t, decay_rate))


@constructor
def MultiStepLRScheduler(
    lr: jax.typing.ArrayLike,
    decay_t: Sequence[float],
    decay_rate: jax.typing.ArrayLike = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    warmup_prefix: bool = True,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
) -> Schedule:
  r"""timm's ``MultiStepLRScheduler``: multiply by ``decay_rate`` at each milestone.

  With :math:`t' = t - W` if ``warmup_prefix`` else :math:`t`, after the
  warmup of :func:`CosineLRScheduler`:

  .. math:: s(t) = \mathrm{lr} \cdot r^{\#\{m \in M : m \le t' + 1\}}

  It is ``osch.piecewise_constant(lr, {m - 1: decay_rate ** count})``, with
  ``osch.join`` and ``osch.linear`` for the warmup.

  Quirks reproduced: **milestone m takes effect at t' = m - 1**, one step
  earlier than PyTorch's ``MultiStepLR`` and timm's own ``StepLRScheduler``
  (timm keeps it on purpose); so without warmup a milestone at 0 or 1 already
  applies at ``t = 1`` while ``s(0)`` is the constructor's ``lr``. A milestone
  listed twice counts twice. The warmup is a prefix by default.

  Args:
    lr: the optimizer's base lr.
    decay_t: the milestones ``M``, sorted non-negative numbers.
    decay_rate: factor ``r >= 0`` per milestone.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``>= 0`` at step 0 of the warmup.
    warmup_prefix: count the milestones from the end of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t``.
    noise_std: ignored without ``noise_range_t``.
    noise_seed: ignored without ``noise_range_t``.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t``.

  Raises:
    TypeError: for a non-sequence ``decay_t`` or non-numeric values.
    ValueError: for NaN or infinity, negative lrs, milestones or
      ``decay_rate``, unsorted milestones (timm's bisect assumes them sorted),
      ``warmup_t < 0``, or a ``noise_range_t``.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.MultiStepLRScheduler(0.1, decay_t=[3, 5], decay_rate=0.1)
    >>> print(" ".join(f"{s(t):.4f}" for t in range(6)))
    0.1000 0.1000 0.0100 0.0100 0.0010 0.0010
  """
  fn = "MultiStepLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  decay_rate = _checks.check_non_negative(fn, "decay_rate", decay_rate)
  warmup_t, warmup_lr_init, warmup_prefix = _warmup_args(fn, {}, warmup_t, warmup_lr_init,
                                                         warmup_prefix)
  after = _multistep(fn, "decay_t", lr, decay_t, decay_rate)
  _check_noise(fn, noise_range_t)
  return _with_warmup(lr, warmup_t, warmup_lr_init, warmup_prefix, after)


_STABLE_FNS = ("constant", "rsqrt", "power")
_DECAY_FNS = ("linear", "1-sqrt", "cosine", "power", "exp")


def _wsd_args(fn, names, t_initial, decay_t, stable_fn, stable_timescale, stable_power,
              decay_fn, decay_power, decay_ratio, warmup_t):
  """WSD's checks, timm's ValueErrors in this library's shape."""
  n = names.get
  t_initial = _checks.check_static_int(fn, n("t_initial", "t_initial"), t_initial,
                                       minimum=1)
  decay_t = _checks.check_static_int(fn, n("decay_t", "decay_t"), decay_t)
  if not 0 < decay_t <= t_initial:
    _checks.fail(fn, n("decay_t", "decay_t"),
                 f"in (0, t_initial] (t_initial={t_initial})", decay_t)
  _checks.check_choice(fn, "stable_fn", stable_fn, _STABLE_FNS)
  if not callable(decay_fn) and decay_fn not in _DECAY_FNS:
    _checks.fail(fn, "decay_fn", "one of " + ", ".join(map(repr, _DECAY_FNS))
                 + " or a callable", decay_fn)
  decay_ratio = _checks.check_value(fn, "decay_ratio", decay_ratio, low=0.0, low_open=True,
                                    constraint="in the open interval (0, 1)")
  if _checks.is_concrete(decay_ratio) and np.any(np.asarray(decay_ratio) >= 1):
    _checks.fail(fn, "decay_ratio", "in the open interval (0, 1)", decay_ratio)
  decay_power = _checks.check_positive(fn, "decay_power", decay_power)
  stable_power = _checks.check_positive(fn, "stable_power", stable_power)
  if stable_fn != "constant":
    shown = stable_timescale
    if stable_timescale is None:
      stable_timescale = warmup_t
    ok = (isinstance(stable_timescale, (numbers.Real, np.number))
          and not isinstance(stable_timescale, bool)
          and math.isfinite(stable_timescale) and stable_timescale > 0)
    if not ok:
      _checks.fail(fn, n("stable_timescale", "stable_timescale"),
                   f"positive for stable_fn={stable_fn!r} (it defaults to "
                   f"{n('warmup_t', 'warmup_t')}={warmup_t}; set it explicitly when there "
                   "is no warmup)", shown)
  return (t_initial, decay_t, stable_timescale, stable_power, decay_power, decay_ratio)


@constructor
def WSDLRScheduler(
    lr: jax.typing.ArrayLike,
    t_initial: int,
    decay_t: int,
    lr_min: jax.typing.ArrayLike = 0.0,
    stable_fn: str = "constant",
    stable_timescale: float | None = None,
    stable_power: jax.typing.ArrayLike = 0.5,
    decay_fn: str | Callable = "1-sqrt",
    decay_power: jax.typing.ArrayLike = 0.5,
    decay_ratio: jax.typing.ArrayLike = 0.1,
    warmup_t: int = 0,
    warmup_lr_init: jax.typing.ArrayLike = 0.0,
    noise_range_t=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
) -> Schedule:
  r"""timm's ``WSDLRScheduler``: warmup, stable phase, decay to ``lr_min``.

  With :math:`W` = ``warmup_t``, :math:`t_s = t - W`, :math:`D` =
  ``decay_t``, :math:`T` = ``t_initial`` and :math:`x = \min((t_s - T +
  D)/D, 1)`, after the warmup of :func:`CosineLRScheduler` (always a
  prefix):

  .. math::
    s(t) = \eta_{min} + \big(\max(\mathrm{lr}\, g(t_s), \eta_{min})
      - \eta_{min}\big)\, c(x) \quad (c = 1 \text{ for } t_s \le T - D)

  with the stable factor :math:`g` = 1 (``'constant'``),
  :math:`(1 + t_s/\tau)^{-1/2}` (``'rsqrt'``) or :math:`(1 +
  t_s/\tau)^{-q}` (``'power'``, :math:`q` = ``stable_power``), and the decay
  :math:`c` = :math:`1 - x` (``'linear'``), :math:`1 - \sqrt{x}`
  (``'1-sqrt'``), :math:`(1 + \cos \pi x)/2` (``'cosine'``), :math:`1 -
  x^{p}` (``'power'``), :math:`(r^x - r)/(1 - r)` (``'exp'``) or a callable.
  Built as ``lr_min + (osch.maximum(stable, lr_min) - lr_min) * decay`` with
  ``stable`` ``osch.constant(lr)`` or ``osch.inverse_sqrt(lr, 0, tau)`` (a
  small private schedule for ``'power'`` or a fractional ``tau``) and
  ``decay`` ``osch.cooldown(osch.constant(1.0), T - D, D, 0.0, shape)`` (a
  small private schedule for ``'power'`` or a callable).

  Quirks reproduced: ``lr_min`` is reached at ``t = W + T``, one step after
  the last scheduled step; a decaying stable function keeps decaying through
  the decay phase (timm multiplies the two), unlike ``osch.cooldown``, which
  cools down from the value at the start of the decay; a callable decay
  holds ``fn(1.0)`` after the end.

  Args:
    lr: the optimizer's base lr.
    t_initial: stable + decay length ``T > 0``; a concrete integer.
    decay_t: decay length ``D`` in ``(0, T]``; a concrete integer.
    lr_min: the floor :math:`\eta_{min} \ge 0`.
    stable_fn: ``'constant'``, ``'rsqrt'`` or ``'power'``.
    stable_timescale: :math:`\tau > 0`; ``None`` means ``warmup_t``.
    stable_power: :math:`q > 0` of ``'power'``.
    decay_fn: ``'linear'``, ``'1-sqrt'``, ``'cosine'``, ``'power'``,
      ``'exp'``, or a callable ``x -> factor`` written with ``jax.numpy``
      (it receives a float array).
    decay_power: :math:`p > 0` of ``'power'``.
    decay_ratio: :math:`r` in (0, 1) of ``'exp'``.
    warmup_t: warmup length ``W >= 0``; a concrete integer.
    warmup_lr_init: the lr ``>= 0`` at step 0 of the warmup.
    noise_range_t: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise_range_t``.
    noise_std: ignored without ``noise_range_t``.
    noise_seed: ignored without ``noise_range_t``.

  Returns:
    A :class:`~optax_scheds.Schedule` over timm's ``t``.

  Raises:
    TypeError: for non-numeric values or non-integer or traced counts.
    ValueError: where timm raises (``t_initial <= 0``, ``decay_t`` outside
      ``(0, t_initial]``, ``lr_min < 0``, unknown ``stable_fn`` or
      ``decay_fn``, ``decay_ratio`` outside (0, 1), ``decay_power <= 0``,
      ``stable_power <= 0``, a non-positive timescale for a decaying stable
      function), and for NaN, infinity, negative lrs or ``warmup_t`` and a
      ``noise_range_t``.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s = tm.WSDLRScheduler(0.1, t_initial=10, decay_t=4, warmup_t=2)
    >>> print(" ".join(f"{s(t):.4f}" for t in (0, 1, 2, 8, 9, 10, 11, 12)))
    0.0000 0.0500 0.1000 0.1000 0.0500 0.0293 0.0134 0.0000

  References:
    Hu et al., `MiniCPM <https://arxiv.org/abs/2404.06395>`_, 2024;
    Hägele et al., `Scaling Laws and Compute-Optimal Training Beyond Fixed
    Training Durations <https://arxiv.org/abs/2405.18392>`_, 2024.
  """
  fn = "WSDLRScheduler"
  lr = _check_lr(fn, "lr", lr)
  lr_min = _check_lr(fn, "lr_min", lr_min)
  warmup_t, warmup_lr_init, _ = _warmup_args(fn, {}, warmup_t, warmup_lr_init, True)
  t_initial, decay_t, stable_timescale, stable_power, decay_power, decay_ratio = _wsd_args(
      fn, {}, t_initial, decay_t, stable_fn, stable_timescale, stable_power, decay_fn,
      decay_power, decay_ratio, warmup_t)
  _check_noise(fn, noise_range_t)
  return _wsd(lr, t_initial, decay_t, lr_min, stable_fn, stable_timescale, stable_power,
              decay_fn, decay_power, decay_ratio, warmup_t, warmup_lr_init)


_SCHEDS = ("cosine", "tanh", "step", "constant", "multistep", "poly", "wsd", "rsqrt", "none")


def _cycle_length(t_initial, cycle_mul, cycle_limit, warmup_t, warmup_prefix) -> int:
  """timm's ``get_cycle_length()``."""
  cycles = max(1, cycle_limit)
  if cycle_mul == 1.0:
    t = t_initial * cycles
  else:
    t = int(math.floor(-t_initial * (cycle_mul**cycles - 1) / (1 - cycle_mul)))
  return t + warmup_t if warmup_prefix else t


def create_scheduler_v2(
    lr: jax.typing.ArrayLike,
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs: float | None = None,
    decay_milestones: Sequence[float] = (90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: jax.typing.ArrayLike = 0.1,
    min_lr: jax.typing.ArrayLike = 0.0,
    warmup_lr: jax.typing.ArrayLike = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise=None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: jax.typing.ArrayLike = 0.1,
    cycle_limit: int = 1,
    k_decay: jax.typing.ArrayLike = 1.0,
    decay_fn: str | None = None,
    stable_timescale: float | None = None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
) -> tuple[Schedule | None, int]:
  r"""timm's ``create_scheduler_v2``: a scheduler by name, and the epochs to train.

  Returns ``(schedule, num_epochs)`` like timm. ``sched`` picks the
  scheduler: ``'cosine'``, ``'tanh'``, ``'poly'`` (``power=decay_rate``) with
  ``t_initial = num_epochs``; ``'step'`` (``decay_t = decay_epochs``, default
  90); ``'constant'`` (a step schedule that never decays: warmup, then
  ``lr``); ``'multistep'`` (``decay_milestones``); ``'wsd'`` / ``'rsqrt'``
  (:func:`WSDLRScheduler` with stable + decay length ``num_epochs`` (minus
  ``warmup_epochs`` unless ``warmup_prefix``), ``decay_t =
  round(decay_epochs)``, a ``decay_epochs`` in (0, 1) being a fraction of that
  length, default 0.2; ``'rsqrt'`` has ``stable_fn='rsqrt'`` and a linear
  decay); ``'none'`` returns ``(None, num_epochs)``. The returned
  ``num_epochs`` is timm's:

  .. math::
    N = \begin{cases}
      \mathrm{cycle\_length} + C & \text{cosine, tanh, poly, wsd, rsqrt} \\
      N_0 + W\,[\mathrm{warmup\_prefix}] & \text{otherwise}
    \end{cases}

  (divided by ``updates_per_epoch``, floored, when ``step_on_epochs=False``)
  with :math:`C` = ``cooldown_epochs``; the schedule does nothing special in
  the cooldown epochs (the cycle schedulers are at ``min_lr`` there).

  The schedule's step: with ``step_on_epochs=True`` (timm's default) it counts
  epochs, ``s(e)`` being the lr of epoch ``e``; add ``updates_per_epoch=U``
  to count updates instead, holding epoch ``e``'s lr for its ``U`` updates:
  ``s(u) = E(u // U)`` (``osch.stretch(E, U, staircase=True)``; timm ignores
  ``U`` there, this is an extension). With ``step_on_epochs=False`` every
  length is multiplied by ``U`` (as timm does) and the schedule counts
  updates.

  Args:
    lr: the optimizer's base lr.
    sched: the scheduler's name (see above).
    num_epochs: epochs ``N_0 > 0`` (without warmup if ``warmup_prefix``).
    decay_epochs: epochs per stair (``'step'``), or the decay length
      (``'wsd'``, ``'rsqrt'``); ``None`` for timm's defaults.
    decay_milestones: the milestones of ``'multistep'``.
    cooldown_epochs: epochs ``C >= 0`` added to the returned ``num_epochs``.
    patience_epochs: only for timm's ``'plateau'``, which is refused.
    decay_rate: the stair factor (``'step'``, ``'multistep'``) or the power
      (``'poly'``).
    min_lr: the floor of the cycle and WSD schedulers.
    warmup_lr: the lr at step 0 of the warmup.
    warmup_epochs: warmup length ``W >= 0``.
    warmup_prefix: the warmup comes before ``num_epochs``, not inside it.
    noise: must be ``None`` (timm's noise follows torch's generator).
    noise_pct: ignored without ``noise``.
    noise_std: ignored without ``noise``.
    noise_seed: ignored without ``noise``.
    cycle_mul: cycle length growth (cosine, tanh, poly).
    cycle_decay: peak factor per cycle (cosine, tanh, poly); note timm's
      default here is 0.1, not the classes' 1.0.
    cycle_limit: number of cycles (cosine, tanh, poly).
    k_decay: k-decay exponent (cosine, poly).
    decay_fn: the decay of ``'wsd'`` / ``'rsqrt'``; ``None`` for ``'1-sqrt'``
      / ``'linear'``.
    stable_timescale: ``'rsqrt'``'s timescale in epochs; ``None`` for
      ``warmup_epochs``.
    plateau_mode: only for timm's ``'plateau'``, which is refused.
    step_on_epochs: count epochs (see above) rather than updates.
    updates_per_epoch: updates per epoch ``U >= 0``; needed when
      ``step_on_epochs=False``.

  Returns:
    ``(schedule, num_epochs)``: a :class:`~optax_scheds.Schedule`, or
    ``None`` for ``sched='none'``, and timm's number of epochs to train.

  Raises:
    TypeError: for non-numeric values or non-integer counts.
    ValueError: for an unknown ``sched`` (as timm), ``'plateau'`` (use
      ``optax_scheds.compat.torch.ReduceLROnPlateau``), ``noise``,
      ``step_on_epochs=False`` without ``updates_per_epoch`` (timm asserts), a
      WSD decay outside ``(0, stable + decay length]`` (as timm), and the
      errors of the scheduler it builds, in this function's names.

  Examples:
    >>> from optax_scheds.compat import timm as tm
    >>> s, n = tm.create_scheduler_v2(0.1, "cosine", num_epochs=20, warmup_epochs=2,
    ...                               cooldown_epochs=1, min_lr=1e-4)
    >>> print(n, " ".join(f"{s(e):.4f}" for e in (0, 1, 2, 15, 20)))
    21 0.0000 0.0500 0.0976 0.0147 0.0001
    >>> s, n = tm.create_scheduler_v2(0.1, "step", num_epochs=10, decay_epochs=2.5,
    ...                               updates_per_epoch=100)
    >>> print(n, f"{s(299):.4f} {s(300):.4f}")
    10 0.1000 0.0100
  """
  fn = "create_scheduler_v2"
  if sched == "plateau":
    raise ValueError(
        f"`{fn}(sched=...)` must not be 'plateau' (deprecated in timm; it steps on "
        "an eval metric, which a schedule of the step cannot see), got "
        "sched='plateau'. Use optax_scheds.compat.torch.ReduceLROnPlateau (timm's "
        "PlateauLRScheduler wraps torch's) or osch.reduce_on_plateau.")
  _checks.check_choice(fn, "sched", sched, _SCHEDS)
  lr = _check_lr(fn, "lr", lr)
  num_epochs = _checks.check_static_int(fn, "num_epochs", num_epochs, minimum=1)
  cooldown_epochs = _checks.check_static_int(fn, "cooldown_epochs", cooldown_epochs)
  min_lr = _check_lr(fn, "min_lr", min_lr)
  step_on_epochs = _check_bool(fn, "step_on_epochs", step_on_epochs)
  updates_per_epoch = _checks.check_static_int(fn, "updates_per_epoch", updates_per_epoch)
  if not step_on_epochs and updates_per_epoch == 0:
    _checks.fail(fn, "updates_per_epoch",
                 "positive with step_on_epochs=False (the number of updates per epoch)",
                 updates_per_epoch)
  warmup_epochs, warmup_lr, warmup_prefix = _warmup_args(
      fn, {"warmup_t": "warmup_epochs", "warmup_lr_init": "warmup_lr"}, warmup_epochs,
      warmup_lr, warmup_prefix)
  if noise is not None:
    raise ValueError(
        f"`{fn}(noise=...)` must be None (timm's lr noise draws from torch's CPU "
        f"generator, whose stream JAX cannot reproduce), got noise={noise!r}.")
  if decay_epochs is None:
    decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90
  decay_epochs = _check_concrete_number(fn, "decay_epochs", decay_epochs, "positive",
                                        lambda v: v > 0)

  scale = 1 if step_on_epochs else updates_per_epoch
  t_initial, warmup_t, cooldown_t = (num_epochs * scale, warmup_epochs * scale,
                                     cooldown_epochs * scale)
  names = {"t_initial": "num_epochs", "warmup_t": "warmup_epochs",
           "warmup_lr_init": "warmup_lr", "lr_min": "min_lr", "decay_t": "decay_epochs",
           "stable_timescale": "stable_timescale"}
  schedule, length = None, None
  if sched in ("cosine", "tanh", "poly"):
    (t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, warmup_t, warmup_lr,
     warmup_prefix) = _cycle_args(fn, names, t_initial, min_lr, cycle_mul, cycle_decay,
                                  cycle_limit, warmup_t, warmup_lr, warmup_prefix)
    if sched == "tanh":
      shape, k = tanh_decay(1.0, t_initial), 1.0
    else:
      k = _check_k_decay(fn, "k_decay", k_decay)
      shape = cosine_decay(1.0, t_initial) if sched == "cosine" else polynomial(
          1.0, 0.0, _checks.check_non_negative(fn, "decay_rate", decay_rate), t_initial)
    after = _cycles(shape, lr, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k)
    schedule = _with_warmup(lr, warmup_t, warmup_lr, warmup_prefix, after,
                            ramp_to_after=sched == "tanh" and not warmup_prefix)
    length = _cycle_length(t_initial, cycle_mul, cycle_limit, warmup_t, warmup_prefix)
  elif sched in ("step", "constant"):
    if sched == "step":
      decay_t = _check_decay_t(fn, "decay_epochs", decay_epochs * scale, decay_epochs)
      rate = _checks.check_non_negative(fn, "decay_rate", decay_rate)
    else:
      decay_t, rate = 1, 1.0
    schedule = _with_warmup(lr, warmup_t, warmup_lr, warmup_prefix,
                            _step(lr, decay_t, rate))
  elif sched == "multistep":
    rate = _checks.check_non_negative(fn, "decay_rate", decay_rate)
    if isinstance(decay_milestones, (str, bytes, dict)) or not isinstance(
        decay_milestones, Sequence | np.ndarray):
      _checks.fail(fn, "decay_milestones", "a sequence of milestones", decay_milestones,
                   TypeError)
    milestones = [m * scale if isinstance(m, numbers.Real) and not isinstance(m, bool)
                  else m for m in list(decay_milestones)]
    after = _multistep(fn, "decay_milestones", lr, milestones, rate)
    schedule = _with_warmup(lr, warmup_t, warmup_lr, warmup_prefix, after)
  elif sched in ("wsd", "rsqrt"):
    t_sched = t_initial if warmup_prefix else t_initial - warmup_t
    decay_t = decay_epochs * (t_sched if decay_epochs < 1 else scale)
    decay_t = int(round(decay_t))
    if not 0 < decay_t <= t_sched:
      _checks.fail(fn, "decay_epochs",
                   f"in (0, {'num_epochs' if warmup_prefix else 'num_epochs - warmup_epochs'}]"
                   f" after rounding to {'updates' if scale > 1 else 'epochs'} (a value in "
                   f"(0, 1) is a fraction of it; got a decay of {decay_t} and a stable + "
                   f"decay length of {t_sched})", decay_epochs)
    timescale = stable_timescale
    if timescale is not None:
      timescale = _check_concrete_number(fn, "stable_timescale", timescale, "positive",
                                         lambda v: v > 0) * scale
    stable_fn = "rsqrt" if sched == "rsqrt" else "constant"
    decay = decay_fn or ("linear" if sched == "rsqrt" else "1-sqrt")
    _, _, timescale, _, _, _ = _wsd_args(fn, names, t_sched, decay_t, stable_fn, timescale,
                                         0.5, decay, 0.5, 0.1, warmup_t)
    schedule = _wsd(lr, t_sched, decay_t, min_lr, stable_fn, timescale, 0.5, decay, 0.5,
                    0.1, warmup_t, warmup_lr)
    length = warmup_t + t_sched

  if length is not None:
    total = length + cooldown_t
    num_epochs = total if step_on_epochs else total // updates_per_epoch
  elif warmup_prefix:
    num_epochs += warmup_epochs
  if schedule is not None and step_on_epochs and updates_per_epoch > 0:
    schedule = stretch(schedule, updates_per_epoch, staircase=True)
  return schedule, num_epochs
