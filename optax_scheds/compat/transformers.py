"""HuggingFace transformers' learning-rate schedules as optax_scheds schedules.

Each ``get_*`` function here takes the optimizer's base learning rate ``lr``
first, then the parameter names and defaults of its namesake in
``transformers.optimization`` (without ``optimizer`` and ``last_epoch``), and
returns a jittable :class:`~optax_scheds.Schedule` ``s`` with
``s(k) = lr * lr_lambda(k)``: the lr HF's ``LambdaLR`` sets after ``k``
scheduler steps, which is the lr of update ``k`` (0-based) under HF's
``Trainer``, and optax's ``count == k``. So a ported schedule goes straight into
an optax optimizer. Each is built from native schedules, named in its
docstring; phases, cycles and restarts are decided with integers, exact at any
step.
"""

import functools
import math
import warnings
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._arithmetic import maximum
from optax_scheds._base import (
  Schedule,
  _short,
  as_float,
  float_dtype,
  int_dtype,
  schedule_class,
  static_field,
)
from optax_scheds._combinators import cooldown, cycle, warmup
from optax_scheds._composites import inverse_sqrt, warmup_constant, wsd
from optax_scheds._join import join
from optax_scheds._plateau import PlateauTransformation
from optax_scheds._primitives import constant, cosine_decay, linear, polynomial
from optax_scheds._registry import constructor
from optax_scheds.compat.torch import ReduceLROnPlateau

__all__ = [
    "get_constant_schedule", "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup", "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate", "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup", "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule", "get_scheduler", "get_wsd_schedule",
]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


# ----------------------------------------------------------------- validation


def _check_lr(fn: str, lr):
  return _checks.check_value(fn, "lr", lr, low=0.0, constraint="non-negative")


def _check_cycles(fn: str, num_cycles) -> float:
  """A concrete finite number: it fixes where the wave's periods fall."""
  num_cycles = _checks.check_value(fn, "num_cycles", num_cycles)
  if not _checks.is_concrete(num_cycles) or np.ndim(num_cycles) != 0:
    _checks.fail(fn, "num_cycles", "a concrete number (it fixes the period)", num_cycles,
                 TypeError)
  return float(num_cycles)


def _maybe_negative(x) -> bool:
  """Whether ``x`` may be below 0 (traced values may)."""
  return not _checks.is_concrete(x) or bool(np.any(np.asarray(x) < 0))


def _largest_step() -> int:
  return int(np.iinfo(int_dtype()).max)


def _min_rate(fn: str, lr, min_lr, min_lr_rate):
  """HF's ``min_lr_rate``: given, or ``min_lr / lr``; exactly one of them."""
  min_lr = _checks.check_value(fn, "min_lr", min_lr, allow_none=True)
  min_lr_rate = _checks.check_value(fn, "min_lr_rate", min_lr_rate, allow_none=True)
  if min_lr is not None and min_lr_rate is not None:
    _checks.fail(fn, "min_lr", "None when min_lr_rate is given (set only one of them)",
                 min_lr)
  if min_lr is None and min_lr_rate is None:
    _checks.fail(fn, "min_lr_rate", "given when min_lr is None (set exactly one of them)",
                 min_lr_rate)
  if min_lr_rate is not None:
    return min_lr_rate
  if _checks.is_concrete(lr) and np.any(np.asarray(lr) == 0):
    _checks.fail(fn, "lr", "positive when min_lr is given (HF divides min_lr by it)", lr)
  return min_lr / lr


# ------------------------------------------------------------- the cosine wave


