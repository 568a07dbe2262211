"""The one abstraction: a `Schedule` is an immutable pytree mapping step -> value.

A step is split once into an integer part ``i`` (exact, never negative) and an
optional fractional part ``f`` (``None`` for integer steps). Schedules decide
with ``i`` (which piece, which stair, which cycle) and only turn the position
inside a piece into a float. Subclasses implement ``_value(i, f)``.
"""

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _registry
from optax_scheds._registry import constructor

__all__ = ["Schedule", "as_schedule", "float_dtype", "int_dtype"]


def float_dtype() -> np.dtype:
  """The default float dtype: float32, or float64 with ``jax_enable_x64``."""
  return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))


def int_dtype() -> np.dtype:
  """The step integer dtype: int32, or int64 with ``jax_enable_x64``."""
  return np.dtype(jax.dtypes.canonicalize_dtype(np.int64))


def enable_x64(new_val: bool = True):
  """``jax.enable_x64(new_val)``: a scope with 64-bit types on or off (jax
  before 0.7 has it as ``jax.experimental.enable_x64``)."""
  if hasattr(jax, "enable_x64"):
    return jax.enable_x64(new_val)
  from jax.experimental import enable_x64 as scope

  return scope(new_val)


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


def _step_error(constraint: str, step, error=ValueError):
  if np.ndim(step) == 0:
    shown = step.item() if isinstance(step, (np.generic, np.ndarray, jax.Array)) else step
  else:
    shown = f"array(shape={np.shape(step)})"
  raise error(f"`Schedule.__call__(step=...)` must be {constraint}, got step={shown!r}.")


def check_step(step):
  """Validates a concrete step on the host, before it reaches a jitted call.

  Steps are integers or floats, scalars or arrays. NaN or infinite floats, and
  integers above the largest step (``2**31 - 1``, or ``2**63 - 1`` with
  ``jax_enable_x64``), raise ``ValueError``: they would otherwise wrap,
  saturate or silently mean step 0.
  Steps below 0 mean step 0 (the documented rule), so integers below the step
  dtype's range are raised to 0 here rather than wrapping when cast.
  """
  idt = int_dtype()
  imax = int(np.iinfo(idt).max)
  limit = (f"at most {imax} (the largest step; enable jax_enable_x64 for larger steps)"
           if idt == np.int32 else f"at most {imax} (the largest step)")
  if isinstance(step, bool) or isinstance(step, (str, bytes)):
    _step_error("an integer or float scalar or array", step, TypeError)
  if isinstance(step, int):
    if step > imax:
      _step_error(limit, step)
    return max(step, 0) if step < 0 else step
  if isinstance(step, float):
    if not step < math.inf:
      _step_error("a finite number, not NaN or inf (a broken step counter?)", step)
    return step
  arr = step if isinstance(step, (np.ndarray, np.generic, jax.Array)) else None
  if arr is None:
    try:
      arr = np.asarray(step)
    except Exception:  # noqa: BLE001 - any failure means "not a step"
      _step_error("an integer or float scalar or array", step, TypeError)
  dtype = arr.dtype
  integer = jnp.issubdtype(dtype, jnp.integer)
  if not (integer or jnp.issubdtype(dtype, jnp.floating)):
    _step_error("an integer or float scalar or array", step, TypeError)
  if integer:
    if np.iinfo(dtype).max <= imax and np.iinfo(dtype).min >= np.iinfo(idt).min:
      return arr  # fits the step dtype: nothing to check
    host = np.asarray(arr)
    if host.size and host.max() > imax:
      _step_error(limit, step)
    if host.size and host.min() < 0:
      host = np.maximum(host, 0)  # below 0 is step 0: never wrap
    return host.astype(idt)
  if not np.all(np.asarray(arr, dtype=np.float64) < math.inf):
    _step_error("a finite number, not NaN or inf (a broken step counter?)", step)
  return arr


