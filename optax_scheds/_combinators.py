"""Combinators that change when a schedule runs: warmup, delay, stretch, cycle.

Each takes a schedule and returns a new one; the docstrings say which step
the inner schedule sees.
"""

import functools
import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import (
    Schedule,
    as_float,
    as_int,
    as_schedule,
    clipped_position,
    int_dtype,
    locate,
    schedule_class,
    static_field,
)


def _check_schedule(fn, name, schedule) -> Schedule:
  if not (isinstance(schedule, Schedule) or callable(schedule)):
    _checks.fail(fn, name, "a schedule or a callable step -> value", schedule, TypeError)
  return as_schedule(schedule)


@schedule_class
class Warmup(Schedule):
  schedule: Schedule
  warmup_steps: jax.typing.ArrayLike
  init_value: jax.typing.ArrayLike = 0.0
  ramp: str = static_field(default="linear")

  def _value(self, i, f):
    steps = as_int(self.warmup_steps)
    after = self.schedule._value(jnp.maximum(i - steps, 0), f)
    peak = self.schedule._value(jnp.zeros((), i.dtype), None)  # once, not per step
    safe = jnp.maximum(steps, 1)
    pct = clipped_position(i, f, safe) / as_float(safe)
    init = as_float(self.init_value)
    if self.ramp == "linear":
      ramp = (init - peak) * (1 - pct) + peak  # optax.linear_schedule's form
    elif self.ramp == "cosine":
      ramp = peak + (init - peak) * 0.5 * (1 + jnp.cos(jnp.pi * pct))
    else:
      ramp = init * (peak / init) ** pct
    return jnp.where(i >= steps, after, ramp)


def warmup(
    schedule: Schedule,
    warmup_steps: int,
    init_value: jax.typing.ArrayLike = 0.0,
    ramp: str = "linear",
) -> Schedule:
  r"""Ramps from ``init_value`` to ``schedule(0)``, then runs ``schedule``.

  With :math:`P = s(0)`, :math:`W` = ``warmup_steps`` and :math:`p = t/W`:

  .. math::
    v(t) = \begin{cases}
      \mathrm{ramp}(I, P, p) & t < W \\
      s(t - W) & t \ge W
    \end{cases}

  linear: :math:`I + (P - I)p`; cosine: :math:`P + (I - P)(1 + \cos \pi p)/2`;
  exponential: :math:`I (P/I)^p` (``init_value`` must be positive). The inner
  schedule sees the step counted from the end of the warmup.
  ``warmup_steps=0`` means no warmup.

  Args:
    schedule: the schedule to warm up into (a schedule or callable).
    warmup_steps: length ``W`` of the warmup, ``>= 0``.
    init_value: value at step 0.
    ramp: ``'linear'``, ``'cosine'`` or ``'exponential'`` (static).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule`` or non-integer ``warmup_steps``.
    ValueError: for an unknown ``ramp``, ``warmup_steps < 0``, NaN, or an
      exponential ramp from ``init_value <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup(osch.cosine_decay(1.0, 100), warmup_steps=10)
    >>> print(f"{s(0):.2f} {s(5):.2f} {s(10):.2f} {s(60):.2f}")
    0.00 0.50 1.00 0.50
  """
  fn = "warmup"
  schedule = _check_schedule(fn, "schedule", schedule)
  _checks.check_choice(fn, "ramp", ramp, ("linear", "cosine", "exponential"))
  init_value = _checks.check_value(fn, "init_value", init_value)
  if ramp == "exponential" and _checks.is_concrete(init_value) and np.any(
      np.asarray(init_value) <= 0):
    _checks.fail(fn, "init_value", "positive for an exponential ramp", init_value)
  steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  return Warmup(schedule, steps, init_value, ramp)


@schedule_class
class Delay(Schedule):
  schedule: Schedule
  delay_steps: jax.typing.ArrayLike

  def _value(self, i, f):
    d = i - as_int(self.delay_steps)
    if f is not None:
      f = jnp.where(d >= 0, f, jnp.zeros_like(f))
    return self.schedule._value(jnp.maximum(d, 0), f)


def delay(schedule: Schedule, delay_steps: int) -> Schedule:
  r"""Holds ``schedule(0)`` for ``delay_steps`` steps, then runs ``schedule``.

  .. math:: v(t) = s(\max(t - D, 0))

  Args:
    schedule: the schedule to delay.
    delay_steps: the delay ``D``, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule`` or non-integer ``delay_steps``.
    ValueError: for ``delay_steps < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.delay(osch.linear(1.0, 0.0, 10), delay_steps=100)
    >>> print(f"{s(50):.1f} {s(105):.1f}")
    1.0 0.5
  """
  fn = "delay"
  return Delay(_check_schedule(fn, "schedule", schedule),
               _checks.check_steps(fn, "delay_steps", delay_steps))


@schedule_class
class Stretch(Schedule):
  schedule: Schedule
  steps_per_unit: jax.typing.ArrayLike
  staircase: bool = static_field(default=False)

  def _value(self, i, f):
    k = as_int(self.steps_per_unit)
    unit = i // k
    if self.staircase:
      return self.schedule._value(unit, None)
    rest = as_float(i - unit * k)
    frac = (rest if f is None else rest + f) / as_float(k)
    return self.schedule._value(unit, frac)


