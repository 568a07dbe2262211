"""big_vision's ``utils.create_learning_rate_schedule`` as an optax_scheds schedule.

big_vision builds a decay (``linear``/``polynomial``, ``cosine``, ``rsqrt``
or ``stair``) and multiplies it by a linear warmup and a linear cooldown,
whose lengths it reads from ``warmup_*`` / ``cooldown_*`` entries given in
steps, examples, epochs or percent of the run (its ``utils.steps`` helper).
Its trainers use the schedule through ``optax.scale_by_schedule``, which calls
it with the optimizer's ``count``: 0 for the first update. So the schedule
``s`` returned here satisfies ``s(k)`` = big_vision's ``sched_fn(k)``. The
pieces are native schedules multiplied together; the stairs and the ends of
the warmup and cooldown are decided with integers, exact at any step.
"""

import math
import numbers

import jax
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import Schedule, int_dtype
from optax_scheds._combinators import warmup
from optax_scheds._composites import inverse_sqrt
from optax_scheds._join import join
from optax_scheds._primitives import constant, cosine_decay, linear, polynomial
from optax_scheds._registry import constructor

__all__ = ["create_learning_rate_schedule"]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


_FN = "create_learning_rate_schedule"
_DECAY_TYPES = ("linear", "polynomial", "cosine", "rsqrt", "stair")
_SUFFIXES = ("steps", "examples", "epochs", "percent")
_DURATIONS = ("warmup", "cooldown", "timescale", "shift")
# The keywords each decay type reads, besides warmup_* and cooldown_*.
_DECAY_KEYWORDS = {
    "linear": ("end", "linear_end", "power"),
    "polynomial": ("end", "linear_end", "power"),
    "cosine": (),
    "rsqrt": ("timescale", "shift", *(f"{p}_{s}" for p in ("timescale", "shift")
                                      for s in _SUFFIXES)),
    "stair": ("steps", "mults"),
}
_KEYWORDS = {f"{p}_{s}" for p in ("warmup", "cooldown") for s in _SUFFIXES}.union(
    *_DECAY_KEYWORDS.values())


def _largest_step() -> int:
  return int(np.iinfo(int_dtype()).max)


def _number(name: str, x) -> float:
  """A concrete finite real scalar (durations are computed in Python)."""
  x = _checks.check_value(_FN, name, x)
  if not _checks.is_concrete(x) or np.ndim(x) != 0:
    _checks.fail(_FN, name, "a concrete number (it sets a number of steps)", x, TypeError)
  return float(x)


def _is_set(x) -> bool:
  """big_vision's test for a duration entry: given and not negative (``-1``
  and ``None`` mean "not set"). Anything else counts as set, to be checked."""
  if x is None:
    return False
  if isinstance(x, numbers.Real) and not isinstance(x, bool):
    return not x < 0
  return True


def _whole(name: str, x, prefix: str, minimum: int = 0) -> int:
  """A whole number of steps, used as is (big_vision does not round ``*_steps``)."""
  if isinstance(x, (float, np.floating)) and math.isfinite(x) and not float(x).is_integer():
    _checks.fail(_FN, name, f"a whole number of steps (big_vision uses a fractional one "
                 f"unrounded; for a fraction of total_steps use {prefix}_percent)", x)
  return _checks.check_static_int(_FN, name, x, minimum=minimum)


def _rounded(name: str, value, x: float) -> int:
  """big_vision's rounding of the duration ``name=value`` converted to ``x``
  steps: to the nearest step (Python's round, half to even), at least 1
  unless it is 0."""
  steps = max(1, round(x)) if x else 0
  if steps > _largest_step():
    _checks.fail(_FN, name, f"at most {_largest_step()} steps once converted (it gives "
                 f"{steps})", value)
  return steps