def split_step(step) -> tuple[jax.Array, jax.Array | None, jax.Array | None]:
  """Split a step into ``(i, f, bad)``: integer part clipped at 0, fraction,
  and where the step has no value (NaN, inf, or an integer past the largest
  step).

  Integer steps give ``f = None``. Float steps are floored for every decision;
  steps below 0 behave as step 0. ``bad`` marks NaN steps and steps above the
  largest step (only traced steps get here; concrete ones are refused by
  :func:`check_step`); it is ``None`` where no step can be bad.
  """
  step = jnp.asarray(step)
  idt, fdt = int_dtype(), float_dtype()
  if jnp.issubdtype(step.dtype, jnp.bool_) or not (
      jnp.issubdtype(step.dtype, jnp.integer)
      or jnp.issubdtype(step.dtype, jnp.floating)
  ):
    raise TypeError(
        "`Schedule.__call__(step=...)` must be an integer or float scalar or array, "
        f"got dtype {step.dtype}."
    )
  imax = np.iinfo(idt).max
  if jnp.issubdtype(step.dtype, jnp.integer):
    info = np.iinfo(step.dtype)
    bad = None
    if info.max > imax:
      bad = step > jnp.asarray(imax, step.dtype)
      step = jnp.where(bad, jnp.zeros((), step.dtype), step)
    if info.min < np.iinfo(idt).min:
      step = jnp.maximum(step, jnp.zeros((), step.dtype))  # below 0: never wrap
    return jax.lax.max(step.astype(idt), np.zeros((), idt)), None, bad
  step = step.astype(fdt)
  floor = jnp.floor(step)
  bad = ~(floor < jnp.inf)  # NaN or inf
  # Finite floats past the largest step (which float32 cannot represent
  # exactly) round to it.
  too_big = ~bad & (floor >= jnp.asarray(float(imax) + 1.0, floor.dtype))
  negative = floor < 0
  zero = bad | too_big | negative
  safe = jnp.where(zero, jnp.zeros((), floor.dtype), floor)
  i = jnp.where(too_big, jnp.asarray(imax, idt), safe.astype(idt))
  f = jnp.where(zero, jnp.zeros((), fdt), (step - safe).astype(fdt))
  return i, f, bad


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


def select(pred, on_true, on_false) -> jax.Array:
  """``jnp.where(pred, on_true, on_false)``, staged as one ``lax.select``.

  ``jnp.where`` is a nested jit that adds milliseconds to every fresh compile
  of a small schedule. Operands of one dtype are broadcast and selected
  directly (the same program); mixed dtypes go through ``jnp.where``'s
  promotion.
  """
  on_true, on_false = jnp.asarray(on_true), jnp.asarray(on_false)
  if on_true.dtype != on_false.dtype or on_true.weak_type != on_false.weak_type:
    return jnp.where(pred, on_true, on_false)
  shape = jnp.broadcast_shapes(jnp.shape(pred), on_true.shape, on_false.shape)
  return jax.lax.select(jnp.broadcast_to(pred, shape), jnp.broadcast_to(on_true, shape),
                        jnp.broadcast_to(on_false, shape))


def is_python_number(x, value=None) -> bool:
  """Whether ``x`` is a Python number (a concrete leaf, never traced nor
  differentiated), equal to ``value`` if given. Lets a schedule skip work that
  is an exact identity for that number, at trace time."""
  return type(x) in (float, int) and (value is None or x == value)


def as_float(x) -> jax.Array:
  return jnp.asarray(x).astype(float_dtype())


def as_int(x) -> jax.Array:
  return jnp.asarray(x).astype(int_dtype())


def safe_pow(base: jax.Array, exponent) -> jax.Array:
  """``base ** exponent`` for ``base >= 0``, ``exponent >= 0`` (``0 ** 0 = 1``),
  with finite gradients at ``base == 0``, where ``log(base) * 0`` would be NaN.

  A Python number exponent of 1 (every exponent's default) takes the one
  select that this computes for it, values and gradients alike, without
  tracing a power and two more selects.
  """
  if is_python_number(exponent, 1):
    return select(jax.lax.eq(base, np.zeros((), base.dtype)), jnp.zeros_like(base), base)
  exponent = as_float(exponent)
  zero = base == 0
  out = jnp.where(zero, jnp.ones_like(base), base) ** exponent
  at_zero = jnp.where(exponent == 0, jnp.ones_like(out), jnp.zeros_like(out))
  return jnp.where(zero, at_zero, out)


def scaled_power(scale: jax.Array, base: jax.Array, exponent: jax.Array) -> jax.Array:
  """``scale * base ** exponent`` for ``base > 0``, with ``0`` where ``scale == 0``
  even when the power overflows (``0 * inf`` is NaN), and finite gradients
  there: the overflowing power is evaluated at exponent 0 instead (the
  double-``where`` pattern, since ``where`` alone still differentiates the
  hidden branch)."""
  hidden = (scale == 0) & ~jnp.isfinite(base ** exponent)
  safe = jnp.where(hidden, jnp.zeros_like(exponent), exponent)
  return jnp.where(hidden, jnp.zeros_like(scale), scale * base ** safe)