def stretch(schedule: Schedule, steps_per_unit: int, staircase: bool = False) -> Schedule:
  r"""Runs ``schedule`` in units of ``steps_per_unit`` steps (e.g. epochs).

  .. math:: v(t) = s(t / k) \quad (s(\lfloor t / k \rfloor) \text{ if staircase})

  A schedule written per epoch becomes a per-step schedule with
  ``steps_per_unit=steps_per_epoch``; with ``staircase=True`` it changes only
  at epoch starts. The unit index is an exact integer division.

  Args:
    schedule: the schedule, in units.
    steps_per_unit: steps per unit ``k``, ``> 0``.
    staircase: hold the value within each unit (static).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, non-integer ``steps_per_unit``
      or non-bool ``staircase``.
    ValueError: for ``steps_per_unit <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> per_epoch = osch.linear(1.0, 0.0, transition_steps=10)  # 10 epochs
    >>> s = osch.stretch(per_epoch, steps_per_unit=100, staircase=True)
    >>> print(f"{s(99):.1f} {s(100):.1f} {s(250):.1f}")
    1.0 0.9 0.8
  """
  fn = "stretch"
  if not isinstance(staircase, bool):
    _checks.fail(fn, "staircase", "a bool", staircase, TypeError)
  return Stretch(_check_schedule(fn, "schedule", schedule),
                 _checks.check_steps(fn, "steps_per_unit", steps_per_unit, minimum=1),
                 staircase)


@functools.lru_cache(maxsize=64)
def _cycle_layout(cycle_steps: int, length_mul: float, imax: int):
  """Integer first steps ``C_k = ceil(S_k)`` of the cycles, their offsets
  ``C_k - S_k`` and length factors ``m**k``, for all cycles that start within
  the step range. ``S_k = T (m**k - 1) / (m - 1)`` is computed exactly."""
  m = Fraction(length_mul)
  starts, offsets, factors = [], [], []
  start, k = Fraction(0), 0
  while start <= imax:
    ceil = math.ceil(start)
    starts.append(ceil)
    offsets.append(float(ceil - start))
    factors.append(float(m**k))
    start += cycle_steps * m**k
    k += 1
  return np.asarray(starts, np.int64), np.asarray(offsets), np.asarray(factors)


@schedule_class
class Cycle(Schedule):
  schedule: Schedule
  cycle_steps: int = static_field()
  length_mul: float = static_field(default=1)
  value_mul: jax.typing.ArrayLike = 1.0

  def _value(self, i, f):
    if self.length_mul == 1:
      k = i // self.cycle_steps
      inner_i, inner_f = i - k * self.cycle_steps, f
    else:
      starts, offsets, factors = _cycle_layout(
          self.cycle_steps, self.length_mul, int(np.iinfo(int_dtype()).max))
      k = locate(starts, i) - 1
      local = i - as_int(starts)[k]
      if float(self.length_mul).is_integer():
        # Integer growth: the inner step is an exact integer division.
        factor = as_int(np.minimum(factors, np.iinfo(int_dtype()).max))[k]
        inner_i = local // factor
        rest = as_float(local - inner_i * factor)
        inner_f = (rest if f is None else rest + f) / as_float(factor)
      else:
        x = (as_float(local) + as_float(offsets)[k] + (0 if f is None else f)) \
            / as_float(factors)[k]
        floor = jnp.floor(x)
        inner_i, inner_f = floor.astype(int_dtype()), x - floor
    value = self.schedule._value(inner_i, inner_f)
    return value * as_float(self.value_mul) ** as_float(k)


def cycle(
    schedule: Schedule,
    cycle_steps: int,
    length_mul: float = 1,
    value_mul: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""Repeats ``schedule`` in cycles, optionally longer and lower each time.

  Cycle :math:`k` starts at :math:`S_k = T (m^k - 1) / (m - 1)` (``k T`` for
  :math:`m = 1`) and lasts :math:`T m^k`; inside it the inner schedule sees
  the step stretched back to its own length :math:`T`:

  .. math:: v(t) = d^{k}\, s\!\left(\frac{t - S_k}{m^k}\right)

  This gives SGDR-style warm restarts without listing every cycle. Cycle
  selection is exact integer arithmetic at any step; with an integer
  ``length_mul`` the inner step is an exact integer division too.

  Args:
    schedule: one cycle, defined on steps ``[0, cycle_steps)``.
    cycle_steps: length ``T`` of the first cycle, ``> 0`` (static).
    length_mul: growth ``m >= 1`` of each cycle's length (static).
    value_mul: factor ``d`` applied to the values once per cycle.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, non-integer or traced
      ``cycle_steps``, or a non-number ``length_mul``.
    ValueError: for ``cycle_steps <= 0``, ``length_mul < 1`` or NaN.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cycle(osch.cosine_decay(1.0, 10), cycle_steps=10, length_mul=2,
    ...                value_mul=0.5)
    >>> print(f"{s(0):.2f} {s(5):.2f} {s(10):.2f} {s(20):.2f} {s(30):.2f}")
    1.00 0.50 0.50 0.25 0.25
  """
  fn = "cycle"
  schedule = _check_schedule(fn, "schedule", schedule)
  cycle_steps = _checks.check_static_int(fn, "cycle_steps", cycle_steps, minimum=1)
  if isinstance(length_mul, bool) or not isinstance(length_mul, (int, float, np.number)):
    _checks.fail(fn, "length_mul", "a number >= 1", length_mul, TypeError)
  if not length_mul >= 1 or not math.isfinite(length_mul):
    _checks.fail(fn, "length_mul", "a finite number >= 1", length_mul)
  length_mul = int(length_mul) if float(length_mul).is_integer() else float(length_mul)
  value_mul = _checks.check_value(fn, "value_mul", value_mul)
  return Cycle(schedule, cycle_steps, length_mul, value_mul)
