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
    clipped_position,
    int_dtype,
    is_python_number,
    locate,
    safe_pow,
    schedule_class,
    select,
    static_field,
)
from optax_scheds._registry import constructor


@schedule_class
class Warmup(Schedule):
  schedule: Schedule
  warmup_steps: jax.typing.ArrayLike
  init_value: jax.typing.ArrayLike = 0.0
  ramp: str = static_field(default="linear")

  def _value(self, i, f):
    steps = as_int(self.warmup_steps)
    # lax.max, not jnp.maximum (a nested jit): less to trace in a fresh compile.
    after = self.schedule._value(jax.lax.max(i - steps, np.zeros((), i.dtype)), f)
    peak = self.schedule._value(jnp.zeros((), i.dtype), None)  # once, not per step
    safe = jax.lax.max(steps, np.ones((), steps.dtype))
    pct = clipped_position(i, f, safe, non_negative=True) / as_float(safe)
    init = as_float(self.init_value)
    if self.ramp == "linear":
      ramp = (init - peak) * (1 - pct) + peak  # optax.linear_schedule's form
    elif self.ramp == "cosine":
      ramp = peak + (init - peak) * 0.5 * (1 + jnp.cos(jnp.pi * pct))
    elif self.ramp == "1-sqrt":
      ramp = peak + (init - peak) * jnp.sqrt(1 - pct)
    else:
      ramp = init * (peak / init) ** pct
    return select(i >= steps, after, ramp)


