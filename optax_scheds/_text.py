"""The text form: a schedule as an expression in the library's vocabulary, and back.

``to_text`` writes the public calls that built a schedule, e.g.
``warmup(cosine_decay(0.0003, 98000), 2000)``, with its arguments as written and
arithmetic as operators. ``parse`` reads such text without evaluating Python:
it walks the syntax tree and accepts only the public constructors (compat ones
module-qualified, ``torch.OneCycleLR(...)``), literals, and ``+ - * /``
between schedules and numbers.
"""

import ast
import math

from optax_scheds import _config, _registry

MAX_LENGTH = 10_000_000  # characters `parse` reads at most
REPR_ITEMS = 8  # `repr` shows lists of more entries abbreviated
_SHOWN = 3  # entries an abbreviated list keeps
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}
_ATOM = 4


def _render(x, where: str, limit: int | None, depth: int = 0) -> tuple[str, int]:
  """``(text, precedence)`` of ``x``; lists longer than ``limit`` abbreviated."""
  if depth > _config.MAX_DEPTH:
    raise _config.Unserializable(f"{where} is nested more than {_config.MAX_DEPTH} levels "
                                 "deep")
  try:
    x = _config.plain(x, where)
  except _config.Unserializable:
    if limit is None:
      raise
    # `repr` still shows what it cannot write down.
    if hasattr(x, "_structural_repr"):
      return x._structural_repr(), _ATOM
    return getattr(x, "__qualname__", f"<{type(x).__name__}>"), _ATOM

  def sub(v, w):
    return _render(v, w, limit, depth + 1)

  if isinstance(x, _registry.Call):
    if x.name == "neg":
      text, p = sub(x.args[0], "the operand of -")
      return "-" + (f"({text})" if p < _PRECEDENCE["neg"] else text), _PRECEDENCE["neg"]
    if x.name in _registry.OPERATORS:
      p = _PRECEDENCE[x.name]
      (left, lp), (right, rp) = (sub(v, f"an operand of {x.name}") for v in x.args)
      left = f"({left})" if lp < p else left
      right = f"({right})" if rp <= p else right
      return f"{left} {x.name} {right}", p
    names = _positional_names(x.name)
    parts = [sub(v, f"{x.name}({names[k] if k < len(names) else '...'}=...)")[0]
             for k, v in enumerate(x.args)]
    parts += [f"{k}={sub(v, f'{x.name}({k}=...)')[0]}" for k, v in x.kwargs.items()]
    return f"{x.name}({', '.join(parts)})", _ATOM
  if isinstance(x, float):  # repr is the shortest exact text: 0.0003, inf, -inf, nan
    text = repr(x)
    return text, (_PRECEDENCE["neg"] if text.startswith("-") else _ATOM)
  if isinstance(x, int) and not isinstance(x, bool):
    return repr(x), (_PRECEDENCE["neg"] if x < 0 else _ATOM)
  if x is None or isinstance(x, (bool, str)):
    return repr(x), _ATOM
  if isinstance(x, _config.Array):
    return f"array({sub(x.values, where)[0]}, {x.dtype!r})", _ATOM
  if isinstance(x, (list, tuple)):
    items = list(x)
    more = 0
    if limit is not None and len(items) > limit:
      items, more = items[:_SHOWN], len(items) - _SHOWN
    parts = [sub(v, f"{where}[{k}]")[0] for k, v in enumerate(items)]
    if more:
      parts.append(f"...<{more} more>")
    if isinstance(x, tuple):
      return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")", _ATOM
    return "[" + ", ".join(parts) + "]", _ATOM
  if isinstance(x, dict):
    items = list(x.items())
    more = 0
    if limit is not None and len(items) > limit:
      items, more = items[:_SHOWN], len(items) - _SHOWN
    parts = [f"{sub(k, where)[0]}: {sub(v, f'{where}[{k!r}]')[0]}" for k, v in items]
    if more:
      parts.append(f"...<{more} more>")
    return "{" + ", ".join(parts) + "}", _ATOM
  raise _config.Unserializable(f"{where} is a {type(x).__name__}, which has no text form")


def _positional_names(name: str) -> list[str]:
  params = _registry.signature(name).parameters.values()
  return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def to_text(schedule) -> str:
  """The full text form of a schedule: the public calls that built it.

  Arguments appear as written (numbers as the user wrote them, e.g. ``0.0003``),
  compat constructors with their module's short name (``torch.OneCycleLR``)
  and arithmetic with ``+ - * /``. :func:`parse` reads it back to a schedule
  with the same values. ``repr(schedule)`` is the same text, abbreviated for
  lists of more than 8 entries.

  Args:
    schedule: a schedule (or plateau transformation) built with the library's
      public constructors.

  Returns:
    The text, never abbreviated.

  Raises:
    ValueError: naming the piece that has no text form (as for
      :func:`~optax_scheds.to_config`).

  Examples:
    >>> import optax_scheds as osch
    >>> s = 0.5 * osch.warmup(osch.cosine_decay(3e-4, 98_000), 2_000)
    >>> osch.to_text(s)
    '0.5 * warmup(cosine_decay(0.0003, 98000), 2000)'
  """
  if _registry.call_of(schedule) is None:
    try:
      _config.plain(schedule, "the schedule")
    except _config.Unserializable as e:
      raise ValueError(f"`to_text(schedule=...)` cannot be written: {e}.") from None
    raise TypeError(f"`to_text(schedule=...)` must be a schedule, got {schedule!r}.")
  try:
    return _render(schedule, "the schedule", None)[0]
  except _config.Unserializable as e:
    raise ValueError(f"`to_text(schedule=...)` cannot be written: {e}.") from None


