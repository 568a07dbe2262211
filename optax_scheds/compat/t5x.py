"""t5x's ``utils.create_learning_rate_scheduler`` as an optax_scheds schedule.

t5x builds the learning rate as a product of named factors of the step,
floored at ``min_learning_rate``. Its trainer calls the schedule with
``train_state.step``, the number of updates already applied (0 for the first
update of a run from scratch, the checkpoint's step when training resumes or
fine-tunes from one). So the schedule ``s`` returned here satisfies ``s(k) =
learning_rate_fn(k)`` of t5x, and ``k`` is optax's ``count``. The factors are
native schedules multiplied together; stairs, restarts and the end of the
warmup are decided with integers, exact at any step.
"""

import math

import jax
import numpy as np

from optax_scheds import _checks
from optax_scheds._arithmetic import maximum
from optax_scheds._base import Schedule, int_dtype
from optax_scheds._combinators import advance, cycle, delay, warmup
from optax_scheds._composites import inverse_sqrt
from optax_scheds._primitives import constant, cosine_decay, exponential_decay, linear
from optax_scheds._registry import constructor

__all__ = ["create_learning_rate_scheduler"]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


_FN = "create_learning_rate_scheduler"
_FACTORS = ("constant", "linear_warmup", "linear_decay", "rsqrt_decay",
           "rsqrt_normalized_decay", "decay_every", "cosine_decay")
# Factors that divide by warmup_steps: t5x gives NaN or inf at step 0 when it is 0.
_DIVIDE_BY_WARMUP = {
    "linear_warmup": "step / warmup_steps is NaN at step 0",
    "linear_decay": "step / warmup_steps is NaN at step 0",
    "rsqrt_decay": "1 / sqrt(max(step, warmup_steps)) is inf at step 0",
    "rsqrt_normalized_decay": "sqrt(warmup_steps) / sqrt(max(step, warmup_steps)) is NaN "
                              "at step 0",
}


def _parse_factors(factors) -> list[str]:
  if not isinstance(factors, str):
    _checks.fail(_FN, "factors", "a string of factor names separated by '*'", factors,
                 TypeError)
  names = [name.strip() for name in factors.split("*")]
  for name in names:
    if name not in _FACTORS:
      _checks.fail(
          _FN, "factors",
          f"'*'-separated names from {', '.join(_FACTORS)}; {name!r} is not one (t5x "
          f"raises 'Unknown factor {name}.' at the first call)", factors)
  if names.count("linear_decay") > 1:
    _checks.fail(_FN, "factors", "a product with 'linear_decay' at most once (t5x "
                 "multiplies its lines, which fall below 0 for ever, into an lr that grows "
                 "without bound)", factors)
  return names


def _concrete_scalar(name: str, x, factor: str):
  if not _checks.is_concrete(x) or np.ndim(x) != 0:
    _checks.fail(_FN, name, f"a concrete number with factor {factor!r} (it fixes where "
                 "the decay reaches 0)", x, TypeError)
  return float(x)


def _linear_decay(warmup_steps: int, slope: float) -> Schedule:
  """``min(t / W, 1 - slope (t - W))``: the warmup, then the line down to the
  first step ``W + L`` where it is ``<= 0``, held there.

  Holding the line once it is ``<= 0`` gives the same result after the floor
  as t5x's line that falls for ever, since every other factor is ``>= 0``
  and ``min_learning_rate >= 0``. Ending the line there keeps it accurate:
  ``linear`` interpolates between its end points, and an end point at the
  largest step would be of the order of ``slope * 2**31``, whose float32
  rounding would swamp the values near 1.
  """
  room = max(int(np.iinfo(int_dtype()).max) - warmup_steps, 1)
  if slope * room <= 1:
    length = room  # it stays positive at every step
  else:
    length = math.ceil(1 / slope)
    while slope * length < 1:  # 1 / slope was rounded down
      length += 1
    while length > 1 and slope * (length - 1) >= 1:
      length -= 1
  return warmup(linear(1.0, 1.0 - slope * length, length), warmup_steps)


