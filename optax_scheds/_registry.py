"""Public constructors by name, and the call that built each schedule.

Every public constructor is decorated with :func:`constructor`: it is
registered under its public name (``cosine_decay``, ``torch.OneCycleLR``) and
its outermost call records the arguments as written on the object it returns,
so the tooling (configs, the text form, ``repr``) writes a schedule the way the
user built it. Calls made inside another constructor record nothing, and pytree
operations (``jax.tree.map``, passing through ``jit`` or ``vmap``) build new
objects that carry no record.
"""

import dataclasses
import functools
import inspect
import operator
import threading
from collections.abc import Callable
from typing import Any

# name -> public callable. Compat names carry their module's short name.
CONSTRUCTORS: dict[str, Callable] = {}

# Arithmetic between schedules and numbers, written with Python's operators.
OPERATORS: dict[str, Callable] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "neg": operator.neg,
}

_ATTR = "_osch_call"
_state = threading.local()


@dataclasses.dataclass(frozen=True)
class Call:
  """``name(*args, **kwargs)``: the public call that built an object."""

  name: str
  args: tuple
  kwargs: dict

  def arguments(self) -> dict[str, Any]:
    """The arguments by parameter name, in signature order (defaults left out;
    a ``**kwargs`` parameter's entries inline)."""
    if self.name in OPERATORS:
      names = ("operand",) if self.name == "neg" else ("left", "right")
      return dict(zip(names, self.args))
    bound = signature(self.name).bind(*self.args, **self.kwargs)
    out = {}
    for name, value in bound.arguments.items():
      kind = bound.signature.parameters[name].kind
      if kind is inspect.Parameter.VAR_KEYWORD:
        out.update(value)
      else:
        out[name] = value
    return out


def public_name(fn: Callable) -> str:
  module = fn.__module__
  if module.startswith("optax_scheds.compat."):
    return f"{module.rsplit('.', 1)[1]}.{fn.__name__}"
  return fn.__name__


@functools.cache
def signature(name: str) -> inspect.Signature:
  return inspect.signature(CONSTRUCTORS[name])


def depth() -> int:
  return getattr(_state, "depth", 0)


def record(obj, name: str, args: tuple, kwargs: dict | None = None):
  """Attaches ``name(*args, **kwargs)`` to ``obj`` when called outside any
  constructor and ``obj`` carries no record yet (a constructor that returns
  one of its arguments unchanged keeps that argument's record)."""
  if depth() == 0 and call_of(obj) is None and hasattr(obj, "__dict__"):
    object.__setattr__(obj, _ATTR, Call(name, args, kwargs or {}))
  return obj


def call_of(obj) -> Call | None:
  """The public call that built ``obj``, or ``None``."""
  d = getattr(obj, "__dict__", None)
  return None if d is None else d.get(_ATTR)


def constructor(fn: Callable) -> Callable:
  """Registers ``fn`` as a public constructor whose outermost calls record
  their arguments on the result."""
  name = public_name(fn)

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    d = depth()
    _state.depth = d + 1
    try:
      out = fn(*args, **kwargs)
    finally:
      _state.depth = d
    return record(out, name, args, kwargs) if d == 0 else out

  if name in CONSTRUCTORS:
    raise RuntimeError(f"two public constructors are named {name!r}")
  CONSTRUCTORS[name] = wrapper
  return wrapper