def _duration(prefix: str, kw: dict, data_size, batch_size, total_steps):
  """``(steps, name)`` of the one ``{prefix}_*`` entry set in ``kw``, or
  ``None`` where big_vision falls back to its default: none is set, or a
  percentage with ``total_steps == 0``."""
  given = [(f"{prefix}_{s}", s) for s in _SUFFIXES if _is_set(kw.get(f"{prefix}_{s}"))]
  for name, _ in given:
    if not isinstance(kw[name], numbers.Real) or isinstance(kw[name], bool):
      _checks.fail(_FN, name, "a number", kw[name], TypeError)
  if len(given) > 1:
    (first, _), (second, _) = given[:2]
    _checks.fail(_FN, second, f"left out when {first} is given (one {prefix} duration "
                 "only; big_vision asserts this)", kw[second])
  if not given:
    return None
  name, suffix = given[0]
  x = kw[name]
  if suffix == "steps":
    return _whole(name, x, prefix), name
  x = _number(name, x)
  if suffix == "examples":
    if batch_size is None:
      _checks.fail(_FN, "batch_size", f"given with {name} (big_vision silently ignores "
                   f"{name} without it)", batch_size)
    return _rounded(name, kw[name], x / batch_size), name
  if suffix == "epochs":
    for what, value in (("batch_size", batch_size), ("data_size", data_size)):
      if value is None:
        _checks.fail(_FN, what, f"given with {name} (big_vision silently ignores {name} "
                     "without batch_size and data_size)", value)
    return _rounded(name, kw[name], x * (data_size / batch_size)), name
  if x > 1:
    _checks.fail(_FN, name, "in [0, 1] (a fraction of total_steps; big_vision asserts "
                 "this)", kw[name])
  return (_rounded(name, kw[name], x * total_steps), name) if total_steps else None


def _check_keywords(decay_type: str, kw: dict) -> None:
  for name, value in kw.items():
    if name not in _KEYWORDS:
      hint = ("; big_vision.optax.make's `mult` is `base` here" if name == "mult" else "")
      _checks.fail(_FN, name, "a keyword big_vision reads (warmup_* and cooldown_* as "
                   "_steps, _examples, _epochs or _percent; end, linear_end, power; "
                   f"timescale, shift and their _* forms; steps, mults){hint}", value,
                   TypeError)
  for name, value in kw.items():
    prefix, _, suffix = name.rpartition("_")
    duration = prefix in _DURATIONS and suffix in _SUFFIXES
    if name in _DECAY_KEYWORDS[decay_type] or name.startswith(("warmup_", "cooldown_")):
      continue
    if (duration and _is_set(value)) or (not duration and value is not None):
      users = [d for d, names in _DECAY_KEYWORDS.items() if name in names]
      readers = " and ".join(map(repr, users)) + (" read" if len(users) > 1 else " reads")
      _checks.fail(_FN, name, f"left out with decay_type={decay_type!r} (big_vision "
                   f"ignores it; only {readers} it)", value)


def _timescale_or_shift(prefix: str, kw, data_size, batch_size, total_steps, default):
  """rsqrt's ``timescale`` / ``shift``: a ``{prefix}_*`` duration, else the plain
  ``{prefix}`` keyword, else ``default``."""
  found = _duration(prefix, kw, data_size, batch_size, total_steps)
  plain = kw.get(prefix)
  if found is not None and plain is not None:
    _checks.fail(_FN, prefix, f"left out when {found[1]} is given (big_vision would use "
                 f"{found[1]} and ignore it)", plain)
  if found is not None:
    value, name = found
  elif plain is not None:
    value, name = _whole(prefix, plain, prefix, minimum=int(prefix == "timescale")), prefix
  else:
    value, name = default, prefix
  return value, name


def _cooldown_factor(total_steps: int, steps: int) -> Schedule:
  """``clip((T - t) / C, 0, 1)``: big_vision's ``min(1, (T - t) / C)``, held at 0
  from ``T`` on instead of going negative."""
  if total_steps >= steps:
    return linear(1.0, 0.0, steps, transition_begin=total_steps - steps)
  if total_steps == 0:
    return constant(0.0)
  return linear(total_steps / steps, 0.0, total_steps)


