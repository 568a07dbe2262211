"""Configs: a schedule as a dict of JSON types, and back.

A config names the public constructor the user called and its arguments as
written (``{"name": "warmup", "args": {"schedule": {...}, "warmup_steps":
2000}}``), with ``"format_version": 1`` at the top. Values that JSON cannot
hold are tagged: ``{"float": "inf"}``, ``{"array": [...], "dtype": "float32"}``,
``{"dict": {...}}`` (string keys) and ``{"items": [[key, value], ...]}`` (other
keys). ``from_config`` calls the same constructors with the same arguments, so
the rebuilt schedule has the same leaves, bit for bit.
"""

import dataclasses
import importlib
import math
import numbers
import pkgutil
from typing import Any

import jax
import numpy as np

from optax_scheds import _registry

FORMAT_VERSION = 1
MAX_DEPTH = 100  # nesting of configs (and texts) read back

_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "bfloat16", "float32", "float64")


def load_constructors() -> dict:
  """Every public constructor, the compat modules' included (imported here, so a
  config or text naming ``torch.OneCycleLR`` reads back without the user
  importing ``optax_scheds.compat.torch`` first)."""
  import optax_scheds.compat

  for info in pkgutil.iter_modules(optax_scheds.compat.__path__):
    if not info.name.startswith("_"):
      importlib.import_module(f"optax_scheds.compat.{info.name}")
  return _registry.CONSTRUCTORS


@dataclasses.dataclass(frozen=True)
class Array:
  """A concrete array argument, as nested lists and a dtype name."""

  values: list
  dtype: str


class Unserializable(ValueError):
  """A value with no config (nor text form); ``str`` says which and why."""


def no_record_reason(x, where: str) -> str:
  from optax_scheds._base import Callable_

  if isinstance(x, Callable_):
    return (f"{where} wraps a Python callable "
            f"({getattr(x.fn, '__qualname__', repr(x.fn))}), which has no config; build the "
            "piece from the library's constructors (osch.table(values) holds computed "
            "values)")
  return (f"{where} is a {type(x).__name__} not built by a public constructor (objects "
          "rebuilt by pytree operations such as jax.tree.map, or returned from jit or "
          "vmap, carry no constructor call); build it with the library's constructors")


def plain(x, where: str):
  """``x`` as plain Python data (None, bool, int, float, str, list, dict, or
  :class:`Array`), or ``Unserializable``. Schedules (and other
  recorded objects) are returned as their :class:`~optax_scheds._registry.Call`."""
  call = _registry.call_of(x)
  if call is not None:
    return call
  if isinstance(x, jax.core.Tracer):
    raise Unserializable(f"{where} is a traced value (the schedule was built inside jit, "
                         "vmap or grad); build it outside the transformation")
  if x is None or isinstance(x, (bool, str, int, float)):
    return x
  if isinstance(x, np.generic):
    return x.item()
  if isinstance(x, (np.ndarray, jax.Array)):
    arr = np.asarray(x)
    return Array(arr.tolist(), str(arr.dtype))
  if isinstance(x, (list, tuple)):
    return type(x)(x)
  if isinstance(x, dict):
    return x
  from optax_scheds._base import Schedule

  if isinstance(x, Schedule) or hasattr(x, "observe"):
    raise Unserializable(no_record_reason(x, where))
  if callable(x):
    name = getattr(x, "__qualname__", type(x).__name__)
    raise Unserializable(f"{where} is a Python callable ({name}), which has no config; "
                         "pass a schedule built from the library's constructors, or "
                         "tabulate the values with osch.table(values)")
  raise Unserializable(f"{where} is a {type(x).__name__}, which has no config")


def _encode(x, where: str, depth: int = 0):
  if depth > MAX_DEPTH:
    raise Unserializable(f"{where} is nested more than {MAX_DEPTH} levels deep")
  x = plain(x, where)
  if isinstance(x, _registry.Call):
    args = x.arguments()
    return {"name": x.name,
            "args": {k: _encode(v, f"{x.name}({k}=...)", depth + 1) for k, v in args.items()}}
  if isinstance(x, float) and not math.isfinite(x):
    return {"float": repr(x)}
  if isinstance(x, Array):
    return {"array": _encode(x.values, where, depth + 1), "dtype": x.dtype}
  if isinstance(x, (list, tuple)):
    return [_encode(v, f"{where}[{k}]", depth + 1) for k, v in enumerate(x)]
  if isinstance(x, dict):
    if all(isinstance(k, str) for k in x):
      return {"dict": {k: _encode(v, f"{where}[{k!r}]", depth + 1) for k, v in x.items()}}
    return {"items": [[_encode(k, where, depth + 1), _encode(v, f"{where}[{k!r}]", depth + 1)]
                      for k, v in x.items()]}
  return x


