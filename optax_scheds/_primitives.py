"""Primitive schedules: closed forms of one step, and table lookups.

The functions named like optax's schedules (minus ``_schedule``) keep optax's
parameter names and defaults and give optax's values at every step
``0 <= t < 2**24``. Documented differences: step counts that make a schedule
meaningless raise instead of silently becoming a constant, and steps below 0
give the value at step 0.
"""

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import (
    Schedule,
    as_float,
    as_int,
    clipped_position,
    float_dtype,
    host_array,
    is_python_number,
    locate,
    position,
    safe_pow,
    scaled_power,
    schedule_class,
    select,
    static_field,
)
from optax_scheds._registry import constructor


@schedule_class
class Constant(Schedule):
  value: jax.typing.ArrayLike

  def _value(self, i, f):
    v = as_float(self.value)
    return jnp.broadcast_to(v, jnp.broadcast_shapes(v.shape, i.shape))


@constructor
def constant(value: jax.typing.ArrayLike) -> Schedule:
  """A schedule that always returns ``value``.

  .. math:: v(t) = c

  Unlike ``optax.constant_schedule``, which returns the Python object it was
  given, this returns a float ``jax.Array``.

  Args:
    value: the value to hold.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if ``value`` is not a real number or array.
    ValueError: if ``value`` is NaN or infinite.

  Examples:
    >>> import optax_scheds as osch
    >>> print(osch.constant(5)(100))
    5.0
  """
  return Constant(_checks.check_value("constant", "value", value))


@schedule_class
class Polynomial(Schedule):
  init_value: jax.typing.ArrayLike
  end_value: jax.typing.ArrayLike
  power: jax.typing.ArrayLike
  transition_steps: jax.typing.ArrayLike
  transition_begin: jax.typing.ArrayLike = 0

  def _value(self, i, f):
    steps = as_float(self.transition_steps)
    x = clipped_position(i - as_int(self.transition_begin), f, self.transition_steps)
    # Not 1 - x / steps: XLA compiles division by a constant as multiplication
    # by its reciprocal, which can overshoot 1 at x == steps.
    frac = (steps - x) / steps
    init, end = as_float(self.init_value), as_float(self.end_value)
    return (init - end) * safe_pow(frac, self.power) + end


