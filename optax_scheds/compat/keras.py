"""Keras 3 learning-rate schedules as optax_scheds schedules.

Each name here takes the arguments of its ``keras.optimizers.schedules``
counterpart (or of the ``keras.callbacks.LearningRateScheduler`` callback) and
returns a jittable :class:`~optax_scheds.Schedule` whose value at step ``k`` is
Keras' ``schedule(k)``. Keras calls a schedule with ``optimizer.iterations``,
which starts at 0 and is incremented after each update: the same step origin
as optax's ``count``, so a ported schedule goes straight into an optax
optimizer. Each is built from native schedules, named in its docstring.
"""

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import (
  Schedule,
  _short,
  as_float,
  as_int,
  int_dtype,
  schedule_class,
  static_field,
)
from optax_scheds._combinators import cycle, stretch, warmup
from optax_scheds._join import join
from optax_scheds._plateau import (
  PlateauTransformation,
  ReduceOnPlateauState,
  check_base_lr,
  check_count,
  check_monitoring,
  check_non_negative,
  check_port_factor,
  init_state,
  owner_of,
  plateau_transformation,
)
from optax_scheds._primitives import (
  constant,
  cosine_decay,
  exponential_decay,
  polynomial,
  table,
)
from optax_scheds._registry import constructor

__all__ = [
    "CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
    "LearningRateScheduler", "PiecewiseConstantDecay", "PolynomialDecay",
    "ReduceLROnPlateau", "to_keras",
]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


def _check_sign(fn: str, name: str, x, *, strict: bool):
  """A finite value that must be positive (``strict``) or non-negative."""
  return (_checks.check_positive if strict else _checks.check_non_negative)(fn, name, x)


def _check_bool(fn: str, name: str, x) -> bool:
  if not isinstance(x, bool):
    _checks.fail(fn, name, "a bool", x, TypeError)
  return x


@constructor
def ExponentialDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: int,
    decay_rate: jax.typing.ArrayLike,
    staircase: bool = False,
) -> Schedule:
  r"""Keras' ``ExponentialDecay``: decay by ``decay_rate`` every ``decay_steps``.

  .. math::
    v(t) = I \cdot r^{t / T} \quad (r^{\lfloor t / T \rfloor}
    \text{ if staircase})

  It is :func:`optax_scheds.exponential_decay` with Keras' names. The
  staircase exponent is an exact integer division, so stairs fall on the right
  step at any step (Keras casts the step to float32 and misplaces them above
  2**24).

  Quirks: it never stops decaying; for a floor use
  ``osch.exponential_decay(..., end_value=...)``, which also offers a
  ``transition_begin``.

  Args:
    initial_learning_rate: value ``I`` at step 0.
    decay_steps: steps ``T`` per factor of ``decay_rate``, ``> 0``.
    decay_rate: factor ``r > 0`` per ``decay_steps``.
    staircase: decay at whole multiples of ``decay_steps`` only.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, a non-integer ``decay_steps`` or a
      non-bool ``staircase``.
    ValueError: for NaN, ``decay_steps <= 0`` (as Keras) or
      ``decay_rate <= 0``. Traced arguments skip the value checks.

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
    >>> print(f"{s(0):.4f} {s(50):.4f} {s(100):.4f}")
    0.1000 0.0707 0.0500
    >>> s = kc.ExponentialDecay(0.1, 100, 0.5, staircase=True)
    >>> print(f"{s(199):.4f} {s(200):.4f}")
    0.0500 0.0250
  """
  fn = "ExponentialDecay"
  return exponential_decay(
      _checks.check_value(fn, "initial_learning_rate", initial_learning_rate),
      _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
      _check_sign(fn, "decay_rate", decay_rate, strict=True),
      staircase=_check_bool(fn, "staircase", staircase),
  )


@constructor
def PiecewiseConstantDecay(
    boundaries: Sequence[int],
    values: Sequence[jax.typing.ArrayLike],
) -> Schedule:
  r"""Keras' ``PiecewiseConstantDecay``: ``values[k]`` after ``boundaries[k-1]``.

  .. math::
    v(t) = \begin{cases}
      v_0 & t \le b_0 \\
      v_{k} & b_{k-1} < t \le b_k \\
      v_N & t > b_{N-1}
    \end{cases}

  so the new value starts at step ``b + 1``, one step later than in optax
  and PyTorch. It is :func:`optax_scheds.join` of constants with boundaries
  ``b + 1``; the piece is found by a binary search on integers, exact at any
  step. Float steps are floored like every step here, so ``b + 0.5`` still
  gives the old value (Keras: the new one).

  Quirks: the value changes at ``b + 1``; ``osch.join`` and
  ``osch.piecewise_constant`` switch at ``b`` itself, the usual convention.

  Args:
    boundaries: ``N >= 0`` non-negative, strictly increasing integer steps.
    values: ``N + 1`` values, absolute (not multiplicative).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-integer boundaries or non-numeric values.
    ValueError: if ``len(values) != len(boundaries) + 1`` (as Keras), or for
      negative or unsorted boundaries, or NaN values.

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    >>> print(f"{s(100):.1f} {s(101):.1f} {s(200):.1f} {s(201):.1f}")
    1.0 0.5 0.5 0.1
  """
  fn = "PiecewiseConstantDecay"
  boundaries = _checks.check_boundaries(fn, "boundaries", boundaries)
  if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__len__"):
    _checks.fail(fn, "values", "a sequence of numbers", values, TypeError)
  if len(values) != len(boundaries) + 1:
    raise ValueError(
        f"`{fn}(values=...)` must have one entry more than boundaries, got "
        f"{len(values)} values for {len(boundaries)} boundaries: "
        f"values={values!r}."
    )
  pieces = [constant(_checks.check_value(fn, "values", v)) for v in values]
  starts = boundaries + 1
  if isinstance(boundaries, np.ndarray):
    # A boundary at the largest step makes the next values unreachable, and
    # its b + 1 does not fit the step dtype: drop them.
    reachable = int(np.sum(boundaries < np.iinfo(int_dtype()).max))
    pieces, starts = pieces[:reachable + 1], starts[:reachable]
  return join(pieces, starts)