class Schedule:
  """A learning-rate schedule: an immutable pytree with ``__call__(step)``.

  Numeric hyperparameters are leaves, so schedules can be passed to jitted
  functions without retracing when only a number changes, and built under
  ``jax.vmap`` to sweep a hyperparameter. Structural choices are static.

  Calling a schedule accepts a scalar or an array of integer or float steps
  (float steps are floored for every decision) and returns a floating
  ``jax.Array`` of the default float dtype with the broadcast shape.

  Steps below 0 give the value at step 0. The largest step is ``2**31 - 1``
  (``optax.safe_increment``'s limit; ``2**63 - 1`` with ``jax_enable_x64``).
  An integer step above it (a Python int, a NumPy or JAX array of a wider
  integer dtype), or a NaN or infinite float step, raises ``ValueError``: it
  would otherwise wrap or saturate silently, or hide a broken step counter.
  Under ``jit``, where the step is traced and cannot raise, such steps give
  NaN instead. Finite float steps above it (float32 cannot represent it
  exactly) are taken as the largest step.

  Schedules support ``+``, ``-``, ``*``, ``/`` with numbers and other
  schedules, e.g. ``0.5 * osch.cosine_decay(1.0, 100)``.
  """

  def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
    if isinstance(step, jax.core.Tracer):  # already inside jit / vmap / grad
      return _evaluate(self, step)
    step = check_step(step)
    # One compiled cache per x64 mode: a cache entry traced with int64 leaves
    # must not serve calls made after leaving `jax.enable_x64`.
    return _evaluate_jitted[bool(jax.config.jax_enable_x64)](self, step)

  def _value(self, i: jax.Array, f: jax.Array | None) -> jax.Array:
    raise NotImplementedError

  def __repr__(self) -> str:
    # The text form of the call that built the schedule (abbreviated), else the
    # node's own fields.
    from optax_scheds import _text

    text = _text.short_text(self) if _registry.call_of(self) is not None else None
    return self._structural_repr() if text is None else text

  def _structural_repr(self) -> str:
    args = ", ".join(
        f"{fld.name}={_short(getattr(self, fld.name))}"
        for fld in dataclasses.fields(self)  # type: ignore[arg-type]
    )
    return f"{type(self).__name__}({args})"

  # Equality and hash by value: the same structure (node types and static
  # fields) and equal leaves (dtype, shape and values), so a schedule rebuilt
  # with the same numbers is the same `static_argnums` argument to `jax.jit`.
  def __eq__(self, other):
    if not isinstance(other, Schedule):
      return NotImplemented
    if self is other:
      return True
    mine, theirs = jax.tree.flatten(self), jax.tree.flatten(other)
    if mine[1] != theirs[1]:
      return False
    return all(_leaf_key(a) == _leaf_key(b) for a, b in zip(mine[0], theirs[0]))

  def __hash__(self):
    cached = self.__dict__.get("_osch_hash")
    if cached is None:
      leaves, treedef = jax.tree.flatten(self)
      cached = hash((treedef, tuple(_leaf_key(x) for x in leaves)))
      object.__setattr__(self, "_osch_hash", cached)
    return cached

  def __getstate__(self):
    # The cached hash may hash strings, which differ between processes.
    return {k: v for k, v in self.__dict__.items() if k != "_osch_hash"}

  # Arithmetic builds `_arithmetic.Arithmetic` nodes; imported lazily since
  # that module subclasses this one.
  def _binary(self, op, other, reverse=False):
    from optax_scheds import _arithmetic

    left, right = (other, self) if reverse else (self, other)
    out = _arithmetic.binary(op, left, right)
    if out is NotImplemented:
      return out
    return _registry.record(out, _arithmetic.SYMBOLS[op], (left, right))

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
    from optax_scheds import _arithmetic

    return _registry.record(_arithmetic.binary("multiply", self, -1.0), "neg", (self,))


def _leaf_key(x):
  """A hashable value of a leaf: equal for equal dtype, shape and values."""
  if isinstance(x, jax.core.Tracer):
    raise TypeError("a schedule with traced leaves (inside jit, vmap or grad) has no value "
                    "to compare or hash")
  if type(x) in (int, float, bool):
    return type(x), x
  arr = np.asarray(x)
  return arr.dtype.str, arr.shape, tuple(arr.ravel().tolist())


def _evaluate(schedule: Schedule, step) -> jax.Array:
  if _sharded_over_explicit_axes(step):
    return _evaluate_with_auto_axes(schedule, step)
  i, f, bad = split_step(step)
  try:
    out = as_float(schedule._value(i, f))
  except (TypeError, ValueError) as e:
    if "broadcast" not in str(e):
      raise
    shapes = sorted({np.shape(x) for x in jax.tree.leaves(schedule) if np.ndim(x)})
    raise ValueError(
        "`Schedule.__call__(step=...)` must broadcast with the schedule's array "
        f"parameters (shapes {', '.join(map(str, shapes))}), got a step of shape "
        f"{tuple(jnp.shape(step))}. Pass a scalar step or steps of a broadcastable "
        "shape, or jax.vmap over the schedule's parameters."
    ) from e
  if bad is not None:
    out = jnp.where(bad, jnp.asarray(np.nan, out.dtype), out)
  return out