def short_text(obj) -> str | None:
  """The abbreviated text form for ``repr``, or ``None`` if ``obj`` has none."""
  try:
    return _render(obj, "the schedule", REPR_ITEMS)[0]
  except _config.Unserializable:
    return None


class _Refused(ValueError):
  def __init__(self, node, what: str):
    super().__init__(what)
    self.node = node


def _where(text: str, node) -> str:
  line = getattr(node, "lineno", 1)
  col = getattr(node, "col_offset", 0)
  source = text.splitlines()[line - 1] if text.splitlines() else ""
  start = max(0, col - 30)
  excerpt = source[start:col + 40]
  caret = " " * (col - start) + "^"
  return f"line {line}, column {col + 1}:\n  {excerpt}\n  {caret}"


_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_NAMES = {"inf": math.inf, "nan": math.nan}


def _describe(node) -> str:
  kinds = {
      ast.Attribute: "attribute access", ast.Subscript: "indexing", ast.Lambda: "a lambda",
      ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
      ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
      ast.IfExp: "a conditional expression", ast.Compare: "a comparison",
      ast.BoolOp: "a boolean operator", ast.JoinedStr: "an f-string",
      ast.NamedExpr: "an assignment expression", ast.Starred: "unpacking",
      ast.Set: "a set", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
      ast.Slice: "a slice",
  }
  return kinds.get(type(node), type(node).__name__)