@schedule_class
class _CyclicPolynomial(Schedule):
  """Keras' ``PolynomialDecay(cycle=True)``: the decay stretched to the first
  multiple of ``decay_steps`` not below the step."""

  init_value: jax.typing.ArrayLike
  end_value: jax.typing.ArrayLike
  power: jax.typing.ArrayLike
  decay_steps: jax.typing.ArrayLike

  def _value(self, i, f):
    steps = as_int(self.decay_steps)
    q, m = i // steps, i % steps
    # t = i + f is a multiple of decay_steps: ceil(t / T) = q, except at 0.
    whole = (m == 0) & (i > 0)
    if f is not None:
      whole = whole & (f == 0)
    k = jnp.where(whole, q, q + 1)
    # 1 - t / (k T) = (k T - t) / (k T), with k T - i an exact integer in (0, T].
    rest = as_float(jnp.where(whole, 0, steps - m))
    if f is not None:
      rest = rest - f
    frac = rest / (as_float(k) * as_float(steps))
    init, end = as_float(self.init_value), as_float(self.end_value)
    return (init - end) * frac ** as_float(self.power) + end

  def _structural_repr(self):
    return (f"keras.PolynomialDecay(initial_learning_rate={_short(self.init_value)}, "
            f"decay_steps={_short(self.decay_steps)}, "
            f"end_learning_rate={_short(self.end_value)}, power={_short(self.power)}, "
            "cycle=True)")


@constructor
def PolynomialDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: int,
    end_learning_rate: jax.typing.ArrayLike = 0.0001,
    power: jax.typing.ArrayLike = 1.0,
    cycle: bool = False,
) -> Schedule:
  r"""Keras' ``PolynomialDecay``: polynomial decay to ``end_learning_rate``.

  .. math::
    v(t) = (I - E)\left(1 - \frac{\min(t, T)}{T}\right)^{p} + E

  With ``cycle=True`` the decay is stretched instead of clamped: ``T`` is
  replaced by :math:`T' = T \lceil t / T \rceil` (:math:`T' = T` at
  :math:`t = 0`) and ``t`` is not clamped, so each period restarts below ``I``
  on a longer curve. The ceiling is exact integer arithmetic at any step.

  ``cycle=False`` is :func:`optax_scheds.polynomial`; ``cycle=True`` is a small
  schedule of its own, since no composition gives the stretched curve.

  Quirks: the default ``end_learning_rate`` is ``1e-4``, not 0; cycling
  restarts below ``I``. For plain restarts to ``I`` use
  ``osch.cycle(osch.polynomial(...), cycle_steps=T)``.

  Args:
    initial_learning_rate: value ``I`` at step 0.
    decay_steps: length ``T`` of the decay, ``> 0``.
    end_learning_rate: value ``E`` reached at ``T``.
    power: exponent ``p >= 0``.
    cycle: stretch the decay over multiples of ``decay_steps`` instead of
      holding ``E``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, a non-integer ``decay_steps`` or a
      non-bool ``cycle``.
    ValueError: for NaN, infinity, ``power < 0`` (an infinite end value) or
      ``decay_steps <= 0`` (as Keras).

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)
    >>> print(f"{s(5):.4f} {s(10):.4f} {s(11):.4f}")
    0.5000 0.0000 0.0000
    >>> s = kc.PolynomialDecay(1.0, 10, end_learning_rate=0.1, cycle=True)
    >>> print(f"{s(10):.4f} {s(11):.4f} {s(20):.4f}")
    0.1000 0.5050 0.1000
  """
  fn = "PolynomialDecay"
  init = _checks.check_value(fn, "initial_learning_rate", initial_learning_rate)
  steps = _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1)
  end = _checks.check_value(fn, "end_learning_rate", end_learning_rate)
  power = _checks.check_non_negative(fn, "power", power)
  if _check_bool(fn, "cycle", cycle):
    return _CyclicPolynomial(init, end, power, steps)
  return polynomial(init, end, power, steps)


@schedule_class
class _InverseTime(Schedule):
  """``I / (1 + r t / T)``, ``t / T`` floored if staircase."""

  init_value: jax.typing.ArrayLike
  decay_steps: jax.typing.ArrayLike
  decay_rate: jax.typing.ArrayLike
  staircase: bool = static_field(default=False)

  def _value(self, i, f):
    steps = as_int(self.decay_steps)
    q = i // steps
    p = as_float(q)
    if not self.staircase:
      rest = as_float(i - q * steps)
      p = p + (rest if f is None else rest + f) / as_float(steps)
    return as_float(self.init_value) / (1 + as_float(self.decay_rate) * p)

  def _structural_repr(self):
    return (f"keras.InverseTimeDecay(initial_learning_rate={_short(self.init_value)}, "
            f"decay_steps={_short(self.decay_steps)}, "
            f"decay_rate={_short(self.decay_rate)}, staircase={self.staircase})")