def _sharded_over_explicit_axes(x) -> bool:
  """Whether ``x``'s type is sharded over explicit mesh axes
  (``jax.sharding.AxisType.Explicit``, under ``jax.set_mesh``). Decided at
  trace time from the type: nothing is staged."""
  typeof = getattr(jax, "typeof", None)  # jax < 0.5: no shardings in types
  spec = getattr(getattr(typeof(x), "sharding", None), "spec", None) if typeof else None
  return spec is not None and any(p is not None for p in spec)


def _evaluate_with_auto_axes(schedule: Schedule, step) -> jax.Array:
  """``_evaluate`` on steps sharded over explicit mesh axes.

  Under explicit sharding, JAX refuses what schedules are made of: a gather
  of replicated parameters by a per-step index (pieces, stairs, cycles,
  tables), binary searches, and selects between a per-step value and a
  replicated one. So the schedule runs with the mesh's axes automatic (the
  compiler shards it like the steps; no collectives) and the values get the
  steps' sharding, aligned to their trailing dimensions as in broadcasting.
  The other path is unchanged: same values, same program.
  """
  sharding = jax.typeof(step).sharding
  leaves, treedef = jax.tree.flatten(schedule)
  # JAX array leaves (traced or placed on the mesh) carry the explicit mesh in
  # their type and must enter through auto_axes; NumPy and Python leaves stay
  # concrete, as schedules expect.
  is_array = [isinstance(x, jax.Array) for x in leaves]
  arrays = [x for x, a in zip(leaves, is_array) if a]

  def evaluate(arrays, step):
    it = iter(arrays)
    return _evaluate(treedef.unflatten([next(it) if a else x for x, a in zip(leaves, is_array)]),
                     step)

  # The values' rank (array parameters may add leading dimensions), traced
  # without the sharding.
  ndim = jax.eval_shape(evaluate, arrays, jax.ShapeDtypeStruct(step.shape, step.dtype)).ndim
  spec = (*[None] * (ndim - step.ndim), *sharding.spec, *[None] * (step.ndim - len(sharding.spec)))
  out_sharding = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec(*spec))
  return jax.sharding.auto_axes(evaluate, out_sharding=out_sharding)(arrays, step)


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

  def _structural_repr(self):
    return f"as_schedule({_short(self.fn)})"


@constructor
def as_schedule(fn_or_value) -> Schedule:
  """Turn a schedule, a plain callable or a number into a :class:`Schedule`.

  Args:
    fn_or_value: a :class:`Schedule` (returned as is), a callable
      ``step -> value`` such as an optax schedule (wrapped as one opaque
      piece), or a finite number or array (a constant schedule).

  Returns:
    A :class:`Schedule`.

  Raises:
    TypeError: for anything else, including a callable that cannot take one
      step (e.g. the factory ``optax.cosine_decay_schedule`` itself).
    ValueError: for a NaN or infinite number.

  Examples:
    >>> import optax
    >>> import optax_scheds as osch
    >>> s = osch.as_schedule(optax.linear_schedule(1.0, 0.0, 10))
    >>> print(f"{s(5):.2f}")
    0.50
  """
  from optax_scheds import _checks, _primitives

  if isinstance(fn_or_value, Schedule) or callable(fn_or_value):
    return _checks.check_schedule("as_schedule", "fn_or_value", fn_or_value)
  try:
    return _primitives.Constant(_checks.check_value("as_schedule", "fn_or_value",
                                                    fn_or_value))
  except TypeError:
    _checks.fail("as_schedule", "fn_or_value", "a schedule, a callable step -> value or a "
                 "number", fn_or_value, TypeError)


def clipped_position(d: jax.Array, f: jax.Array | None, steps, *,
                     non_negative: bool = False) -> jax.Array:
  """Float position of offset ``d`` (+ fraction ``f``) clipped to ``[0, steps]``.

  The clipping is decided on integers, so it is exact at any step.
  ``non_negative=True`` says ``d >= 0`` already (a schedule's own ``i``), so
  only the upper clip is traced.
  """
  steps = as_int(steps)
  # lax.max: jnp.maximum is a nested jit, one more to trace in a fresh compile.
  low = d if non_negative else jax.lax.max(d, np.zeros((), d.dtype))
  x = jnp.minimum(low, steps).astype(float_dtype())
  if f is None:
    return x
  inside = d < steps if non_negative else (d >= 0) & (d < steps)
  return x + jnp.where(inside, f, jnp.zeros_like(f))