def to_config(schedule) -> dict[str, Any]:
  """A schedule's config: a dict of JSON types naming the call that built it.

  The config names the public constructor the user called (a compat schedule
  keeps its compat name, e.g. ``torch.OneCycleLR``) and its arguments as
  written; nested schedules are nested configs, and arithmetic between
  schedules appears as the operators ``+ - * /`` (``neg`` for ``-s``).
  :func:`from_config` reads it back to a schedule with the same value at every
  step, bit for bit, also after ``json.dumps`` and ``json.loads``. Plateau
  transformations (``reduce_on_plateau`` and the compat ports) have configs
  too.

  Values JSON cannot hold are tagged: ``{"float": "inf"}``,
  ``{"array": [...], "dtype": "float32"}``, ``{"dict": {...}}`` and
  ``{"items": [[key, value], ...]}`` for dicts with non-string keys.

  Args:
    schedule: a schedule (or plateau transformation) built with the library's
      public constructors.

  Returns:
    ``{"format_version": 1, "name": ..., "args": {...}}``.

  Raises:
    ValueError: naming the piece that has no config: an ``as_schedule(fn)``
      piece, a Python function argument (``torch.LambdaLR``'s ``lr_lambda``,
      ``keras.LearningRateScheduler``'s ``schedule``: their values are not
      serialized; tabulate them with ``osch.table`` instead), a traced value
      (built inside ``jit``/``vmap``), or a schedule rebuilt by a pytree
      operation (``jax.tree.map``), which carries no constructor call.

  Examples:
    >>> import json
    >>> import optax_scheds as osch
    >>> s = osch.warmup(osch.cosine_decay(3e-4, 98_000), 2_000)
    >>> print(json.dumps(osch.to_config(s)))
    {"format_version": 1, "name": "warmup", "args": {"schedule": {"name": "cosine_decay", "args": {"init_value": 0.0003, "decay_steps": 98000}}, "warmup_steps": 2000}}
    >>> s2 = osch.from_config(json.loads(json.dumps(osch.to_config(s))))
    >>> print(f"{s2(50_000):.6f}")
    0.000155
  """  # noqa: E501
  call = _registry.call_of(schedule)
  if call is None:
    try:
      plain(schedule, "the schedule")
    except Unserializable as e:
      raise ValueError(f"`to_config(schedule=...)` cannot be written: {e}.") from None
    raise TypeError(f"`to_config(schedule=...)` must be a schedule, got {schedule!r}.")
  try:
    return {"format_version": FORMAT_VERSION, **_encode(schedule, "the schedule")}
  except Unserializable as e:
    raise ValueError(f"`to_config(schedule=...)` cannot be written: {e}.") from None


class _Malformed(ValueError):
  pass


def _bad(where: str, what: str):
  raise _Malformed(f"{where}: {what}")


def _decode_value(x, where: str, depth: int):
  if depth > MAX_DEPTH:
    _bad(where, f"nested more than {MAX_DEPTH} levels deep")
  if x is None or isinstance(x, (bool, str)):
    return x
  if isinstance(x, numbers.Integral):
    return int(x)
  if isinstance(x, float):
    if not math.isfinite(x):
      _bad(where, f'{x!r} must be written {{"float": "{x!r}"}}')
    return x
  if isinstance(x, list):
    return [_decode_value(v, f"{where}[{k}]", depth + 1) for k, v in enumerate(x)]
  if not isinstance(x, dict):
    _bad(where, f"{type(x).__name__} is not a config value")
  keys = set(x)
  if keys == {"name", "args"}:
    return _decode_call(x, where, depth + 1)
  if keys == {"float"}:
    if x["float"] not in ("inf", "-inf", "nan"):
      _bad(where, f'{{"float": ...}} must be "inf", "-inf" or "nan", got {x["float"]!r}')
    return float(x["float"])
  if keys == {"array", "dtype"}:
    if x["dtype"] not in _DTYPES:
      _bad(where, f"array dtype must be one of {', '.join(_DTYPES)}, got {x['dtype']!r}")
    values = _decode_value(x["array"], where, depth + 1)
    try:
      return np.asarray(values, dtype=np.dtype(jax.numpy.dtype(x["dtype"])))
    except (TypeError, ValueError) as e:
      _bad(where, f"array values do not form a {x['dtype']} array ({e})")
  if keys == {"dict"}:
    if not isinstance(x["dict"], dict):
      _bad(where, '{"dict": ...} must hold an object')
    return {k: _decode_value(v, f"{where}[{k!r}]", depth + 1) for k, v in x["dict"].items()}
  if keys == {"items"}:
    items = x["items"]
    if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2
                                              for p in items):
      _bad(where, '{"items": ...} must be a list of [key, value] pairs')
    out = {}
    for k, v in items:
      key = _decode_value(k, where, depth + 1)
      if isinstance(key, (list, dict)):
        _bad(where, f"a dict key must be a number or string, got {k!r}")
      out[key] = _decode_value(v, f"{where}[{key!r}]", depth + 1)
    return out
  _bad(where, f"an object with keys {sorted(keys)} is not a config value (a schedule is "
              '{"name": ..., "args": {...}})')