@constructor
def InverseTimeDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: int,
    decay_rate: jax.typing.ArrayLike,
    staircase: bool = False,
) -> Schedule:
  r"""Keras' ``InverseTimeDecay``: ``1 / t`` decay.

  .. math::
    v(t) = \frac{I}{1 + r \, t / T} \quad
    \left(\frac{I}{1 + r \lfloor t / T \rfloor} \text{ if staircase}\right)

  A small schedule of its own (no native schedule has this shape); ``t / T``
  is split into an exact integer quotient and a remainder, so stairs are
  exact at any step.

  Quirks: it never stops decaying. To hold a floor, wrap it:
  ``osch.maximum(kc.InverseTimeDecay(...), floor)``.

  Args:
    initial_learning_rate: value ``I`` at step 0.
    decay_steps: steps ``T`` per unit of decay, ``> 0``.
    decay_rate: rate ``r >= 0``.
    staircase: decay at whole multiples of ``decay_steps`` only.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, a non-integer ``decay_steps`` or a
      non-bool ``staircase``.
    ValueError: for NaN, ``decay_steps <= 0`` (as Keras) or
      ``decay_rate < 0`` (which would divide by zero).

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    >>> print(f"{s(0):.4f} {s(2):.4f} {s(8):.4f}")
    0.1000 0.0500 0.0200
  """
  fn = "InverseTimeDecay"
  return _InverseTime(
      _checks.check_value(fn, "initial_learning_rate", initial_learning_rate),
      _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1),
      _check_sign(fn, "decay_rate", decay_rate, strict=False),
      _check_bool(fn, "staircase", staircase),
  )


@constructor
def CosineDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: int,
    alpha: jax.typing.ArrayLike = 0.0,
    warmup_target: jax.typing.ArrayLike | None = None,
    warmup_steps: int = 0,
) -> Schedule:
  r"""Keras' ``CosineDecay``: optional linear warmup, then cosine decay.

  Without ``warmup_target`` (:math:`P = I`, :math:`W = 0`), and with it
  (:math:`P` = ``warmup_target``, :math:`W` = ``warmup_steps``):

  .. math::
    v(t) = \begin{cases}
      I + (P - I)\, t / W & t < W \\
      P\left[(1 - \alpha)\tfrac12\left(1 + \cos\frac{\pi \min(t - W, T)}{T}
      \right) + \alpha\right] & t \ge W
    \end{cases}

  It is :func:`optax_scheds.cosine_decay`, inside :func:`optax_scheds.warmup`
  when there is a ``warmup_target``. The decay lasts ``decay_steps`` *after*
  the warmup: it ends at step ``W + T``.

  Quirks: Keras' ``decay_steps`` excludes the warmup, while optax's and
  ``osch.warmup_cosine_decay``'s includes it. Keras ignores ``warmup_steps``
  when ``warmup_target`` is None; here that raises. Keras' fourth positional
  argument is ``name``, which this function does not take.

  Args:
    initial_learning_rate: value ``I`` at step 0.
    decay_steps: length ``T`` of the cosine decay, ``> 0``.
    alpha: final value as a fraction of the decay's start value.
    warmup_target: value ``P`` reached at the end of the warmup, or ``None``
      for no warmup.
    warmup_steps: length ``W`` of the warmup, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer step counts.
    ValueError: for NaN, ``decay_steps <= 0`` (as Keras), ``warmup_steps < 0``,
      or ``warmup_steps > 0`` without a ``warmup_target``.

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.CosineDecay(0.0, decay_steps=10, alpha=0.1, warmup_target=1.0,
    ...                    warmup_steps=10)
    >>> print(f"{s(5):.4f} {s(10):.4f} {s(15):.4f} {s(20):.4f} {s(99):.4f}")
    0.5000 1.0000 0.5500 0.1000 0.1000
  """
  fn = "CosineDecay"
  init = _checks.check_value(fn, "initial_learning_rate", initial_learning_rate)
  steps = _checks.check_steps(fn, "decay_steps", decay_steps, minimum=1)
  alpha = _checks.check_value(fn, "alpha", alpha)
  target = _checks.check_value(fn, "warmup_target", warmup_target, allow_none=True)
  warmup_steps = _checks.check_steps(fn, "warmup_steps", warmup_steps)
  if target is None:
    if _checks.is_concrete(warmup_steps) and np.any(np.asarray(warmup_steps) != 0):
      _checks.fail(
          fn, "warmup_steps",
          "0 when warmup_target is None (Keras ignores it then; pass "
          "warmup_target=initial_learning_rate for a constant warmup, or the "
          "target to warm up to)", warmup_steps)
    return cosine_decay(init, steps, alpha)
  return warmup(cosine_decay(target, steps, alpha), warmup_steps, init_value=init)


