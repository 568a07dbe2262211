"""Pictures of schedules: matplotlib plots, terminal previews and summaries.

Every picture comes from one vectorised call of the schedule on its steps:
all of ``0 .. num_steps`` when there are few, else evenly spread steps plus
the step before and at each *mark*, so jumps are drawn where they happen.
Marks (join boundaries, ends of warmups, cycle restarts) are found by walking
the schedule's nodes through their fields, never by evaluating it.
"""

import math
import numbers
import sys
from fractions import Fraction

import jax
import numpy as np

from optax_scheds import _checks
from optax_scheds._arithmetic import Arithmetic
from optax_scheds._base import Schedule, int_dtype
from optax_scheds._combinators import (
  Advance,
  Cooldown,
  Cycle,
  Delay,
  KDecay,
  Stretch,
  Warmup,
  _cycle_layout,
)
from optax_scheds._join import Join
from optax_scheds._primitives import Noam

__all__ = ["plot", "preview", "summary"]

KINDS = ("boundary", "warmup", "restart")

# plot(): how each kind of mark is drawn (in the colour of its schedule's line),
# and its name in the legend.
_STYLES = {"boundary": ":", "warmup": "--", "restart": "-."}
_NAMES = {"boundary": "join boundary", "warmup": "end of warmup", "restart": "restart"}

_PLOT_POINTS = 10_000  # plot(): every step up to this many, else this many spread steps
_PLOT_MARKS = 1_000  # plot(): a kind with more marks in range than this is not drawn
_PREVIEW_POINTS = 4_096  # preview(): every step up to this many
_PREVIEW_PER_COLUMN = 16  # preview(): else this many steps per braille dot column
_SUMMARY_POINTS = 2**20  # summary(): the peak over every step up to this many
_MAX_MARKS = 2**20  # a node with more marks than this in range gives none
_MIN_WIDTH, _MIN_HEIGHT = 8, 2


# --------------------------------------------------------------------------
# Validation, in the name of the public function called.


def _largest_step() -> int:
  return int(np.iinfo(int_dtype()).max)


def _check_num_steps(fn: str, num_steps) -> int:
  constraint = "a positive integer"
  if isinstance(num_steps, bool) or not isinstance(num_steps, (numbers.Real, np.number)) or (
      isinstance(num_steps, (np.ndarray, jax.Array))):
    _checks.fail(fn, "num_steps", constraint, num_steps, TypeError)
  if not isinstance(num_steps, (numbers.Integral, np.integer)):
    if not (math.isfinite(num_steps) and float(num_steps).is_integer()):
      _checks.fail(fn, "num_steps", constraint, num_steps)
  n = int(num_steps)
  if n < 1:
    _checks.fail(fn, "num_steps", constraint, num_steps)
  limit = _largest_step()
  if n > limit:
    hint = "; enable jax_enable_x64 for more" if limit < 2**63 - 1 else ""
    _checks.fail(fn, "num_steps", f"at most {limit} (the largest step{hint})", num_steps)
  return n


def _check_int(fn: str, name: str, x, minimum: int) -> int:
  if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
    _checks.fail(fn, name, f"an integer >= {minimum}", x, TypeError)
  if x < minimum:
    _checks.fail(fn, name, f"an integer >= {minimum}", x)
  return int(x)


def _check_bool(fn: str, name: str, x) -> bool:
  if not isinstance(x, bool):
    _checks.fail(fn, name, "a bool", x, TypeError)
  return x


def _check_schedules(fn: str, schedule_or_schedules) -> list[Schedule]:
  x = schedule_or_schedules
  name = "schedule_or_schedules"
  if isinstance(x, (list, tuple)):
    if not x:
      _checks.fail(fn, name, "a schedule or a non-empty list of schedules", x)
    return [_checks.check_schedule(fn, f"{name}[{k}]", s) for k, s in enumerate(x)]
  return [_checks.check_schedule(fn, name, x)]


def _check_labels(fn: str, labels, count: int) -> list[str] | None:
  if labels is None:
    return None
  if isinstance(labels, str):
    raise TypeError(
        f"`{fn}(labels=...)` must be a list of str, one per schedule, got "
        f"labels={labels!r}. Pass labels=[{labels!r}].")
  if not isinstance(labels, (list, tuple)) or not all(isinstance(s, str) for s in labels):
    _checks.fail(fn, "labels", "a list of str, one per schedule", labels, TypeError)
  if len(labels) != count:
    raise ValueError(
        f"`{fn}(labels=...)` must have one label per schedule, got {count} "
        f"schedule{'s' if count != 1 else ''} and labels={list(labels)!r}.")
  return list(labels)