@functools.lru_cache(maxsize=256)
def _turns_per_step(num_cycles: float, length: int, bits: int) -> tuple[int, int]:
  """``frac(num_cycles / length)`` in fixed point with ``2 * bits`` fraction
  bits, rounded up, as (low, high) words.

  ``num_cycles`` is taken as the decimal it prints as (1.7 is 17/10, not the
  float just below it), so that 1.7 turns over 17 steps restart at step 10,
  as a user and HF's float64 rounding mostly agree. Rounded up, the turns
  ``d * num_cycles / length`` of a step that ends a whole cycle come out as a
  whole number plus less than ``d / 2**(2 bits)``, so restarts fall on the
  exact step; elsewhere the error is below ``2**-(bits + 1)`` of a turn for
  every ``d <= 2**(bits - 1)``.
  """
  x = Fraction(repr(num_cycles)) / length
  x -= math.floor(x)
  g = -((-x.numerator << (2 * bits)) // x.denominator) % (1 << (2 * bits))
  return g & ((1 << bits) - 1), g >> bits


def _mulhi(a: jax.Array, b: jax.Array, bits: int) -> jax.Array:
  """The high word of the ``2 * bits``-bit product of unsigned words."""
  half = bits // 2
  mask = (1 << half) - 1
  a0, a1, b0, b1 = a & mask, a >> half, b & mask, b >> half
  p00, p01, p10 = a0 * b0, a0 * b1, a1 * b0
  mid = (p00 >> half) + (p01 & mask) + (p10 & mask)
  return a1 * b1 + (p01 >> half) + (p10 >> half) + (mid >> half)


@schedule_class
class _CosineWave(Schedule):
  """``value * max(0, r + (1 - r) c)``, HF's cosine factor ``c`` at the turns
  ``num_cycles * (d + offset) / length``, never clamped: ``c = (1 + cos(2 pi
  turns)) / 2``, or with ``hard`` restarts ``(1 + cos(pi frac(turns))) / 2``
  and 0 from ``d + offset >= length`` on.

  The fraction of a turn is an exact fixed-point product of unsigned integer
  words (``_turns_per_step``), so the wave is as accurate at step 2**31 as at
  step 10, where float32 ``cos(2 pi num_cycles d / length)`` would have lost
  every digit.
  """

  value: jax.typing.ArrayLike
  min_rate: jax.typing.ArrayLike
  num_cycles: float = static_field()
  length: int = static_field()
  offset: int = static_field(default=0)
  hard: bool = static_field(default=False)

  def _value(self, i, f):
    bits = np.iinfo(int_dtype()).bits
    word = np.uint32 if bits == 32 else np.uint64
    low, high = _turns_per_step(self.num_cycles, self.length, bits)
    d = i.astype(word) + word(self.offset)  # below 2**bits: d <= 2**(bits - 1)
    top = _mulhi(d, jnp.asarray(low, word), bits) + d * jnp.asarray(high, word)
    turns = top.astype(float_dtype()) / float(2**bits)
    if f is not None:
      turns = turns + f * (self.num_cycles / self.length)
    angle = (np.pi if self.hard else 2 * np.pi) * turns
    c = 0.5 * (1 + jnp.cos(angle))
    r = as_float(self.min_rate)
    out = as_float(self.value) * jnp.maximum(c * (1 - r) + r, 0)
    if self.hard:
      out = jnp.where(i >= self.length - self.offset, jnp.zeros_like(out), out)
    return out

  def _structural_repr(self):
    return (f"_CosineWave(value={_short(self.value)}, min_rate={_short(self.min_rate)}, "
            f"num_cycles={self.num_cycles!r}, length={self.length}, offset={self.offset}, "
            f"hard={self.hard})")


def _wave(lr, rate, num_cycles: float, length: int) -> Schedule:
  """HF's unclamped cosine from ``lr`` (turn 0) over ``length`` steps per
  ``1 / num_cycles`` turns, floored at ``lr * rate``."""
  if num_cycles == 0.5 and 2 * length <= _largest_step():
    # Half a turn per `length` steps: PyTorch's CosineAnnealingLR wave.
    low = lr * rate
    down = low + cosine_decay(lr - low, length)
    up = lr + cosine_decay(low - lr, length)
    wave = cycle(join([down, up], [length]), 2 * length)
    return maximum(wave, 0.0) if _maybe_negative(rate) else wave
  return _CosineWave(lr, rate, num_cycles, length)


# ------------------------------------------------------------------ schedules


@constructor
def get_constant_schedule(lr: jax.typing.ArrayLike) -> Schedule:
  r"""HF's ``get_constant_schedule``: the optimizer's lr at every step.

  .. math:: s(k) = \mathrm{lr}

  It is ``osch.constant(lr)``.

  Args:
    lr: the optimizer's lr, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr``.
    ValueError: for NaN, infinity or ``lr < 0``.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_constant_schedule(3e-4)
    >>> print(f"{s(0):.1e} {s(10**6):.1e}")
    3.0e-04 3.0e-04
  """
  return constant(_check_lr("get_constant_schedule", lr))


@constructor
def get_constant_schedule_with_warmup(lr: jax.typing.ArrayLike,
                                      num_warmup_steps: int) -> Schedule:
  r"""HF's ``get_constant_schedule_with_warmup``: linear warmup from 0, then constant.

  .. math:: s(k) = \mathrm{lr} \cdot \begin{cases} k / W & k < W \\ 1 & k \ge W \end{cases}

  It is ``osch.warmup_constant(0.0, lr, W)``. The first update (``k = 0``)
  has lr 0, as in HF.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``; 0 means no warmup.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr`` or a non-integer or traced step count.
    ValueError: for NaN, infinity, ``lr < 0`` or ``W < 0``.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_constant_schedule_with_warmup(1.0, num_warmup_steps=4)
    >>> print(" ".join(f"{s(k):.2f}" for k in range(6)))
    0.00 0.25 0.50 0.75 1.00 1.00
  """
  fn = "get_constant_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  return warmup_constant(0.0, lr, w)


@constructor
def get_linear_schedule_with_warmup(lr: jax.typing.ArrayLike, num_warmup_steps: int,
                                    num_training_steps: int) -> Schedule:
  r"""HF's ``get_linear_schedule_with_warmup``: linear warmup, then linear decay to 0.

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      k / W & k < W \\
      \max\!\left(0, \frac{T - k}{\max(1, T - W)}\right) & k \ge W
    \end{cases}

  It is ``osch.warmup(osch.linear(lr, 0.0, T - W), W)``: the decay sees
  ``k - W``. It reaches 0 at ``T`` and stays there. With ``T <= W`` (allowed
  by HF) the lr drops to 0 at ``W``: ``osch.join([osch.linear(0.0, lr, W),
  osch.constant(0.0)], [W])``.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr`` or non-integer or traced step counts.
    ValueError: for NaN, infinity, ``lr < 0`` or negative step counts.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_linear_schedule_with_warmup(1.0, 4, 10)
    >>> print(" ".join(f"{s(k):.3f}" for k in range(0, 12, 2)))
    0.000 0.500 1.000 0.667 0.333 0.000
  """
  fn = "get_linear_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  if t > w:
    return warmup(linear(lr, 0.0, t - w), w)
  if w == 0:
    return constant(lr * 0.0)
  return join([linear(0.0, lr, w), constant(0.0)], [w])


@constructor
def get_cosine_schedule_with_warmup(lr: jax.typing.ArrayLike, num_warmup_steps: int,
                                    num_training_steps: int,
                                    num_cycles: float = 0.5) -> Schedule:
  r"""HF's ``get_cosine_schedule_with_warmup``: linear warmup, then a cosine wave.

  With :math:`L = \max(1, T - W)` and :math:`n` = ``num_cycles``:

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      k / W & k < W \\
      \tfrac12\left(1 + \cos\left(2\pi n \frac{k - W}{L}\right)\right) & k \ge W
    \end{cases}

  The default ``n = 0.5`` decays from ``lr`` to 0 at ``T``. As in HF the wave
  is **not clamped past** ``T``: it rises again and reaches ``lr`` at ``T +
  L``. With ``n = 0.5`` it is ``osch.warmup(osch.cycle(osch.join([down, up],
  [L]), 2 L), W)`` with ``down = osch.cosine_decay(lr, L)`` and ``up = lr +
  osch.cosine_decay(-lr, L)`` (PyTorch's CosineAnnealingLR wave); other ``n``
  use a small wave schedule of this module (no composition gives ``n`` turns
  per ``L`` steps). The position in the wave is exact integer arithmetic at
  any step. For a cosine that holds 0 after ``T`` use
  ``osch.warmup_cosine_decay(0.0, lr, W, T)``.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``.
    num_cycles: ``n``, the number of cosine periods over ``[W, T]`` (0.5: a
      half cosine down to 0); a concrete number.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``num_cycles``.
    ValueError: for NaN, infinity, ``lr < 0`` or negative step counts.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_cosine_schedule_with_warmup(1.0, 4, 10)
    >>> print(" ".join(f"{s(k):.2f}" for k in range(4, 17, 2)))
    1.00 0.75 0.25 0.00 0.25 0.75 1.00

  References:
    Loshchilov & Hutter, `SGDR: Stochastic Gradient Descent with Warm
    Restarts <https://arxiv.org/abs/1608.03983>`_, 2017.
  """
  fn = "get_cosine_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  n = _check_cycles(fn, num_cycles)
  return warmup(_wave(lr, 0.0, n, max(1, t - w)), w)


@constructor
def get_cosine_with_hard_restarts_schedule_with_warmup(
    lr: jax.typing.ArrayLike, num_warmup_steps: int, num_training_steps: int,
    num_cycles: int = 1) -> Schedule:
  r"""HF's cosine with hard restarts: ``num_cycles`` cosine decays, each from ``lr``.

  With :math:`L = \max(1, T - W)`, :math:`n` = ``num_cycles`` and
  :math:`p = (k - W) / L`:

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      k / W & k < W \\
      \tfrac12\left(1 + \cos\left(\pi \,\mathrm{frac}(n p)\right)\right) & W \le k < T' \\
      0 & k \ge T' = W + L
    \end{cases}

  ``n`` cosine decays from ``lr`` to 0 over ``[W, T]``, each restarting at
  ``lr`` with no warmup of its own, then 0 from ``T`` on. With ``n = 1`` it
  is ``osch.warmup(osch.cosine_decay(lr, L), W)``; other ``n`` use a small
  wave schedule of this module. The restart steps are exact integer
  arithmetic.

  Quirks: the lr is 0 from ``T`` on (a fractional ``n`` cuts the last decay
  short); the Trainer passes ``num_cycles`` only through
  ``lr_scheduler_kwargs``. A fractional ``n`` is taken as the decimal it
  prints as: where ``n (k - W) / L`` is a whole number for that decimal (1.7
  turns over 17 steps: step 10) the decay restarts; HF's float64 arithmetic
  lands within ``1e-16`` of the restart there and usually, not always,
  restarts too.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``.
    num_cycles: ``n``, the number of decays; a concrete number.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``num_cycles``.
    ValueError: for NaN, infinity, ``lr < 0`` or negative step counts.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 4, 10, num_cycles=2)
    >>> print(" ".join(f"{s(k):.2f}" for k in range(12)))
    0.00 0.25 0.50 0.75 1.00 0.75 0.25 1.00 0.75 0.25 0.00 0.00
  """
  fn = "get_cosine_with_hard_restarts_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  n = _check_cycles(fn, num_cycles)
  length = max(1, t - w)
  if n == 1:
    return warmup(cosine_decay(lr, length), w)
  return warmup(_CosineWave(lr, 0.0, n, length, hard=True), w)


@constructor
def get_polynomial_decay_schedule_with_warmup(
    lr: jax.typing.ArrayLike, num_warmup_steps: int, num_training_steps: int,
    lr_end: jax.typing.ArrayLike = 1e-7, power: jax.typing.ArrayLike = 1.0) -> Schedule:
  r"""HF's polynomial decay: linear warmup, then polynomial decay to ``lr_end``.

  .. math::
    s(k) = \begin{cases}
      \mathrm{lr} \cdot k / W & k < W \\
      (\mathrm{lr} - E)\left(1 - \frac{k - W}{T - W}\right)^{p} + E & W \le k \le T \\
      E & k > T
    \end{cases}

  It is ``osch.warmup(osch.polynomial(lr, lr_end, power, T - W), W)``. With
  ``power = 0`` HF's ``0.0 ** 0 = 1`` keeps ``lr`` at ``T`` too: an
  ``osch.join`` with ``osch.constant(lr_end)`` from ``T + 1``. With ``T < W``
  (allowed by HF) the lr drops to ``lr_end`` at ``W``:
  ``osch.join([osch.linear(0.0, lr, W), osch.constant(lr_end)], [W])``.

  HF reads the initial lr from ``optimizer.defaults["lr"]``, not from the
  param group; here ``lr`` plays both roles. (In HF a param group whose lr
  differs from the optimizer default ends at ``group_lr * lr_end / lr``.)

  Quirks: ``lr_end`` is an absolute lr (default ``1e-7``), not a ratio.

  Args:
    lr: the optimizer's lr, ``> lr_end``.
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``, ``!= W``.
    lr_end: the final lr ``E``.
    power: the exponent ``p >= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer or traced step counts.
    ValueError: for NaN, infinity, negative step counts, ``lr_end >= lr``
      (as HF), ``lr == 0``, ``T == W`` or ``power < 0`` (HF divides by zero
      there). A traced ``lr`` skips the comparisons.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_polynomial_decay_schedule_with_warmup(1.0, 2, 6, lr_end=0.1, power=2.0)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(8)))
    0.0000 0.5000 1.0000 0.6062 0.3250 0.1562 0.1000 0.1000
  """
  fn = "get_polynomial_decay_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  lr_end = _checks.check_value(fn, "lr_end", lr_end)
  power = _checks.check_non_negative(fn, "power", power)
  if _checks.is_concrete((lr, lr_end)):
    if np.any(np.asarray(lr_end) >= np.asarray(lr)):
      raise ValueError(
          f"`{fn}(lr_end=...)` must be smaller than lr (HF's initial lr), got "
          f"lr_end={lr_end!r}, lr={lr!r}.")
    if np.any(np.asarray(lr) == 0):
      _checks.fail(fn, "lr", "positive (HF divides by it)", lr)
  if t == w:
    raise ValueError(
        f"`{fn}(num_training_steps=...)` must differ from num_warmup_steps (HF divides "
        f"by num_training_steps - num_warmup_steps), got num_training_steps={t}, "
        f"num_warmup_steps={w}.")
  if t < w:
    return join([linear(0.0, lr, w), constant(lr_end)], [w])
  decay = warmup(polynomial(lr, lr_end, power, t - w), w)
  if (_checks.is_concrete(power) and np.all(np.asarray(power) > 0)) or t == _largest_step():
    return decay
  # HF's 0.0 ** 0 is 1: with power 0 the lr holds lr up to T, not only before it.
  return join([decay, constant(lr_end)], [t + 1])


@constructor
def get_inverse_sqrt_schedule(lr: jax.typing.ArrayLike, num_warmup_steps: int,
                              timescale: int | None = None) -> Schedule:
  r"""HF's ``get_inverse_sqrt_schedule``: linear warmup, then inverse square root.

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      k / W & k < W \\
      \left(1 + (k - W) / \tau\right)^{-1/2} & k \ge W
    \end{cases}

  :math:`\tau` = ``timescale`` defaults to ``W``, or 10_000 when ``W = 0``.
  It is ``osch.inverse_sqrt(lr, W, timescale)``.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``.
    timescale: ``tau > 0`` (HF divides by it), or ``None`` for the default.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr`` or non-integer or traced step counts.
    ValueError: for NaN, infinity, ``lr < 0``, ``W < 0`` or ``timescale <= 0``.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_inverse_sqrt_schedule(1.0, num_warmup_steps=4)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(3, 8)))
    0.7500 1.0000 0.8944 0.8165 0.7559

  References:
    Vaswani et al., `Attention Is All You Need
    <https://arxiv.org/abs/1706.03762>`_, 2017 (big_vision's ``rsqrt``).
  """
  fn = "get_inverse_sqrt_schedule"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  if timescale is not None:
    timescale = _checks.check_static_int(fn, "timescale", timescale, minimum=1)
  return inverse_sqrt(lr, w, timescale)


@constructor
def get_cosine_with_min_lr_schedule_with_warmup(
    lr: jax.typing.ArrayLike, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, *, min_lr: jax.typing.ArrayLike | None = None,
    min_lr_rate: jax.typing.ArrayLike | None = None) -> Schedule:
  r"""HF's ``"cosine_with_min_lr"``: the cosine wave, floored at ``min_lr``.

  With :math:`L = \max(1, T - W)`, :math:`n` = ``num_cycles``, :math:`r` =
  ``min_lr_rate`` (or ``min_lr / lr``) and :math:`c = \tfrac12(1 +
  \cos(2\pi n (k - W) / L))`:

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      k / W & k < W \\
      \max\left(0,\; c\,(1 - r) + r\right) & k \ge W
    \end{cases}

  :func:`get_cosine_schedule_with_warmup` with the floor ``lr * r``; not
  clamped past ``T`` either (it rises again). HF divides ``min_lr`` by
  ``optimizer.defaults["lr"]``; here by ``lr``. With ``n = 0.5`` it is
  ``osch.warmup(osch.cycle(osch.join([down, up], [L]), 2 L), W)`` with ``down
  = lr r + osch.cosine_decay(lr (1 - r), L)`` and ``up = lr +
  osch.cosine_decay(lr (r - 1), L)``; other ``n`` use a small wave schedule
  of this module.

  Args:
    lr: the optimizer's lr, ``>= 0`` (``> 0`` with ``min_lr``).
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``.
    num_cycles: ``n``; a concrete number.
    min_lr: the floor as an lr. Give exactly one of ``min_lr`` and
      ``min_lr_rate``.
    min_lr_rate: the floor as a fraction ``r`` of ``lr``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``num_cycles``.
    ValueError: for both or neither of ``min_lr`` and ``min_lr_rate`` (as
      HF), ``min_lr`` with ``lr == 0`` (HF divides by zero), NaN, infinity,
      ``lr < 0`` or negative step counts.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_cosine_with_min_lr_schedule_with_warmup(1.0, 4, 10, min_lr_rate=0.1)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(4, 12)))
    1.0000 0.9397 0.7750 0.5500 0.3250 0.1603 0.1000 0.1603
  """
  fn = "get_cosine_with_min_lr_schedule_with_warmup"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  n = _check_cycles(fn, num_cycles)
  rate = _min_rate(fn, lr, min_lr, min_lr_rate)
  return warmup(_wave(lr, rate, n, max(1, t - w)), w)


@constructor
def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    lr: jax.typing.ArrayLike, num_warmup_steps: int, num_training_steps: int,
    num_cycles: float = 0.5, *, min_lr: jax.typing.ArrayLike | None = None,
    min_lr_rate: jax.typing.ArrayLike | None = None,
    warmup_lr_rate: jax.typing.ArrayLike | None = None) -> Schedule:
  r"""HF's ``"cosine_warmup_with_min_lr"``: the floored cosine, counted from 1.

  With :math:`L = \max(1, T - W)`, :math:`n` = ``num_cycles``, :math:`r` as
  in :func:`get_cosine_with_min_lr_schedule_with_warmup`, :math:`w` =
  ``warmup_lr_rate`` and :math:`c = \tfrac12(1 + \cos(2\pi n (k - W + 1) /
  L))`:

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      (k + 1) / W & k < W,\ w \text{ None} \\
      w + (1 - w)\, k / \max(1, W - 1) & k < W,\ w \text{ given} \\
      \max\left(0,\; c\,(1 - r) + r\right) & k \ge W
    \end{cases}

  Quirks: HF counts this schedule from 1: the first update has lr ``lr / W``
  (not 0), the warmup reaches ``lr`` at ``W - 1``, and the floor is reached at
  ``T - 1``, after which the wave rises again. With ``W = 1`` and ``w`` given
  the only warmup step has lr ``w * lr``.

  It is ``osch.join([osch.linear(lr * w, lr, max(1, W - 1)), wave], [W])``
  (``w = 1 / W`` when ``None``), with ``wave`` the floored cosine of this
  module's small wave schedule, shifted by one step.

  Args:
    lr: the optimizer's lr, ``>= 0`` (``> 0`` with ``min_lr``).
    num_warmup_steps: ``W >= 0``.
    num_training_steps: ``T >= 0``.
    num_cycles: ``n``; a concrete number.
    min_lr: the floor as an lr. Give exactly one of ``min_lr`` and
      ``min_lr_rate``.
    min_lr_rate: the floor as a fraction ``r`` of ``lr``.
    warmup_lr_rate: the first warmup lr as a fraction ``w`` of ``lr``, or
      ``None`` for ``1 / W``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``num_cycles``.
    ValueError: as :func:`get_cosine_with_min_lr_schedule_with_warmup`.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    ...     1.0, 4, 10, min_lr_rate=0.1)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(12)))
    0.2500 0.5000 0.7500 1.0000 0.9397 0.7750 0.5500 0.3250 0.1603 0.1000 0.1603 0.3250
  """
  fn = "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  t = _checks.check_static_int(fn, "num_training_steps", num_training_steps)
  n = _check_cycles(fn, num_cycles)
  rate = _min_rate(fn, lr, min_lr, min_lr_rate)
  warmup_lr_rate = _checks.check_value(fn, "warmup_lr_rate", warmup_lr_rate,
                                       allow_none=True)
  wave = _CosineWave(lr, rate, n, max(1, t - w), offset=1)
  if w == 0:
    return wave
  first = lr / w if warmup_lr_rate is None else lr * warmup_lr_rate
  return join([linear(first, lr, max(1, w - 1)), wave], [w])