@constructor
def polynomial(
    init_value: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike,
    power: jax.typing.ArrayLike,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
  r"""Polynomial transition from ``init_value`` to ``end_value``.

  .. math::
    v(t) = (I - E)\left(1 - \frac{c}{T}\right)^{P} + E, \qquad
    c = \mathrm{clip}(t - B, 0, T)

  so ``v = I`` for ``t <= B`` and ``v = E`` for ``t >= B + T``. Drop-in for
  ``optax.polynomial_schedule``, except that ``transition_steps <= 0`` and
  ``transition_begin < 0`` raise (optax turns them into a constant or 0).

  Args:
    init_value: value until ``transition_begin``.
    end_value: value from ``transition_begin + transition_steps`` on.
    power: exponent ``P >= 0`` of the transition (a negative one would make
      the end value infinite).
    transition_steps: length ``T`` of the transition, ``> 0``.
    transition_begin: step ``B`` at which the transition starts, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN or infinite values, ``power < 0``,
      ``transition_steps <= 0`` or ``transition_begin < 0``. Traced arguments
      skip the value checks.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.polynomial(1.0, 0.01, power=2, transition_steps=100,
    ...                     transition_begin=5)
    >>> print(f"{s(0):.4f} {s(6):.4f} {s(105):.4f}")
    1.0000 0.9803 0.0100
  """
  fn = "polynomial"
  return Polynomial(
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_value(fn, "end_value", end_value),
      _checks.check_non_negative(fn, "power", power),
      _checks.check_steps(fn, "transition_steps", transition_steps, minimum=1),
      _checks.check_steps(fn, "transition_begin", transition_begin),
  )


@constructor
def linear(
    init_value: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike,
    transition_steps: int,
    transition_begin: int = 0,
) -> Schedule:
  r"""Linear transition from ``init_value`` to ``end_value``.

  .. math::
    v(t) = (I - E)\left(1 - \frac{c}{T}\right) + E, \qquad
    c = \mathrm{clip}(t - B, 0, T)

  :func:`polynomial` with ``power=1``; drop-in for ``optax.linear_schedule``
  (``transition_steps <= 0`` raises instead of giving a constant).

  Args:
    init_value: value until ``transition_begin``.
    end_value: value from ``transition_begin + transition_steps`` on.
    transition_steps: length ``T`` of the transition, ``> 0``.
    transition_begin: step ``B`` at which the transition starts, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN or infinite values, ``transition_steps <= 0`` or
      ``transition_begin < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.linear(1.0, 0.0, transition_steps=100)
    >>> print(f"{s(25):.2f} {s(1_000_000):.2f}")
    0.75 0.00
  """
  fn = "linear"
  return Polynomial(
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_value(fn, "end_value", end_value),
      1.0,
      _checks.check_steps(fn, "transition_steps", transition_steps, minimum=1),
      _checks.check_steps(fn, "transition_begin", transition_begin),
  )


@schedule_class
class CosineDecay(Schedule):
  init_value: jax.typing.ArrayLike
  decay_steps: jax.typing.ArrayLike
  alpha: jax.typing.ArrayLike = 0.0
  exponent: jax.typing.ArrayLike = 1.0

  def _value(self, i, f):
    steps = as_float(self.decay_steps)
    x = clipped_position(i, f, self.decay_steps, non_negative=True)
    cosine = 0.5 * (1 + jnp.cos(jnp.pi * x / steps))
    # lax.max: jnp.maximum is a nested jit, one more to trace in a fresh compile.
    cosine = safe_pow(jax.lax.max(cosine, np.zeros((), cosine.dtype)), self.exponent)
    if is_python_number(self.alpha, 0):
      decayed = cosine  # (1 - 0) * c + 0, exactly: c is never -0
    else:
      alpha = as_float(self.alpha)
      decayed = (1 - alpha) * cosine + alpha
    return as_float(self.init_value) * decayed


@constructor
def cosine_decay(
    init_value: jax.typing.ArrayLike,
    decay_steps: int,
    alpha: jax.typing.ArrayLike = 0.0,
    exponent: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""Cosine decay from ``init_value`` to ``alpha * init_value``.

  .. math::
    v(t) = I\left[(1 - \alpha)\left(\tfrac12\left(1 + \cos\frac{\pi c}{T}
    \right)\right)^{p} + \alpha\right], \qquad c = \min(t, T)

  It stays at ``alpha * init_value`` after ``T``. Drop-in for
  ``optax.cosine_decay_schedule``.

  Args:
    init_value: value at step 0.
    decay_steps: length ``T`` of the decay, ``> 0``.
    alpha: final value as a fraction of ``init_value``.
    exponent: exponent ``p >= 0`` applied to the cosine factor.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``decay_steps``.
    ValueError: for NaN or infinite values, ``exponent < 0`` or
      ``decay_steps <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cosine_decay(1.0, decay_steps=100, alpha=0.1)
    >>> print(f"{s(0):.3f} {s(50):.3f} {s(100):.3f} {s(500):.3f}")
    1.000 0.550 0.100 0.100

  References:
    Loshchilov & Hutter, `SGDR: Stochastic Gradient Descent with Warm
    Restarts <https://arxiv.org/abs/1608.03983>`_, 2017.
  """
  fn = "cosine_decay"
  return CosineDecay(
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
      _checks.check_value(fn, "alpha", alpha),
      _checks.check_non_negative(fn, "exponent", exponent),
  )


@schedule_class
class ExponentialDecay(Schedule):
  init_value: jax.typing.ArrayLike
  transition_steps: jax.typing.ArrayLike
  decay_rate: jax.typing.ArrayLike
  transition_begin: jax.typing.ArrayLike = 0
  staircase: bool = static_field(default=False)
  end_value: jax.typing.ArrayLike | None = None

  def _value(self, i, f):
    d = jnp.maximum(i - as_int(self.transition_begin), 0)
    steps = as_int(self.transition_steps)
    if self.staircase:
      p = as_float(d // steps)
    else:
      p = jnp.where(i < as_int(self.transition_begin),
                    jnp.zeros((), float_dtype()), position(d, f)) / as_float(steps)
    rate, init = as_float(self.decay_rate), as_float(self.init_value)
    if self.end_value is None:
      return scaled_power(init, rate, p)
    end = as_float(self.end_value)
    value = scaled_power(init, rate, p)
    clipped = jnp.where(rate < 1, value < end, value > end)
    # Double where: where the bound holds, the (possibly overflowed) power is
    # evaluated at p = 0, so the hidden branch cannot make the gradient NaN.
    value = scaled_power(init, rate, jnp.where(clipped, jnp.zeros_like(p), p))
    return jnp.where(clipped, end, value)


@constructor
def exponential_decay(
    init_value: jax.typing.ArrayLike,
    transition_steps: int,
    decay_rate: jax.typing.ArrayLike,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
  r"""Exponential decay (or growth) by ``decay_rate`` every ``transition_steps``.

  .. math::
    v(t) = I \cdot r^{p}, \qquad p = \frac{\max(t - B, 0)}{T}
    \quad(\lfloor p \rfloor \text{ if staircase})

  then clipped below at ``end_value`` if ``r < 1`` (above if ``r > 1``).
  Drop-in for ``optax.exponential_decay``, except that
  ``transition_steps <= 0``, ``decay_rate <= 0`` and ``transition_begin < 0``
  raise (optax turns them into a constant or 0). The staircase exponent is an
  exact integer division, at any step.

  Growth (``r > 1``) without ``end_value`` overflows to ``inf`` once
  :math:`I r^p` exceeds the float range (as optax); give ``end_value`` to
  bound it: the value then holds ``end_value``, with finite gradients.
  ``init_value = 0`` gives 0 at every step (never ``0 * inf``).

  Args:
    init_value: value until ``transition_begin``.
    transition_steps: steps ``T`` per factor of ``decay_rate``, ``> 0``.
    decay_rate: factor ``r > 0`` per ``transition_steps``.
    transition_begin: step ``B`` at which the decay starts, ``>= 0``.
    staircase: decay in discrete steps (static).
    end_value: optional bound where the decay stops.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN or infinite values (``end_value`` may be infinite),
      ``transition_steps <= 0``, ``decay_rate <= 0`` or
      ``transition_begin < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.exponential_decay(1.0, transition_steps=10, decay_rate=0.5,
    ...                            staircase=True, end_value=0.2)
    >>> print(f"{s(9):.2f} {s(10):.2f} {s(25):.2f} {s(100):.2f}")
    1.00 0.50 0.25 0.20
  """
  return ExponentialDecay(*exponential_decay_args(
      "exponential_decay", init_value, transition_steps, decay_rate, transition_begin,
      staircase, end_value))


def exponential_decay_args(fn, init_value, transition_steps, decay_rate, transition_begin,
                           staircase, end_value):
  """:func:`exponential_decay`'s arguments, validated in the name of ``fn``."""
  if not isinstance(staircase, bool):
    _checks.fail(fn, "staircase", "a bool", staircase, TypeError)
  return (
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_steps(fn, "transition_steps", transition_steps, minimum=1),
      _checks.check_positive(fn, "decay_rate", decay_rate),
      _checks.check_steps(fn, "transition_begin", transition_begin),
      staircase,
      # inf is allowed: a bound that is never reached.
      _checks.check_value(fn, "end_value", end_value, allow_none=True, allow_inf=True),
  )


def _boundaries_and_scales(fn, boundaries_and_scales):
  if boundaries_and_scales is None:
    boundaries_and_scales = {}
  if not isinstance(boundaries_and_scales, dict):
    _checks.fail(fn, "boundaries_and_scales", "a dict {step: scale} or None",
                 boundaries_and_scales, TypeError)
  items = sorted(
      (_checks.check_steps(fn, "boundaries_and_scales", b), s)
      for b, s in boundaries_and_scales.items()
  )
  boundaries = host_array(np.asarray([b for b, _ in items], dtype=np.int64))
  if len(set(boundaries.tolist())) != len(items):
    _checks.fail(fn, "boundaries_and_scales", "a dict with distinct integer steps",
                 boundaries_and_scales)
  scales = [_checks.check_value(fn, "boundaries_and_scales", s) for _, s in items]
  if any(_checks.is_concrete(s) and np.any(np.asarray(s) < 0) for s in scales):
    _checks.fail(fn, "boundaries_and_scales", "a dict of non-negative scales",
                 boundaries_and_scales)
  if _checks.is_concrete(scales):
    scales = host_array(np.asarray(scales, dtype=np.float64).reshape(len(items)))
  else:
    scales = jnp.stack([as_float(s) for s in scales])
  return boundaries, scales


def _values(init_value, scales):
  """``[I, I*s1, (I*s1)*s2, ...]``, multiplied in optax's order, once at
  construction (in NumPy) unless a value is traced."""
  if _checks.is_concrete((init_value, scales)) and np.ndim(init_value) == 0:
    return np.cumprod(np.concatenate([[init_value], scales]).astype(float_dtype()))
  return jnp.cumprod(jnp.concatenate([as_float(init_value)[None], as_float(scales)]))


@schedule_class
class PiecewiseConstant(Schedule):
  boundaries: jax.typing.ArrayLike  # (N,) steps
  values: jax.typing.ArrayLike  # (N + 1,) value from each boundary on

  def _value(self, i, f):
    values, boundaries = as_float(self.values), as_int(self.boundaries)
    if boundaries.shape[0] > 16:
      return values[locate(boundaries, i)]
    out = jnp.broadcast_to(values[0], i.shape)  # few boundaries: selects, no gather
    for k in range(boundaries.shape[0]):
      out = select(i >= boundaries[k], values[k + 1], out)
    return out


@constructor
def piecewise_constant(
    init_value: jax.typing.ArrayLike,
    boundaries_and_scales: dict[int, float] | None = None,
) -> Schedule:
  r"""Piecewise constant: ``init_value`` times every scale whose step is reached.

  .. math:: v(t) = I \prod_{b_i \le t} s_i

  The new value applies at ``t == b_i`` (as in optax). Evaluation is a binary
  search, O(log N) for N boundaries. Drop-in for
  ``optax.piecewise_constant_schedule``.

  Args:
    init_value: value before the first boundary.
    boundaries_and_scales: ``{step: scale}`` with non-negative integer steps and
      non-negative scales, or ``None`` for a constant.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if ``boundaries_and_scales`` is not a dict or has non-integer
      steps.
    ValueError: for negative steps or scales, NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.piecewise_constant(1.0, {100: 0.1, 200: 0.1})
    >>> print(f"{s(99):.2f} {s(100):.2f} {s(200):.3f}")
    1.00 0.10 0.010
  """
  fn = "piecewise_constant"
  init_value = _checks.check_value(fn, "init_value", init_value)
  boundaries, scales = _boundaries_and_scales(fn, boundaries_and_scales)
  return PiecewiseConstant(boundaries, _values(init_value, scales))


@schedule_class
class PiecewiseInterpolate(Schedule):
  interpolate_type: str = static_field()
  boundaries: jax.typing.ArrayLike = ()  # (N,) steps
  values: jax.typing.ArrayLike = ()  # (N + 1,) values at 0 and at each boundary

  def _value(self, i, f):
    values = as_float(self.values)
    n = values.shape[0] - 1
    bounds = jnp.concatenate([jnp.zeros((1,), i.dtype), as_int(self.boundaries)])
    j = locate(bounds, i) - 1
    nxt = jnp.minimum(j + 1, n)
    size = jnp.maximum(bounds[nxt] - bounds[j], 1)
    pct = position(i - bounds[j], f) / as_float(size)
    start, end = values[j], values[nxt]
    if self.interpolate_type == "linear":
      inside = (end - start) * pct + start
    else:
      inside = end + (start - end) / 2.0 * (jnp.cos(jnp.pi * pct) + 1)
    return jnp.where(j >= n, values[n], inside)


@constructor
def piecewise_interpolate(
    interpolate_type: str,
    init_value: jax.typing.ArrayLike,
    boundaries_and_scales: dict[int, float] | None = None,
) -> Schedule:
  r"""Interpolates between cumulative products of scales at boundaries.

  With :math:`b_0 = 0`, :math:`v_0 = I` and :math:`v_k = v_{k-1} s_k`, for
  :math:`b_k \le t < b_{k+1}`:

  .. math::
    v(t) = \mathrm{interp}(v_k, v_{k+1}, \tfrac{t - b_k}{b_{k+1} - b_k})

  linear: ``a + (b - a) p``; cosine: ``b + (a - b)(1 + cos(pi p)) / 2``. The
  value is ``v_N`` from the last boundary on. The first segment starts
  interpolating at step 0. Evaluation is a binary search, O(log N). Drop-in
  for ``optax.piecewise_interpolate_schedule``.

  Args:
    interpolate_type: ``'linear'`` or ``'cosine'`` (static).
    init_value: value at step 0.
    boundaries_and_scales: ``{step: scale}``, non-negative steps and scales.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-dict ``boundaries_and_scales`` or non-integer steps.
    ValueError: for an unknown ``interpolate_type``, negative steps or scales,
      NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.piecewise_interpolate("linear", 1.0, {10: 0.5})
    >>> print(f"{s(0):.3f} {s(5):.3f} {s(10):.3f} {s(99):.3f}")
    1.000 0.750 0.500 0.500
  """
  fn = "piecewise_interpolate"
  _checks.check_choice(fn, "interpolate_type", interpolate_type, ("linear", "cosine"))
  init_value = _checks.check_value(fn, "init_value", init_value)
  boundaries, scales = _boundaries_and_scales(fn, boundaries_and_scales)
  return PiecewiseInterpolate(interpolate_type, boundaries, _values(init_value, scales))


@schedule_class
class Table(Schedule):
  values: jax.typing.ArrayLike

  def _value(self, i, f):
    values = as_float(self.values)
    return values[jnp.minimum(i, values.shape[0] - 1)]


@constructor
def table(values) -> Schedule:
  r"""Looks the value up in a table: ``values[t]``, holding the last entry.

  .. math:: v(t) = \mathrm{values}[\min(\lfloor t \rfloor, N - 1)]

  Use it for values computed in Python, e.g. a per-epoch table combined with
  :func:`stretch` to make it per step.

  Args:
    values: a non-empty 1-D sequence or array of values.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if ``values`` is not a 1-D sequence of numbers.
    ValueError: if it is empty or holds NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.table([1.0, 0.5, 0.25])
    >>> print(s(0), s(2), s(10))
    1.0 0.25 0.25
  """
  fn = "table"
  if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__"):
    _checks.fail(fn, "values", "a 1-D sequence of numbers", values, TypeError)
  if _checks.is_concrete(values):
    try:
      arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
      _checks.fail(fn, "values", "a 1-D sequence of numbers", values, TypeError)
    if arr.ndim != 1 or arr.size == 0:
      _checks.fail(fn, "values", "a non-empty 1-D sequence", values)
    if not np.all(np.isfinite(arr)):
      _checks.fail(fn, "values", "finite (no NaN or inf)", values)
    return Table(host_array(arr))
  return Table(jnp.stack([jnp.asarray(v) for v in values]) if not hasattr(values, "ndim")
               else values)


@schedule_class
class Rex(Schedule):
  init_value: jax.typing.ArrayLike
  decay_steps: jax.typing.ArrayLike
  end_value: jax.typing.ArrayLike = 0.0

  def _value(self, i, f):
    z = clipped_position(i, f, self.decay_steps) / as_float(self.decay_steps)
    init, end = as_float(self.init_value), as_float(self.end_value)
    return end + (init - end) * (1 - z) / (1 - z / 2)


@constructor
def rex(
    init_value: jax.typing.ArrayLike,
    decay_steps: int,
    end_value: jax.typing.ArrayLike = 0.0,
) -> Schedule:
  r"""REX: a reflected-exponential decay from ``init_value`` to ``end_value``.

  .. math::
    v(t) = E + (I - E)\,\frac{1 - z}{1 - z / 2}, \qquad z = \min(t / T, 1)

  It falls slowly at first and fast at the end, ends at ``end_value`` at
  step ``T`` and holds it after. Evaluated at every step (the paper's
  "sampled every iteration" variant).

  Args:
    init_value: value ``I`` at step 0.
    decay_steps: length ``T`` of the decay, ``> 0``.
    end_value: value ``E`` from step ``T`` on.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``decay_steps``.
    ValueError: for NaN or infinite values or ``decay_steps <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.rex(1.0, decay_steps=100)
    >>> print(f"{s(0):.4f} {s(50):.4f} {s(90):.4f} {s(100):.4f}")
    1.0000 0.6667 0.1818 0.0000

  References:
    Chen et al., `REX: Revisiting Budgeted Training with an Improved Schedule
    <https://arxiv.org/abs/2107.04197>`_, MLSys 2022.
  """
  fn = "rex"
  return Rex(
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
      _checks.check_value(fn, "end_value", end_value),
  )


@schedule_class
class TanhDecay(Schedule):
  init_value: jax.typing.ArrayLike
  decay_steps: jax.typing.ArrayLike
  end_value: jax.typing.ArrayLike = 0.0
  tanh_start: jax.typing.ArrayLike = -7.0
  tanh_end: jax.typing.ArrayLike = 3.0

  def _value(self, i, f):
    x = clipped_position(i, f, self.decay_steps) / as_float(self.decay_steps)
    a, b = as_float(self.tanh_start), as_float(self.tanh_end)
    init, end = as_float(self.init_value), as_float(self.end_value)
    return end + 0.5 * (init - end) * (1 - jnp.tanh(a * (1 - x) + b * x))


@constructor
def tanh_decay(
    init_value: jax.typing.ArrayLike,
    decay_steps: int,
    end_value: jax.typing.ArrayLike = 0.0,
    tanh_start: jax.typing.ArrayLike = -7.0,
    tanh_end: jax.typing.ArrayLike = 3.0,
) -> Schedule:
  r"""Hyperbolic-tangent decay (timm's ``TanhLRScheduler`` shape).

  .. math::
    v(t) = E + \frac{I - E}{2}\left(1 - \tanh\big(a (1 - x) + b x\big)\right),
    \qquad x = \min(t / T, 1)

  With the defaults ``a = -7``, ``b = 3`` it starts just below ``I``
  (:math:`(1 + \tanh 7)/2 \approx 0.999999`), stays high for most of the
  run, and ends at :math:`E + (I - E)(1 - \tanh 3)/2 \approx E + 0.0025 (I -
  E)` at step ``T``, held after (as timm, it does not reach ``E`` exactly).

  Args:
    init_value: the value ``I`` the curve starts from.
    decay_steps: length ``T`` of the decay, ``> 0``.
    end_value: the floor ``E``.
    tanh_start: the argument ``a`` of ``tanh`` at step 0 (timm's ``lb``).
    tanh_end: the argument ``b`` of ``tanh`` at step ``T`` (timm's ``ub``).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``decay_steps``.
    ValueError: for NaN or infinite values or ``decay_steps <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.tanh_decay(1.0, decay_steps=100)
    >>> print(f"{s(0):.4f} {s(50):.4f} {s(70):.4f} {s(100):.4f}")
    1.0000 0.9820 0.5000 0.0025

  References:
    Hsueh et al., `Stochastic Gradient Descent with Hyperbolic-Tangent Decay
    on Classification <https://arxiv.org/abs/1806.01593>`_, WACV 2019.
  """
  fn = "tanh_decay"
  return TanhDecay(
      _checks.check_value(fn, "init_value", init_value),
      _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
      _checks.check_value(fn, "end_value", end_value),
      _checks.check_value(fn, "tanh_start", tanh_start),
      _checks.check_value(fn, "tanh_end", tanh_end),
  )


@schedule_class
class InverseSqrt(Schedule):
  init_value: jax.typing.ArrayLike
  timescale: jax.typing.ArrayLike

  def _value(self, i, f):
    x = position(i, f) / as_float(self.timescale)
    return as_float(self.init_value) * jax.lax.rsqrt(1 + x)


@schedule_class
class Noam(Schedule):
  d_model: jax.typing.ArrayLike
  warmup_steps: jax.typing.ArrayLike
  factor: jax.typing.ArrayLike = 1.0

  def _value(self, i, f):
    n = position(i, f) + 1  # the paper counts steps from 1
    w = as_float(self.warmup_steps)
    rate = jnp.minimum(jax.lax.rsqrt(n), n * jax.lax.rsqrt(w) / w)
    return as_float(self.factor) * jax.lax.rsqrt(as_float(self.d_model)) * rate


@constructor
def noam(
    d_model: jax.typing.ArrayLike,
    warmup_steps: int,
    factor: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""The Transformer's schedule ("Noam"): linear warmup, then inverse square root.

  .. math::
    v(t) = f\, d^{-1/2} \min\left(n^{-1/2},\; n\, W^{-3/2}\right),
    \qquad n = t + 1

  The paper counts steps from 1; here step 0 is the first update, so it uses
  ``n = 1`` (as NoamOpt 2018 and tensor2tensor; the 2022 Annotated
  Transformer instead clamps step 0 to 1, so its first two updates share a
  value). The peak :math:`f (d W)^{-1/2}` is at ``t = W - 1``.

  Args:
    d_model: the model width ``d``, ``> 0``.
    warmup_steps: ``W``, ``> 0``.
    factor: the overall factor ``f``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``warmup_steps``.
    ValueError: for NaN or infinite values, ``d_model <= 0`` or
      ``warmup_steps <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.noam(d_model=512, warmup_steps=4000)
    >>> print(f"{s(0):.3e} {s(3999):.3e} {s(15999):.3e}")
    1.747e-07 6.988e-04 3.494e-04

  References:
    Vaswani et al., `Attention Is All You Need
    <https://arxiv.org/abs/1706.03762>`_, 2017, section 5.3.
  """
  fn = "noam"
  return Noam(
      _checks.check_positive(fn, "d_model", d_model),
      _checks.check_steps(fn, "warmup_steps", warmup_steps, minimum=1),
      _checks.check_value(fn, "factor", factor),
  )
