"""Argument validation shared by every constructor.

One error shape: "`fn(name=...)` must be <constraint>, got name=<value>."
Traced values (inside jit or vmap) skip value checks; their types are checked.
"""

import inspect
import math
import numbers

import jax
import numpy as np

from optax_scheds._base import Callable_, Schedule, _short, host_array, int_dtype


def is_concrete(x) -> bool:
  """Whether ``x`` holds known values (not a tracer inside jit/vmap)."""
  if type(x) in (int, float):
    return True
  if type(x) is tuple and all(type(v) in (int, float) for v in x):
    return True
  return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def fail(fn: str, name: str, constraint: str, value, error=ValueError):
  raise error(f"`{fn}({name}=...)` must be {constraint}, got {name}={value!r}.")


def _is_array(x) -> bool:
  return isinstance(x, (np.ndarray, np.generic, jax.Array))


def check_value(fn: str, name: str, x, *, allow_none: bool = False,
                allow_inf: bool = False, low=None, high=None, low_open: bool = False,
                constraint: str = ""):
  """A real number or real array; Python ints become floats.

  NaN is refused, and so is +-inf unless ``allow_inf`` (for bounds where inf
  means "no bound"). Concrete values must lie in ``[low, high]`` (``(low,
  high]`` if ``low_open``), else ``constraint`` is reported.
  """
  if x is None and allow_none:
    return None
  if type(x) in (float, int):  # the common case, checked without NumPy
    x = float(x)
    if x != x:
      fail(fn, name, "a number, not NaN", x)
    if not allow_inf and (x == math.inf or x == -math.inf):
      fail(fn, name, "finite", x)
    if (low is not None and (x <= low if low_open else x < low)) or (
        high is not None and x > high):
      fail(fn, name, constraint, x)
    return x
  if isinstance(x, bool) or not (
      isinstance(x, numbers.Real)
      or (_is_array(x) and np.issubdtype(x.dtype, np.number)
          and not np.issubdtype(x.dtype, np.complexfloating))
  ):
    fail(fn, name, "a real number or a real array", x, TypeError)
  if isinstance(x, numbers.Real) and not isinstance(x, (np.ndarray, jax.Array)):
    x = float(x)  # Python and NumPy scalars: one weakly typed kind of leaf.
  if not is_concrete(x):
    return x
  v = np.asarray(x, dtype=float)
  if np.any(np.isnan(v)):
    fail(fn, name, "a number, not NaN", x)
  if not allow_inf and np.any(np.isinf(v)):
    fail(fn, name, "finite", x)
  if (low is not None and np.any(v <= low if low_open else v < low)) or (
      high is not None and np.any(v > high)):
    fail(fn, name, constraint, x)
  return x


def check_non_negative(fn: str, name: str, x):
  """A finite value ``>= 0`` (exponents, factors, rates)."""
  return check_value(fn, name, x, low=0.0, constraint="non-negative")


def check_positive(fn: str, name: str, x):
  """A finite value ``> 0`` (divisors)."""
  return check_value(fn, name, x, low=0.0, low_open=True, constraint="positive")


def check_schedule(fn: str, name: str, x) -> Schedule:
  """A :class:`Schedule`, or a callable ``step -> value`` (wrapped as one
  opaque piece). A callable that cannot take one positional argument (a
  factory such as ``optax.cosine_decay_schedule``) is refused here, not at
  its first call."""
  if isinstance(x, Schedule):
    return x
  if not callable(x):
    fail(fn, name, "a schedule or a callable step -> value", x, TypeError)
  try:
    signature = inspect.signature(x)
  except (TypeError, ValueError):  # builtins without a signature: trust them
    return Callable_(x)
  try:
    signature.bind(0)
  except TypeError:
    required = [p.name for p in signature.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD,
                                                       p.KEYWORD_ONLY)]
    shown = getattr(x, "__qualname__", repr(x))
    raise TypeError(
        f"`{fn}({name}=...)` must be a schedule or a callable step -> value, got "
        f"{name}={shown}, which takes ({', '.join(required)}) rather than one step. "
        f"Call it to build the schedule first, e.g. {name}={shown}(...)."
    ) from None
  return Callable_(x)


