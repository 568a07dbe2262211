"""optax's composite schedules, built from primitives and combinators."""

from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import Schedule
from optax_scheds._combinators import Warmup, warmup
from optax_scheds._join import join
from optax_scheds._primitives import (
    CosineDecay,
    ExponentialDecay,
    Polynomial,
    constant,
    exponential_decay_args,
    piecewise_interpolate,
)


def warmup_constant(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
) -> Schedule:
  r"""Linear warmup from ``init_value`` to ``peak_value``, then constant.

  .. math:: v(t) = I + (P - I)\min(t / W, 1)

  Drop-in for ``optax.warmup_constant_schedule``; ``warmup_steps=0`` means no
  warmup (optax then holds ``init_value`` forever).

  Args:
    init_value: value at step 0.
    peak_value: value from ``warmup_steps`` on.
    warmup_steps: length ``W`` of the warmup, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``warmup_steps``.
    ValueError: for NaN values or ``warmup_steps < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup_constant(0.0, 1.0, warmup_steps=4)
    >>> print(f"{s(1):.2f} {s(4):.2f} {s(400):.2f}")
    0.25 1.00 1.00
  """
  fn = "warmup_constant"
  return warmup(constant(_checks.check_value(fn, "peak_value", peak_value)),
                _checks.check_steps(fn, "warmup_steps", warmup_steps),
                _checks.check_value(fn, "init_value", init_value))


def _ratio(end_value, peak_value):
  """``end / peak``, or 0 where ``peak == 0`` (optax's alpha)."""
  if _checks.is_concrete((end_value, peak_value)) and np.ndim(peak_value) == 0:
    return 0.0 if peak_value == 0 else end_value / peak_value
  peak = jnp.asarray(peak_value)
  safe = jnp.where(peak == 0, jnp.ones_like(peak), peak)
  return jnp.where(peak == 0, jnp.zeros_like(safe), end_value / safe)