def _check_t_mul(fn: str, t_mul) -> float:
  if isinstance(t_mul, bool) or not isinstance(t_mul, (numbers.Real, np.number)):
    _checks.fail(fn, "t_mul", "a concrete number >= 1 (it fixes where restarts fall)",
                 t_mul, TypeError)
  if not (t_mul >= 1 and math.isfinite(t_mul)):
    _checks.fail(fn, "t_mul", "a finite number >= 1", t_mul)
  return float(t_mul)


@constructor
def CosineDecayRestarts(
    initial_learning_rate: jax.typing.ArrayLike,
    first_decay_steps: int,
    t_mul: float = 2.0,
    m_mul: jax.typing.ArrayLike = 1.0,
    alpha: jax.typing.ArrayLike = 0.0,
) -> Schedule:
  r"""Keras' ``CosineDecayRestarts``: SGDR cosine cycles with warm restarts.

  Cycle :math:`k` starts at :math:`S_k = T (m^k - 1)/(m - 1)` (:math:`kT` for
  :math:`m = 1`) and lasts :math:`T m^k`; with
  :math:`x = (t - S_k) / (T m^k)`:

  .. math::
    v(t) = I\left[(1 - \alpha)\, d^{k}\, \tfrac12 (1 + \cos \pi x)
    + \alpha\right]

  It is :func:`optax_scheds.cycle` of an :func:`optax_scheds.cosine_decay`
  (``length_mul=t_mul``, ``value_mul=m_mul``) plus the constant
  :math:`\alpha I`.

  Quirks: the floor :math:`\alpha I` is not scaled by ``m_mul`` (the cycle
  peaks are). Keras finds the cycle with a float32 ``log``, which can put a
  restart one step early or late; here the cycle index is exact at any step,
  so the values agree with Keras everywhere except at such misplaced restarts.
  ``osch.sgdr`` and ``osch.cycle`` offer SGDR with warmup and integer cycle
  lengths.

  Args:
    initial_learning_rate: value ``I`` at step 0.
    first_decay_steps: length ``T`` of the first cycle, ``> 0``; a concrete
      integer (it fixes the cycle layout).
    t_mul: length factor ``m >= 1`` per cycle; a concrete number.
    m_mul: peak factor ``d >= 0`` per cycle.
    alpha: floor as a fraction of ``initial_learning_rate``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, or a non-integer or traced
      ``first_decay_steps`` or ``t_mul``.
    ValueError: for NaN, infinity, ``first_decay_steps <= 0`` (as Keras),
      ``t_mul < 1`` (Keras gives NaN once the shrinking cycles run out) or
      ``m_mul < 0`` (peaks of alternating sign).

  Examples:
    >>> from optax_scheds.compat import keras as kc
    >>> s = kc.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0,
    ...                            m_mul=0.5)
    >>> print(f"{s(5):.4f} {s(10):.4f} {s(20):.4f} {s(30):.4f} {s(70):.4f}")
    0.5000 0.5000 0.2500 0.2500 0.1250

  References:
    Loshchilov & Hutter, `SGDR: Stochastic Gradient Descent with Warm
    Restarts <https://arxiv.org/abs/1608.03983>`_, 2017.
  """
  fn = "CosineDecayRestarts"
  init = _checks.check_value(fn, "initial_learning_rate", initial_learning_rate)
  steps = _checks.check_static_int(fn, "first_decay_steps", first_decay_steps, minimum=1)
  t_mul = _check_t_mul(fn, t_mul)
  m_mul = _checks.check_non_negative(fn, "m_mul", m_mul)
  alpha = _checks.check_value(fn, "alpha", alpha)
  floor = alpha * init
  restarts = cycle(cosine_decay((1 - alpha) * init, steps), steps, length_mul=t_mul,
                   value_mul=m_mul)
  return restarts + floor


def _call_keras_style(schedule: Callable, epoch: int, lr: float):
  # Keras' own fallback: a TypeError from the two-argument call (including
  # one raised inside the function) retries with the epoch alone.
  try:
    return schedule(epoch, lr)
  except TypeError:
    return schedule(epoch)


def _as_lr(fn: str, epoch: int, out) -> float:
  shown = f"schedule(epoch={epoch})={out!r}"
  if isinstance(out, (bool, str, bytes, np.bool_)) or np.ndim(out) != 0:
    raise TypeError(f"`{fn}(schedule=...)` must return a number for every epoch, "
                    f"got {shown}.")
  try:
    lr = float(out)
  except (TypeError, ValueError):
    raise TypeError(f"`{fn}(schedule=...)` must return a number for every epoch, "
                    f"got {shown}.") from None
  if not math.isfinite(lr):
    raise ValueError(f"`{fn}(schedule=...)` must return a finite number for every "
                     f"epoch, got {shown}.")
  return lr