def _check_at(fn: str, at) -> list[int]:
  constraint = "a sequence of integer steps"
  if isinstance(at, (str, bytes)) or not isinstance(at, (list, tuple, np.ndarray)) or (
      np.ndim(at) != 1):
    _checks.fail(fn, "at", constraint, at, TypeError)
  steps = []
  for s in list(at):
    if isinstance(s, bool) or not isinstance(s, (numbers.Integral, np.integer)):
      _checks.fail(fn, "at", constraint, at, TypeError)
    if not 0 <= s <= _largest_step():
      _checks.fail(fn, "at", f"steps in [0, {_largest_step()}]", at)
    steps.append(int(s))
  return steps


# --------------------------------------------------------------------------
# Marks: the schedule's structure, from its nodes' fields.


def marks(schedule, num_steps) -> list[tuple[int, str]]:
  """The marks of ``schedule`` within ``[0, num_steps]``: ``(step, kind)``
  sorted by step, ``kind`` one of ``'boundary'``, ``'warmup'``, ``'restart'``.

  Where they come from, node by node (each child's marks are moved to the
  steps at which its parent shows them):

  - ``join``: a ``'boundary'`` at each boundary; each piece's own marks,
    offset by its start, up to the next boundary. Only the pieces that start
    within range are looked at, and only those of a kind that can have marks.
  - ``warmup``: a ``'warmup'`` at ``warmup_steps`` (if ``> 0``); the inner
    schedule's marks after it. ``noam``: a ``'warmup'`` at its peak,
    ``warmup_steps - 1``.
  - ``cycle``: a ``'restart'`` at each cycle's first step but the first (as
    the cycle places them, up to 65536 cycles); the inner schedule's marks in
    every cycle, stretched with the cycle.
  - ``cooldown``: a ``'boundary'`` where the cooldown starts; the inner
    schedule's marks before it.
  - ``delay``, ``stretch``, ``k_decay``: the inner schedule's marks, delayed,
    scaled by ``steps_per_unit``, or moved with the warped clock.
  - arithmetic (``+ - * /``, ``minimum``, ``maximum``, ``clip``): both sides'.
  - compat: PyTorch's ``OneCycleLR`` / ``OneCycleMomentum`` a ``'boundary'`` at
    each phase's end (rounded to a step); timm's cycles a ``'restart'`` at each
    cycle's start (as timm places them); timm's WSD power decay a
    ``'boundary'`` at its start; Keras' ``PolynomialDecay(cycle=True)`` a
    ``'restart'`` one step after each multiple of ``decay_steps``; HF's hard
    restarts a ``'restart'`` at each restart. Wrappers (``SequentialLR``,
    ``ChainedScheduler``, ...) pass their inner schedule's marks on.
  - every other node (primitives, callables): none. A node whose step fields
    are traced or arrays (a schedule built for ``vmap``) gives none either,
    and so does one with more than 2**20 marks in range.
  """
  num_steps = _check_num_steps("marks", num_steps)
  schedule = _checks.check_schedule("marks", "schedule", schedule)
  found = _unique(_walk(schedule, num_steps))
  order = {kind: k for k, kind in enumerate(KINDS)}
  return sorted(((int(s), kind) for kind, steps in found.items() for s in steps),
                key=lambda m: (m[0], order[m[1]]))


def _unique(found: dict) -> dict:
  return {kind: np.unique(found[kind]) for kind in KINDS if kind in found}


def _walk(node, horizon: int) -> dict:
  """``{kind: int64 steps}`` of ``node``'s marks in ``[0, horizon]``."""
  if horizon < 0:
    return {}
  entry = _entry(node)
  if entry is None:
    return {}
  return entry[0](node, horizon)


def _entry(node):
  entry = _NODES.get(type(node))
  if entry is None:
    entry = _COMPAT_NODES.get((type(node).__module__, type(node).__qualname__))
  return entry


def _may_mark(node) -> bool:
  """Whether ``node`` (or a stacked group of pieces) can have marks at all,
  judged from its node types alone."""
  entry = _entry(node)
  if entry is None:
    return False
  _, children, emits = entry
  return emits or any(_may_mark(c) for c in children(node))