def check_steps(fn: str, name: str, x, *, minimum: int = 0):
  """A whole number of steps >= ``minimum``; integral floats such as 1e5 are
  accepted as the integer they denote."""
  if type(x) is int and minimum <= x <= _largest_step():  # the common case, fast
    return x
  if isinstance(x, bool):
    fail(fn, name, "an integer number of steps", x, TypeError)
  if isinstance(x, (numbers.Integral, np.integer)):
    x = int(x)
  elif isinstance(x, (float, np.floating)):
    if not float(x).is_integer():
      fail(fn, name, "a whole number of steps", x)
    x = int(x)
  elif _is_array(x) and np.issubdtype(x.dtype, np.integer):
    pass
  else:
    fail(fn, name, "an integer number of steps", x, TypeError)
  if is_concrete(x) and np.any(np.asarray(x) < minimum):
    constraint = {0: "non-negative", 1: "positive"}.get(minimum, f">= {minimum}")
    fail(fn, name, constraint, x)
  limit = _largest_step()
  if is_concrete(x) and np.any(np.asarray(x) > limit):
    fail(fn, name, f"at most {limit} (the largest step; enable jax_enable_x64 for more)", x)
  return x


def _largest_step() -> int:
  return 2**63 - 1 if jax.config.jax_enable_x64 else 2**31 - 1


def check_static_int(fn: str, name: str, x, *, minimum: int = 0) -> int:
  """Like :func:`check_steps`, but the value must be known at construction."""
  if not is_concrete(x):
    fail(fn, name, "a concrete integer (it fixes the structure)", x, TypeError)
  x = check_steps(fn, name, x, minimum=minimum)
  return int(np.asarray(x))


def check_choice(fn: str, name: str, x, choices):
  if x not in choices:
    fail(fn, name, "one of " + ", ".join(repr(c) for c in choices), x)
  return x


def check_boundaries(fn: str, name: str, boundaries) -> np.ndarray | jax.Array:
  """A 1-D sequence of non-negative, strictly increasing integer steps."""
  if isinstance(boundaries, (str, bytes)) or not (
      _is_array(boundaries) or isinstance(boundaries, (list, tuple))
  ):
    fail(fn, name, "a sequence of integer steps", boundaries, TypeError)
  if _is_array(boundaries) and not is_concrete(boundaries):
    if boundaries.ndim != 1 or not np.issubdtype(boundaries.dtype, np.integer):
      fail(fn, name, "a 1-D integer array", boundaries, TypeError)
    return boundaries
  if _is_array(boundaries):
    if np.ndim(boundaries) != 1:
      fail(fn, name, "a 1-D sequence", boundaries)
    boundaries = np.asarray(boundaries).tolist()
  if all(type(b) is int for b in boundaries):  # plain ints: checked at once
    items = np.asarray(boundaries, dtype=object)
    if len(items) and (items.min() < 0 or items.max() > _largest_step()):
      for b in boundaries:
        check_steps(fn, name, b)  # reports the first bad one
    items = list(boundaries)
  else:
    items = [check_steps(fn, name, b) for b in boundaries]
  if not is_concrete(items):
    return jax.numpy.stack([jax.numpy.asarray(b) for b in items])
  if any(b <= a for a, b in zip(items, items[1:])):
    fail(fn, name, "strictly increasing", list(items))
  return host_array(np.asarray(items, dtype=np.int64))


def check_scalar_schedule(fn: str, schedule: Schedule, fix: str) -> Schedule:
  """``schedule``, if it gives one learning rate per step (a scalar value);
  ``fix`` ends the message (how to get one)."""
  shape = jax.eval_shape(schedule, jax.ShapeDtypeStruct((), int_dtype())).shape
  if shape != ():
    raise ValueError(f"`{fn}(schedule=...)` must give one learning rate per step (a "
                     f"scalar), got schedule={_short(schedule)}, whose value has shape "
                     f"{shape}. {fix}")
  return schedule