_WSD_SHAPES = ("linear", "cosine", "1-sqrt")


@constructor
def get_wsd_schedule(
    lr: jax.typing.ArrayLike, num_warmup_steps: int, num_decay_steps: int,
    num_training_steps: int | None = None, num_stable_steps: int | None = None,
    warmup_type: str = "linear", decay_type: str = "cosine",
    min_lr_ratio: jax.typing.ArrayLike = 0, num_cycles: float = 0.5) -> Schedule:
  r"""HF's ``get_wsd_schedule``: warmup from ``min_lr_ratio * lr``, stable, decay.

  With :math:`W, S, D` the phase lengths (:math:`S = T - W - D` when
  ``num_stable_steps`` is None), :math:`m` = ``min_lr_ratio``,
  :math:`p = (k - W) / W` and :math:`q = (k - W - S) / D`:

  .. math::
    s(k) = \mathrm{lr} \cdot \begin{cases}
      \max(0,\; m + (1 - m)\, f_w(k / W)) & k < W \\
      1 & W \le k < W + S \\
      \max(0,\; m + (1 - m)\, f_d(q)) & W + S \le k < W + S + D \\
      m & k \ge W + S + D
    \end{cases}

  warmup :math:`f_w(x)`: ``linear`` :math:`x`, ``cosine`` :math:`(1 - \cos
  \pi x)/2`, ``1-sqrt`` :math:`1 - \sqrt{1 - x}`; decay :math:`f_d(q)`:
  ``linear`` :math:`1 - q`, ``cosine`` :math:`(1 + \cos 2\pi n q)/2` (``n`` =
  ``num_cycles``), ``1-sqrt`` :math:`1 - \sqrt q`.

  It is ``osch.wsd(lr, W, S, D, init_value=m * lr, end_value=m * lr,
  warmup_shape=warmup_type, decay_shape=decay_type)``. Where that does not
  fit (``D = 0``, a cosine decay with ``n != 0.5``, a negative or traced
  ``m``) it is an ``osch.join`` of the phases: ``osch.warmup(osch.constant(lr),
  W, m * lr, warmup_type)``, ``osch.constant(lr)``, an ``osch.cooldown`` (or
  this module's cosine wave) and ``osch.constant(m * lr)``.

  Quirks: the warmup starts at ``m * lr``, not 0; the default decay is
  ``cosine``, not the ``1-sqrt`` that Hägele et al. recommend; the last decay
  step is not yet ``m``; with both ``num_training_steps`` and
  ``num_stable_steps`` given, HF warns and uses ``num_stable_steps`` (so does
  this). A negative ``m`` is clamped to 0 in the warmup and decay but not
  after them, as HF.

  Args:
    lr: the optimizer's lr, ``>= 0``.
    num_warmup_steps: ``W >= 0``.
    num_decay_steps: ``D >= 0``.
    num_training_steps: ``T >= W + D``, or ``None`` when ``num_stable_steps``
      is given.
    num_stable_steps: ``S >= 0``, or ``None`` for ``T - W - D``.
    warmup_type: ``'linear'``, ``'cosine'`` or ``'1-sqrt'``.
    decay_type: ``'linear'``, ``'cosine'`` or ``'1-sqrt'``.
    min_lr_ratio: ``m``, the start and end lr as a fraction of ``lr``.
    num_cycles: ``n`` of the cosine decay; a concrete number.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, or
      a traced ``num_cycles``.
    ValueError: for neither ``num_training_steps`` nor ``num_stable_steps``,
      or an unknown type (as HF); NaN, infinity, ``lr < 0``, negative step
      counts, or ``num_training_steps < W + D`` (HF then starts the decay
      part-way through).

  Warns:
    UserWarning: when both ``num_training_steps`` and ``num_stable_steps``
      are given (as HF).

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_wsd_schedule(1.0, 4, 3, num_stable_steps=2, decay_type="linear",
    ...                         min_lr_ratio=0.1)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(11)))
    0.1000 0.3250 0.5500 0.7750 1.0000 1.0000 1.0000 0.7000 0.4000 0.1000 0.1000

  References:
    Hu et al., `MiniCPM <https://arxiv.org/abs/2404.06395>`_, 2024;
    Hägele et al., `Scaling Laws and Compute-Optimal Training Beyond Fixed
    Training Durations <https://arxiv.org/abs/2405.18392>`_, 2024.
  """
  fn = "get_wsd_schedule"
  lr = _check_lr(fn, lr)
  w = _checks.check_static_int(fn, "num_warmup_steps", num_warmup_steps)
  d = _checks.check_static_int(fn, "num_decay_steps", num_decay_steps)
  if num_training_steps is None and num_stable_steps is None:
    _checks.fail(fn, "num_training_steps", "given when num_stable_steps is None (the stable "
                 "phase lasts num_training_steps - num_warmup_steps - num_decay_steps)",
                 num_training_steps)
  t = None if num_training_steps is None else _checks.check_static_int(
      fn, "num_training_steps", num_training_steps)
  s = None if num_stable_steps is None else _checks.check_static_int(
      fn, "num_stable_steps", num_stable_steps)
  if t is not None and s is not None:
    warnings.warn(
        f"`{fn}` got both num_training_steps={t} and num_stable_steps={s}; "
        "num_stable_steps is used (as HF).", UserWarning, stacklevel=2)
  _checks.check_choice(fn, "warmup_type", warmup_type, _WSD_SHAPES)
  _checks.check_choice(fn, "decay_type", decay_type, _WSD_SHAPES)
  m = _checks.check_value(fn, "min_lr_ratio", min_lr_ratio)
  n = _check_cycles(fn, num_cycles)
  if s is None:
    if t < w + d:
      _checks.fail(fn, "num_training_steps", f"at least num_warmup_steps + num_decay_steps = "
                   f"{w + d} (HF would start the decay part-way through)", t)
    s = t - w - d
  end = m * lr
  negative = _maybe_negative(m)
  plain_decay = decay_type != "cosine" or n == 0.5
  if d > 0 and plain_decay and not negative and w + s + d <= _largest_step():
    return wsd(lr, w, s, d, init_value=end, end_value=end, warmup_shape=warmup_type,
               decay_shape=decay_type)

  def floor(piece):  # HF clamps the warmup and the decay at 0, not the end
    return maximum(piece, 0.0) if negative else piece

  if plain_decay:
    decay = floor(cooldown(constant(lr), 0, max(1, d), end, shape=decay_type))
  else:
    decay = _CosineWave(lr, m, n, max(1, d))
  phases = [(0, floor(warmup(constant(lr), w, end, ramp=warmup_type))),
            (w, constant(lr)), (w + s, decay), (w + s + d, constant(end))]
  # Phases of length 0, and those that start past the largest step, never run.
  kept = [(b, p) for (b, p), (nxt, _) in zip(phases, [*phases[1:], (math.inf, None)])
          if nxt > b and b <= _largest_step()]
  return join([p for _, p in kept], [b for b, _ in kept[1:]])