@constructor
def LearningRateScheduler(
    schedule: Callable,
    initial_learning_rate: float,
    steps_per_epoch: int,
    num_epochs: int,
    verbose: int = 0,
) -> Schedule:
  r"""Keras' ``LearningRateScheduler`` callback as a per-step schedule.

  .. math::
    \ell_{-1} = I, \qquad \ell_e = \mathrm{schedule}(e, \ell_{e-1}), \qquad
    v(t) = \ell_{\min(\lfloor t / S \rfloor,\; E - 1)}

  Keras calls ``schedule(epoch, lr)`` at the start of every epoch with the
  optimizer's current learning rate, i.e. the previous epoch's result (at
  first the optimizer's initial rate), and sets the rate to what it returns.
  This calls the Python ``schedule`` the same way, once per epoch in order, at
  construction: a ``TypeError`` from the two-argument call retries with
  ``schedule(epoch)``, as Keras does. The results become a table looked up
  per epoch, with the epoch ``t // steps_per_epoch`` an exact integer
  division, so the schedule is jittable. Past ``num_epochs`` it holds the
  last epoch's value. Built as
  ``osch.stretch(osch.table(lrs), steps_per_epoch, staircase=True)``.

  Quirks: Keras requires a Python or NumPy float and rejects anything else,
  including the ``lr * keras.ops.exp(-0.1)`` of its own docstring under the
  JAX backend; here any real number (a 0-d array too) is accepted through
  ``float()``. ``lr`` is passed as a Python float (Keras passes the float32
  optimizer variable's value, a difference below 1e-7 relative). A schedule
  that is a closed form in the epoch is better written natively, e.g.
  ``osch.stretch(osch.exponential_decay(...), steps_per_epoch)``, which needs
  no table and no ``num_epochs``.

  Args:
    schedule: a function ``(epoch, lr) -> lr`` or ``(epoch) -> lr``, with
      ``epoch`` counted from 0.
    initial_learning_rate: the optimizer's learning rate before the first
      epoch, passed to the first call.
    steps_per_epoch: optimizer steps per epoch, ``> 0``.
    num_epochs: number of epochs to tabulate, ``> 0``.
    verbose: Keras' ``0`` (quiet) or ``1`` (print the rate each epoch), an
      integer ``>= 0``, accepted so Keras calls port unchanged. A schedule cannot print from
      inside a jitted step; print Keras' line in the epoch loop instead, with
      the rate the epoch's first update uses, ``osch.learning_rate(s,
      opt_state)`` (before that update):
      ``print(f"Epoch {epoch + 1:05d}: LearningRateScheduler setting learning
      rate to {float(lr)}.")`` (docs/migration-keras.md shows the loop).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-callable ``schedule``, a non-numeric or traced
      ``initial_learning_rate``, non-integer step counts, or a ``schedule``
      result that is not a real number.
    ValueError: for ``steps_per_epoch <= 0``, ``num_epochs <= 0``, NaN, or a
      non-finite ``schedule`` result.

  Examples:
    >>> import numpy as np
    >>> from optax_scheds.compat import keras as kc
    >>> def scheduler(epoch, lr):
    ...   if epoch < 10:
    ...     return lr
    ...   else:
    ...     return lr * np.exp(-0.1)
    >>> s = kc.LearningRateScheduler(scheduler, initial_learning_rate=0.01,
    ...                              steps_per_epoch=100, num_epochs=15)
    >>> print(f"{s(999):.5f} {s(1000):.5f} {s(1400):.5f} {s(10**6):.5f}")
    0.01000 0.00905 0.00607 0.00607
  """
  fn = "LearningRateScheduler"
  if not callable(schedule):
    _checks.fail(fn, "schedule", "a function (epoch, lr) -> lr or (epoch) -> lr",
                 schedule, TypeError)
  lr = _checks.check_value(fn, "initial_learning_rate", initial_learning_rate)
  if not _checks.is_concrete(lr) or np.ndim(lr) != 0:
    _checks.fail(fn, "initial_learning_rate",
                 "a concrete scalar (it is passed to the Python schedule)", lr, TypeError)
  steps_per_epoch = _checks.check_steps(fn, "steps_per_epoch", steps_per_epoch, minimum=1)
  num_epochs = _checks.check_static_int(fn, "num_epochs", num_epochs, minimum=1)
  if isinstance(verbose, bool) or not isinstance(verbose, numbers.Integral):
    _checks.fail(fn, "verbose", "an integer (0 or 1)", verbose, TypeError)
  if verbose < 0:
    _checks.fail(fn, "verbose", "0 or 1", verbose)  # printed by the user's loop, not here
  lr = float(lr)
  lrs = []
  for epoch in range(num_epochs):
    lr = _as_lr(fn, epoch, _call_keras_style(schedule, epoch, lr))
    lrs.append(lr)
  return stretch(table(np.asarray(lrs, dtype=np.float64)), steps_per_epoch,
                 staircase=True)