class _Reader:
  def __init__(self, constructors):
    self.constructors = constructors

  def read(self, node, depth: int = 0):
    if depth > _config.MAX_DEPTH:
      raise _Refused(node, f"the text is nested more than {_config.MAX_DEPTH} levels deep")
    from optax_scheds._base import Schedule

    read = lambda n: self.read(n, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
      if node.value is None or type(node.value) in (bool, int, float, str):
        return node.value
      raise _Refused(node, f"the literal {node.value!r} is not allowed (numbers, strings, "
                           "True, False and None are)")
    if isinstance(node, ast.Name):
      if node.id in _NAMES:
        return _NAMES[node.id]
      if node.id in self.constructors:
        raise _Refused(node, f"{node.id} must be called, e.g. {node.id}(...)")
      raise _Refused(node, f"the name {node.id!r} is not allowed (only the library's "
                           "constructors, called, and inf and nan)")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
      value = read(node.operand)
      if isinstance(node.op, ast.UAdd):
        if type(value) in (int, float):
          return value
        raise _Refused(node, "unary + applies to numbers only")
      if type(value) in (int, float):
        return -value
      if isinstance(value, Schedule):
        return _registry.OPERATORS["neg"](value)
      raise _Refused(node, "unary - applies to numbers and schedules only")
    if isinstance(node, ast.BinOp):
      op = _BINARY.get(type(node.op))
      if op is None:
        raise _Refused(node, f"the operator {type(node.op).__name__} is not allowed (only "
                             "+ - * / between schedules and numbers)")
      left, right = read(node.left), read(node.right)
      operands = (left, right)
      if not any(isinstance(v, Schedule) for v in operands) or not all(
          isinstance(v, Schedule) or type(v) in (int, float) for v in operands):
        raise _Refused(node, f"{op} is allowed between schedules and numbers only, got "
                             f"{type(left).__name__} {op} {type(right).__name__}")
      try:
        return _registry.OPERATORS[op](left, right)
      except (TypeError, ValueError) as e:
        raise _Refused(node, str(e)) from None
    if isinstance(node, ast.List):
      return [read(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
      return tuple(read(e) for e in node.elts)
    if isinstance(node, ast.Dict):
      if any(k is None for k in node.keys):
        raise _Refused(node, "** unpacking is not allowed")
      out = {}
      for k, v in zip(node.keys, node.values):
        key = read(k)
        if not (key is None or type(key) in (bool, int, float, str)):
          raise _Refused(k, "a dict key must be a number or a string")
        out[key] = read(v)
      return out
    if isinstance(node, ast.Call):
      name = self._callee(node.func)
      for a in node.args:
        if isinstance(a, ast.Starred):
          raise _Refused(a, "* unpacking is not allowed")
      for k in node.keywords:
        if k.arg is None:
          raise _Refused(k.value, "** unpacking is not allowed")
      args = [read(a) for a in node.args]
      kwargs = {k.arg: read(k.value) for k in node.keywords}
      if name == "array":
        return self._array(node, args, kwargs)
      try:
        return self.constructors[name](*args, **kwargs)
      except (TypeError, ValueError) as e:
        raise _Refused(node, str(e)) from None
    raise _Refused(node, f"{_describe(node)} is not allowed")

  def _callee(self, func) -> str:
    if isinstance(func, ast.Name):
      if func.id in self.constructors and "." not in func.id or func.id == "array":
        return func.id
      raise _Refused(func, f"{func.id!r} is not a constructor of the library (calls of "
                           "other names are not allowed)")
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
      name = f"{func.value.id}.{func.attr}"
      if name in self.constructors:
        return name
      raise _Refused(func, f"{name!r} is not a constructor of the library (attribute access "
                           "is allowed only for compat constructors such as "
                           "torch.OneCycleLR)")
    if isinstance(func, ast.Attribute):
      raise _Refused(func, "attribute access is not allowed")
    raise _Refused(func, f"calling {_describe(func)} is not allowed")

  def _array(self, node, args, kwargs):
    import numpy as np

    dtype = kwargs.pop("dtype", args[1] if len(args) > 1 else "float32")
    if len(args) not in (1, 2) or kwargs or not isinstance(args[0], list) or \
        dtype not in _config._DTYPES:
      raise _Refused(node, "array takes a list and a dtype name, e.g. "
                           "array([0.1, 0.2], 'float32')")
    try:
      return np.asarray(args[0], dtype=np.dtype(__import__("jax").numpy.dtype(dtype)))
    except (TypeError, ValueError) as e:
      raise _Refused(node, f"array values do not form a {dtype} array ({e})") from None


def parse(text: str):
  """Reads the text form back: the schedule it describes.

  The text is read as a syntax tree, never evaluated as Python. It may contain
  only calls of the library's public constructors (compat ones written with
  their module's short name: ``torch.``, ``keras.``, ``transformers.``,
  ``timm.``, ...), number, string, list, tuple, dict, ``True``, ``False``,
  ``None``, ``inf`` and ``nan`` literals, ``array([...], 'float32')`` for array
  arguments, and ``+ - * /`` between schedules and numbers. Plateau
  transformations (``reduce_on_plateau(...)``, the compat ports) read back too.

  Args:
    text: the text, at most 10_000_000 characters, nested at most 100 levels.

  Returns:
    The schedule (or plateau transformation).

  Raises:
    TypeError: if ``text`` is not a ``str``.
    ValueError: for anything else (attribute access, imports, other names,
      lambdas, comprehensions, operators other than ``+ - * /``, a constructor's
      own argument error, text too long or too deeply nested), pointing at the
      offending part of the text. Nothing is evaluated before the refusal but
      the library's constructors, which have no side effects.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.parse("warmup(cosine_decay(0.0003, 98000), 2000)")
    >>> print(f"{s(1000):.5f} {s(2000):.5f}")
    0.00015 0.00030
    >>> osch.parse("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: `parse(text=...)` refused '__import__' is not a constructor of the library (calls of other names are not allowed) at line 1, column 1:
      __import__('os')
      ^
  """  # noqa: E501
  if not isinstance(text, str):
    raise TypeError(f"`parse(text=...)` must be a str, got {type(text).__name__}.")
  if len(text) > MAX_LENGTH:
    raise ValueError(f"`parse(text=...)` must be at most {MAX_LENGTH} characters long, got "
                     f"{len(text)} characters.")
  if not text.strip():
    raise ValueError("`parse(text=...)` must be a schedule expression, got empty text.")
  try:
    tree = ast.parse(text.strip(), mode="eval")
  except SyntaxError as e:
    node = ast.Constant(None, lineno=e.lineno or 1, col_offset=max(0, (e.offset or 1) - 1))
    raise ValueError(f"`parse(text=...)` is not a valid expression ({e.msg}) at "
                     f"{_where(text.strip(), node)}") from None
  except (RecursionError, MemoryError):
    raise ValueError(f"`parse(text=...)` is nested too deeply (at most {_config.MAX_DEPTH} "
                     "levels).") from None
  from optax_scheds._base import Schedule

  try:
    out = _Reader(_config.load_constructors()).read(tree.body)
  except _Refused as e:
    raise ValueError(f"`parse(text=...)` refused {e} at {_where(text.strip(), e.node)}") \
        from None
  except RecursionError:
    raise ValueError(f"`parse(text=...)` is nested too deeply (at most {_config.MAX_DEPTH} "
                     "levels).") from None
  if not (isinstance(out, Schedule) or hasattr(out, "observe")):
    raise ValueError(f"`parse(text=...)` must describe a schedule, got {out!r} (write "
                     "e.g. constant(0.1) for a constant).")
  return out
