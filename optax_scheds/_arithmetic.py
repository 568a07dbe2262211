"""Pointwise arithmetic on schedules: +, -, *, /, minimum, maximum, clip."""

import numbers

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import Schedule, schedule_class, static_field
from optax_scheds._primitives import Constant
from optax_scheds._registry import constructor

_OPS = {
    "add": jnp.add,
    "subtract": jnp.subtract,
    "multiply": jnp.multiply,
    "divide": jnp.divide,
    "minimum": jnp.minimum,
    "maximum": jnp.maximum,
}
SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}


@schedule_class
class Arithmetic(Schedule):
  op: str = static_field()
  left: Schedule = None
  right: Schedule = None

  def _value(self, i, f):
    return _OPS[self.op](self.left._value(i, f), self.right._value(i, f))

  def _structural_repr(self):
    if self.op in SYMBOLS:
      return f"({self.left!r} {SYMBOLS[self.op]} {self.right!r})"
    return f"{self.op}({self.left!r}, {self.right!r})"


def _operand(fn: str, name: str, x, *, allow_inf: bool = False):
  """A schedule for ``x``, or ``None`` if it is neither a schedule, a callable
  nor a number."""
  if isinstance(x, Schedule) or callable(x):
    return _checks.check_schedule(fn, name, x)
  if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.ndarray, np.generic,
                                               jax.Array)):
    return None
  return Constant(_checks.check_value(fn, name, x, allow_inf=allow_inf))


def binary(op: str, left, right):
  """``op(left, right)`` pointwise; numbers become constants. Returns
  ``NotImplemented`` for operands that are neither (Python's protocol)."""
  fn = f"Schedule.__{'true' if op == 'divide' else ''}{op[:3]}__"
  a, b = _operand(fn, "other", left), _operand(fn, "other", right)
  if a is None or b is None:
    return NotImplemented
  return Arithmetic(op, a, b)


def _pair(fn, a, b):
  # Bounds may be infinite: minimum(s, inf) is s.
  x, y = _operand(fn, "a", a, allow_inf=True), _operand(fn, "b", b, allow_inf=True)
  if x is None or y is None:
    bad, name = (a, "a") if x is None else (b, "b")
    _checks.fail(fn, name, "a schedule, callable or number", bad, TypeError)
  return Arithmetic(fn, x, y)


@constructor
def minimum(a, b) -> Schedule:
  r"""Pointwise minimum of two schedules (or a schedule and a number).

  .. math:: v(t) = \min(a(t), b(t))

  Args:
    a: a schedule, callable or number.
    b: a schedule, callable or number.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if an argument is neither a schedule, a callable nor a number.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.minimum(osch.linear(0.0, 2.0, 10), 1.0)
    >>> print(f"{s(2):.1f} {s(8):.1f}")
    0.4 1.0
  """
  return _pair("minimum", a, b)


@constructor
def maximum(a, b) -> Schedule:
  r"""Pointwise maximum of two schedules (or a schedule and a number).

  .. math:: v(t) = \max(a(t), b(t))

  Args:
    a: a schedule, callable or number.
    b: a schedule, callable or number.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if an argument is neither a schedule, a callable nor a number.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.maximum(osch.cosine_decay(1.0, 100), 0.1)
    >>> print(f"{s(0):.1f} {s(100):.1f}")
    1.0 0.1
  """
  return _pair("maximum", a, b)


@constructor
def clip(schedule, min_value=None, max_value=None) -> Schedule:
  r"""Clips a schedule's values to ``[min_value, max_value]``.

  .. math:: v(t) = \min(\max(s(t), \mathrm{lo}), \mathrm{hi})

  Args:
    schedule: a schedule or callable.
    min_value: lower bound, or ``None``.
    max_value: upper bound, or ``None``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule`` or non-numeric bounds.
    ValueError: if both bounds are ``None``, are NaN, or ``min_value > max_value``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.clip(osch.linear(0.0, 1.0, 10), min_value=0.2, max_value=0.8)
    >>> print(f"{s(0):.1f} {s(5):.1f} {s(10):.1f}")
    0.2 0.5 0.8
  """
  fn = "clip"
  out = _checks.check_schedule(fn, "schedule", schedule)
  if min_value is None and max_value is None:
    _checks.fail(fn, "min_value", "given, or max_value given", min_value)
  lo = _checks.check_value(fn, "min_value", min_value, allow_none=True, allow_inf=True)
  hi = _checks.check_value(fn, "max_value", max_value, allow_none=True, allow_inf=True)
  if lo is not None and hi is not None and _checks.is_concrete((lo, hi)) and np.any(
      np.asarray(lo) > np.asarray(hi)):
    raise ValueError(
        f"`clip(min_value=...)` must not exceed max_value, got min_value={lo!r}, "
        f"max_value={hi!r}."
    )
  if lo is not None:
    out = Arithmetic("maximum", out, Constant(lo))
  if hi is not None:
    out = Arithmetic("minimum", out, Constant(hi))
  return out