@constructor
def get_reduce_on_plateau_schedule(lr: float, **kwargs) -> PlateauTransformation:
  r"""HF's ``get_reduce_on_plateau_schedule``: PyTorch's ``ReduceLROnPlateau``.

  .. math:: \mathrm{lr} \leftarrow \max(\mathrm{lr} \cdot \mathrm{factor},\ \mathrm{min\_lr})
    \quad\text{after more than } \mathrm{patience} \text{ bad evaluations}

  HF returns ``torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer,
  **kwargs)``; this returns its port,
  :func:`optax_scheds.compat.torch.ReduceLROnPlateau` ``(lr, **kwargs)``: an
  optax transformation to chain after an optimizer built with the same
  ``lr``, fed the metric the Trainer would pass
  (``metrics["eval_" + metric_for_best_model]``). It is not a schedule.

  Args:
    lr: the optimizer's lr, ``> 0``.
    **kwargs: PyTorch's ``ReduceLROnPlateau`` arguments (``mode``,
      ``factor``, ``patience``, ...), and the port's extensions.

  Returns:
    A :class:`~optax_scheds.PlateauTransformation`.

  Raises:
    TypeError: as :func:`optax_scheds.compat.torch.ReduceLROnPlateau`.
    ValueError: as :func:`optax_scheds.compat.torch.ReduceLROnPlateau`.

  Examples:
    >>> import jax.numpy as jnp
    >>> import optax
    >>> from optax_scheds.compat import transformers as hf
    >>> opt = optax.chain(optax.sgd(0.1), hf.get_reduce_on_plateau_schedule(0.1, patience=0))
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for loss in [1.0, 1.0]:
    ...   _, state = opt.update(params, state, params, value=loss)
    >>> print(f"{0.1 * state[1].scale:.4f}")
    0.0100
  """
  return ReduceLROnPlateau(lr, **kwargs)