def _only(kind: str, steps, horizon: int) -> dict:
  steps = np.asarray(steps, np.int64).ravel()
  steps = steps[(steps >= 0) & (steps <= horizon)]
  return {kind: steps} if steps.size else {}


def _moved(found: dict, move, horizon: int) -> dict:
  out = {}
  for kind, steps in found.items():
    out.update(_only(kind, move(steps), horizon))
  return out


def _union(*parts: dict) -> dict:
  out: dict = {}
  for part in parts:
    for kind, steps in part.items():
      out[kind] = np.concatenate([out[kind], steps]) if kind in out else steps
  return out


def _int(x) -> int | None:
  """``x`` as an int if it is a concrete integral scalar, else ``None``."""
  if isinstance(x, bool) or not _checks.is_concrete(x):
    return None
  if type(x) is int:
    return x
  try:
    a = np.asarray(x)
  except Exception:  # noqa: BLE001 - anything else is not a concrete step
    return None
  if a.ndim != 0 or not (np.issubdtype(a.dtype, np.integer) or (
      np.issubdtype(a.dtype, np.floating) and np.isfinite(a) and float(a).is_integer())):
    return None
  return int(a)


def _float(x) -> float | None:
  if isinstance(x, bool) or not _checks.is_concrete(x):
    return None
  try:
    a = np.asarray(x, dtype=np.float64)
  except Exception:  # noqa: BLE001
    return None
  return float(a) if a.ndim == 0 and np.isfinite(a) else None


def _ints(x) -> np.ndarray | None:
  """A concrete 1-D integer array as int64, else ``None``."""
  if not _checks.is_concrete(x):
    return None
  a = np.asarray(x)
  if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
    return None
  return a.astype(np.int64)


def _join_marks(node: Join, h: int) -> dict:
  starts, group_of, rows = _ints(node.starts), _ints(node.group_of), _ints(node.index_in_group)
  if starts is None or group_of is None or rows is None:
    return {}
  parts = [_only("boundary", starts[1:], h)]
  markable = np.asarray([_may_mark(g) for g in node.groups])
  if not markable.any():
    return parts[0]
  # Piece k runs on [starts[k], ends[k]); unreachable pieces have no marks.
  ends = np.append(starts[1:], np.iinfo(np.int64).max)
  visible = np.nonzero((starts <= h) & (ends > starts) & markable[group_of])[0]
  flat = [jax.tree.flatten(g) for g in node.groups]
  for k in visible:
    leaves, treedef = flat[group_of[k]]
    piece = treedef.unflatten([leaf[rows[k]] for leaf in leaves])
    start = int(starts[k])
    inner = _walk(piece, min(h, int(ends[k]) - 1) - start)
    parts.append(_moved(inner, lambda s, start=start: s + start, h))
  return _union(*parts)


def _warmup_marks(node: Warmup, h: int) -> dict:
  w = _int(node.warmup_steps)
  if w is None:
    return {}
  # The inner schedule sees max(t - W, 0).
  inner = _moved(_walk(node.schedule, h - w), lambda s: s + w, h)
  return _union(_only("warmup", [w] if w > 0 else [], h), inner)


def _delay_marks(node: Delay, h: int) -> dict:
  d = _int(node.delay_steps)
  if d is None:
    return {}
  return _moved(_walk(node.schedule, h - d), lambda s: s + d, h)