# The metric names Keras 3 accepts in `compile(metrics=[...])` whose metric has
# a direction (`_direction`): with mode="auto", Keras' ReduceLROnPlateau
# maximises "up" metrics and minimises "down" ones; other names raise. Checked
# against the installed Keras by tests/test_compat_plateau.py.
_KERAS_METRIC_DIRECTIONS = {
    **dict.fromkeys("""
    AUC Accuracy BinaryAccuracy BinaryIoU CategoricalAccuracy ConcordanceCorrelation
    CosineSimilarity F1Score FBetaScore IoU MeanIoU OneHotIoU OneHotMeanIoU
    PearsonCorrelation Precision PrecisionAtRecall R2Score Recall RecallAtPrecision
    SensitivityAtSpecificity SparseCategoricalAccuracy SparseTopKCategoricalAccuracy
    SpecificityAtSensitivity TopKCategoricalAccuracy accuracy auc binary_accuracy
    binary_io_u categorical_accuracy concordance_correlation cosine_similarity f1_score
    f_beta_score io_u mean_io_u one_hot_io_u one_hot_mean_io_u pearson_correlation
    precision precision_at_recall r2_score recall recall_at_precision
    sensitivity_at_specificity sparse_categorical_accuracy
    sparse_top_k_categorical_accuracy specificity_at_sensitivity
    top_k_categorical_accuracy""".split(), "up"),
    **dict.fromkeys("""
    BCE BinaryCrossentropy CategoricalCrossentropy CategoricalHinge Hinge KLDivergence
    LogCoshError MAE MAPE MSE MSLE MeanAbsoluteError MeanAbsolutePercentageError
    MeanSquaredError MeanSquaredLogarithmicError Poisson RootMeanSquaredError
    SparseCategoricalCrossentropy SquaredHinge bce binary_crossentropy
    categorical_crossentropy categorical_hinge hinge kl_divergence log_cosh_error mae
    mape mean_absolute_error mean_absolute_percentage_error mean_squared_error
    mean_squared_logarithmic_error mse msle poisson root_mean_squared_error
    sparse_categorical_crossentropy squared_hinge""".split(), "down"),
}


def _keras_auto_mode(monitor: str) -> str | None:
  """Keras 3's ``mode='auto'``: the direction of the metric ``monitor`` names."""
  metric = monitor.removeprefix("val_")
  if metric == "loss":
    return "min"
  if metric.lower() in ("acc", "accuracy"):  # compiled as the fitting accuracy
    return "max"
  return {"up": "max", "down": "min"}.get(_KERAS_METRIC_DIRECTIONS.get(metric, ""))


