"""The one abstraction: a `Schedule` is an immutable pytree mapping step -> value.

A step is split once into an integer part ``i`` (exact, never negative) and an
optional fractional part ``f`` (``None`` for integer steps). Schedules decide
with ``i`` (which piece, which stair, which cycle) and only turn the position
inside a piece into a float. Subclasses implement ``_value(i, f)``.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Schedule", "as_schedule", "float_dtype", "int_dtype"]


def float_dtype() -> np.dtype:
  """The default float dtype: float32, or float64 with ``jax_enable_x64``."""
  return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))


def int_dtype() -> np.dtype:
  """The step integer dtype: int32, or int64 with ``jax_enable_x64``."""
  return np.dtype(jax.dtypes.canonicalize_dtype(np.int64))


def host_array(values) -> np.ndarray:
  """A NumPy leaf with the dtype JAX will use for it: int32 when the integers
  fit (int64 otherwise), floats in the default float dtype.

  Keeping NumPy leaves at these dtypes means a schedule traced under
  ``jax.enable_x64`` still runs after leaving it (int64 or float64 leaves
  would meet executables compiled for 32-bit arguments).
  """
  arr = np.asarray(values)
  if np.issubdtype(arr.dtype, np.integer):
    small = arr.size == 0 or (arr.min() >= np.iinfo(np.int32).min
                              and arr.max() <= np.iinfo(np.int32).max)
    return arr.astype(np.int32 if small else np.int64)
  if np.issubdtype(arr.dtype, np.floating):
    return arr.astype(float_dtype())
  return arr


def static_field(**kwargs):
  """A dataclass field that is part of the pytree structure, not a leaf."""
  return dataclasses.field(metadata={"static": True}, **kwargs)


def schedule_class(cls):
  """Make ``cls`` a frozen dataclass registered as a pytree.

  Fields declared with :func:`static_field` are structure (hashed, never
  traced); all other fields are leaves or sub-pytrees.
  """
  cls = dataclasses.dataclass(frozen=True, repr=False, eq=False)(cls)
  fields = dataclasses.fields(cls)
  data = [f.name for f in fields if not f.metadata.get("static")]
  meta = [f.name for f in fields if f.metadata.get("static")]
  return jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)


def split_step(step) -> tuple[jax.Array, jax.Array | None]:
  """Split a step into ``(i, f)``: integer part clipped at 0, and fraction.

  Integer steps give ``f = None``. Float steps are floored for every decision;
  steps below 0 behave as step 0.
  """
  step = jnp.asarray(step)
  idt, fdt = int_dtype(), float_dtype()
  if jnp.issubdtype(step.dtype, jnp.bool_) or not (
      jnp.issubdtype(step.dtype, jnp.integer)
      or jnp.issubdtype(step.dtype, jnp.floating)
  ):
    raise TypeError(
        "A schedule's step must be an integer or float scalar or array, got "
        f"dtype {step.dtype}."
    )
  imax = np.iinfo(idt).max
  if jnp.issubdtype(step.dtype, jnp.integer):
    if np.iinfo(step.dtype).max > imax and jnp.issubdtype(
        step.dtype, jnp.unsignedinteger):
      step = jnp.minimum(step, jnp.asarray(imax, step.dtype))
    return jnp.maximum(step.astype(idt), jnp.zeros((), idt)), None
  step = step.astype(fdt)
  floor = jnp.floor(step)
  too_big = floor >= jnp.asarray(float(imax) + 1.0, floor.dtype)
  negative = ~(floor >= 0)  # NaN counts as negative: it maps to step 0.
  safe = jnp.where(too_big | negative, jnp.zeros((), floor.dtype), floor)
  i = jnp.where(too_big, jnp.asarray(imax, idt), safe.astype(idt))
  f = jnp.where(too_big | negative, jnp.zeros((), fdt), (step - safe).astype(fdt))
  return i, f


def locate(sorted_steps, i: jax.Array) -> jax.Array:
  """How many of ``sorted_steps`` are ``<= i``: a binary search on integers.

  Few entries are compared all at once (cheaper to compile and run).
  """
  sorted_steps = as_int(sorted_steps)
  method = "compare_all" if sorted_steps.shape[0] <= 16 else "scan"
  return jnp.searchsorted(sorted_steps, i, side="right", method=method)


def position(d: jax.Array, f: jax.Array | None) -> jax.Array:
  """The float position ``d + f`` of an integer offset ``d``."""
  x = d.astype(float_dtype())
  return x if f is None else x + f


def as_float(x) -> jax.Array:
  return jnp.asarray(x).astype(float_dtype())


def as_int(x) -> jax.Array:
  return jnp.asarray(x).astype(int_dtype())


class Schedule:
  """A learning-rate schedule: an immutable pytree with ``__call__(step)``.

  Numeric hyperparameters are leaves, so schedules can be passed to jitted
  functions without retracing when only a number changes, and built under
  ``jax.vmap`` to sweep a hyperparameter. Structural choices are static.

  Calling a schedule accepts a scalar or an array of integer or float steps
  (float steps are floored for every decision) and returns a floating
  ``jax.Array`` of the default float dtype with the broadcast shape.

  Schedules support ``+``, ``-``, ``*``, ``/`` with numbers and other
  schedules, e.g. ``0.5 * osch.cosine_decay(1.0, 100)``.
  """

  def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
    if isinstance(step, jax.core.Tracer):  # already inside jit / vmap / grad
      return _evaluate(self, step)
    # One compiled cache per x64 mode: a cache entry traced with int64 leaves
    # must not serve calls made after leaving `jax.enable_x64`.
    return _evaluate_jitted[bool(jax.config.jax_enable_x64)](self, step)

  def _value(self, i: jax.Array, f: jax.Array | None) -> jax.Array:
    raise NotImplementedError

  def __repr__(self) -> str:
    args = ", ".join(
        f"{fld.name}={_short(getattr(self, fld.name))}"
        for fld in dataclasses.fields(self)  # type: ignore[arg-type]
    )
    return f"{type(self).__name__}({args})"

  # Arithmetic builds `_arithmetic.Arithmetic` nodes; imported lazily since
  # that module subclasses this one.
  def _binary(self, op, other, reverse=False):
    from optax_scheds import _arithmetic

    return _arithmetic.binary(op, other, self) if reverse else \
        _arithmetic.binary(op, self, other)

  def __add__(self, other):
    return self._binary("add", other)

  def __radd__(self, other):
    return self._binary("add", other, reverse=True)

  def __sub__(self, other):
    return self._binary("subtract", other)

  def __rsub__(self, other):
    return self._binary("subtract", other, reverse=True)

  def __mul__(self, other):
    return self._binary("multiply", other)

  def __rmul__(self, other):
    return self._binary("multiply", other, reverse=True)

  def __truediv__(self, other):
    return self._binary("divide", other)

  def __rtruediv__(self, other):
    return self._binary("divide", other, reverse=True)

  def __neg__(self):
    return self._binary("multiply", -1.0)


def _evaluate(schedule: Schedule, step) -> jax.Array:
  i, f = split_step(step)
  return as_float(schedule._value(i, f))


# Eager calls (logging, plotting) compile once per kind of schedule instead of
# dispatching op by op; traced calls use `_evaluate` directly.
_evaluate_jitted = {False: jax.jit(_evaluate), True: jax.jit(_evaluate)}


def _short(x) -> str:
  if isinstance(x, np.ndarray) and x.size <= 8:
    return repr(x.tolist())
  if isinstance(x, (np.ndarray, jax.Array)) and not isinstance(x, jax.core.Tracer):
    if x.size <= 8:
      return repr(np.asarray(x).tolist())
    return f"array(shape={x.shape}, dtype={x.dtype})"
  if isinstance(x, Callable) and not isinstance(x, Schedule):
    return getattr(x, "__qualname__", repr(x))
  return repr(x)


@schedule_class
class Callable_(Schedule):
  """A plain callable ``step -> value`` (e.g. an optax schedule) as one opaque
  schedule. It receives integer steps, or float steps when called with them."""

  fn: Any = static_field()

  def _value(self, i, f):
    step = i if f is None else i.astype(float_dtype()) + f
    out = as_float(self.fn(step))
    return jnp.broadcast_to(out, jnp.broadcast_shapes(out.shape, i.shape))

  def __repr__(self):
    return f"as_schedule({_short(self.fn)})"


def as_schedule(fn_or_value) -> Schedule:
  """Turn a schedule, a plain callable or a number into a :class:`Schedule`.

  Args:
    fn_or_value: a :class:`Schedule` (returned as is), a callable
      ``step -> value`` such as an optax schedule (wrapped as one opaque
      piece), or a number (a constant schedule).

  Returns:
    A :class:`Schedule`.

  Raises:
    TypeError: for anything else.

  Examples:
    >>> import optax
    >>> import optax_scheds as osch
    >>> s = osch.as_schedule(optax.linear_schedule(1.0, 0.0, 10))
    >>> print(f"{s(5):.2f}")
    0.50
  """
  from optax_scheds import _primitives

  if isinstance(fn_or_value, Schedule):
    return fn_or_value
  if callable(fn_or_value):
    return Callable_(fn_or_value)
  return _primitives.constant(fn_or_value)


def clipped_position(d: jax.Array, f: jax.Array | None, steps) -> jax.Array:
  """Float position of offset ``d`` (+ fraction ``f``) clipped to ``[0, steps]``.

  The clipping is decided on integers, so it is exact at any step.
  """
  steps = as_int(steps)
  x = jnp.minimum(jnp.maximum(d, 0), steps).astype(float_dtype())  # no nested jit call
  if f is None:
    return x
  return x + jnp.where((d >= 0) & (d < steps), f, jnp.zeros_like(f))