def _stretch_marks(node: Stretch, h: int) -> dict:
  k = _int(node.steps_per_unit)
  if k is None or k <= 0:
    return {}
  # Unit u starts at step u * k.
  return _moved(_walk(node.schedule, h // k), lambda s: s * k, h)


def _cycle_marks(node: Cycle, h: int) -> dict:
  T, m = node.cycle_steps, node.length_mul
  imax = _largest_step()
  if m == 1:
    if h // T > _MAX_MARKS:
      return {}
    starts = np.arange(h // T + 1, dtype=np.int64) * T
  else:
    starts, offsets, factors, _ = _cycle_layout(T, m, imax)
    keep = starts <= h
    starts, offsets, factors = starts[keep], offsets[keep], factors[keep]
  parts = [_only("restart", starts[1:], h)]
  inner = _walk(node.schedule, T - 1) if _may_mark(node.schedule) else {}
  for kind, c in inner.items():
    if c.size * starts.size > _MAX_MARKS:
      continue
    # Where cycle k's inner schedule reaches its step c (see Cycle._value).
    if m == 1:
      local = np.broadcast_to(c[None, :], (starts.size, c.size))
    elif float(m).is_integer():
      local = c[None, :] * np.minimum(factors, imax).astype(np.int64)[:, None]
    else:
      local = np.ceil(c[None, :] * factors[:, None] - offsets[:, None]).astype(np.int64)
    parts.append(_only(kind, starts[:, None] + local, h))
  return _union(*parts)


def _cooldown_marks(node: Cooldown, h: int) -> dict:
  start = _int(node.start_step)
  if start is None:
    return {}
  # The inner schedule shows until the cooldown starts.
  return _union(_only("boundary", [start], h), _walk(node.schedule, min(h, start - 1)))


def _k_decay_marks(node: KDecay, h: int) -> dict:
  T, k = _int(node.decay_steps), _float(node.k)
  if T is None or k is None or T <= 0:
    return {}

  def warp(c):
    # The first step t with floor(T (t / T) ** k) >= c, for c < T; c unchanged
    # from T on (see KDecay._value). With k == 0 the steps below T are unseen.
    inside = c < T
    if k == 0:
      return np.where(inside, -1, c)
    x = np.ceil(T * (np.minimum(c, T) / T) ** (1 / k))
    x = np.where(np.floor(T * (np.maximum(x - 1, 0) / T) ** k) >= c, x - 1, x)
    return np.where(inside, x.astype(np.int64), c)

  return _moved(_walk(node.schedule, max(h, T)), warp, h)


def _arithmetic_marks(node: Arithmetic, h: int) -> dict:
  return _union(_walk(node.left, h), _walk(node.right, h))


def _noam_marks(node: Noam, h: int) -> dict:
  w = _int(node.warmup_steps)
  return {} if w is None or w < 1 else _only("warmup", [w - 1], h)


def _inner_marks(node, h: int) -> dict:
  return _walk(node.schedule, h)


def _phases_marks(node, h: int) -> dict:
  # OneCycleLR's phases end at PyTorch's float steps; the turn is nearest there.
  return _only("boundary", [math.floor(e + 0.5) for e in node.ends[:-1]], h)


def _advance_marks(node: Advance, h: int) -> dict:
  n = _int(node.steps)  # the inner schedule sees t + n
  if n is None:
    return {}
  return _moved(_walk(node.schedule, h + n), lambda s: s - n, h)


def _timm_cycles_marks(node, h: int) -> dict:
  T, m, limit = node.t_initial, node.cycle_mul, node.cycle_limit
  if m == 1:
    n = min(limit - 1, h // T)
    if n > _MAX_MARKS:
      return {}
    return _only("restart", np.arange(1, n + 1, dtype=np.int64) * T, h)
  layout = sys.modules[type(node).__module__]._restart_layout(T, m, limit, _largest_step())
  if layout is None:
    return {}
  starts, cycles = layout[0], layout[1]
  # From cycle `cycle_limit` on the value is lr_min: no restart there.
  return _only("restart", starts[(cycles >= 1) & (cycles < limit)], h)


def _decay_factor_marks(node, h: int) -> dict:
  start = _int(node.start)
  return {} if start is None else _only("boundary", [start], h)


def _cyclic_polynomial_marks(node, h: int) -> dict:
  T = _int(node.decay_steps)
  if T is None or T <= 0 or (h - 1) // T > _MAX_MARKS:
    return {}
  # Keras stretches the decay to the next multiple of T from step k T + 1 on.
  return _only("restart", np.arange(1, (h - 1) // T + 1, dtype=np.int64) * T + 1, h)


def _cosine_wave_marks(node, h: int) -> dict:
  if not node.hard:
    return {}
  bits = np.iinfo(int_dtype()).bits
  low, high = sys.modules[type(node).__module__]._turns_per_step(
      node.num_cycles, node.length, bits)
  g, mask = low + (high << bits), (1 << bits) - 1

  def frac(d):  # the fraction of a turn at d, as _CosineWave computes it
    return ((d * g) >> bits) & mask

  per_length = Fraction(repr(node.num_cycles))  # turns per `length` steps
  off, last = node.offset, min(h, node.length - node.offset - 1)  # 0 from there on
  if per_length <= 0 or last < 1:
    return {}
  first = math.floor(per_length * (off + 1) / node.length) + 1
  final = math.floor(per_length * (last + off) / node.length) + 1
  if final - first > _MAX_MARKS // 16:  # a Python loop: keep it short
    return {}
  steps = []
  for j in range(first, final + 1):
    d = math.ceil(j * node.length / per_length)
    # The turn's fraction wraps at d, or a step beside it.
    d = next((e for e in (d, d - 1, d + 1) if e >= 1 and frac(e) < frac(e - 1)), d)
    steps.append(d - off)
  return _only("restart", [s for s in steps if 1 <= s <= last], h)


def _one(node):
  return [node.schedule]


def _none(node):
  return []


# type -> (marks, children, whether the node itself can mark).
_NODES = {
    Join: (_join_marks, lambda n: list(n.groups), True),
    Warmup: (_warmup_marks, _one, True),
    Delay: (_delay_marks, _one, False),
    Advance: (_advance_marks, _one, False),
    Stretch: (_stretch_marks, _one, False),
    Cycle: (_cycle_marks, _one, True),
    Cooldown: (_cooldown_marks, _one, True),
    KDecay: (_k_decay_marks, _one, False),
    Arithmetic: (_arithmetic_marks, lambda n: [n.left, n.right], False),
    Noam: (_noam_marks, _none, True),
}
# The compat layers' private nodes, by name: a node of a module that is not
# imported cannot exist, so nothing here imports PyTorch's ports and the rest.
_COMPAT_NODES = {
    ("optax_scheds.compat.torch", "_Torch"): (_inner_marks, _one, False),
    ("optax_scheds.compat.torch", "_Phases"): (_phases_marks, _none, True),
    ("optax_scheds.compat.timm", "_TimmCycles"): (_timm_cycles_marks, _none, True),
    ("optax_scheds.compat.timm", "_DecayFactor"): (_decay_factor_marks, _none, True),
    ("optax_scheds.compat.keras", "_CyclicPolynomial"): (_cyclic_polynomial_marks, _none,
                                                          True),
    ("optax_scheds.compat.transformers", "_CosineWave"): (_cosine_wave_marks, _none, True),
}


# --------------------------------------------------------------------------
# Sampling and evaluation.


def _spread(num_steps: int, count: int) -> np.ndarray:
  """``count`` integer steps evenly spread over ``[0, num_steps]``, both ends
  included (exact integers at any size)."""
  return np.asarray([k * num_steps // (count - 1) for k in range(count)], np.int64)


def _around(found: dict, num_steps: int, limit: int) -> np.ndarray:
  """The step at and before each mark, if there are at most ``limit`` marks."""
  steps = np.unique(np.concatenate([np.zeros(0, np.int64), *found.values()]))
  if steps.size > limit:
    return np.zeros(0, np.int64)
  return np.concatenate([steps, np.maximum(steps - 1, 0)])


def _evaluate(fn: str, schedule: Schedule, steps: np.ndarray) -> np.ndarray:
  small = steps.size == 0 or steps.max() <= np.iinfo(np.int32).max
  values = np.asarray(schedule(steps.astype(np.int32 if small else np.int64)))
  if values.shape != steps.shape:
    raise ValueError(
        f"`{fn}(...)` needs a schedule with one value per step, got one whose values "
        f"at {steps.size} steps have shape {values.shape} (array parameters, built for "
        "vmap?). Pass each schedule of the sweep on its own.")
  return values


def _plot_steps(num_steps: int, found: dict) -> np.ndarray:
  if num_steps + 1 <= _PLOT_POINTS:
    return np.arange(num_steps + 1, dtype=np.int64)
  grid = _spread(num_steps, _PLOT_POINTS)
  return np.unique(np.concatenate([grid, _around(found, num_steps, _PLOT_POINTS)]))


# --------------------------------------------------------------------------
# plot


def plot(schedule_or_schedules, num_steps: int, ax=None, labels=None, log: bool = False):
  """Plots schedules over steps ``0 .. num_steps`` with matplotlib, marking
  their structure.

  Each schedule is one line (``x`` the steps, ``y`` its values). Thin vertical
  lines in the line's colour mark, within ``[0, num_steps]``, join boundaries
  (dotted), ends of warmups (dashed) and cycle restarts (dash-dot), as
  matplotlib ``LineCollection`` objects whose ``gid`` is the kind
  (``'boundary'``, ``'warmup'``, ``'restart'``). A kind with more than 1000
  marks in range (a restart every few pixels) is not drawn.

  With ``num_steps + 1 <= 10_000`` every step is evaluated; beyond, 10_000
  evenly spread steps (both ends included) plus the step at and before each
  mark (when there are at most 10_000), in one vectorised call: jumps at
  boundaries and restarts are drawn exactly, but a feature shorter than
  ``num_steps / 10_000`` steps between marks can fall between two samples.

  Args:
    schedule_or_schedules: a schedule (or callable ``step -> value``), or a
      list of them.
    num_steps: the last step shown, ``> 0``.
    ax: the matplotlib ``Axes`` to draw on; ``None`` creates a figure.
    labels: ``None``, or one ``str`` per schedule; when given, a legend shows
      them and the kinds of marks drawn.
    log: a logarithmic y axis.

  Returns:
    The ``Axes``.

  Raises:
    ImportError: if matplotlib is not installed (``pip install
      optax_scheds[plot]``).
    TypeError: for a non-schedule, a non-integer ``num_steps``, ``labels``
      that is not a list of str, a non-bool ``log`` or an ``ax`` that is not
      an ``Axes``.
    ValueError: for ``num_steps <= 0`` (or past the largest step), an empty
      list of schedules, or a number of labels other than of schedules.

  Examples:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import optax_scheds as osch
    >>> s = osch.warmup_cosine_decay(0.0, 1.0, warmup_steps=100, decay_steps=1000)
    >>> ax = osch.plot([s, 0.5 * s], 1000, labels=["lr", "half"])
    >>> print([line.get_label() for line in ax.get_lines()])
    ['lr', 'half']
    >>> print([(c.get_gid(), float(c.get_segments()[0][0, 0])) for c in ax.collections])
    [('warmup', 100.0), ('warmup', 100.0)]
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
  """
  fn = "plot"
  try:
    import matplotlib.axes
    import matplotlib.lines
    import matplotlib.pyplot as plt
  except ImportError as e:
    raise ImportError(
        f"`{fn}(...)` needs matplotlib, an optional dependency: "
        "pip install optax_scheds[plot]") from e
  schedules = _check_schedules(fn, schedule_or_schedules)
  num_steps = _check_num_steps(fn, num_steps)
  labels = _check_labels(fn, labels, len(schedules))
  log = _check_bool(fn, "log", log)
  if ax is not None and not isinstance(ax, matplotlib.axes.Axes):
    _checks.fail(fn, "ax", "a matplotlib Axes or None", ax, TypeError)

  curves = []
  for schedule in schedules:
    found = _unique(_walk(schedule, num_steps))
    steps = _plot_steps(num_steps, found)
    curves.append((steps, _evaluate(fn, schedule, steps), found))
  if ax is None:
    _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
  drawn = set()
  for k, (steps, values, found) in enumerate(curves):
    (line,) = ax.plot(steps, values, label=f"_schedule{k}" if labels is None else labels[k])
    for kind in KINDS:
      where = found.get(kind, ())
      if 0 < len(where) <= _PLOT_MARKS:
        ax.vlines(where, 0, 1, transform=ax.get_xaxis_transform(), colors=line.get_color(),
                  linestyles=_STYLES[kind], linewidths=0.8, alpha=0.6, gid=kind,
                  label=f"_{kind}")
        drawn.add(kind)
  if log:
    ax.set_yscale("log")
  if not ax.get_xlabel():
    ax.set_xlabel("step")
  if labels is not None:
    handles = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    handles += [matplotlib.lines.Line2D([], [], color="0.4", linewidth=0.8,
                                        linestyle=_STYLES[kind], label=_NAMES[kind])
                for kind in KINDS if kind in drawn]
    ax.legend(handles=handles)
  return ax


# --------------------------------------------------------------------------
# preview


# Braille dot bits by (row, column) inside a 4 x 2 cell.
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def _columns(num_steps: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
  """The first and last step of each of ``columns`` dot columns over the
  ``num_steps + 1`` steps: each step belongs to column ``step * columns //
  (num_steps + 1)``; with fewer steps than columns a column shows the step
  under it."""
  n = num_steps + 1
  c = np.arange(columns, dtype=object)
  if n < columns:
    lo = (c * n) // columns
    return lo.astype(np.int64), lo.astype(np.int64)
  lo = -((-c * n) // columns)
  hi = -((-(c + 1) * n) // columns) - 1
  return lo.astype(np.int64), hi.astype(np.int64)


def _preview_curve(fn: str, schedule: Schedule, num_steps: int, columns: int):
  """Per dot column: the least, greatest and last value of its steps (NaN
  where none is finite), from one call on every step or on a sample."""
  lo, hi = _columns(num_steps, columns)
  if num_steps + 1 <= _PREVIEW_POINTS:
    steps = np.arange(num_steps + 1, dtype=np.int64)
  else:
    k = _PREVIEW_PER_COLUMN
    spread = lo[:, None] + ((hi - lo)[:, None] * np.arange(k)[None, :]) // (k - 1)
    around = _around(_unique(_walk(schedule, num_steps)), num_steps, 64 * columns)
    steps = np.unique(np.concatenate([spread.ravel(), around]))
  values = _evaluate(fn, schedule, steps).astype(np.float64)
  values[~np.isfinite(values)] = np.nan
  first = np.searchsorted(steps, lo, side="left")
  last = np.searchsorted(steps, hi, side="right") - 1
  if num_steps + 1 < columns:  # columns repeat steps: one sample each
    return values[first], values[first], values[first]
  return np.fmin.reduceat(values, first), np.fmax.reduceat(values, first), values[last]


def _render(least, most, last, height: int) -> tuple[list[str], float, float, int | None]:
  """Braille rows for the column spans, the value range, and the cell row of
  a flat line (``None`` unless all finite values are equal)."""
  columns, rows = least.size, 4 * height
  finite = np.isfinite(least)
  if not finite.any():
    return [" " * (columns // 2)] * height, math.nan, math.nan, None
  top, bottom = float(np.max(most[finite])), float(np.min(least[finite]))
  flat = None
  if top > bottom:
    def row(v):
      return np.rint((top - v) / (top - bottom) * (rows - 1)).astype(np.int64)
  else:
    flat = height // 2

    def row(v):
      return np.full(np.shape(v), 4 * flat + 1, np.int64)
  # Each column spans its values and reaches back to the previous column's
  # last value, so the curve stays connected across steep changes and jumps.
  before = np.concatenate([[np.nan], last[:-1]])
  span_hi = np.where(np.isfinite(before) & finite, np.fmax(most, before), most)
  span_lo = np.where(np.isfinite(before) & finite, np.fmin(least, before), least)
  cells = np.zeros((height, columns // 2), np.int64)
  r0, r1 = row(np.where(finite, span_hi, top)), row(np.where(finite, span_lo, top))
  for c in np.nonzero(finite)[0]:
    for r in range(int(r0[c]), int(r1[c]) + 1):
      cells[r // 4, c // 2] |= _DOTS[r % 4][c % 2]
  lines = ["".join(" " if b == 0 else chr(0x2800 + int(b)) for b in cells_row)
           for cells_row in cells]
  return lines, top, bottom, flat


def _fmt(v) -> str:
  return f"{float(v):.6g}"


def preview(schedule, num_steps: int, width: int = 72, height: int = 12) -> str:
  """A text sketch of ``schedule`` over steps ``0 .. num_steps``, in braille
  characters, for a terminal or a log.

  The plot area is exactly ``height`` rows of ``width`` characters; each
  character holds 2 x 4 dots, so the curve has ``2 * width`` dot columns and
  ``4 * height`` dot rows. The greatest value is on the top dot row and the
  least on the bottom one; they label the top and bottom rows (a constant
  schedule is one flat line across the middle, labelled there), and ``0``
  and ``num_steps`` label the axis below. Each dot column spans the least to
  the greatest value of its steps, joined to the column before it. Values are
  printed with 6 significant digits; NaN and infinite values are left out.

  Each dot column's span comes from every one of its steps when
  ``num_steps + 1 <= 4096``; beyond, from 16 evenly spread steps of it (its
  first and last included) plus the step at and before each join boundary,
  end of warmup or restart in it, all in one vectorised call.

  Args:
    schedule: a schedule or a callable ``step -> value``.
    num_steps: the last step shown, ``> 0``.
    width: characters per row of the plot area, ``>= 8``.
    height: rows of the plot area, ``>= 2``.

  Returns:
    ``height + 2`` lines: the plot rows (a value label, then ``┤`` on the
    labelled rows and ``│`` on the others, then the ``width`` plot
    characters), the axis, and the step labels.

  Raises:
    TypeError: for a non-schedule, or a non-integer ``num_steps``, ``width``
      or ``height``.
    ValueError: for ``num_steps <= 0`` (or past the largest step), ``width <
      8`` or ``height < 2``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup_cosine_decay(0.0, 1.0, warmup_steps=10, decay_steps=100)
    >>> print(osch.preview(s, 100, width=20, height=4))
    1 ┤ ⢸⠉⠉⠓⠲⢤⣀
      │ ⡏     ⠈⠙⠲⣄
      │⢸⠁        ⠈⠙⠦⣄⡀
    0 ┤⡏             ⠉⠓⠦⢤⣀⣀
      └────────────────────
       0                100
  """
  fn = "preview"
  schedule = _checks.check_schedule(fn, "schedule", schedule)
  num_steps = _check_num_steps(fn, num_steps)
  width = _check_int(fn, "width", width, _MIN_WIDTH)
  height = _check_int(fn, "height", height, _MIN_HEIGHT)
  least, most, last = _preview_curve(fn, schedule, num_steps, 2 * width)
  rows, top, bottom, flat = _render(least, most, last, height)
  labelled = {flat: _fmt(top)} if flat is not None else {0: _fmt(top),
                                                          height - 1: _fmt(bottom)}
  pad = max(len(s) for s in labelled.values())
  out = [f"{labelled[r]:>{pad}} ┤{cells}" if r in labelled else f"{'':>{pad}} │{cells}"
         for r, cells in enumerate(rows)]
  out.append(" " * pad + " └" + "─" * width)
  end = str(num_steps)
  out.append(" " * (pad + 2) + "0" + " " * max(1, width - 1 - len(end)) + end)
  return "\n".join(out)


# --------------------------------------------------------------------------
# summary


def summary(schedule, num_steps: int, at=(), width: int = 72, height: int = 12) -> str:
  """:func:`preview` of ``schedule`` followed by its key values, for the CLI.

  The values, with 6 significant digits: at step 0, the peak and the first
  step where it occurs, at ``num_steps``, and at each step of ``at``. The
  peak is over every step when ``num_steps + 1 <= 2**20``; beyond, over
  10_000 evenly spread steps and the step at and before each mark (where
  warmups end and restarts begin, so the peaks of most schedules are exact).

  Args:
    schedule: a schedule or a callable ``step -> value``.
    num_steps: the last step, ``> 0``.
    at: more steps to show the value at (any steps, not only up to
      ``num_steps``).
    width: the preview's width, as for :func:`preview`.
    height: the preview's height, as for :func:`preview`.

  Returns:
    The preview's lines, then one ``name: value`` line per value.

  Raises:
    TypeError: for a non-schedule, a non-integer ``num_steps`` or an ``at``
      that is not a sequence of integers.
    ValueError: for ``num_steps <= 0`` (or past the largest step) or a
      negative step in ``at``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds._plot import summary
    >>> s = osch.warmup_cosine_decay(0.0, 1.0, warmup_steps=10, decay_steps=100)
    >>> for line in summary(s, 100, at=[55]).splitlines()[-4:]:
    ...   print(line)
    value at step 0:    0
    peak value:         1 (at step 10)
    value at step 100:  0
    value at step 55:   0.5
  """
  fn = "summary"
  schedule = _checks.check_schedule(fn, "schedule", schedule)
  num_steps = _check_num_steps(fn, num_steps)
  at = _check_at(fn, at)
  if num_steps + 1 <= _SUMMARY_POINTS:
    steps = np.arange(num_steps + 1, dtype=np.int64)
  else:
    steps = _plot_steps(num_steps, _unique(_walk(schedule, num_steps)))
  values = _evaluate(fn, schedule, steps).astype(np.float64)
  ranked = np.where(np.isnan(values), -np.inf, values)
  peak = int(np.argmax(ranked))
  peak_value = values[peak] if not np.all(np.isnan(values)) else math.nan
  keys = np.asarray([0, num_steps, *at], np.int64)
  at_keys = _evaluate(fn, schedule, keys)
  rows = [("value at step 0", _fmt(at_keys[0])),
          ("peak value", f"{_fmt(peak_value)} (at step {int(steps[peak])})"),
          (f"value at step {num_steps}", _fmt(at_keys[1])),
          *((f"value at step {s}", _fmt(v)) for s, v in zip(at, at_keys[2:]))]
  pad = max(len(name) for name, _ in rows) + 2
  text = "\n".join(f"{name + ':':<{pad}}{value}" for name, value in rows)
  return preview(schedule, num_steps, width, height) + "\n" + text