@constructor
def create_learning_rate_scheduler(
    factors: str = "constant * linear_warmup * rsqrt_decay",
    base_learning_rate: jax.typing.ArrayLike = 0.5,
    warmup_steps: int = 1000,
    decay_factor: jax.typing.ArrayLike = 0.5,
    steps_per_decay: int = 20000,
    steps_per_cycle: int = 100000,
    step_offset: int = 0,
    min_learning_rate: jax.typing.ArrayLike = 1e-8,
) -> Schedule:
  r"""t5x's ``create_learning_rate_scheduler``: a product of named factors.

  With :math:`u = \max(0, k - \mathrm{step\_offset})`, :math:`W` =
  ``warmup_steps``, :math:`b` = ``base_learning_rate``, :math:`d` =
  ``decay_factor``:

  .. math::
    s(k) = \max\Big(\prod_{f \in \mathrm{factors}} f(u),\ \mathrm{min\_learning\_rate}\Big)

  with the factors

  * ``constant``: :math:`b`
  * ``linear_warmup``: :math:`\min(1, u / W)`
  * ``linear_decay``: :math:`b \min(u / W,\ 1 + d (W - u))` (a warmup and a
    line of slope :math:`-d` after it, with :math:`b` included)
  * ``rsqrt_decay``: :math:`1 / \sqrt{\max(u, W)}`
  * ``rsqrt_normalized_decay``: :math:`\sqrt{W} / \sqrt{\max(u, W)}`
  * ``decay_every``: :math:`d^{\lfloor u / \mathrm{steps\_per\_decay} \rfloor}`
  * ``cosine_decay``: :math:`\tfrac12 (1 + \cos \pi \{x\})`, :math:`x =
    \max(0, (u - W) / \mathrm{steps\_per\_cycle})`, :math:`\{x\}` its
    fractional part (hard restarts every ``steps_per_cycle`` steps after
    ``W``)

  Each factor is a native schedule: ``osch.linear(0.0, 1.0, W)``;
  ``osch.warmup(osch.linear(1.0, ...), W)``; ``osch.delay(osch.inverse_sqrt(
  c, 0, timescale=W), W)`` with :math:`c = W^{-1/2}` or 1;
  ``osch.exponential_decay(1.0, steps_per_decay, d, staircase=True)``;
  ``osch.delay(osch.cycle(osch.cosine_decay(1.0, P), P), W)``. They are
  multiplied together, floored with ``osch.maximum`` and shifted with
  ``osch.delay(..., step_offset)``. The default is
  ``osch.maximum(osch.inverse_sqrt(0.5 / sqrt(1000), 1000), 1e-8)``.

  Quirks (of t5x, kept unless said):

  * **The floor.** ``min_learning_rate`` (default ``1e-8``) is applied last,
    so the lr is never 0: with a warmup the first update uses ``1e-8``. The
    native ``osch.inverse_sqrt(peak, W)`` (optionally with ``init_value``)
    warms up from exactly 0, or whatever you choose.
  * **``rsqrt_decay`` is absolute.** It divides by :math:`\sqrt{\max(u,
    W)}`, so the default peaks at :math:`0.5/\sqrt{1000} \approx 0.0158`,
    not at 0.5; the T5 paper's ``'constant * rsqrt_decay'`` with
    :math:`b = 1`, :math:`W = 10^4` holds 0.01, then decays as
    :math:`1/\sqrt{u}`. ``rsqrt_normalized_decay`` peaks at 1.
  * **``linear_decay`` includes ``base_learning_rate`` and the warmup**, so
    adding ``constant`` or ``linear_warmup`` squares them. Its line falls
    below 0 for ever and only the floor stops it. Here the line is held once
    it reaches 0, which gives t5x's values after the floor (and is why
    ``base_learning_rate`` and ``min_learning_rate`` must be ``>= 0``).
  * **One ``decay_factor`` for two factors**: the slope of ``linear_decay``
    (e.g. ``1e-5``) and the ratio of ``decay_every`` (e.g. 0.5).
  * **``cosine_decay`` restarts** at 1 every ``steps_per_cycle`` steps after
    ``W``, without a warmup of its own. t5x computes the phase in float32,
    which drifts at large steps; here the restarts are exact integers and
    the phase is exact. ``osch.cycle`` and ``osch.sgdr`` give restarts with
    their own warmups.
  * **Step offset.** Steps before ``step_offset`` give the value at the
    offset (``min_learning_rate`` when there is a warmup). A negative offset
    starts the schedule ``-step_offset`` steps in (``osch.advance``), as t5x's
    ``max(0, step - step_offset)`` does.
  * **Errors come at construction.** t5x raises ``Unknown factor`` at the
    first call, and returns NaN or inf where a factor divides by
    ``warmup_steps=0``; both raise ``ValueError`` here.
  * t5x returns float32; here the value has the default float dtype (float64
    with ``jax_enable_x64``).

  Args:
    factors: factor names from the list above, separated by ``'*'`` (spaces
      around names are ignored; a name may repeat).
    base_learning_rate: :math:`b \ge 0`.
    warmup_steps: :math:`W \ge 0`, ``> 0`` with ``linear_warmup``,
      ``linear_decay``, ``rsqrt_decay`` or ``rsqrt_normalized_decay``.
    decay_factor: :math:`d \ge 0`; in ``(0, 1]`` with ``decay_every`` (a
      larger one grows without bound, to inf). Traced values are accepted
      except with ``linear_decay``.
    steps_per_decay: ``> 0`` with ``decay_every``, else ``>= 0``.
    steps_per_cycle: ``> 0`` with ``cosine_decay``, else ``>= 0``.
    step_offset: the step at which the schedule starts (negative: the
      schedule starts ``-step_offset`` steps in).
    min_learning_rate: the floor, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule` ``s`` with ``s(k)`` = t5x's
    ``learning_rate_fn(k)``.

  Raises:
    TypeError: for a non-string ``factors``, non-numeric values, non-integer
      or traced step counts, or a traced ``decay_factor`` with
      ``linear_decay``.
    ValueError: for an unknown factor, NaN or infinity, a negative
      ``base_learning_rate``, ``decay_factor``, ``min_learning_rate`` or step
      count, ``warmup_steps=0`` with a factor that divides by it, or a zero
      ``steps_per_decay`` / ``steps_per_cycle`` or a ``decay_factor`` outside
      ``(0, 1]`` with the factor that uses it. Traced values skip the value
      checks.

  Examples:
    >>> from optax_scheds.compat import t5x
    >>> s = t5x.create_learning_rate_scheduler()  # t5x's default
    >>> print(f"{s(0):.1e} {s(1):.3e} {s(1000):.6f} {s(4000):.6f}")
    1.0e-08 1.581e-05 0.015811 0.007906
    >>> s = t5x.create_learning_rate_scheduler(  # T5's pretraining schedule
    ...     "constant * rsqrt_decay", base_learning_rate=1.0, warmup_steps=10_000)
    >>> print(f"{s(0):.4f} {s(10_000):.4f} {s(40_000):.4f}")
    0.0100 0.0100 0.0050
    >>> s = t5x.create_learning_rate_scheduler(
    ...     "linear_decay", base_learning_rate=1e-3, warmup_steps=100,
    ...     decay_factor=1e-3, min_learning_rate=1e-5)
    >>> print(f"{s(50):.2e} {s(100):.2e} {s(600):.2e} {s(1095):.2e}")
    5.00e-04 1.00e-03 5.00e-04 1.00e-05

  References:
    t5x, ``t5x/utils.py::create_learning_rate_scheduler``
    (https://github.com/google-research/t5x); Raffel et al., `Exploring the
    Limits of Transfer Learning with a Unified Text-to-Text Transformer
    <https://arxiv.org/abs/1910.10683>`_, JMLR 2020 (the inverse square root
    schedule).
  """
  fn = _FN
  names = _parse_factors(factors)
  base = _checks.check_non_negative(fn, "base_learning_rate", base_learning_rate)
  w = _checks.check_static_int(fn, "warmup_steps", warmup_steps)
  rate = _checks.check_non_negative(fn, "decay_factor", decay_factor)
  per_decay = _checks.check_static_int(fn, "steps_per_decay", steps_per_decay)
  per_cycle = _checks.check_static_int(fn, "steps_per_cycle", steps_per_cycle)
  offset = _checks.check_static_int(fn, "step_offset", step_offset,
                                    minimum=-int(np.iinfo(int_dtype()).max))
  floor = _checks.check_non_negative(fn, "min_learning_rate", min_learning_rate)
  for name in dict.fromkeys(names):
    if name in _DIVIDE_BY_WARMUP and w == 0:
      _checks.fail(fn, "warmup_steps", f"positive with factor {name!r} (in t5x "
                   f"{_DIVIDE_BY_WARMUP[name]})", warmup_steps)
    if name == "decay_every":
      if per_decay == 0:
        _checks.fail(fn, "steps_per_decay", "positive with factor 'decay_every' (t5x "
                     "divides the step by it)", steps_per_decay)
      if _checks.is_concrete(rate) and np.any(
          (np.asarray(rate) <= 0) | (np.asarray(rate) > 1)):
        _checks.fail(fn, "decay_factor", "in (0, 1] with factor 'decay_every' (0 drops "
                     "the lr to the floor for good, more than 1 grows it to inf)", rate)
    if name == "cosine_decay" and per_cycle == 0:
      _checks.fail(fn, "steps_per_cycle", "positive with factor 'cosine_decay' (t5x "
                   "divides by it)", steps_per_cycle)
  slope = (_concrete_scalar("decay_factor", rate, "linear_decay")
           if "linear_decay" in names else None)

  scale, pieces = 1.0, []
  for name in names:
    if name == "constant":
      scale = scale * base
    elif name == "linear_warmup":
      pieces.append(linear(0.0, 1.0, w))
    elif name == "linear_decay":
      scale = scale * base
      pieces.append(_linear_decay(w, slope))
    elif name in ("rsqrt_decay", "rsqrt_normalized_decay"):
      # 1 / sqrt(max(u, W)) = W**-0.5 / sqrt(1 + (u - W) / W) from u = W on.
      peak = 1 / math.sqrt(w) if name == "rsqrt_decay" else 1.0
      pieces.append(delay(inverse_sqrt(peak, 0, timescale=w), w))
    elif name == "decay_every":
      pieces.append(exponential_decay(1.0, per_decay, rate, staircase=True))
    else:  # cosine_decay
      restarts = cycle(cosine_decay(1.0, per_cycle), per_cycle)
      pieces.append(delay(restarts, w) if w else restarts)
  product = None
  for piece in pieces:
    product = piece if product is None else product * piece
  if product is None:
    product = constant(scale)
  elif not (_checks.is_concrete(scale) and np.ndim(scale) == 0 and scale == 1.0):
    product = scale * product
  out = maximum(product, floor)
  if offset < 0:  # t5x's max(0, step - offset) with offset < 0 starts -offset steps in
    return advance(out, -offset)
  return delay(out, offset) if offset else out