@constructor
def ReduceLROnPlateau(
    initial_learning_rate: float,
    factor: float = 0.1,
    patience: int = 10,
    mode: str = "auto",
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
    *,
    monitor: str = "val_loss",
    accumulation_size: int = 1,
    axis_name: Any = None,
    value_in_update: bool = True,
    name: str | None = None,
) -> PlateauTransformation:
  r"""Keras' ``ReduceLROnPlateau`` callback, epoch for epoch, as a transformation.

  Chain it after an optimizer built with ``initial_learning_rate``. One
  evaluation of a metric ``v`` is one ``on_epoch_end`` with ``logs[monitor] =
  v``; the updates are multiplied by ``lr / initial_learning_rate``, with
  ``lr`` the optimizer's learning rate right after that call. Per call, in
  Keras' order: a cooldown counts down first (``wait = 0``); then if ``v -
  \delta`` beats ``best`` (min: ``v + |\delta| < best``; max: ``v - |\delta| >
  best``; the first value always does): ``best = v``, ``wait = 0``; else, out
  of cooldown, ``wait += 1`` and at ``wait >= patience``, if ``lr > min_lr``:
  ``lr = max(lr * factor, min_lr)``, the cooldown restarts and ``wait = 0``.

  ``mode='auto'`` infers the direction from ``monitor`` as Keras 3 does:
  ``'loss'`` / ``'val_loss'`` minimise; a Keras metric name (after an optional
  ``'val_'``) follows that metric's direction, so ``'val_accuracy'``,
  ``'val_auc'`` maximise and ``'val_mse'`` minimises. For other names Keras
  reads the direction of the compiled metric object; the port has none and
  raises, asking for ``mode='min'`` or ``'max'``. ``monitor`` only names the
  metric: the value itself is what ``update``/``observe`` receive.

  The metric arrives as in :func:`optax_scheds.reduce_on_plateau`: with
  ``update(..., value=v)`` at every update (``value_in_update=True``), or,
  with ``value_in_update=False``, through ``.observe(opt_state, v)`` (a
  validation metric once per epoch, as Keras' ``val_*`` logs) while
  ``update`` ignores any ``value=``. ``accumulation_size=n`` makes one
  ``on_epoch_end`` of the mean of ``n`` values: with ``n`` steps per epoch and
  the batch losses as values, Keras' epoch ``loss`` (an unweighted mean,
  where Keras weights the batches by their sizes).

  Quirks reproduced: it reduces on the ``patience``-th bad epoch (PyTorch one
  later); the cooldown is checked before the improvement; the threshold is
  absolute only. An unknown mode raises (Keras warns and falls back to
  ``'auto'``). Keras cannot combine this callback with a
  ``LearningRateSchedule``; here :func:`optax_scheds.reduce_on_plateau`
  chained after a scheduled optimizer does.

  Args:
    initial_learning_rate: the optimizer's learning rate, ``> 0``.
    factor: multiplier of the lr, in [0, 1).
    patience: bad epochs before a reduction, ``>= 0``.
    mode: ``'auto'``, ``'min'`` or ``'max'``.
    min_delta: absolute improvement threshold (its sign is ignored, as Keras).
    cooldown: epochs to wait after a reduction, ``>= 0``.
    min_lr: lower bound of the lr, ``>= 0``.
    monitor: the name of the metric, for ``mode='auto'`` (Keras' default
      ``'val_loss'``).
    accumulation_size: values averaged into one ``on_epoch_end``, ``>= 1``
      (an extension).
    axis_name: mapped axis to average the metric over (an extension).
    value_in_update: if ``False``, the metric is fed with ``.observe`` and
      ``update`` takes no ``value=`` (an extension).
    name: a label that tells this port's state apart from that of another one
      built with the same arguments, for ``observe`` (an extension).

  Returns:
    A :class:`~optax_scheds.PlateauTransformation`.

  Raises:
    ValueError: for ``factor >= 1``, negative counts, an unknown mode, or
      ``mode='auto'`` with a ``monitor`` whose direction is unknown.
    TypeError: for wrongly typed arguments, and from ``update`` when
      ``value=`` is missing and ``value_in_update=True``.

  Examples:
    >>> import jax.numpy as jnp
    >>> import optax
    >>> from optax_scheds.compat import keras as kc
    >>> opt = optax.chain(optax.sgd(0.1), kc.ReduceLROnPlateau(0.1, patience=1))
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for loss in [1.0, 1.0, 1.0]:
    ...   _, state = opt.update(params, state, params, value=loss)
    >>> print(f"{0.1 * state[1].scale:.4f}")
    0.0010

    The validation accuracy once per epoch; ``mode='auto'`` maximises it:

    >>> plateau = kc.ReduceLROnPlateau(0.1, patience=1, monitor="val_accuracy",
    ...                                value_in_update=False)
    >>> opt = optax.chain(optax.sgd(0.1), plateau)
    >>> state = opt.init(params)
    >>> for val_accuracy in [0.5, 0.6, 0.55]:
    ...   _, state = opt.update(params, state, params)  # an epoch of training
    ...   state = plateau.observe(state, val_accuracy)
    >>> print(f"{0.1 * state[1].scale:.4f}")
    0.0100
  """
  fn = "ReduceLROnPlateau"
  base = check_base_lr(fn, "initial_learning_rate", initial_learning_rate)
  _checks.check_choice(fn, "mode", mode, ("auto", "min", "max"))
  if not isinstance(monitor, str):
    _checks.fail(fn, "monitor", "a metric name", monitor, TypeError)
  if mode == "auto":
    mode = _keras_auto_mode(monitor)
    if mode is None:
      _checks.fail(fn, "mode", f"'min' or 'max' for monitor={monitor!r} (only Keras' loss "
                   "and built-in metrics have a known direction)", "auto")
  factor = check_port_factor(fn, factor)
  patience = check_count(fn, "patience", patience, "evaluations")
  cooldown = check_count(fn, "cooldown", cooldown, "evaluations")
  delta = abs(float(_checks.check_value(fn, "min_delta", min_delta)))
  min_lr = check_non_negative(fn, "min_lr", min_lr)
  accumulation_size = check_monitoring(fn, accumulation_size, value_in_update, name)
  owner = owner_of(
      "compat.keras.ReduceLROnPlateau", initial_learning_rate=base, factor=factor,
      patience=patience, mode=mode, min_delta=delta, cooldown=cooldown, min_lr=min_lr,
      accumulation_size=accumulation_size, axis_name=axis_name,
      value_in_update=value_in_update, name=name)

  def init():
    # plateau_count = -1 marks Keras' `best = None`: the first value improves.
    return init_state(mode).replace(plateau_count=-1)

  def observe(state: ReduceOnPlateauState, value) -> ReduceOnPlateauState:
    first = state.plateau_count < 0
    cooling = state.cooldown_count > 0
    cooldown_count = jnp.where(cooling, state.cooldown_count - 1, state.cooldown_count)
    wait = jnp.where(cooling | first, 0, state.plateau_count)
    if mode == "min":
      improved = first | (value + delta < state.best_value)
    else:
      improved = first | (value - delta > state.best_value)
    still_cooling = cooldown_count > 0
    wait = jnp.where(improved, 0, jnp.where(still_cooling, wait, wait + 1))
    old = state.scale * base
    reduce = ~improved & ~still_cooling & (wait >= patience) & (
        old > jnp.asarray(np.float32(min_lr), old.dtype))
    new = jnp.maximum(old * factor, jnp.asarray(min_lr, old.dtype))
    return state.replace(
        scale=jnp.where(reduce, new / base, state.scale),
        best_value=jnp.where(improved, value, state.best_value),
        plateau_count=jnp.where(reduce, 0, wait).astype(jnp.int32),
        cooldown_count=jnp.where(reduce, cooldown, cooldown_count).astype(jnp.int32))

  return plateau_transformation(
      fn, owner, observe, init, accumulation_size=accumulation_size, axis_name=axis_name,
      value_in_update=value_in_update)



# The Keras class behind `to_keras`, built (and registered with Keras) on first
# use: this module must import without Keras installed.
_KERAS_SCHEDULE_CLASS = None


def _keras_lr(schedule: Schedule, step):
  """``schedule(step)`` as Keras' optimizer wants it: a float32 backend tensor."""
  import keras

  if isinstance(step, keras.Variable):
    step = step.value  # inside a JAX train step: the traced iteration count
  if keras.backend.backend() == "jax":
    return schedule(step).astype(jnp.float32)
  try:
    host = keras.ops.convert_to_numpy(step)
  except Exception as e:  # symbolic tensors (tf.function, torch.compile) cannot be read
    raise TypeError(
        f"`to_keras(...)` schedules are evaluated with JAX: under the "
        f"{keras.backend.backend()} backend they need a concrete step, got the traced "
        f"step={step!r}. Use the JAX backend (KERAS_BACKEND=jax), where the schedule is "
        "traced into the train step, or run the train step eagerly "
        "(model.compile(..., jit_compile=False) or run_eagerly=True).") from e
  return keras.ops.convert_to_tensor(np.asarray(schedule(host), np.float32))