def _decode_call(x, where: str, depth: int):
  name, args = x["name"], x["args"]
  constructors = load_constructors()
  if not isinstance(name, str) or (name not in constructors
                                   and name not in _registry.OPERATORS):
    _bad(where, f"unknown constructor name {name!r}")
  if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
    _bad(where, f"{name}'s args must be an object with string keys, got {args!r}")
  inner = f"{name}(...)"
  values = {k: _decode_value(v, f"{name}({k}=...)", depth + 1) for k, v in args.items()}
  if name in _registry.OPERATORS:
    names = ["operand"] if name == "neg" else ["left", "right"]
    if sorted(values) != sorted(names):
      _bad(where, f"operator {name!r} takes the args {names}, got {sorted(values)}")
    operands = [values[n] for n in names]
    from optax_scheds._base import Schedule

    if not any(isinstance(v, Schedule) for v in operands):
      _bad(where, f"operator {name!r} needs a schedule operand, got {operands!r}")
    try:
      out = _registry.OPERATORS[name](*operands)
    except (TypeError, ValueError) as e:
      _bad(where, str(e))
    return out
  sig = _registry.signature(name)
  params = sig.parameters
  var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
  named = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
  unknown = sorted(set(values) - named) if not var_kw else []
  if unknown:
    _bad(where, f"{inner} has no argument {', '.join(map(repr, unknown))} (its arguments: "
                f"{', '.join(sorted(named))})")
  missing = [n for n in named if params[n].default is params[n].empty and n not in values
             and params[n].kind is not params[n].VAR_POSITIONAL]
  if missing:
    _bad(where, f"{inner} is missing the argument {', '.join(map(repr, missing))}")
  # Required arguments positionally, optional ones by name, as users mostly write
  # them (and as `repr` then shows them).
  args, kwargs = [], dict(values)
  for n, p in params.items():
    if p.kind is not p.POSITIONAL_OR_KEYWORD or p.default is not p.empty or n not in kwargs:
      break
    args.append(kwargs.pop(n))
  try:
    return constructors[name](*args, **kwargs)
  except (TypeError, ValueError) as e:
    _bad(where, str(e))


def from_config(config: dict):
  """The schedule (or plateau transformation) a :func:`to_config` config describes.

  Calls the named public constructors with the config's arguments, which they
  validate as usual.

  Args:
    config: a dict as :func:`to_config` returns it (or as ``json.loads`` reads
      it back).

  Returns:
    The schedule, equal in value to the one the config was written from at every
    step, bit for bit.

  Raises:
    TypeError: if ``config`` is not a dict.
    ValueError: for any malformed config: an unknown ``format_version`` or
      constructor name, missing or unknown arguments, values of the wrong type
      or out of range (the constructor's own message, with where it occurred).

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.from_config({"format_version": 1, "name": "cosine_decay",
    ...                       "args": {"init_value": 1.0, "decay_steps": 100}})
    >>> print(f"{s(50):.2f}")
    0.50
  """
  if not isinstance(config, dict):
    raise TypeError(f"`from_config(config=...)` must be a dict, got {config!r}.")
  version = config.get("format_version")
  if "format_version" not in config:
    raise ValueError('`from_config(config=...)` must have "format_version": 1, got keys '
                     f"{sorted(config)}.")
  if type(version) is not int or version != FORMAT_VERSION:
    raise ValueError(f"`from_config(config=...)` must have format_version {FORMAT_VERSION}, "
                     f"got format_version={version!r}.")
  body = {k: v for k, v in config.items() if k != "format_version"}
  if set(body) != {"name", "args"}:
    raise ValueError('`from_config(config=...)` must have the keys "format_version", "name" '
                     f'and "args", got keys {sorted(config)}.')
  try:
    return _decode_call(body, "the config", 0)
  except _Malformed as e:
    raise ValueError(f"`from_config(config=...)` is malformed: {e}") from None