@constructor
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
  1-sqrt: :math:`P + (I - P)\sqrt{1 - p}` (HuggingFace's ``"1-sqrt"`` warmup);
  exponential: :math:`I (P/I)^p` (``init_value`` and :math:`P` must be
  positive). The inner schedule sees the step counted from the end of the
  warmup. ``warmup_steps=0`` means no warmup.

  ``warmup_steps`` comes *before* the schedule: ``warmup(cosine_decay(P, D),
  W)`` ends at step ``W + D``. :func:`warmup_cosine_decay` follows optax
  instead: its ``decay_steps`` includes the warmup.

  Args:
    schedule: the schedule to warm up into (a schedule or callable).
    warmup_steps: length ``W`` of the warmup, ``>= 0``.
    init_value: value at step 0.
    ramp: ``'linear'``, ``'cosine'``, ``'1-sqrt'`` or ``'exponential'``
      (static).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule`` or non-integer ``warmup_steps``.
    ValueError: for an unknown ``ramp``, ``warmup_steps < 0``, NaN or
      infinity, or an exponential ramp from ``init_value <= 0`` or to
      ``schedule(0) <= 0`` (checked where the schedule is concrete).

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup(osch.cosine_decay(1.0, 100), warmup_steps=10)
    >>> print(f"{s(0):.2f} {s(5):.2f} {s(10):.2f} {s(60):.2f}")
    0.00 0.50 1.00 0.50
  """
  fn = "warmup"
  schedule = _checks.check_schedule(fn, "schedule", schedule)
  _checks.check_choice(fn, "ramp", ramp, ("linear", "cosine", "1-sqrt", "exponential"))
  init_value = _checks.check_value(fn, "init_value", init_value)
  steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  if ramp == "exponential":
    if _checks.is_concrete(init_value) and np.any(np.asarray(init_value) <= 0):
      _checks.fail(fn, "init_value", "positive for an exponential ramp", init_value)
    if _checks.is_concrete(schedule):
      target = np.asarray(schedule(0))
      if np.any(~(target > 0)):
        raise ValueError(
            f"`{fn}(schedule=...)` must start at a positive value for an exponential "
            f"ramp (it ramps geometrically to schedule(0)), got schedule(0)="
            f"{target.tolist()!r}. Use ramp='linear' or 'cosine'.")
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


@constructor
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
  return Delay(_checks.check_schedule(fn, "schedule", schedule),
               _checks.check_steps(fn, "delay_steps", delay_steps))


@schedule_class
class Advance(Schedule):
  schedule: Schedule
  steps: jax.typing.ArrayLike

  def _value(self, i, f):
    k = as_int(self.steps)
    top = jnp.asarray(np.iinfo(i.dtype).max, i.dtype)
    # Saturates at the largest step instead of wrapping.
    return self.schedule._value(jnp.where(i > top - k, top, i + k), f)


@constructor
def advance(schedule: Schedule, steps: int) -> Schedule:
  r"""Starts ``schedule`` ``steps`` steps in: the counterpart of :func:`delay`.

  .. math:: v(t) = s(t + k)

  The way to continue a run mid-schedule with a fresh step counter: a PyTorch
  scheduler saved at ``last_epoch=k`` (k ``step()`` calls made, next lr
  ``s(k)``) or a Keras optimizer at ``iterations == k`` (k updates made)
  continues with ``advance(s, k)``, whose step 0 is ``s(k)``. Steps past the
  largest step saturate there. ``steps`` is an integer leaf: jittable, and a
  traced ``steps`` skips the value check.

  Args:
    schedule: the schedule to advance.
    steps: the offset ``k``, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule`` or non-integer ``steps``.
    ValueError: for ``steps < 0`` (use :func:`delay` to start later).

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cosine_decay(1.0, 100)
    >>> resumed = osch.advance(s, 40)
    >>> print(f"{resumed(0):.4f} {s(40):.4f} {resumed(10):.4f} {s(50):.4f}")
    0.6545 0.6545 0.5000 0.5000
  """
  fn = "advance"
  return Advance(_checks.check_schedule(fn, "schedule", schedule),
                 _checks.check_steps(fn, "steps", steps))


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


@constructor
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
  return Stretch(_checks.check_schedule(fn, "schedule", schedule),
                 _checks.check_steps(fn, "steps_per_unit", steps_per_unit, minimum=1),
                 staircase)


# Cycles laid out exactly in a table; past it (only for a length_mul so close
# to 1 that more cycles start below the largest step) a float closed form.
_MAX_TABLED_CYCLES = 2**16
_GUARD_BITS = 192


@functools.lru_cache(maxsize=64)
def _cycle_layout(cycle_steps: int, length_mul: float, imax: int):
  """Integer first steps ``C_k = ceil(S_k)`` of the cycles, their offsets
  ``C_k - S_k`` and length factors ``m**k``, for the cycles that start within
  the step range (at most ``_MAX_TABLED_CYCLES``), and whether that is all.

  ``S_k = T (m**k - 1) / (m - 1)`` is tracked in fixed point with
  ``_GUARD_BITS`` fractional bits and a bound on its rounding error; where an
  integer lies within that bound, the ceiling is decided with exact integers.
  The cost is O(number of cycles), a few microseconds each.
  """
  m = Fraction(length_mul)
  num_m, den_m = m.numerator, m.denominator
  one = 1 << _GUARD_BITS
  power, start = one, 0  # m**k and S_k times `one`, rounded down
  power_err, start_err = 0, 0  # bounds on how far below the truth they are
  starts, offsets, factors = [], [], []
  for k in range(_MAX_TABLED_CYCLES + 1):
    ceil = -((-start) >> _GUARD_BITS)
    if (ceil << _GUARD_BITS) - start <= start_err:  # too close to call: exactly
      num = cycle_steps * (num_m**k - den_m**k) * den_m
      den = den_m**k * (num_m - den_m)
      ceil = -((-num) // den)
      offset = float(Fraction(ceil) - Fraction(num, den))
    else:
      offset = ((ceil << _GUARD_BITS) - start) / one
    if ceil > imax or k == _MAX_TABLED_CYCLES:
      return (np.asarray(starts, np.int64), np.asarray(offsets), np.asarray(factors),
              ceil > imax)
    starts.append(ceil)
    offsets.append(offset)
    factors.append(power / one)
    start += cycle_steps * power
    start_err += cycle_steps * power_err
    power = power * num_m // den_m
    power_err = -((-power_err * num_m) // den_m) + 1
  raise AssertionError("unreachable")


@schedule_class
class Cycle(Schedule):
  schedule: Schedule
  cycle_steps: int = static_field()
  length_mul: float = static_field(default=1)
  value_mul: jax.typing.ArrayLike = 1.0

  def _value(self, i, f):
    if self.length_mul == 1:
      if self.cycle_steps <= np.iinfo(i.dtype).max:
        # i >= 0 (never negative) and cycle_steps >= 1: truncating division is
        # the floor division, without jnp's sign fix-up for negative operands.
        k = jax.lax.div(i, np.asarray(self.cycle_steps, i.dtype))
      else:
        k = i // self.cycle_steps
      inner_i, inner_f = i - k * self.cycle_steps, f
    else:
      starts, offsets, factors, complete = _cycle_layout(
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
        u = as_float(local) + as_float(offsets)[k] + (0 if f is None else f)
        factor = as_float(factors)[k]
        if not complete:
          k, u, factor = self._past_table(k, u, factor, len(starts) - 1)
        x = u / factor
        floor = jnp.clip(jnp.floor(x), 0, self.cycle_steps - 1)
        inner_i, inner_f = floor.astype(int_dtype()), jnp.clip(x - floor, 0, 1)
    value = self.schedule._value(inner_i, inner_f)
    if is_python_number(self.value_mul, 1):
      return value  # value * 1 ** k, exactly
    return value * _power_of_cycle(self.value_mul, k, value)

  def _past_table(self, k, u, factor, last):
    """Cycles after the last tabled one, by the closed form in floats: ``r``
    more cycles have passed where ``u >= L (m**r - 1) / (m - 1)``."""
    m = float(self.length_mul)
    length = as_float(self.cycle_steps) * factor
    growth = jnp.log1p(jnp.maximum(u, 0) * (m - 1) / length) / np.log(m)
    r = jnp.where(k == last, jnp.floor(growth), 0).astype(int_dtype())
    grown = jnp.exp(as_float(r) * np.log(m))
    u = u - length * (grown - 1) / (m - 1)
    return k + r, u, factor * grown


def _power_of_cycle(d, k, value):
  """``d ** k`` for the values of cycle ``k``: exactly 1 in cycle 0 with a
  finite gradient at ``d = 0`` (``k d**(k-1)`` is ``0 * inf`` there), and 1
  where the value is 0 and the power overflows, so 0 stays 0 (not NaN)."""
  kf = as_float(k)
  if is_python_number(d) and 0 <= d <= 1:
    # A Python number in [0, 1]: d ** k cannot overflow and nothing is
    # differentiated, so only cycle 0 needs a select (one power, not two).
    return select(k == 0, jnp.ones_like(kf), as_float(d) ** kf)
  d = as_float(d)
  hidden = (k == 0) | ((value == 0) & ~jnp.isfinite(d ** kf))
  return jnp.where(hidden, jnp.ones_like(d), d ** jnp.where(hidden, jnp.ones_like(kf), kf))


@constructor
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
  :math:`k` owns the integer steps from :math:`\lceil S_k \rceil` on, decided
  with exact integer arithmetic at any step; with an integer ``length_mul``
  the inner step is an exact integer division too. The restart steps are
  computed once per ``(cycle_steps, length_mul)``, in time proportional to
  the number of cycles (about 1 ms per 1000 cycles). Only a ``length_mul``
  so close to 1 that more than 65536 cycles start below the largest step
  (e.g. ``1.0001`` with ``cycle_steps=10``) places the later restarts with a
  closed form in floats instead, accurate to the float precision of the step
  (float32 without x64: about ``1e-7 * step``).

  Args:
    schedule: one cycle, defined on steps ``[0, cycle_steps)``.
    cycle_steps: length ``T`` of the first cycle, ``> 0`` (static).
    length_mul: growth ``m >= 1`` of each cycle's length (static).
    value_mul: factor ``d >= 0`` applied to the values once per cycle (a
      negative one would flip the sign of every other cycle). With ``d > 1``
      the values grow and overflow to ``inf`` after enough cycles; a value of
      0 stays 0.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, non-integer or traced
      ``cycle_steps``, or a non-number ``length_mul``.
    ValueError: for ``cycle_steps <= 0``, ``length_mul < 1`` or infinite,
      ``value_mul < 0``, NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cycle(osch.cosine_decay(1.0, 10), cycle_steps=10, length_mul=2,
    ...                value_mul=0.5)
    >>> print(f"{s(0):.2f} {s(5):.2f} {s(10):.2f} {s(20):.2f} {s(30):.2f}")
    1.00 0.50 0.50 0.25 0.25
  """
  fn = "cycle"
  schedule = _checks.check_schedule(fn, "schedule", schedule)
  cycle_steps = _checks.check_static_int(fn, "cycle_steps", cycle_steps, minimum=1)
  if isinstance(length_mul, bool) or not isinstance(length_mul, (int, float, np.number)):
    _checks.fail(fn, "length_mul", "a number >= 1", length_mul, TypeError)
  if not length_mul >= 1 or not math.isfinite(length_mul):
    _checks.fail(fn, "length_mul", "a finite number >= 1", length_mul)
  length_mul = int(length_mul) if float(length_mul).is_integer() else float(length_mul)
  value_mul = _checks.check_non_negative(fn, "value_mul", value_mul)
  return Cycle(schedule, cycle_steps, length_mul, value_mul)


COOLDOWN_SHAPES = ("linear", "cosine", "1-sqrt", "1-square", "exponential")


def cooldown_shape(shape: str, x: jax.Array, decay_ratio) -> jax.Array:
  """The factor from 1 at ``x = 0`` to 0 at ``x = 1`` of a cooldown shape."""
  if shape == "linear":
    return 1 - x
  if shape == "cosine":
    return 0.5 * (1 + jnp.cos(jnp.pi * x))
  if shape == "1-sqrt":
    return 1 - jnp.sqrt(x)
  if shape == "1-square":
    return 1 - x * x
  r = as_float(decay_ratio)
  return (r**x - r) / (1 - r)


@schedule_class
class Cooldown(Schedule):
  schedule: Schedule
  start_step: jax.typing.ArrayLike
  cooldown_steps: jax.typing.ArrayLike
  end_value: jax.typing.ArrayLike = 0.0
  decay_ratio: jax.typing.ArrayLike = 0.1
  shape: str = static_field(default="1-sqrt")

  def _value(self, i, f):
    start, steps = as_int(self.start_step), as_int(self.cooldown_steps)
    before = self.schedule._value(i, f)
    top = self.schedule._value(start, None)  # once, not per step
    d = i - start
    x = clipped_position(d, f, steps) / as_float(steps)
    end = as_float(self.end_value)
    anneal = end + (top - end) * cooldown_shape(self.shape, x, self.decay_ratio)
    return jnp.where(d < 0, before, jnp.where(d >= steps, end, anneal))


@constructor
def cooldown(
    schedule: Schedule,
    start_step: int,
    cooldown_steps: int,
    end_value: jax.typing.ArrayLike = 0.0,
    shape: str = "1-sqrt",
    decay_ratio: jax.typing.ArrayLike = 0.1,
) -> Schedule:
  r"""Runs ``schedule`` until ``start_step``, then cools down to ``end_value``.

  With :math:`S` = ``start_step``, :math:`D` = ``cooldown_steps``,
  :math:`P = s(S)` and :math:`x = (t - S) / D`:

  .. math::
    v(t) = \begin{cases}
      s(t) & t < S \\
      E + (P - E)\, c(x) & S \le t < S + D \\
      E & t \ge S + D
    \end{cases}

  with the shape :math:`c` going from 1 to 0: ``'linear'`` :math:`1 - x`,
  ``'cosine'`` :math:`(1 + \cos \pi x)/2`, ``'1-sqrt'`` :math:`1 - \sqrt x`
  (the best in Hägele et al.), ``'1-square'`` :math:`1 - x^2`, or
  ``'exponential'`` :math:`(r^x - r)/(1 - r)` with :math:`r` =
  ``decay_ratio`` (MiniCPM's exponential anneal, normalised to reach
  :math:`E` as timm's WSD does). The schedule sees the step unchanged; it is
  evaluated once at :math:`S` for the cooldown's start value.

  This is the point of warmup-stable-decay training: any run, at any
  checkpoint, can be cooled down, e.g. ``cooldown(schedule, 80_000,
  20_000)`` on the schedule the run used so far.

  Args:
    schedule: the schedule to cool down (a schedule or callable).
    start_step: step ``S`` at which the cooldown starts, ``>= 0``.
    cooldown_steps: length ``D`` of the cooldown, ``> 0``.
    end_value: value ``E`` at the end and after.
    shape: ``'linear'``, ``'cosine'``, ``'1-sqrt'``, ``'1-square'`` or
      ``'exponential'`` (static).
    decay_ratio: ``r`` in (0, 1) for ``shape='exponential'``: the fraction
      the un-normalised exponential reaches at the end (timm's name).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, non-numeric values or
      non-integer step counts.
    ValueError: for an unknown ``shape``, ``start_step < 0``,
      ``cooldown_steps <= 0``, ``decay_ratio`` outside (0, 1), NaN or inf.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cooldown(osch.constant(1.0), start_step=100, cooldown_steps=100)
    >>> print(f"{s(99):.4f} {s(125):.4f} {s(175):.4f} {s(200):.4f}")
    1.0000 0.5000 0.1340 0.0000

  References:
    Hägele et al., `Scaling Laws and Compute-Optimal Training Beyond Fixed
    Training Durations <https://arxiv.org/abs/2405.18392>`_, 2024;
    Hu et al., `MiniCPM <https://arxiv.org/abs/2404.06395>`_, 2024.
  """
  fn = "cooldown"
  schedule = _checks.check_schedule(fn, "schedule", schedule)
  _checks.check_choice(fn, "shape", shape, COOLDOWN_SHAPES)
  return Cooldown(
      schedule,
      _checks.check_steps(fn, "start_step", start_step),
      _checks.check_steps(fn, "cooldown_steps", cooldown_steps, minimum=1),
      _checks.check_value(fn, "end_value", end_value),
      check_decay_ratio(fn, decay_ratio),
      shape,
  )


def check_decay_ratio(fn, decay_ratio):
  ratio = _checks.check_value(fn, "decay_ratio", decay_ratio, low=0.0, low_open=True,
                              constraint="in the open interval (0, 1)")
  if _checks.is_concrete(ratio) and np.any(np.asarray(ratio) >= 1):
    _checks.fail(fn, "decay_ratio", "in the open interval (0, 1)", ratio)
  return ratio


@schedule_class
class KDecay(Schedule):
  schedule: Schedule
  decay_steps: jax.typing.ArrayLike
  k: jax.typing.ArrayLike = 1.0

  def _value(self, i, f):
    steps = as_int(self.decay_steps)
    x = clipped_position(i, f, steps) / as_float(steps)
    warped = as_float(steps) * safe_pow(x, self.k)
    floor = jnp.minimum(jnp.floor(warped), as_float(steps))
    inside = i < steps
    inner_i = jnp.where(inside, floor.astype(int_dtype()), i)
    inner_f = warped - floor
    if f is not None:
      inner_f = jnp.where(inside, inner_f, f)
    else:
      inner_f = jnp.where(inside, inner_f, jnp.zeros_like(inner_f))
    return self.schedule._value(inner_i, inner_f)


@constructor
def k_decay(schedule: Schedule, decay_steps: int, k: jax.typing.ArrayLike) -> Schedule:
  r"""k-decay: runs ``schedule`` on the warped clock :math:`T (t/T)^k` until ``T``.

  .. math::
    v(t) = s\!\left(T \left(\tfrac{t}{T}\right)^{k}\right) \quad (t < T),
    \qquad v(t) = s(t) \quad (t \ge T)

  A decay over ``T`` steps written with :math:`t/T` becomes its k-decay
  variant, :math:`t^k/T^k` in place of :math:`t/T`: ``k_decay(cosine_decay(I,
  T), T, k)`` is :math:`\tfrac{I}{2}(1 + \cos(\pi t^k / T^k))` and
  ``k_decay(polynomial(I, E, p, T), T, k)`` is :math:`(I - E)(1 - t^k/T^k)^p
  + E`. ``k > 1`` holds the value high for longer, ``k < 1`` drops it
  sooner, ``k = 1`` changes nothing. It composes like any combinator:
  ``cycle(k_decay(cosine_decay(I, T), T, k), T)`` warps every cycle, as
  timm's ``k_decay`` does.

  Args:
    schedule: the schedule to warp, defined on ``[0, T]``.
    decay_steps: the length ``T`` of the warped stretch, ``> 0``.
    k: the exponent ``k >= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, a non-numeric ``k`` or a
      non-integer ``decay_steps``.
    ValueError: for ``decay_steps <= 0``, ``k < 0``, NaN or inf.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.k_decay(osch.cosine_decay(1.0, 100), decay_steps=100, k=2.0)
    >>> print(f"{s(0):.4f} {s(50):.4f} {s(100):.4f}")
    1.0000 0.8536 0.0000

  References:
    Zhang & Li, `k-decay: A New Method For Learning Rate Schedule
    <https://arxiv.org/abs/2004.05909>`_, 2020.
  """
  fn = "k_decay"
  return KDecay(_checks.check_schedule(fn, "schedule", schedule),
                _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
                _checks.check_non_negative(fn, "k", k))
