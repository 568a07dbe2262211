"""optax's composite schedules, built from primitives and combinators."""

from collections.abc import Iterable

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import Schedule
from optax_scheds._combinators import (
    COOLDOWN_SHAPES,
    Cooldown,
    Cycle,
    Warmup,
    check_decay_ratio,
    warmup,
)
from optax_scheds._join import join
from optax_scheds._primitives import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InverseSqrt,
    Polynomial,
    constant,
    exponential_decay_args,
    piecewise_interpolate,
)
from optax_scheds._registry import constructor


@constructor
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


@constructor
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


@constructor
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


@constructor
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


@constructor
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


@constructor
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


@constructor
def wsd(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    init_value: jax.typing.ArrayLike = 0.0,
    end_value: jax.typing.ArrayLike = 0.0,
    warmup_shape: str = "linear",
    decay_shape: str = "1-sqrt",
    decay_ratio: jax.typing.ArrayLike = 0.1,
) -> Schedule:
  r"""Warmup-stable-decay: warm up, hold ``peak_value``, then cool down.

  With :math:`W, S, D` = ``warmup_steps``, ``stable_steps``, ``decay_steps``:

  .. math::
    v(t) = \begin{cases}
      \mathrm{ramp}(I, P, t / W) & t < W \\
      P & W \le t < W + S \\
      E + (P - E)\, c\!\left(\frac{t - W - S}{D}\right) & W + S \le t < W + S + D \\
      E & t \ge W + S + D
    \end{cases}

  It is ``cooldown(warmup(constant(P), W, I, ramp=warmup_shape), W + S, D,
  E, decay_shape, decay_ratio)`` at every step; see :func:`cooldown` for the
  shapes ``c`` (``'1-sqrt'`` by default, the best cooldown in Hägele et al.;
  ``'exponential'`` is MiniCPM's). To cool down a run that is already going,
  call :func:`cooldown` on its schedule.

  Args:
    peak_value: the stable value ``P``.
    warmup_steps: ``W >= 0``.
    stable_steps: ``S >= 0``.
    decay_steps: ``D > 0``.
    init_value: value ``I`` at step 0.
    end_value: value ``E`` at the end of the decay and after.
    warmup_shape: ``'linear'``, ``'cosine'`` or ``'1-sqrt'`` (static).
    decay_shape: a :func:`cooldown` shape (static).
    decay_ratio: ``r`` in (0, 1) of the ``'exponential'`` shape.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for unknown shapes, negative step counts, ``decay_steps <=
      0``, ``decay_ratio`` outside (0, 1), NaN or inf.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.wsd(1.0, warmup_steps=10, stable_steps=80, decay_steps=10)
    >>> print(f"{s(5):.3f} {s(50):.3f} {s(92):.3f} {s(99):.3f} {s(100):.3f}")
    0.500 1.000 0.553 0.051 0.000

  References:
    Hu et al., `MiniCPM <https://arxiv.org/abs/2404.06395>`_, 2024;
    Hägele et al., `Scaling Laws and Compute-Optimal Training Beyond Fixed
    Training Durations <https://arxiv.org/abs/2405.18392>`_, 2024.
  """
  fn = "wsd"
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  warmup_steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  stable_steps = _checks.check_steps(fn, "stable_steps", stable_steps)
  decay_steps = _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1)
  init_value = _checks.check_value(fn, "init_value", init_value)
  end_value = _checks.check_value(fn, "end_value", end_value)
  _checks.check_choice(fn, "warmup_shape", warmup_shape, ("linear", "cosine", "1-sqrt"))
  _checks.check_choice(fn, "decay_shape", decay_shape, COOLDOWN_SHAPES)
  decay_ratio = check_decay_ratio(fn, decay_ratio)
  ramp = Warmup(Constant(peak_value), warmup_steps, init_value, warmup_shape)
  return Cooldown(ramp, warmup_steps + stable_steps, decay_steps, end_value, decay_ratio,
                  decay_shape)