def warmup_cosine_decay(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
    decay_steps: int,
    end_value: jax.typing.ArrayLike = 0.0,
    exponent: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""Linear warmup to ``peak_value``, then cosine decay to ``end_value``.

  .. math::
    v(t) = \begin{cases}
      I + (P - I)\,t/W & t < W \\
      \alpha P + (1-\alpha) P \left[\tfrac12\left(1 + \cos\frac{\pi (t - W)}
      {D - W}\right)\right]^{p} & W \le t < D \\
      E & t \ge D
    \end{cases}
    \qquad \alpha = E / P

  ``decay_steps`` (``D``) includes the warmup, as in optax: the schedule
  ends at step ``D``. Equal to ``warmup(cosine_decay(P, D - W, alpha=E/P,
  exponent=p), W, init_value=I)``; note that :func:`warmup` puts its
  ``warmup_steps`` *before* the schedule it wraps (``warmup(cosine_decay(P,
  D), W)`` ends at ``W + D``). Drop-in for
  ``optax.warmup_cosine_decay_schedule``.

  Args:
    init_value: value at step 0.
    peak_value: value at the end of the warmup.
    warmup_steps: length ``W`` of the warmup, ``>= 0``.
    decay_steps: total length ``D`` including the warmup, ``> W``.
    end_value: value from ``decay_steps`` on.
    exponent: exponent ``p >= 0`` of the cosine factor.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN or infinity, ``exponent < 0``, ``warmup_steps < 0`` or
      ``decay_steps <= warmup_steps``.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup_cosine_decay(0.0, 1.0, warmup_steps=10, decay_steps=110)
    >>> print(f"{s(5):.2f} {s(10):.2f} {s(60):.2f} {s(110):.2f}")
    0.50 1.00 0.50 0.00
  """
  return _warmup_cosine_decay("warmup_cosine_decay", "{}", init_value, peak_value,
                              warmup_steps, decay_steps, end_value, exponent)


def _warmup_cosine_decay(fn, name, init_value, peak_value, warmup_steps, decay_steps,
                         end_value=0.0, exponent=1.0):
  """:func:`warmup_cosine_decay`, validated in the name of ``fn``; ``name``
  formats each parameter's name (e.g. ``"cosine_kwargs[0]['{}']"``)."""
  init_value = _checks.check_value(fn, name.format("init_value"), init_value)
  peak_value = _checks.check_value(fn, name.format("peak_value"), peak_value)
  end_value = _checks.check_value(fn, name.format("end_value"), end_value)
  exponent = _checks.check_non_negative(fn, name.format("exponent"), exponent)
  warmup_steps = _checks.check_steps(fn, name.format("warmup_steps"), warmup_steps)
  decay_steps = _checks.check_steps(fn, name.format("decay_steps"), decay_steps, minimum=1)
  if _checks.is_concrete((warmup_steps, decay_steps)) and np.any(
      np.asarray(decay_steps) <= np.asarray(warmup_steps)):
    d, w = name.format("decay_steps"), name.format("warmup_steps")
    raise ValueError(
        f"`{fn}({d}=...)` must be greater than {w} (it includes the warmup), got "
        f"{d}={decay_steps!r}, {w}={warmup_steps!r}."
    )
  decay = CosineDecay(peak_value, decay_steps - warmup_steps,
                      _ratio(end_value, peak_value), exponent)
  return Warmup(decay, warmup_steps, init_value, "linear")


def warmup_exponential_decay(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: jax.typing.ArrayLike,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
  r"""Linear warmup to ``peak_value``, then :func:`exponential_decay`.

  The warmup ends at ``peak_value`` even when ``end_value`` clips the start
  of the decay (as optax).

  .. math::
    v(t) = \begin{cases}
      I + (P - I)\,t/W & t < W \\
      \mathrm{exponential\_decay}(P, \ldots)(t - W) & t \ge W
    \end{cases}

  The decay sees the step counted from the end of the warmup. Drop-in for
  ``optax.warmup_exponential_decay_schedule`` (invalid step counts and
  ``decay_rate <= 0`` raise instead of giving a constant).

  Args:
    init_value: value at step 0.
    peak_value: value at the end of the warmup.
    warmup_steps: length ``W`` of the warmup, ``>= 0``.
    transition_steps: steps per factor of ``decay_rate``, ``> 0``.
    decay_rate: factor per ``transition_steps``, ``> 0``.
    transition_begin: steps after the warmup before the decay starts.
    staircase: decay in discrete steps.
    end_value: optional bound where the decay stops.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN or out-of-range arguments.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.warmup_exponential_decay(0.0, 1.0, warmup_steps=10,
    ...                                   transition_steps=10, decay_rate=0.5)
    >>> print(f"{s(5):.2f} {s(10):.2f} {s(20):.2f}")
    0.50 1.00 0.50
  """
  fn = "warmup_exponential_decay"
  init_value = _checks.check_value(fn, "init_value", init_value)
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  warmup_steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  decay = ExponentialDecay(*exponential_decay_args(
      fn, peak_value, transition_steps, decay_rate, transition_begin, staircase,
      end_value))
  # The warmup ends at peak_value even where end_value clips the decay's start,
  # so it is a join, not warmup(decay) (which would ramp to decay(0)).
  ramp = Polynomial(init_value, peak_value, 1.0,
                    jnp.maximum(warmup_steps, 1) if not _checks.is_concrete(warmup_steps)
                    else max(warmup_steps, 1))
  return join([ramp, decay], jnp.reshape(warmup_steps, (1,))
              if not _checks.is_concrete(warmup_steps) else [warmup_steps])


def _onecycle_steps(fn, transition_steps):
  return _checks.check_static_int(fn, "transition_steps", transition_steps, minimum=1)


def _pct(fn, name, x):
  if isinstance(x, bool) or not isinstance(x, (int, float, np.number)):
    _checks.fail(fn, name, "a number in [0, 1]", x, TypeError)
  if not 0 <= x <= 1:
    _checks.fail(fn, name, "in [0, 1]", x)
  return x


def linear_onecycle(
    transition_steps: int,
    peak_value: jax.typing.ArrayLike,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
  r"""One cycle with three linear phases (optax's ``linear_onecycle_schedule``).

  Piecewise linear through ``P/d`` at 0, ``P`` at ``int(pct_start*T)``,
  ``P/d`` at ``int(pct_final*T)`` and ``P/(d*f)`` at ``T``, constant after:
  :func:`piecewise_interpolate` with optax's scales.

  Args:
    transition_steps: total length ``T``, ``> 0`` (static).
    peak_value: the peak ``P``.
    pct_start: fraction of ``T`` spent rising, in [0, 1].
    pct_final: fraction of ``T`` at which the descent to ``P/d`` ends.
    div_factor: ``d > 0``; the initial value is ``P/d``.
    final_div_factor: ``f > 0``; the final value is ``P/(d*f)``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-integer or traced ``transition_steps`` or
      non-numeric values.
    ValueError: for ``transition_steps <= 0``, fractions outside [0, 1],
      non-positive factors, NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.linear_onecycle(100, peak_value=1.0)
    >>> print(f"{s(0):.2f} {s(30):.2f} {s(85):.2f} {s(100):.1e}")
    0.04 1.00 0.04 4.0e-06

  References:
    Smith & Topin, `Super-Convergence <https://arxiv.org/abs/1708.07120>`_, 2017.
  """
  fn = "linear_onecycle"
  steps = _onecycle_steps(fn, transition_steps)
  pct_start, pct_final = _pct(fn, "pct_start", pct_start), _pct(fn, "pct_final", pct_final)
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  div_factor = _checks.check_positive(fn, "div_factor", div_factor)
  final_div_factor = _checks.check_positive(fn, "final_div_factor", final_div_factor)
  return piecewise_interpolate("linear", peak_value / div_factor, {
      int(pct_start * steps): div_factor,
      int(pct_final * steps): 1.0 / div_factor,
      steps: 1.0 / final_div_factor,
  })


def cosine_onecycle(
    transition_steps: int,
    peak_value: jax.typing.ArrayLike,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
  r"""One cycle with cosine phases (optax's ``cosine_onecycle_schedule``).

  Cosine interpolation from ``P/d`` at 0 to ``P`` at ``int(pct_start*T)``, then
  to ``P/(d*f)`` at ``T``, constant after.

  Args:
    transition_steps: total length ``T``, ``> 0`` (static).
    peak_value: the peak ``P``.
    pct_start: fraction of ``T`` spent rising, in [0, 1].
    div_factor: ``d > 0``; the initial value is ``P/d``.
    final_div_factor: ``f > 0``; the final value is ``P/(d*f)``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-integer or traced ``transition_steps`` or
      non-numeric values.
    ValueError: for ``transition_steps <= 0``, ``pct_start`` outside [0, 1],
      non-positive factors, NaN or infinity.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cosine_onecycle(100, peak_value=1.0)
    >>> print(f"{s(0):.2f} {s(30):.2f} {s(100):.1e}")
    0.04 1.00 4.0e-06

  References:
    Smith & Topin, `Super-Convergence <https://arxiv.org/abs/1708.07120>`_, 2017.
  """
  fn = "cosine_onecycle"
  steps = _onecycle_steps(fn, transition_steps)
  pct_start = _pct(fn, "pct_start", pct_start)
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  div_factor = _checks.check_positive(fn, "div_factor", div_factor)
  final_div_factor = _checks.check_positive(fn, "final_div_factor", final_div_factor)
  return piecewise_interpolate("cosine", peak_value / div_factor, {
      int(pct_start * steps): div_factor,
      steps: 1.0 / (div_factor * final_div_factor),
  })


def sgdr(cosine_kwargs: Iterable[dict]) -> Schedule:
  r"""SGD with warm restarts: :func:`warmup_cosine_decay` cycles, joined.

  Cycle ``k`` is ``warmup_cosine_decay(**cosine_kwargs[k])`` and lasts its
  ``decay_steps``; it sees the step counted from its own start. The cycles are
  stacked, so N cycles cost O(log N) per step and compile like one. For
  regular restarts without listing each cycle see :func:`cycle`. Drop-in for
  ``optax.sgdr_schedule``.

  Args:
    cosine_kwargs: an iterable of ``warmup_cosine_decay`` keyword dicts.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if ``cosine_kwargs`` is not an iterable of dicts, or an entry
      misses a required argument or has an unknown one.
    ValueError: if ``cosine_kwargs`` is empty, or an entry's values are out
      of range (as ``warmup_cosine_decay``; the error names the entry).

  Examples:
    >>> import optax_scheds as osch
    >>> kw = dict(init_value=0.0, peak_value=1.0, warmup_steps=0, decay_steps=10)
    >>> s = osch.sgdr([kw, kw, kw])
    >>> print(f"{s(5):.2f} {s(10):.2f} {s(25):.2f}")
    0.50 1.00 0.50

  References:
    Loshchilov & Hutter, `SGDR <https://arxiv.org/abs/1608.03983>`_, 2017.
  """
  fn = "sgdr"
  if isinstance(cosine_kwargs, (dict, str, bytes)) or not isinstance(cosine_kwargs,
                                                                    Iterable):
    _checks.fail(fn, "cosine_kwargs", "an iterable of dicts", cosine_kwargs, TypeError)
  kwargs = list(cosine_kwargs)
  if not kwargs:
    _checks.fail(fn, "cosine_kwargs", "non-empty", kwargs)
  pieces = []
  for k, kw in enumerate(kwargs):
    if not isinstance(kw, dict):
      _checks.fail(fn, f"cosine_kwargs[{k}]", "a dict of warmup_cosine_decay's arguments",
                   kw, TypeError)
    missing = [n for n in _COSINE_REQUIRED if n not in kw]
    unknown = [n for n in kw if n not in _COSINE_REQUIRED + _COSINE_OPTIONAL]
    if missing or unknown:
      problem = (f"misses {', '.join(missing)}" if missing else "") + (
          "; " if missing and unknown else "") + (
          f"has unknown {', '.join(map(str, unknown))}" if unknown else "")
      raise TypeError(
          f"`{fn}(cosine_kwargs=...)` must hold dicts of warmup_cosine_decay's "
          f"arguments ({', '.join(_COSINE_REQUIRED)}; optionally "
          f"{', '.join(_COSINE_OPTIONAL)}), got cosine_kwargs[{k}]={kw!r}, which "
          f"{problem}.")
    pieces.append(_warmup_cosine_decay(fn, f"cosine_kwargs[{k}]['{{}}']", **kw))
  lengths = [p.warmup_steps + p.schedule.decay_steps for p in pieces]
  if _checks.is_concrete(lengths):
    ends = np.cumsum([int(n) for n in lengths])
  else:
    ends = jnp.cumsum(jnp.stack([jnp.asarray(n) for n in lengths]))
  return join(pieces, ends[:-1])


_COSINE_REQUIRED = ("init_value", "peak_value", "warmup_steps", "decay_steps")
_COSINE_OPTIONAL = ("end_value", "exponent")