def _keras_schedule_class() -> type:
  global _KERAS_SCHEDULE_CLASS
  if _KERAS_SCHEDULE_CLASS is not None:
    return _KERAS_SCHEDULE_CLASS
  try:
    import keras
  except ImportError as e:
    raise ImportError("`to_keras` needs Keras 3 (`pip install keras`).") from e
  if int(keras.__version__.split(".")[0]) < 3:
    raise ImportError(f"`to_keras` needs Keras 3, got Keras {keras.__version__}.")

  from optax_scheds import _config

  @keras.saving.register_keras_serializable(package="optax_scheds")
  class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """An optax_scheds schedule as a Keras ``LearningRateSchedule``; build it with
    :func:`optax_scheds.compat.keras.to_keras`."""

    def __init__(self, schedule: Schedule):
      self.schedule = schedule

    def __call__(self, step):
      return _keras_lr(self.schedule, step)

    def get_config(self) -> dict:
      try:
        return {"schedule": _config.to_config(self.schedule)}
      except ValueError as e:
        raise ValueError(f"This `to_keras(schedule=...)` learning rate has no Keras config "
                         f"(Keras needs one to save or clone the optimizer): {e}") from None

    @classmethod
    def from_config(cls, config: dict):
      if not isinstance(config, dict) or set(config) != {"schedule"}:
        raise ValueError('`to_keras(...).from_config(config=...)` must be {"schedule": '
                         f"<an optax_scheds config>}}, got config={config!r}.")
      return cls(_config.from_config(config["schedule"]))

    def __repr__(self) -> str:
      return f"to_keras({self.schedule!r})"

  LearningRateSchedule.__module__ = __name__
  LearningRateSchedule.__qualname__ = "LearningRateSchedule"
  _KERAS_SCHEDULE_CLASS = LearningRateSchedule
  return LearningRateSchedule


def to_keras(schedule: Schedule | Callable) -> Any:
  r"""A Keras 3 ``LearningRateSchedule`` that follows ``schedule`` step for step.

  .. math:: \mathrm{lr}_k = \mathrm{schedule}(k)

  Keras calls a learning-rate schedule with ``optimizer.iterations``: ``k = 0``
  for the first update, incremented after each. That is the step origin of
  every optax_scheds schedule (and of optax's ``count``), so
  ``keras.optimizers.SGD(learning_rate=to_keras(s))`` (or any Keras optimizer)
  uses ``s(k)`` for its ``(k+1)``-th update, under ``model.fit`` as in a
  custom loop. Any schedule works: composed, a compat port such as
  ``compat.torch.OneCycleLR``, or ``osch.as_schedule(fn)``.

  Under the JAX backend the schedule is traced into Keras' jitted train step
  (the step arrives as an int32 tracer, int64 with ``jax_enable_x64``). Under
  the TensorFlow or PyTorch backend it is evaluated with JAX on the concrete
  step, which needs an eager train step (``jit_compile=False``); a traced step
  raises a ``TypeError`` naming the fix. The result is a float32 tensor.

  ``get_config()`` is ``{"schedule": osch.to_config(schedule)}`` (JSON types),
  and ``from_config`` rebuilds it with :func:`optax_scheds.from_config`, so
  ``keras.optimizers.schedules.serialize`` / ``deserialize``, the
  optimizer's ``get_config`` / ``from_config`` and ``model.save`` /
  ``keras.saving.load_model`` round-trip it bit for bit. The class is
  registered with Keras as ``"optax_scheds>LearningRateSchedule"`` on the
  first call of ``to_keras``: in a new process, call ``to_keras`` once before
  loading a saved model (or pass ``custom_objects={
  "optax_scheds>LearningRateSchedule": type(to_keras(s))}``). A schedule
  without a config (``osch.as_schedule(fn)``, ``compat.torch.LambdaLR``)
  still trains; only ``get_config`` (hence saving) raises.

  Args:
    schedule: a :class:`~optax_scheds.Schedule`, or a callable ``step ->
      value`` traceable with ``jnp`` (wrapped with ``osch.as_schedule``). It
      must give one learning rate (a scalar) per step.

  Returns:
    A ``keras.optimizers.schedules.LearningRateSchedule``; its ``schedule``
    attribute is the native schedule.

  Raises:
    TypeError: for anything but a schedule or a one-argument callable.
    ValueError: for a schedule whose value is not a scalar; from
      ``get_config()``, for a schedule that has no config.
    ImportError: if Keras 3 is not installed.

  Examples:
    >>> import keras
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import keras as kc
    >>> lr = kc.to_keras(osch.warmup(osch.cosine_decay(0.1, 90), 10))
    >>> optimizer = keras.optimizers.SGD(learning_rate=lr)
    >>> print(f"{float(lr(0)):.3f} {float(lr(10)):.3f} {float(lr(55)):.3f}")
    0.000 0.100 0.050
    >>> lr.get_config()["schedule"]["name"]
    'warmup'
  """
  fn = "to_keras"
  schedule = _checks.check_scalar_schedule(
      fn, _checks.check_schedule(fn, "schedule", schedule),
      "Index the array parameter, or vmap over it.")
  return _keras_schedule_class()(schedule)