@constructor
def inverse_sqrt(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
    timescale: int | None = None,
    init_value: jax.typing.ArrayLike = 0.0,
) -> Schedule:
  r"""Linear warmup to ``peak_value``, then inverse-square-root decay.

  .. math::
    v(t) = \begin{cases}
      I + (P - I)\, t / W & t < W \\
      P \big/ \sqrt{1 + (t - W)/\tau} & t \ge W
    \end{cases}

  :math:`\tau` = ``timescale`` defaults to ``W``, or 10_000 when ``W = 0``
  (HuggingFace's ``get_inverse_sqrt_schedule`` convention; big_vision's
  ``rsqrt``). It is ``warmup`` of the decay, so the decay sees ``t - W``.

  Args:
    peak_value: the value ``P`` at the end of the warmup.
    warmup_steps: ``W >= 0``.
    timescale: ``tau > 0``, or ``None`` for the default.
    init_value: value ``I`` at step 0.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for ``warmup_steps < 0``, ``timescale <= 0``, NaN or inf.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.inverse_sqrt(1.0, warmup_steps=4)
    >>> print(" ".join(f"{s(t):.4f}" for t in range(8)))
    0.0000 0.2500 0.5000 0.7500 1.0000 0.8944 0.8165 0.7559
  """
  fn = "inverse_sqrt"
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  warmup_steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  init_value = _checks.check_value(fn, "init_value", init_value)
  if timescale is None:
    if not _checks.is_concrete(warmup_steps):
      timescale = jnp.where(warmup_steps == 0, 10_000, warmup_steps)
    else:
      timescale = int(warmup_steps) if np.all(np.asarray(warmup_steps) > 0) else 10_000
  else:
    timescale = _checks.check_steps(fn, "timescale", timescale, minimum=1)
  return Warmup(InverseSqrt(peak_value, timescale), warmup_steps, init_value, "linear")


@constructor
def tri_stage(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: int,
    hold_steps: int,
    decay_steps: int,
    init_scale: jax.typing.ArrayLike = 0.01,
    final_scale: jax.typing.ArrayLike = 0.01,
) -> Schedule:
  r"""fairseq's tri-stage schedule: linear warmup, hold, exponential decay.

  With :math:`W, H, D` the stage lengths and :math:`a, b` the scales:

  .. math::
    v(t) = \begin{cases}
      aP + (1 - a)P\, t / W & t < W \\
      P & W \le t < W + H \\
      P\, b^{(t - W - H)/D} & W + H \le t < W + H + D \\
      bP & t \ge W + H + D
    \end{cases}

  (fairseq writes the decay as :math:`P e^{-\lambda (t - W - H)}`,
  :math:`\lambda = -\ln b / D`: the same curve.) It is a :func:`join` of
  :func:`linear`, :func:`constant` and :func:`exponential_decay` with
  ``end_value = bP``; stages of length 0 are left out. fairseq divides by
  zero for ``decay_steps=0``; here that raises ``ValueError``.

  Args:
    peak_value: ``P``.
    warmup_steps: ``W >= 0``.
    hold_steps: ``H >= 0``.
    decay_steps: ``D > 0``.
    init_scale: ``a >= 0``: the warmup starts at ``aP``.
    final_scale: ``b > 0``: the decay ends at ``bP``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for negative step counts, ``decay_steps <= 0``, a negative
      ``init_scale``, ``final_scale <= 0``, NaN or inf.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.tri_stage(1.0, warmup_steps=3, hold_steps=2, decay_steps=4)
    >>> print(" ".join(f"{s(t):.4f}" for t in range(11)))
    0.0100 0.3400 0.6700 1.0000 1.0000 1.0000 0.3162 0.1000 0.0316 0.0100 0.0100

  References:
    Park et al., `SpecAugment <https://arxiv.org/abs/1904.08779>`_, 2019
    (fairseq's ``tri_stage``).
  """
  fn = "tri_stage"
  peak_value = _checks.check_value(fn, "peak_value", peak_value)
  warmup_steps = _checks.check_static_int(fn, "warmup_steps", warmup_steps)
  hold_steps = _checks.check_static_int(fn, "hold_steps", hold_steps)
  decay_steps = _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1)
  init_scale = _checks.check_non_negative(fn, "init_scale", init_scale)
  final_scale = _checks.check_positive(fn, "final_scale", final_scale)
  decay = ExponentialDecay(peak_value, decay_steps, final_scale, 0, False,
                           final_scale * peak_value)
  pieces, ends = [], []
  if warmup_steps:
    pieces.append(Polynomial(init_scale * peak_value, peak_value, 1.0, warmup_steps))
    ends.append(warmup_steps)
  if hold_steps:
    pieces.append(Constant(peak_value))
    ends.append(warmup_steps + hold_steps)
  return join([*pieces, decay], ends)