_NAMES = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "reduce_lr_on_plateau": get_reduce_on_plateau_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
    "greedy": None,
}


def get_scheduler(name: str, lr: jax.typing.ArrayLike, num_warmup_steps: int | None = None,
                  num_training_steps: int | None = None,
                  scheduler_specific_kwargs: dict | None = None
                  ) -> Schedule | PlateauTransformation:
  r"""HF's ``get_scheduler``: any schedule of this module by its Trainer name.

  .. math:: s = \mathrm{get\_*}(\mathrm{lr}, W, T, \ast\ast\mathrm{kwargs})

  ``name`` is a ``TrainingArguments.lr_scheduler_type`` (a string or HF's
  ``SchedulerType``); ``scheduler_specific_kwargs`` is the Trainer's
  ``lr_scheduler_kwargs``. HF's dispatch, reproduced:

  - ``"constant"``: ``get_constant_schedule(lr)``; ``num_warmup_steps``,
    ``num_training_steps`` and the kwargs are ignored.
  - ``"reduce_lr_on_plateau"``: ``get_reduce_on_plateau_schedule(lr,
    **kwargs)`` (an optax transformation, not a schedule).
  - every other name needs ``num_warmup_steps``;
    ``"constant_with_warmup"`` ignores the kwargs; ``"inverse_sqrt"``
    takes ``(lr, W, **kwargs)``; ``"warmup_stable_decay"`` takes ``(lr, W,
    num_training_steps=T, **kwargs)`` with ``num_decay_steps`` in the kwargs;
    the rest need ``num_training_steps`` and take ``(lr, W, T, **kwargs)``.

  ``"greedy"`` (HF's metric-driven GreedyLR) is not ported.

  Args:
    name: the scheduler's name.
    lr: the optimizer's lr.
    num_warmup_steps: ``W``, or ``None``.
    num_training_steps: ``T``, or ``None``.
    scheduler_specific_kwargs: a dict of the chosen function's other
      arguments, or ``None``.

  Returns:
    A :class:`~optax_scheds.Schedule`, or a
    :class:`~optax_scheds.PlateauTransformation` for
    ``"reduce_lr_on_plateau"``.

  Raises:
    TypeError: for a non-string ``name``, a non-dict
      ``scheduler_specific_kwargs``, or kwargs the function does not take
      (as HF).
    ValueError: for an unknown name, ``"greedy"``, a missing
      ``num_warmup_steps`` or ``num_training_steps`` (as HF), or as the
      chosen function.

  Examples:
    >>> from optax_scheds.compat import transformers as hf
    >>> s = hf.get_scheduler("cosine_with_restarts", 1.0, num_warmup_steps=4,
    ...                      num_training_steps=10,
    ...                      scheduler_specific_kwargs={"num_cycles": 2})
    >>> print(" ".join(f"{s(k):.2f}" for k in range(4, 11)))
    1.00 0.75 0.25 1.00 0.75 0.25 0.00
  """
  fn = "get_scheduler"
  if not isinstance(name, str):
    _checks.fail(fn, "name", "a scheduler name (a string or HF's SchedulerType)", name,
                 TypeError)
  name = str(getattr(name, "value", name))  # HF's SchedulerType is a str Enum
  _checks.check_choice(fn, "name", name, tuple(_NAMES))
  if name == "greedy":
    raise ValueError(
        f"`{fn}(name=...)` must name a scheduler ported to optax_scheds, got "
        f"name='greedy'. HF's GreedyLR is not ported; for a metric-driven lr use "
        f"'reduce_lr_on_plateau' or osch.reduce_on_plateau.")
  schedule_fn = _NAMES[name]
  if name == "constant":
    return schedule_fn(lr)
  if scheduler_specific_kwargs is None:
    scheduler_specific_kwargs = {}
  if not isinstance(scheduler_specific_kwargs, dict):
    _checks.fail(fn, "scheduler_specific_kwargs", "a dict or None",
                 scheduler_specific_kwargs, TypeError)
  kwargs = scheduler_specific_kwargs
  if name == "reduce_lr_on_plateau":
    return schedule_fn(lr, **kwargs)
  if num_warmup_steps is None:
    _checks.fail(fn, "num_warmup_steps", f"given for name={name!r}", num_warmup_steps)
  if name == "constant_with_warmup":
    return schedule_fn(lr, num_warmup_steps=num_warmup_steps)
  if name == "inverse_sqrt":
    return schedule_fn(lr, num_warmup_steps=num_warmup_steps, **kwargs)
  if name == "warmup_stable_decay":
    return schedule_fn(lr, num_warmup_steps=num_warmup_steps,
                       num_training_steps=num_training_steps, **kwargs)
  if num_training_steps is None:
    _checks.fail(fn, "num_training_steps", f"given for name={name!r}", num_training_steps)
  return schedule_fn(lr, num_warmup_steps=num_warmup_steps,
                     num_training_steps=num_training_steps, **kwargs)