@constructor
def create_learning_rate_schedule(
    total_steps: int,
    batch_size: float | None = None,
    data_size: float | None = None,
    base: jax.typing.ArrayLike = 1.0,
    decay_type: str = "stair",
    scale_with_batchsize: bool = False,
    **kw,
) -> Schedule:
  r"""big_vision's ``create_learning_rate_schedule``: a decay, warmup and cooldown.

  With :math:`T` = ``total_steps``, :math:`W` and :math:`C` the warmup and
  cooldown steps, :math:`\eta` = ``base`` (times ``batch_size / 256`` with
  ``scale_with_batchsize``) and :math:`p = \mathrm{clip}((k - W)/(T - W), 0, 1)`:

  .. math::
    s(k) = d(k)\, \min\!\left(1, \frac{k}{W}\right)
      \mathrm{clip}\!\left(\frac{T - k}{C}, 0, 1\right)

  (each factor only if its length is not 0), where the decay :math:`d` is

  * ``'linear'`` / ``'polynomial'``: :math:`E + (\eta - E)(1 - p)^{q}`, with
    :math:`E` = ``end`` (or ``linear_end``, default 0) and :math:`q` =
    ``power`` (default 1): ``osch.warmup(osch.polynomial(eta, E, q, T - W),
    W)``;
  * ``'cosine'``: :math:`\eta\,\tfrac12(1 + \cos \pi p)`:
    ``osch.warmup(osch.cosine_decay(eta, T - W), W)``;
  * ``'rsqrt'``: :math:`\eta / \sqrt{1 + (\max(k, W) - W + \sigma)/\tau}`
    with :math:`\tau` = ``timescale`` (default 10_000) and :math:`\sigma` =
    ``shift`` (default 0): ``osch.inverse_sqrt(eta / sqrt(1 + sigma / tau),
    W, timescale=tau + sigma)``, the same curve;
  * ``'stair'``: :math:`\eta\, m_i` from ``steps[i]`` on (:math:`\eta`
    before ``steps[0]``), with ``mults`` :math:`m_i` (absolute, not
    cumulative): ``osch.join`` of ``osch.constant`` pieces, times
    ``osch.linear(0.0, 1.0, W)``.

  The cooldown factor is ``osch.linear(1.0, 0.0, C, transition_begin=T -
  C)``.

  Durations: ``warmup``, ``cooldown`` (and for ``'rsqrt'``, ``timescale`` and
  ``shift``) are each given by at most one of ``{name}_steps`` (used as is),
  ``{name}_examples`` (divided by ``batch_size``), ``{name}_epochs`` (times
  ``data_size / batch_size``) or ``{name}_percent`` (times ``total_steps``,
  in ``[0, 1]``). Converted values are rounded to the nearest step, half to
  even (2.5 gives 2), and to at least 1 step unless 0. A negative entry or
  ``None`` means "not set", as in big_vision. ``timescale`` and ``shift``
  may also be plain keywords.

  Quirks (of big_vision, kept unless said):

  * **The cooldown goes negative past** ``total_steps``: big_vision's
    :math:`\min(1, (T - k)/C)` is below 0 from :math:`T + 1` on (e.g.
    ``'rsqrt'`` with a cooldown gives negative learning rates if training
    runs longer). Here it holds 0. It multiplies the still-decaying value;
    ``osch.cooldown(schedule, T - C, C, shape='linear')`` instead cools
    down from the value at :math:`T - C`, and offers ``'1-sqrt'``.
  * **The warmup multiplies the decay**: for ``'stair'`` and ``'rsqrt'`` it
    ramps to the decay's value at each step (stairs inside the warmup show
    through it); for ``'rsqrt'`` with a ``shift`` it ramps to
    :math:`\eta / \sqrt{1 + \sigma/\tau}`, not to :math:`\eta`. The lr is 0
    at step 0 with any warmup.
  * ``'stair'`` is the default ``decay_type``: without ``steps`` it is a
    constant :math:`\eta`. A stair applies **at** its step (as
    ``osch.piecewise_constant``), and ``mults`` are absolute. big_vision's
    ``step + 1`` wraps to a negative int32 at step ``2**31 - 1`` and gives
    :math:`\eta` there; here the stairs are exact at every step.
  * ``'cosine'`` has no end value; ``end`` is for ``'linear'`` and
    ``'polynomial'`` only, which are the same decay.
  * big_vision silently ignores what does not apply. Here these raise
    ``ValueError``: keywords the ``decay_type`` does not read (e.g.
    ``linear_end`` with ``'cosine'``), both ``end`` and ``linear_end``,
    ``timescale`` with a ``timescale_*`` entry, ``*_examples`` without
    ``batch_size`` or ``*_epochs`` without ``batch_size`` and
    ``data_size`` (big_vision then uses no warmup at all); unknown keywords
    raise ``TypeError``.
  * ``*_steps`` entries are not rounded by big_vision: a fractional one
    (such as ``warmup_steps=0.1`` in two of its GIVT configs, probably meant as a
    percentage) ramps within step 0. Here it raises.
  * big_vision's assertions raise ``ValueError``: one entry per duration,
    a percentage in ``[0, 1]``, and ``warmup < total_steps`` unless
    ``total_steps <= 1``. So do the cases where it divides by zero
    (``'linear'``/``'cosine'`` with ``total_steps <= W``, a zero
    ``timescale``) or takes a power that would be infinite (``power < 0``).
  * big_vision returns float32; here the value has the default float dtype.

  Args:
    total_steps: :math:`T \ge 0`, the length of the run.
    batch_size: the global batch size, ``> 0``: for ``*_examples``,
      ``*_epochs`` and ``scale_with_batchsize``.
    data_size: examples per epoch, ``> 0``: for ``*_epochs``.
    base: the lr :math:`\eta` before scaling, warmup and decay.
    decay_type: ``'linear'``, ``'polynomial'``, ``'cosine'``, ``'rsqrt'`` or
      ``'stair'``.
    scale_with_batchsize: multiply ``base`` by ``batch_size / 256`` (Goyal
      et al.'s linear scaling rule).
    **kw: ``warmup_*`` and ``cooldown_*`` durations; ``end`` (or
      ``linear_end``) and ``power`` (``>= 0``) for ``'linear'`` and
      ``'polynomial'``; ``timescale`` (``> 0``) and ``shift`` (``>= 0``), or
      their ``*_steps`` / ``*_examples`` / ``*_epochs`` / ``*_percent``
      forms, for ``'rsqrt'``; ``steps`` (increasing steps) and ``mults`` (one
      per step) for ``'stair'``.

  Returns:
    A :class:`~optax_scheds.Schedule` ``s`` with ``s(k)`` = big_vision's
    ``sched_fn(k)`` wherever that is not negative, 0 where it is.

  Raises:
    TypeError: for unknown keywords, non-numeric values, non-integer steps,
      a non-bool ``scale_with_batchsize``, or a traced duration.
    ValueError: for an unknown ``decay_type``, the failed assertions,
      ignored or conflicting keywords and the other cases listed above, NaN
      or infinity. A traced ``base`` skips the value checks.

  Examples:
    >>> from optax_scheds.compat import big_vision as bv
    >>> s = bv.create_learning_rate_schedule(10, decay_type="cosine", warmup_steps=2)
    >>> print(" ".join(f"{s(k):.3f}" for k in range(12)))
    0.000 0.500 1.000 0.962 0.854 0.691 0.500 0.309 0.146 0.038 0.000 0.000
    >>> s = bv.create_learning_rate_schedule(
    ...     21, batch_size=512, base=0.5, decay_type="rsqrt", scale_with_batchsize=True,
    ...     warmup_steps=5, cooldown_steps=5, timescale=1)
    >>> print(f"{s(3):.4f} {s(13):.4f} {s(20):.4f} {s(22):.4f}")
    0.6000 0.3333 0.0500 0.0000
    >>> s = bv.create_learning_rate_schedule(  # 10 epochs of 1000 examples
    ...     100, batch_size=100, data_size=1000, base=0.1, warmup_epochs=0.5,
    ...     steps=[50, 80], mults=[0.1, 0.01])
    >>> print(f"{s(4):.4f} {s(49):.4f} {s(50):.4f} {s(80):.4f}")
    0.0800 0.1000 0.0100 0.0010

  References:
    big_vision, ``big_vision/utils.py::create_learning_rate_schedule`` and
    ``steps`` (https://github.com/google-research/big_vision); Goyal et al.,
    `Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour
    <https://arxiv.org/abs/1706.02677>`_, 2017 (``scale_with_batchsize``).
  """
  fn = _FN
  total = _checks.check_static_int(fn, "total_steps", total_steps)
  if batch_size is not None:
    batch_size = _number("batch_size", batch_size)
    if batch_size <= 0:
      _checks.fail(fn, "batch_size", "positive", batch_size)
  if data_size is not None:
    data_size = _number("data_size", data_size)
    if data_size <= 0:
      _checks.fail(fn, "data_size", "positive", data_size)
  base = _checks.check_value(fn, "base", base)
  if not isinstance(decay_type, str):
    _checks.fail(fn, "decay_type", "a string", decay_type, TypeError)
  if decay_type not in _DECAY_TYPES:
    _checks.fail(fn, "decay_type", f"one of {', '.join(map(repr, _DECAY_TYPES))} (big_vision "
                 f"raises 'Unknown lr type' at the first call)", decay_type)
  if not isinstance(scale_with_batchsize, bool):
    _checks.fail(fn, "scale_with_batchsize", "a bool", scale_with_batchsize, TypeError)
  _check_keywords(decay_type, kw)
  if scale_with_batchsize:
    if batch_size is None:
      _checks.fail(fn, "batch_size", "given with scale_with_batchsize=True", batch_size)
    lr = base * batch_size / 256.0
  else:
    lr = base

  w, w_name = _duration("warmup", kw, data_size, batch_size, total) or (0, "warmup_steps")
  c = (_duration("cooldown", kw, data_size, batch_size, total) or (0,))[0]
  if total > 1 and w >= total:
    given = "" if w_name == "warmup_steps" else f"; it gives {w} steps"
    _checks.fail(fn, w_name, f"less than total_steps={total} in steps (big_vision asserts "
                 f"warmup_steps < total_steps{given})", kw.get(w_name, 0))

  if decay_type in ("linear", "polynomial", "cosine"):
    if total <= w:
      _checks.fail(fn, "total_steps", f"greater than the warmup ({w} steps) for "
                   f"decay_type={decay_type!r} (big_vision divides by total_steps - "
                   "warmup_steps)", total_steps)
    if decay_type == "cosine":
      decay = cosine_decay(lr, total - w)
    else:
      if kw.get("end") is not None and kw.get("linear_end") is not None:
        _checks.fail(fn, "linear_end", "left out when end is given (big_vision would use "
                     "end and ignore it)", kw["linear_end"])
      name = "end" if kw.get("end") is not None else "linear_end"
      end = 0.0 if kw.get(name) is None else _checks.check_value(fn, name, kw[name])
      power = 1.0 if kw.get("power") is None else _checks.check_non_negative(
          fn, "power", kw["power"])
      decay = polynomial(lr, end, power, total - w)
    out = warmup(decay, w) if w else decay
  elif decay_type == "rsqrt":
    tau, tau_name = _timescale_or_shift("timescale", kw, data_size, batch_size, total,
                                        10_000)
    if tau == 0:
      _checks.fail(fn, tau_name, "positive (big_vision divides by it)", kw.get(tau_name))
    shift, shift_name = _timescale_or_shift("shift", kw, data_size, batch_size, total, 0)
    if tau + shift > _largest_step():
      _checks.fail(fn, shift_name, f"at most {_largest_step() - tau} (timescale + shift "
                   "must be at most the largest step)", kw.get(shift_name))
    # eta / sqrt(1 + (u + sigma) / tau) = peak / sqrt(1 + u / (tau + sigma)).
    out = inverse_sqrt(lr / math.sqrt(1 + shift / tau), w, timescale=tau + shift)
  else:
    out = _stairs(lr, *(() if kw.get(k) is None else kw[k] for k in ("steps", "mults")))
    if w:
      out = out * linear(0.0, 1.0, w)
  if c:
    out = out * _cooldown_factor(total, c)
  return out


def _stairs(lr, steps, mults) -> Schedule:
  boundaries = _checks.check_boundaries(_FN, "steps", steps)
  if isinstance(mults, (str, bytes, dict)) or not hasattr(mults, "__len__"):
    _checks.fail(_FN, "mults", "a sequence of numbers", mults, TypeError)
  if len(mults) != len(boundaries):
    raise ValueError(
        f"`{_FN}(mults=...)` must have one entry per step in steps, got {len(mults)} "
        f"mults for {len(boundaries)} steps: mults={mults!r}.")
  values = [_checks.check_value(_FN, "mults", m) for m in mults]
  pieces = [constant(lr), *(constant(lr * m) for m in values)]
  return join(pieces, boundaries) if len(values) else pieces[0]