@constructor
def cyclic(
    base_value: jax.typing.ArrayLike,
    max_value: jax.typing.ArrayLike,
    step_size_up: int,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: jax.typing.ArrayLike = 1.0,
) -> Schedule:
  r"""Smith's cyclical schedule: triangular waves between two values.

  With :math:`U` = ``step_size_up``, :math:`D` = ``step_size_down``,
  :math:`k = \lfloor t / (U + D) \rfloor` and :math:`r = t - k(U + D)`:

  .. math::
    v(t) = b + (m - b)\, w(r)\, g, \qquad
    w(r) = \begin{cases} r / U & r \le U \\ (U + D - r) / D & r > U \end{cases}

  with :math:`g = 1` (``'triangular'``), :math:`2^{-k}` (``'triangular2'``,
  which underflows to 0 instead of overflowing) or :math:`\gamma^t`
  (``'exp_range'``). Equal to ``torch.optim.lr_scheduler.CyclicLR`` at every
  step. Built as ``b + cycle(join([linear(0, m - b, U), linear(m - b, 0,
  D)], [U]), U + D)``: the cycle and the position in it are exact integers.

  Args:
    base_value: the lower value ``b``.
    max_value: the upper value ``m``.
    step_size_up: ``U > 0``; a concrete integer.
    step_size_down: ``D >= 0`` (0 gives a sawtooth), or ``None`` for ``U``.
    mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'``.
    gamma: the ``'exp_range'`` factor per step, in (0, 1].

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer or traced step sizes.
    ValueError: for NaN or inf, ``step_size_up <= 0``, ``step_size_down <
      0``, an unknown ``mode`` or an ``'exp_range'`` ``gamma`` outside (0, 1].

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.cyclic(0.1, 1.0, step_size_up=2, step_size_down=3, mode="triangular2")
    >>> print(" ".join(f"{s(t):.3f}" for t in range(11)))
    0.100 0.550 1.000 0.700 0.400 0.100 0.325 0.550 0.400 0.250 0.100

  References:
    Smith, `Cyclical Learning Rates for Training Neural Networks
    <https://arxiv.org/abs/1506.01186>`_, 2017.
  """
  fn = "cyclic"
  base = _checks.check_value(fn, "base_value", base_value)
  peak = _checks.check_value(fn, "max_value", max_value)
  up, down = cyclic_sizes(fn, step_size_up, step_size_down)
  _checks.check_choice(fn, "mode", mode, ("triangular", "triangular2", "exp_range"))
  if mode == "exp_range":
    gamma = check_exp_range_gamma(fn, gamma)
  return cyclic_wave(base, peak, up, down, mode, gamma)


def cyclic_sizes(fn, step_size_up, step_size_down):
  """Validated ``(U, D)`` of a cyclic schedule (``D`` defaults to ``U``)."""
  up = _checks.check_static_int(fn, "step_size_up", step_size_up, minimum=1)
  down = up if step_size_down is None else _checks.check_static_int(
      fn, "step_size_down", step_size_down)
  return up, down


def check_exp_range_gamma(fn, gamma):
  # gamma ** step overflows for gamma > 1 (PyTorch's too).
  return _checks.check_value(fn, "gamma", gamma, low=0.0, high=1.0, low_open=True,
                             constraint="in (0, 1] with mode='exp_range'")


def cyclic_wave(base, peak, up: int, down: int, mode: str, gamma, scale=None) -> Schedule:
  """:func:`cyclic` from validated arguments; ``scale`` (a schedule) replaces
  the mode's amplitude factor when given."""
  height = peak - base
  rise = Polynomial(0.0, height, 1.0, up)
  triangle = rise if down == 0 else join([rise, Polynomial(height, 0.0, 1.0, down)], [up])
  total = up + down
  if scale is None and mode == "triangular2":
    # 0.5 ** cycle underflows to 0 where PyTorch's 2.0 ** cycle overflows.
    return base + Cycle(triangle, total, 1, 0.5)
  wave = Cycle(triangle, total)
  if scale is not None:
    wave = wave * scale
  elif mode == "exp_range":
    wave = wave * ExponentialDecay(1.0, 1, gamma)
  return base + wave
