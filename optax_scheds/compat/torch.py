"""PyTorch's ``torch.optim.lr_scheduler`` schedulers as optax_scheds schedules.

Each name here takes the optimizer's base learning rate first (CyclicLR and
OneCycleLR take their own lrs, as in PyTorch), then PyTorch's own parameter
names and defaults, and returns a jittable :class:`~optax_scheds.Schedule`
``s`` whose value ``s(k)`` is the lr PyTorch reports (``get_last_lr()[0]``)
after ``k`` calls of ``scheduler.step()``; ``s(0)`` is the lr right after
construction. That is the lr of the ``(k+1)``-th optimizer step, which is
optax's ``count == k``, so a ported schedule goes straight into an optax
optimizer. Each is built from native schedules, named in its docstring.
"""

import dataclasses
import math
import numbers
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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
  as_schedule,
  enable_x64,
  int_dtype,
  position,
  schedule_class,
  static_field,
)
from optax_scheds._combinators import cycle
from optax_scheds._composites import check_exp_range_gamma, cyclic_sizes, cyclic_wave
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
  linear,
  piecewise_constant,
  polynomial,
  table,
)
from optax_scheds._registry import constructor

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "CyclicMomentum", "ExponentialLR", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "OneCycleLR", "OneCycleMomentum", "PolynomialLR", "ReduceLROnPlateau",
    "SequentialLR", "StepLR", "to_torch",
]


def __dir__():
  return __all__  # tab completion shows the API, not the imported helpers


# The schedulers whose PyTorch update multiplies the current lr by a factor
# that does not read the lr: ChainedScheduler composes exactly these.
_CHAINABLE = ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
              "PolynomialLR", "MultiplicativeLR", "ChainedScheduler")


@schedule_class
class _Torch(Schedule):
  """A compat schedule: a native ``schedule`` plus what SequentialLR and
  ChainedScheduler need to know about the PyTorch scheduler it ports."""

  schedule: Schedule
  base_lr: jax.typing.ArrayLike  # The optimizer lr PyTorch keeps as "initial_lr".
  factor: Schedule | None = None  # schedule / base_lr, for chainable schedulers.
  name: str = static_field(default="")

  def _value(self, i, f):
    return self.schedule._value(i, f)

  def _structural_repr(self):
    return f"{self.name}({self.schedule!r})"


def _chainable(name: str, lr, factor: Schedule) -> _Torch:
  return _Torch(constant(lr) * factor, lr, factor, name)


def _check_number(fn: str, name: str, x, *, low=None, high=None, low_open=False,
                  constraint: str = ""):
  """A finite real value; concrete ones must lie in the given range."""
  return _checks.check_value(fn, name, x, low=low, high=high, low_open=low_open,
                             constraint=constraint)


def _check_lr(fn: str, name: str, x):
  return _check_number(fn, name, x, low=0.0, constraint="non-negative")


def _never_ends(total_iters) -> bool:
  """PyTorch's ``total_iters=0``: its recursive update never reaches the end."""
  return _checks.is_concrete(total_iters) and np.ndim(total_iters) == 0 and total_iters == 0


def _geometric(gamma, steps, staircase: bool) -> Schedule:
  """``gamma ** (t // steps)``; ``gamma == 0`` (allowed by PyTorch) is a drop
  to 0 after ``steps``, which ``exponential_decay`` refuses as a rate."""
  if _checks.is_concrete(gamma) and np.ndim(gamma) == 0 and float(gamma) == 0.0:
    return join([constant(1.0), constant(0.0)], [steps])
  return exponential_decay(1.0, steps, gamma, staircase=staircase)


@constructor
def StepLR(lr: jax.typing.ArrayLike, step_size: int, gamma: jax.typing.ArrayLike = 0.1
           ) -> Schedule:
  r"""PyTorch's ``StepLR``: multiply the lr by ``gamma`` every ``step_size`` steps.

  .. math:: v(t) = \mathrm{lr} \cdot \gamma^{\lfloor t / S \rfloor}

  It is ``lr * osch.exponential_decay(1.0, step_size, gamma, staircase=True)``;
  the stair index is an exact integer division at any step.

  Args:
    lr: the optimizer's base lr.
    step_size: steps ``S`` per factor of ``gamma``, ``> 0``.
    gamma: factor per ``step_size`` steps, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``step_size``.
    ValueError: for NaN, ``lr < 0``, ``step_size <= 0`` or ``gamma < 0``.
      Traced arguments skip the value checks.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.StepLR(0.1, step_size=30, gamma=0.1)
    >>> print(f"{s(29):.4f} {s(30):.4f} {s(60):.4f}")
    0.1000 0.0100 0.0010
  """
  fn = "StepLR"
  lr = _check_lr(fn, "lr", lr)
  step_size = _checks.check_steps(fn, "step_size", step_size, minimum=1)
  gamma = _check_number(fn, "gamma", gamma, low=0.0, constraint="non-negative")
  return _chainable(fn, lr, _geometric(gamma, step_size, staircase=True))


@constructor
def MultiStepLR(lr: jax.typing.ArrayLike, milestones: Sequence[int],
                gamma: jax.typing.ArrayLike = 0.1) -> Schedule:
  r"""PyTorch's ``MultiStepLR``: multiply the lr by ``gamma`` at each milestone.

  .. math:: v(t) = \mathrm{lr} \cdot \gamma^{\#\{m \in M : m \le t\}}

  It is ``lr * osch.piecewise_constant(1.0, {m: gamma ** count})``. As in
  PyTorch (a ``Counter``), a milestone listed ``c`` times multiplies by
  ``gamma ** c``, and the order of the milestones does not matter.

  Args:
    lr: the optimizer's base lr.
    milestones: non-negative integer steps.
    gamma: factor per milestone, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or non-integer milestones.
    ValueError: for NaN, ``lr < 0``, negative milestones or ``gamma < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.MultiStepLR(1.0, milestones=[30, 80, 80], gamma=0.1)
    >>> print(f"{s(29):.4f} {s(30):.4f} {s(80):.4f}")
    1.0000 0.1000 0.0010
  """
  fn = "MultiStepLR"
  lr = _check_lr(fn, "lr", lr)
  if isinstance(milestones, (str, bytes, dict)) or not isinstance(milestones, Iterable):
    _checks.fail(fn, "milestones", "a sequence of integer steps", milestones, TypeError)
  steps = [_checks.check_steps(fn, "milestones", m) for m in list(milestones)]
  if not _checks.is_concrete(steps):
    _checks.fail(fn, "milestones", "concrete integer steps", milestones, TypeError)
  steps = [int(m) for m in steps]
  gamma = _check_number(fn, "gamma", gamma, low=0.0, constraint="non-negative")
  counts = Counter(steps)
  factor = piecewise_constant(1.0, {m: gamma**c for m, c in sorted(counts.items())})
  return _chainable(fn, lr, factor)


@constructor
def ConstantLR(lr: jax.typing.ArrayLike, factor: jax.typing.ArrayLike = 1.0 / 3,
               total_iters: int = 5) -> Schedule:
  r"""PyTorch's ``ConstantLR``: ``lr * factor`` for ``total_iters`` steps, then ``lr``.

  .. math:: v(t) = \mathrm{lr} \cdot \begin{cases} F & t < T \\ 1 & t \ge T \end{cases}

  It is ``lr * osch.join([osch.constant(factor), osch.constant(1.0)],
  [total_iters])``; ``osch.warmup_constant`` is the ramped version.

  Quirks: PyTorch's update divides by ``factor`` at ``total_iters``, so
  ``factor=0`` raises ``ZeroDivisionError`` there; here it gives ``lr``.
  PyTorch's ``total_iters=0`` keeps ``lr * factor`` forever; so does this.

  Args:
    lr: the optimizer's base lr.
    factor: factor ``F`` in ``[0, 1]`` (as PyTorch).
    total_iters: steps ``T`` at the reduced lr, ``> 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``total_iters``.
    ValueError: for NaN, ``lr < 0``, ``factor`` outside ``[0, 1]`` or
      ``total_iters < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.ConstantLR(0.1, factor=0.5, total_iters=4)
    >>> print(f"{s(3):.4f} {s(4):.4f}")
    0.0500 0.1000
  """
  fn = "ConstantLR"
  lr = _check_lr(fn, "lr", lr)
  factor = _check_number(fn, "factor", factor, low=0.0, high=1.0,
                         constraint="in [0, 1]")
  total_iters = _checks.check_steps(fn, "total_iters", total_iters)
  if _never_ends(total_iters):
    return _chainable(fn, lr, constant(factor))
  return _chainable(fn, lr, join([constant(factor), constant(1.0)], [total_iters]))


@constructor
def LinearLR(lr: jax.typing.ArrayLike, start_factor: jax.typing.ArrayLike = 1.0 / 3,
             end_factor: jax.typing.ArrayLike = 1.0, total_iters: int = 5) -> Schedule:
  r"""PyTorch's ``LinearLR``: the factor moves linearly from ``start_factor`` to ``end_factor``.

  .. math:: v(t) = \mathrm{lr}\left(s + (e - s)\frac{\min(t, T)}{T}\right)

  It is ``lr * osch.linear(start_factor, end_factor, total_iters)``.

  Quirks: PyTorch requires ``start_factor`` in ``(0, 1]`` and ``end_factor``
  in ``[0, 1]``, so it cannot warm up above the base lr; ``osch.warmup`` and
  ``osch.linear`` take any values. PyTorch's ``total_iters=0`` keeps
  ``lr * start_factor`` forever; so does this.

  Args:
    lr: the optimizer's base lr.
    start_factor: factor ``s`` at step 0, in ``(0, 1]``.
    end_factor: factor ``e`` from ``total_iters`` on, in ``[0, 1]``.
    total_iters: steps ``T`` of the ramp, ``> 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``total_iters``.
    ValueError: for NaN, ``lr < 0``, factors out of range or
      ``total_iters < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.LinearLR(0.1, start_factor=0.25, total_iters=4)
    >>> print(f"{s(0):.4f} {s(2):.4f} {s(4):.4f} {s(100):.4f}")
    0.0250 0.0625 0.1000 0.1000
  """
  fn = "LinearLR"
  lr = _check_lr(fn, "lr", lr)
  start_factor = _check_number(fn, "start_factor", start_factor, low=0.0, high=1.0,
                               low_open=True, constraint="in (0, 1]")
  end_factor = _check_number(fn, "end_factor", end_factor, low=0.0, high=1.0,
                             constraint="in [0, 1]")
  total_iters = _checks.check_steps(fn, "total_iters", total_iters)
  if _never_ends(total_iters):
    return _chainable(fn, lr, constant(start_factor))
  return _chainable(fn, lr, linear(start_factor, end_factor, total_iters))


@constructor
def ExponentialLR(lr: jax.typing.ArrayLike, gamma: jax.typing.ArrayLike) -> Schedule:
  r"""PyTorch's ``ExponentialLR``: multiply the lr by ``gamma`` every step.

  .. math:: v(t) = \mathrm{lr} \cdot \gamma^{t}

  It is ``lr * osch.exponential_decay(1.0, 1, gamma)``.

  Quirks: it never stops decaying; ``osch.exponential_decay(...,
  end_value=...)`` has a floor and a ``transition_begin``.

  Args:
    lr: the optimizer's base lr.
    gamma: factor per step, ``>= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values.
    ValueError: for NaN, ``lr < 0`` or ``gamma < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.ExponentialLR(0.1, gamma=0.9)
    >>> print(f"{s(0):.4f} {s(1):.4f} {s(10):.4f}")
    0.1000 0.0900 0.0349
  """
  fn = "ExponentialLR"
  lr = _check_lr(fn, "lr", lr)
  gamma = _check_number(fn, "gamma", gamma, low=0.0, constraint="non-negative")
  return _chainable(fn, lr, _geometric(gamma, 1, staircase=False))


@constructor
def PolynomialLR(lr: jax.typing.ArrayLike, total_iters: int = 5,
                 power: jax.typing.ArrayLike = 1.0) -> Schedule:
  r"""PyTorch's ``PolynomialLR``: polynomial decay to 0 over ``total_iters`` steps.

  .. math:: v(t) = \mathrm{lr}\left(1 - \frac{\min(t, T)}{T}\right)^{p}

  It is ``lr * osch.polynomial(1.0, 0.0, power, total_iters)``.

  Quirks: the lr is 0 from ``total_iters`` on (no end lr);
  ``osch.polynomial(lr, end_value, power, total_iters)`` has one.

  Args:
    lr: the optimizer's base lr.
    total_iters: steps ``T`` of the decay, ``> 0``.
    power: exponent ``p >= 0``.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values or a non-integer ``total_iters``.
    ValueError: for NaN, ``lr < 0``, ``total_iters < 0`` or ``power < 0``
      (PyTorch divides by 0 at ``T``). ``total_iters=0`` keeps ``lr`` forever,
      as PyTorch does.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.PolynomialLR(0.1, total_iters=4, power=2.0)
    >>> print(f"{s(1):.4f} {s(2):.4f} {s(4):.4f} {s(9):.4f}")
    0.0563 0.0250 0.0000 0.0000
  """
  fn = "PolynomialLR"
  lr = _check_lr(fn, "lr", lr)
  total_iters = _checks.check_steps(fn, "total_iters", total_iters)
  if _never_ends(total_iters):  # PyTorch keeps lr forever
    return _chainable(fn, lr, constant(1.0))
  power = _check_number(fn, "power", power, low=0.0, constraint="non-negative")
  return _chainable(fn, lr, polynomial(1.0, 0.0, power, total_iters))


@constructor
def CosineAnnealingLR(lr: jax.typing.ArrayLike, T_max: int,
                      eta_min: jax.typing.ArrayLike = 0.0) -> Schedule:
  r"""PyTorch's ``CosineAnnealingLR``: cosine from ``lr`` to ``eta_min`` over ``T_max`` steps.

  .. math::
    v(t) = \eta_{min} + (\mathrm{lr} - \eta_{min})
    \frac{1 + \cos(\pi t / T)}{2}

  for every ``t``: past ``T_max`` it is not clamped but rises back to ``lr``
  at ``2 T_max`` and keeps oscillating with period ``2 T_max``, as PyTorch
  does. It is an ``osch.cycle`` of period ``2 T_max`` over an ``osch.join`` of
  a falling and a rising ``osch.cosine_decay``; the period and half are exact
  integer arithmetic, so values stay accurate at any step (float32 ``cos`` of
  ``pi t / T`` would not).

  Quirks: the oscillation past ``T_max``; ``osch.cosine_decay(lr, T_max,
  alpha=eta_min / lr)`` stays at ``eta_min`` instead. PyTorch accepts a float
  ``T_max``; here it is an integer.

  Args:
    lr: the optimizer's base lr.
    T_max: half period ``T``, ``> 0``; a concrete integer (it fixes the cycle).
    eta_min: the minimum lr.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, or a non-integer or traced ``T_max``.
    ValueError: for NaN, ``lr < 0`` or ``T_max <= 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.CosineAnnealingLR(1.0, T_max=4)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(9)))
    1.0000 0.8536 0.5000 0.1464 0.0000 0.1464 0.5000 0.8536 1.0000
  """
  fn = "CosineAnnealingLR"
  lr = _check_lr(fn, "lr", lr)
  t_max = _checks.check_static_int(fn, "T_max", T_max, minimum=1)
  eta_min = _checks.check_value(fn, "eta_min", eta_min)
  # Both halves are `constant + cosine_decay`, one kind: join stacks them.
  down = eta_min + cosine_decay(lr - eta_min, t_max)
  up = lr + cosine_decay(eta_min - lr, t_max)
  wave = join([down, up], [t_max])
  if 2 * t_max - 1 > np.iinfo(int_dtype()).max:  # no second period within the step range
    return _Torch(wave, lr, name=fn)
  return _Torch(cycle(wave, 2 * t_max), lr, name=fn)


@constructor
def CosineAnnealingWarmRestarts(lr: jax.typing.ArrayLike, T_0: int, T_mult: int = 1,
                                eta_min: jax.typing.ArrayLike = 0.0) -> Schedule:
  r"""PyTorch's ``CosineAnnealingWarmRestarts``: cosine cycles of growing length (SGDR).

  Cycle :math:`k` starts at :math:`S_k = T_0 (m^k - 1)/(m - 1)` (:math:`k T_0`
  for :math:`m = 1`) and lasts :math:`T_i = T_0 m^k`; with
  :math:`T_{cur} = t - S_k`:

  .. math::
    v(t) = \eta_{min} + (\mathrm{lr} - \eta_{min})
    \frac{1 + \cos(\pi T_{cur} / T_i)}{2}

  It is ``osch.cycle(eta_min + osch.cosine_decay(lr - eta_min, T_0), T_0,
  length_mul=T_mult)``; the cycle index is exact integer arithmetic at any
  step.

  Quirks: the peaks never decay; ``osch.cycle(..., value_mul=...)`` and
  ``osch.sgdr`` (with warmup) can.

  Args:
    lr: the optimizer's base lr.
    T_0: length of the first cycle, ``> 0``; a concrete integer.
    T_mult: integer length factor ``m >= 1`` per cycle (as PyTorch).
    eta_min: the minimum lr.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, or a traced ``T_0`` or ``T_mult``.
    ValueError: for NaN, ``lr < 0``, ``T_0`` not a positive integer or
      ``T_mult`` not an integer ``>= 1``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.CosineAnnealingWarmRestarts(1.0, T_0=3, T_mult=2)
    >>> print(" ".join(f"{s(k):.4f}" for k in range(10)))
    1.0000 0.7500 0.2500 1.0000 0.9330 0.7500 0.5000 0.2500 0.0670 1.0000

  References:
    Loshchilov & Hutter, `SGDR: Stochastic Gradient Descent with Warm
    Restarts <https://arxiv.org/abs/1608.03983>`_, 2017.
  """
  fn = "CosineAnnealingWarmRestarts"
  lr = _check_lr(fn, "lr", lr)
  t_0 = _checks.check_static_int(fn, "T_0", T_0, minimum=1)
  if isinstance(T_mult, bool) or not isinstance(T_mult, (numbers.Real, np.number)):
    _checks.fail(fn, "T_mult", "a concrete integer >= 1", T_mult, TypeError)
  if not (float(T_mult).is_integer() and T_mult >= 1):
    _checks.fail(fn, "T_mult", "an integer >= 1", T_mult)
  t_mult = int(T_mult)
  eta_min = _checks.check_value(fn, "eta_min", eta_min)
  one = eta_min + cosine_decay(lr - eta_min, t_0)
  return _Torch(cycle(one, t_0, length_mul=t_mult), lr, name=fn)


@constructor
def LambdaLR(lr: jax.typing.ArrayLike, lr_lambda: Callable) -> Schedule:
  r"""PyTorch's ``LambdaLR``: the base lr times ``lr_lambda(step)``.

  .. math:: v(t) = \mathrm{lr} \cdot \lambda(t)

  It is ``lr * osch.as_schedule(lr_lambda)``. The function receives the step
  as an integer ``jax.Array`` (PyTorch passes an ``int``), so it must be
  traceable with ``jnp``: write ``jnp.where`` instead of ``if``. (Under strict
  dtype promotion cast it before mixing it with Python floats:
  ``0.95 ** t.astype(jnp.float32)``.) A :class:`~optax_scheds.Schedule` is
  accepted as the factor too.

  It is traced once at construction, so a function that uses the step as a
  Python value (``if epoch < 10:``) fails there with a ``TypeError`` naming
  the fix, not at its first call inside a training step.

  Quirks: it is absolute (it ignores other schedulers on the optimizer), so
  ChainedScheduler refuses it.

  Args:
    lr: the optimizer's base lr.
    lr_lambda: a callable ``step -> factor``, traceable with ``jnp``. Only one
      (PyTorch's per-group list is not supported).

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr``, a non-callable ``lr_lambda``, or one
      that is not traceable with ``jnp``.
    ValueError: for NaN, infinity or ``lr < 0``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.LambdaLR(0.1, lambda epoch: 0.95 ** epoch.astype(float))
    >>> print(f"{s(0):.4f} {s(10):.4f}")
    0.1000 0.0599
  """
  fn = "LambdaLR"
  lr = _check_lr(fn, "lr", lr)
  factor = _traceable_lambda(fn, lr_lambda)
  return _Torch(constant(lr) * factor, lr, name=fn)


def _traceable_lambda(fn: str, lr_lambda) -> Schedule:
  """``lr_lambda`` as a schedule, traced once now so that a Python ``if`` on
  the step fails here, naming the fix, not in the middle of training."""
  if not callable(lr_lambda):
    _checks.fail(fn, "lr_lambda", "a callable step -> factor", lr_lambda, TypeError)
  factor = _checks.check_schedule(fn, "lr_lambda", lr_lambda)
  try:
    jax.eval_shape(factor, jax.ShapeDtypeStruct((), int_dtype()))
  except (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError) as e:
    raise TypeError(
        f"`{fn}(lr_lambda=...)` must be traceable with jnp (it runs inside jit on a "
        f"traced integer step), got lr_lambda={_short(lr_lambda)}, which uses the step "
        "as a Python value (an `if`, int() or a list index). Write it with jnp.where, "
        "e.g. `lambda t: jnp.where(t < 10, 1.0, 0.1)`, or tabulate it per epoch: "
        "compat.keras.LearningRateScheduler(fn, lr, steps_per_epoch, num_epochs) calls "
        "a Python function once per epoch."
    ) from e
  return factor


@constructor
def MultiplicativeLR(lr: jax.typing.ArrayLike, lr_lambda: Callable,
                     total_steps: int) -> Schedule:
  r"""PyTorch's ``MultiplicativeLR``: the lr times ``lr_lambda(k)`` at every step.

  .. math::
    v(t) = \mathrm{lr} \prod_{j=1}^{\min(t,\, N - 1)} \lambda(j)

  PyTorch updates ``lr_k = lr_{k-1} * lr_lambda(k)`` on the ``k``-th
  ``step()`` and never calls ``lr_lambda(0)``. The cumulative product is
  tabulated once at construction for ``k < total_steps`` (``N``), in float64
  as PyTorch multiplies, and looked up with an exact integer index: it is
  ``lr * osch.table(products)``. The function must be traceable with ``jnp``
  (as for :func:`LambdaLR`); it is evaluated on all ``N - 1`` steps at once.

  Quirks: past ``total_steps - 1`` the lr holds its last value, where PyTorch
  keeps multiplying for as long as ``step()`` is called; choose
  ``total_steps`` to cover the run (the product usually decays to nothing
  long before). For a constant factor, ``ExponentialLR`` (a closed form, no
  table) is the better call.

  Args:
    lr: the optimizer's base lr.
    lr_lambda: a ``jnp``-traceable callable ``step -> factor`` (an integer
      ``jax.Array`` step).
    total_steps: how many steps to tabulate, ``> 0``; a concrete integer.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for a non-numeric ``lr``, a non-callable or non-traceable
      ``lr_lambda``, or a non-integer or traced ``total_steps``.
    ValueError: for NaN, infinity, ``lr < 0``, ``total_steps <= 0``, or a
      factor that is NaN or infinite.

  Examples:
    >>> import jax.numpy as jnp
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.MultiplicativeLR(1.0, lambda k: jnp.where(k % 2 == 0, 0.5, 1.0),
    ...                         total_steps=100)
    >>> print(" ".join(f"{s(k):.3f}" for k in range(6)))
    1.000 1.000 0.500 0.500 0.250 0.250
  """
  fn = "MultiplicativeLR"
  lr = _check_lr(fn, "lr", lr)
  factor = _traceable_lambda(fn, lr_lambda)
  total = _checks.check_static_int(fn, "total_steps", total_steps, minimum=1)
  with enable_x64(True):  # PyTorch multiplies Python floats
    steps = np.arange(1, total, dtype=np.int64)
    factors = np.asarray(jax.vmap(factor)(steps), dtype=np.float64) if total > 1 \
        else np.zeros(0)
  if not np.all(np.isfinite(factors)):
    bad = int(steps[np.flatnonzero(~np.isfinite(factors))[0]])
    raise ValueError(f"`{fn}(lr_lambda=...)` must give finite factors, got "
                     f"lr_lambda({bad})={float(factors[bad - 1])!r}.")
  products = np.cumprod(np.concatenate([[1.0], factors]))
  return _chainable(fn, lr, table(products))


@dataclasses.dataclass(frozen=True)
class _ByCycle:
  """``scale_fn(cycle)`` with PyTorch's 1-based cycle count, as a callable of
  the step (hashable, so equal arguments give equal pytree structures)."""

  scale_fn: Callable
  total: int

  def __call__(self, step):
    k = step // self.total
    if jnp.issubdtype(k.dtype, jnp.integer):  # k + 1 must not wrap at the last step
      k = jnp.minimum(k, np.iinfo(int_dtype()).max - 1)
    return self.scale_fn(k + 1)


def _cyclic(fn, base, peak, step_size_up, step_size_down, mode, gamma, scale_fn,
            scale_mode):
  """Validated CyclicLR (``base -> peak -> base`` waves): the native
  ``osch.cyclic`` wave, with ``scale_fn`` as its amplitude factor if given."""
  up, down = cyclic_sizes(fn, step_size_up, step_size_down)
  _checks.check_choice(fn, "mode", mode, ("triangular", "triangular2", "exp_range"))
  _checks.check_choice(fn, "scale_mode", scale_mode, ("cycle", "iterations"))
  if scale_fn is not None and not callable(scale_fn):
    _checks.fail(fn, "scale_fn", "None or a callable", scale_fn, TypeError)
  if scale_fn is None and mode == "exp_range":
    gamma = check_exp_range_gamma(fn, gamma)
  else:
    gamma = _checks.check_value(fn, "gamma", gamma)
  scale = None
  if scale_fn is not None:
    scale = as_schedule(_ByCycle(scale_fn, up + down) if scale_mode == "cycle"
                        else scale_fn)
  return cyclic_wave(base, peak, up, down, mode, gamma, scale)


@constructor
def CyclicLR(base_lr: jax.typing.ArrayLike, max_lr: jax.typing.ArrayLike,
             step_size_up: int = 2000, step_size_down: int | None = None,
             mode: str = "triangular", gamma: jax.typing.ArrayLike = 1.0,
             scale_fn: Callable | None = None, scale_mode: str = "cycle") -> Schedule:
  r"""PyTorch's ``CyclicLR``: triangular waves between ``base_lr`` and ``max_lr``.

  With :math:`U` = ``step_size_up``, :math:`D` = ``step_size_down``,
  :math:`k = \lfloor t / (U + D) \rfloor` and :math:`r = t - k(U + D)`:

  .. math::
    v(t) = b + (m - b)\, w(r)\, g, \qquad
    w(r) = \begin{cases} r / U & r \le U \\ (U + D - r) / D & r > U \end{cases}

  with :math:`g = 1` (triangular), :math:`2^{-k}` (triangular2),
  :math:`\gamma^{t}` (exp_range), ``scale_fn(k + 1)`` (``scale_mode='cycle'``)
  or ``scale_fn(t)`` (``'iterations'``). It is ``base_lr + osch.cycle(
  osch.join([osch.linear(0, m - b, U), osch.linear(m - b, 0, D)], [U]), U + D)``
  times ``g`` (triangular2: ``value_mul=0.5``; exp_range: times
  ``osch.exponential_decay(1.0, 1, gamma)``); the cycle index and the
  position in it are exact integers at any step.

  Quirks: PyTorch's triangular2 computes ``1 / 2.0 ** (cycle - 1)``, which
  raises ``OverflowError`` from cycle 1025; here the factor underflows to 0
  and the lr holds ``base_lr``. With ``scale_fn`` given, ``mode`` is ignored
  (as PyTorch). The optimizer's own lr plays no part: in SequentialLR and
  ChainedScheduler this scheduler's base lr is ``base_lr``. The momentum
  cycle is :func:`CyclicMomentum`.

  Args:
    base_lr: the lower lr ``b`` (PyTorch sets the optimizer lr to it).
    max_lr: the upper lr ``m``.
    step_size_up: steps ``U`` from ``b`` to ``m``, ``> 0``; a concrete integer.
    step_size_down: steps ``D`` back down, ``>= 0`` (0 gives a sawtooth);
      ``None`` means ``step_size_up``.
    mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'``.
    gamma: the exp_range factor per step, in ``(0, 1]``.
    scale_fn: a ``jnp``-traceable callable of an integer ``jax.Array`` (the
      1-based cycle or the step) giving the amplitude factor; overrides
      ``mode``.
    scale_mode: ``'cycle'`` or ``'iterations'``: what ``scale_fn`` receives.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step sizes, or a
      non-callable ``scale_fn``.
    ValueError: for NaN, negative lrs, ``step_size_up <= 0``,
      ``step_size_down < 0``, an unknown ``mode`` or ``scale_mode``, or an
      exp_range ``gamma`` outside ``(0, 1]``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.CyclicLR(0.1, 1.0, step_size_up=2, step_size_down=3,
    ...                 mode="triangular2")
    >>> print(" ".join(f"{s(k):.3f}" for k in range(11)))
    0.100 0.550 1.000 0.700 0.400 0.100 0.325 0.550 0.400 0.250 0.100

  References:
    Smith, `Cyclical Learning Rates for Training Neural Networks
    <https://arxiv.org/abs/1506.01186>`_, 2017.
  """
  fn = "CyclicLR"
  base_lr = _check_lr(fn, "base_lr", base_lr)
  max_lr = _check_lr(fn, "max_lr", max_lr)
  sched = _cyclic(fn, base_lr, max_lr, step_size_up, step_size_down, mode, gamma,
                  scale_fn, scale_mode)
  return _Torch(sched, base_lr, name=fn)


@constructor
def CyclicMomentum(base_momentum: jax.typing.ArrayLike = 0.8,
                   max_momentum: jax.typing.ArrayLike = 0.9, step_size_up: int = 2000,
                   step_size_down: int | None = None, mode: str = "triangular",
                   gamma: jax.typing.ArrayLike = 1.0, scale_fn: Callable | None = None,
                   scale_mode: str = "cycle") -> Schedule:
  r"""The momentum PyTorch's ``CyclicLR(cycle_momentum=True)`` sets: the lr wave, inverted.

  .. math:: \mu(t) = M - (M - B)\, w(r)\, g

  with :math:`w, g` as in :func:`CyclicLR`: it is ``CyclicLR(max_momentum,
  base_momentum, ...)``. Pass the same cycle arguments as to
  :func:`CyclicLR`; feed it to e.g. ``optax.inject_hyperparams(optax.sgd)``
  (``momentum``) or as ``b1``.

  Args:
    base_momentum: the lower momentum ``B`` (reached at the lr's peak).
    max_momentum: the upper momentum ``M`` (at the lr's base).
    step_size_up: as :func:`CyclicLR`.
    step_size_down: as :func:`CyclicLR`.
    mode: as :func:`CyclicLR`.
    gamma: as :func:`CyclicLR`.
    scale_fn: as :func:`CyclicLR`.
    scale_mode: as :func:`CyclicLR`.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: as :func:`CyclicLR`.
    ValueError: as :func:`CyclicLR`.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> m = tc.CyclicMomentum(0.8, 0.9, step_size_up=2)
    >>> print(" ".join(f"{m(k):.3f}" for k in range(5)))
    0.900 0.850 0.800 0.850 0.900
  """
  fn = "CyclicMomentum"
  base = _check_lr(fn, "base_momentum", base_momentum)
  top = _check_lr(fn, "max_momentum", max_momentum)
  sched = _cyclic(fn, top, base, step_size_up, step_size_down, mode, gamma, scale_fn,
                  scale_mode)
  return _Torch(sched, top, name=fn)


@schedule_class
class _Phases(Schedule):
  """OneCycleLR's phases, which end at PyTorch's float steps ``pct * T - 1``.

  No native schedule interpolates over pieces with fractional ends, so this
  one does: the phase is picked on integers (step <= floor(end)), the position
  is an exact integer offset plus a constant fraction. Past ``total_steps``
  (where PyTorch raises) it holds the last value.
  """

  values: jax.typing.ArrayLike  # (P + 1,) value at the start of each phase, then the end.
  ends: tuple = static_field()  # PyTorch's float end_step of each of the P phases.
  anneal: str = static_field()

  def _value(self, i, f):
    values = as_float(self.values)
    ends = self.ends
    total = int(round(ends[-1])) + 1
    starts = (0.0,) + ends[:-1]
    # start_q = a_q - o_q with a_q an integer: t - start_q = (i - a_q) + o_q.
    a = np.asarray([math.floor(s) for s in starts], np.int64)
    o = np.asarray([math.floor(s) - s for s in starts])
    den = np.asarray([e - s for s, e in zip(starts, ends, strict=True)])
    ic = jnp.minimum(i, total)
    p = jnp.full(i.shape, len(ends) - 1, dtype=int_dtype())
    for q in reversed(range(len(ends) - 1)):
      p = jnp.where(ic <= math.floor(ends[q]), q, p)
    num = position(ic - as_int(a)[p], f) + as_float(o)[p]
    d = as_float(np.where(den == 0, 1.0, den))[p]
    # Where PyTorch divides by 0 (a phase of length 0), take the phase's end.
    pct = jnp.where(as_float(den)[p] == 0, jnp.ones((), values.dtype), num / d)
    start, end = values[p], values[p + 1]
    if self.anneal == "cos":
      out = end + (start - end) / 2.0 * (jnp.cos(jnp.pi * pct) + 1)
    else:
      out = (end - start) * pct + start
    return jnp.where(i > total, values[-1], out)


def _onecycle_layout(fn, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy,
                     three_phase):
  if total_steps is None:
    if epochs is None or steps_per_epoch is None:
      _checks.fail(fn, "total_steps", "given, or epochs and steps_per_epoch", total_steps)
    total = (_checks.check_static_int(fn, "epochs", epochs, minimum=1)
             * _checks.check_static_int(fn, "steps_per_epoch", steps_per_epoch,
                                        minimum=1))
  else:
    total = _checks.check_static_int(fn, "total_steps", total_steps, minimum=1)
    if epochs is not None or steps_per_epoch is not None:
      e = _checks.check_static_int(fn, "epochs", 1 if epochs is None else epochs,
                                   minimum=1)
      n = _checks.check_static_int(fn, "steps_per_epoch",
                                   1 if steps_per_epoch is None else steps_per_epoch,
                                   minimum=1)
      if epochs is None or steps_per_epoch is None or e * n != total:
        raise ValueError(
            f"`{fn}(total_steps=...)` must equal epochs * steps_per_epoch when both "
            f"are given (or give only one), got total_steps={total_steps!r}, "
            f"epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}.")
  if isinstance(pct_start, bool) or not isinstance(pct_start, (numbers.Real, np.number)):
    _checks.fail(fn, "pct_start", "a number in [0, 1]", pct_start, TypeError)
  if not 0 <= pct_start <= 1:
    _checks.fail(fn, "pct_start", "in [0, 1]", pct_start)
  if not isinstance(three_phase, bool):
    _checks.fail(fn, "three_phase", "a bool", three_phase, TypeError)
  if three_phase and pct_start > 0.5:
    _checks.fail(fn, "pct_start", "in [0, 0.5] with three_phase=True", pct_start)
  _checks.check_choice(fn, "anneal_strategy", anneal_strategy, ("cos", "linear"))
  pct_start = float(pct_start)
  if three_phase:  # PyTorch's end steps, computed as PyTorch computes them.
    return (float(pct_start * total) - 1, float(2 * pct_start * total) - 2,
            float(total - 1))
  return float(pct_start * total) - 1, float(total - 1)


def _positive(fn, name, x):
  return _check_number(fn, name, x, low=0.0, low_open=True, constraint="positive")


@constructor
def OneCycleLR(max_lr: jax.typing.ArrayLike, total_steps: int | None = None,
               epochs: int | None = None, steps_per_epoch: int | None = None,
               pct_start: float = 0.3, anneal_strategy: str = "cos",
               div_factor: jax.typing.ArrayLike = 25.0,
               final_div_factor: jax.typing.ArrayLike = 1e4,
               three_phase: bool = False) -> Schedule:
  r"""PyTorch's ``OneCycleLR``: up from ``max_lr / div_factor`` to ``max_lr``, then down.

  With :math:`T` = ``total_steps``, :math:`p` = ``pct_start``,
  :math:`I = \mathrm{max\_lr}/d`, :math:`L = I / f`, phases end at PyTorch's
  float steps :math:`e_1 = pT - 1` and :math:`e_2 = T - 1` (three-phase:
  :math:`pT - 1`, :math:`2pT - 2`, :math:`T - 1`). Phase :math:`q` runs from
  :math:`e_{q-1}` (:math:`e_0 = 0`) to :math:`e_q`, from value :math:`a` to
  :math:`b` (``I -> max_lr -> L``; three-phase
  ``I -> max_lr -> I -> L``):

  .. math::
    v(t) = b + \frac{a - b}{2}\left(1 + \cos \pi x\right)
    \quad(\text{linear: } a + (b - a)x),
    \qquad x = \frac{t - e_{q-1}}{e_q - e_{q-1}}

  A phase holds step :math:`t` if :math:`t \le e_q`, decided on integers.

  Quirks: PyTorch raises past ``total_steps``; here the lr holds ``L`` (the
  value at ``total_steps - 1``) from ``total_steps + 1`` on. At
  ``total_steps`` itself PyTorch extrapolates one step past the end (above
  ``L`` with ``'cos'``, below it, even negative, with ``'linear'``); that
  value is kept. Where PyTorch divides by 0 (a phase of length 0, e.g.
  ``pct_start * total_steps == 1``) the phase's end value is used.
  ``osch.cosine_onecycle`` / ``osch.linear_onecycle`` (optax's one-cycle, on
  integer steps) hold their end value. The momentum cycle is
  :func:`OneCycleMomentum`.

  Args:
    max_lr: the peak lr.
    total_steps: the number of steps ``T``; a concrete integer ``> 0``.
    epochs: with ``steps_per_epoch``, gives ``T = epochs * steps_per_epoch``.
    steps_per_epoch: see ``epochs``.
    pct_start: fraction ``p`` of ``T`` spent rising, in ``[0, 1]``
      (``[0, 0.5]`` with ``three_phase``).
    anneal_strategy: ``'cos'`` or ``'linear'``.
    div_factor: ``d > 0``; the initial lr is ``max_lr / d``. In
      SequentialLR this is the scheduler's base lr (PyTorch writes it into
      the optimizer's ``initial_lr``).
    final_div_factor: ``f > 0``; the minimum lr is ``max_lr / (d f)``.
    three_phase: go back to the initial lr before the final descent.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for non-numeric values, non-integer or traced step counts, a
      non-number ``pct_start`` or a non-bool ``three_phase``.
    ValueError: for NaN, ``max_lr < 0``, non-positive factors or step counts,
      neither ``total_steps`` nor ``epochs`` and ``steps_per_epoch`` given (or
      both, disagreeing), ``pct_start`` out of range or an unknown
      ``anneal_strategy``.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.OneCycleLR(1.0, total_steps=10)
    >>> print(" ".join(f"{s(k):.2f}" for k in range(10)))
    0.04 0.52 1.00 0.95 0.81 0.61 0.39 0.19 0.05 0.00

  References:
    Smith & Topin, `Super-Convergence <https://arxiv.org/abs/1708.07120>`_, 2017.
  """
  fn = "OneCycleLR"
  ends = _onecycle_layout(fn, total_steps, epochs, steps_per_epoch, pct_start,
                          anneal_strategy, three_phase)
  max_lr = _check_lr(fn, "max_lr", max_lr)
  initial = max_lr / _positive(fn, "div_factor", div_factor)
  low = initial / _positive(fn, "final_div_factor", final_div_factor)
  values = [initial, max_lr, initial, low] if three_phase else [initial, max_lr, low]
  return _Torch(_Phases(_stack(values), ends, anneal_strategy), initial, name=fn)


@constructor
def OneCycleMomentum(total_steps: int | None = None, epochs: int | None = None,
                     steps_per_epoch: int | None = None, pct_start: float = 0.3,
                     anneal_strategy: str = "cos",
                     base_momentum: jax.typing.ArrayLike = 0.85,
                     max_momentum: jax.typing.ArrayLike = 0.95,
                     three_phase: bool = False) -> Schedule:
  r"""The momentum PyTorch's ``OneCycleLR(cycle_momentum=True)`` sets: the lr's phases, inverted.

  The phases of :func:`OneCycleLR` with the values ``M -> B -> M``
  (three-phase: ``M -> B -> M -> M``), :math:`M` = ``max_momentum``,
  :math:`B` = ``base_momentum``; past ``total_steps`` it holds :math:`M`.
  Pass the same phase arguments as to :func:`OneCycleLR`.

  Args:
    total_steps: as :func:`OneCycleLR`.
    epochs: as :func:`OneCycleLR`.
    steps_per_epoch: as :func:`OneCycleLR`.
    pct_start: as :func:`OneCycleLR`.
    anneal_strategy: as :func:`OneCycleLR`.
    base_momentum: the momentum ``B`` at the lr's peak.
    max_momentum: the momentum ``M`` at the start and end.
    three_phase: as :func:`OneCycleLR`.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: as :func:`OneCycleLR`.
    ValueError: as :func:`OneCycleLR`, or for negative momenta.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> m = tc.OneCycleMomentum(total_steps=10)
    >>> print(" ".join(f"{m(k):.3f}" for k in range(0, 10, 3)))
    0.950 0.855 0.911 0.950
  """
  fn = "OneCycleMomentum"
  ends = _onecycle_layout(fn, total_steps, epochs, steps_per_epoch, pct_start,
                          anneal_strategy, three_phase)
  base = _check_lr(fn, "base_momentum", base_momentum)
  top = _check_lr(fn, "max_momentum", max_momentum)
  values = [top, base, top, top] if three_phase else [top, base, top]
  return _Torch(_Phases(_stack(values), ends, anneal_strategy), top, name=fn)


def _stack(values):
  if _checks.is_concrete(values) and not any(isinstance(v, jax.Array) for v in values):
    return np.asarray(values, dtype=np.float64)
  return jnp.stack([as_float(v) for v in values])


def _children(fn: str, schedulers) -> list[_Torch]:
  if isinstance(schedulers, (Schedule, str)) or not isinstance(schedulers, Sequence) \
      or not schedulers:
    _checks.fail(fn, "schedulers", "a non-empty sequence of compat schedulers",
                 schedulers, TypeError)
  for k, s in enumerate(schedulers):
    if not isinstance(s, _Torch):
      raise TypeError(
          f"`{fn}(schedulers=...)` must hold schedulers from "
          f"optax_scheds.compat.torch, got schedulers[{k}]={s!r}. Combine native "
          "schedules with osch.join or arithmetic instead.")
  return list(schedulers)


def _shared_lr(fn: str, children: list[_Torch]):
  """The common base lr; PyTorch's children share one optimizer."""
  lrs = [c.base_lr for c in children]
  if _checks.is_concrete(lrs) and not all(
      np.array_equal(np.asarray(lrs[0]), np.asarray(x)) for x in lrs[1:]):
    got = ", ".join(f"{c.name}(lr={_checks_repr(c.base_lr)})" for c in children)
    raise ValueError(
        f"`{fn}(schedulers=...)` must share one base lr (in PyTorch they share one "
        f"optimizer), got schedulers=[{got}]. CyclicLR's base lr is base_lr and "
        "OneCycleLR's is max_lr / div_factor. To combine schedules of different lrs "
        "use osch.join or schedule arithmetic.")
  return lrs[0]


def _checks_repr(x):
  return repr(float(x)) if np.ndim(x) == 0 else repr(np.asarray(x).tolist())


@constructor
def SequentialLR(schedulers: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
  r"""PyTorch's ``SequentialLR``: each scheduler in turn, restarted at its milestone.

  .. math:: v(t) = s_k(t - m_k) \quad\text{for } m_k \le t < m_{k+1},
    \qquad m_0 = 0

  At ``t == m_k`` PyTorch restarts scheduler ``k`` at its own step 0, so each
  child sees the step counted from its milestone. It is ``osch.join(
  schedulers, milestones)``: the piece is found by a binary search on
  integers.

  Quirks: PyTorch's children share one optimizer, so they must share one base
  lr here (CyclicLR's is its ``base_lr``, OneCycleLR's ``max_lr /
  div_factor``; PyTorch's OneCycleLR overwrites the others'). PyTorch accepts
  repeated or unsorted milestones and then silently skips schedulers; they
  are refused. A milestone 0 starts the second scheduler at once, as in
  PyTorch. MultiplicativeLR is accepted only first: PyTorch restarts it from
  the lr the previous scheduler left. SequentialLR and ChainedScheduler
  children are refused (PyTorch cannot restart them). ``osch.join`` has no
  shared-lr rule.

  Args:
    schedulers: ``N >= 1`` schedulers from this module (not SequentialLR or
      ChainedScheduler), with one base lr.
    milestones: ``N - 1`` non-negative, strictly increasing integer steps.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for schedulers not from this module or nested ones, or
      non-integer milestones.
    ValueError: for different base lrs, a wrong number of milestones, or
      negative or not strictly increasing milestones.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.SequentialLR([tc.LinearLR(1.0, 0.1, total_iters=3),
    ...                      tc.CosineAnnealingLR(1.0, T_max=4)], milestones=[3])
    >>> print(" ".join(f"{s(k):.3f}" for k in range(8)))
    0.100 0.400 0.700 1.000 0.854 0.500 0.146 0.000
  """
  fn = "SequentialLR"
  children = _children(fn, schedulers)
  for k, c in enumerate(children):
    if k > 0 and c.name == "MultiplicativeLR":
      raise ValueError(
          f"`{fn}(schedulers=...)` must hold MultiplicativeLR only first, got "
          f"schedulers[{k}]=MultiplicativeLR. At its milestone PyTorch restarts it from "
          "the lr the previous scheduler left, times lr_lambda(0), so its values depend "
          "on the schedulers before it. Build that curve natively, e.g. osch.join with "
          "a tc.MultiplicativeLR whose lr is the previous scheduler's last value.")
    if c.name in ("SequentialLR", "ChainedScheduler"):
      raise TypeError(
          f"`{fn}(schedulers=...)` must not hold {c.name} (PyTorch cannot restart "
          f"it at a milestone), got schedulers[{k}]={c.name}. Flatten the "
          "schedulers into one SequentialLR.")
  if isinstance(milestones, (str, bytes)) or not isinstance(
      milestones, (Sequence, np.ndarray)):
    _checks.fail(fn, "milestones", "a sequence of integer steps", milestones, TypeError)
  if len(milestones) != len(children) - 1:
    raise ValueError(
        f"`{fn}(milestones=...)` must have one entry fewer than schedulers, got "
        f"{len(children)} schedulers and milestones={list(milestones)!r}.")
  bounds = _checks.check_boundaries(fn, "milestones", milestones)
  lr = _shared_lr(fn, children)
  return _Torch(join([c.schedule for c in children], bounds), lr, name=fn)


@constructor
def ChainedScheduler(schedulers: Sequence[Schedule]) -> Schedule:
  r"""PyTorch's ``ChainedScheduler``: all schedulers at once, their factors multiplied.

  .. math:: v(t) = \mathrm{lr} \prod_k \frac{s_k(t)}{\mathrm{lr}}

  PyTorch steps every child each time, composing their updates of the
  optimizer's lr. That is the product of the children's factors exactly when
  each update multiplies the lr by a factor that does not read it: StepLR,
  MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR,
  MultiplicativeLR (and ChainedScheduler of those), the only children
  accepted. It is
  ``lr * f_1 * f_2 * ...`` with schedule arithmetic.

  Quirks: CosineAnnealingLR's update adds a term at ``T_max + 1`` and reads
  ``eta_min``; LambdaLR, CyclicLR, OneCycleLR and CosineAnnealingWarmRestarts
  overwrite the lr. PyTorch's result with those depends on their order, so
  they are refused; multiply native schedules (``a * b``) for a plain
  product.

  Args:
    schedulers: ``N >= 1`` multiplicative schedulers from this module, with
      one base lr.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: for schedulers not from this module.
    ValueError: for other kinds of schedulers or different base lrs.

  Examples:
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> s = tc.ChainedScheduler([tc.ConstantLR(1.0, factor=0.1, total_iters=2),
    ...                          tc.ExponentialLR(1.0, gamma=0.9)])
    >>> print(" ".join(f"{s(k):.3f}" for k in range(4)))
    0.100 0.090 0.810 0.729
  """
  fn = "ChainedScheduler"
  children = _children(fn, schedulers)
  for k, c in enumerate(children):
    if c.factor is None:
      raise ValueError(
          f"`{fn}(schedulers=...)` must hold only multiplicative schedulers "
          f"({', '.join(_CHAINABLE)}), got schedulers[{k}]={c.name}. PyTorch's "
          f"{c.name} does not compose as a product; multiply native schedules "
          "(a * b) instead.")
  lr = _shared_lr(fn, children)
  factor = children[0].factor
  for c in children[1:]:
    factor = factor * c.factor
  return _chainable(fn, lr, factor)


@constructor
def ReduceLROnPlateau(
    lr: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    *,
    accumulation_size: int = 1,
    axis_name: Any = None,
    value_in_update: bool = True,
    name: str | None = None,
) -> PlateauTransformation:
  r"""PyTorch's ``ReduceLROnPlateau``, step for step, as an optax transformation.

  Chain it after an optimizer built with the same base learning rate:
  ``optax.chain(optax.sgd(lr), ReduceLROnPlateau(lr, ...))``. One evaluation
  of a metric ``v`` is one ``scheduler.step(v)``; the updates are multiplied
  by ``current_lr / lr``, where ``current_lr`` is what PyTorch's
  ``get_last_lr()`` reports right after that step. Per step:

  .. math::
    \text{better} = \begin{cases}
      v < b(1 - \theta) & \text{min, rel} \qquad v < b - \theta \ \ \text{min, abs}\\
      v > b(1 + \theta) & \text{max, rel} \qquad v > b + \theta \ \ \text{max, abs}
    \end{cases}

  then ``bad = 0`` if better else ``bad + 1``; in cooldown the cooldown counts
  down and ``bad = 0``; if ``bad > patience``: ``lr = max(lr * factor,
  min_lr)`` (only if that lowers it by more than ``eps``), the cooldown
  restarts and ``bad = 0``.

  The metric arrives as in :func:`optax_scheds.reduce_on_plateau`: with
  ``update(..., value=v)`` at every update (``value_in_update=True``), or,
  with ``value_in_update=False``, through ``.observe(opt_state, v)`` (a
  validation metric once per epoch: PyTorch's usual ``scheduler.step(val_loss)``)
  while ``update`` ignores any ``value=``. ``accumulation_size=n`` makes one
  ``scheduler.step`` of the mean of ``n`` values: the epoch-mean training loss
  that PyTorch scripts often pass, with ``n`` steps per epoch.

  Quirks reproduced: it reduces on the ``(patience + 1)``-th bad evaluation
  (Keras and ``osch.reduce_on_plateau`` on the ``patience``-th); ``rel`` mode
  never reduces on negative metrics; ``min_lr`` is absolute. Use
  :func:`optax_scheds.reduce_on_plateau` for a rule that handles negative
  metrics. ``min_lr`` must be a scalar (one optimizer lr).

  Args:
    lr: the optimizer's base learning rate, ``> 0``.
    mode: ``'min'`` or ``'max'``.
    factor: multiplier of the lr, in [0, 1).
    patience: bad evaluations tolerated, ``>= 0``.
    threshold: improvement threshold, ``>= 0``.
    threshold_mode: ``'rel'`` or ``'abs'``.
    cooldown: evaluations to wait after a reduction, ``>= 0``.
    min_lr: lower bound of the lr, ``>= 0``.
    eps: minimal lr change that is applied, ``>= 0``.
    accumulation_size: values averaged into one ``scheduler.step``, ``>= 1``
      (an extension).
    axis_name: mapped axis to average the metric over (an extension).
    value_in_update: if ``False``, the metric is fed with ``.observe`` and
      ``update`` takes no ``value=`` (an extension).
    name: a label that tells this port's state apart from that of another one
      built with the same arguments, for ``observe`` (an extension).

  Returns:
    A :class:`~optax_scheds.PlateauTransformation`.

  Raises:
    ValueError: for out-of-range arguments or an unknown mode.
    TypeError: for wrongly typed arguments, and from ``update`` when
      ``value=`` is missing and ``value_in_update=True``.

  Examples:
    >>> import jax.numpy as jnp
    >>> import optax
    >>> from optax_scheds.compat import torch as tc
    >>> opt = optax.chain(optax.sgd(0.1), tc.ReduceLROnPlateau(0.1, patience=1))
    >>> params = jnp.zeros(2)
    >>> state = opt.init(params)
    >>> for loss in [1.0, 1.0, 1.0, 1.0]:
    ...   _, state = opt.update(params, state, params, value=loss)
    >>> print(f"{0.1 * state[1].scale:.4f}")
    0.0100

    A validation loss once per epoch, as ``scheduler.step(val_loss)``:

    >>> plateau = tc.ReduceLROnPlateau(0.1, patience=1, value_in_update=False)
    >>> opt = optax.chain(optax.sgd(0.1), plateau)
    >>> state = opt.init(params)
    >>> for val_loss in [1.0, 1.0, 1.0]:
    ...   _, state = opt.update(params, state, params)  # an epoch of training
    ...   state = plateau.observe(state, val_loss)
    >>> print(f"{0.1 * state[1].scale:.4f}")
    0.0100
  """
  fn = "ReduceLROnPlateau"
  base = check_base_lr(fn, "lr", lr)
  _checks.check_choice(fn, "mode", mode, ("min", "max"))
  _checks.check_choice(fn, "threshold_mode", threshold_mode, ("rel", "abs"))
  factor = check_port_factor(fn, factor)
  patience = check_count(fn, "patience", patience, "evaluations")
  cooldown = check_count(fn, "cooldown", cooldown, "evaluations")
  threshold = check_non_negative(fn, "threshold", threshold)
  min_lr, eps = check_non_negative(fn, "min_lr", min_lr), check_non_negative(fn, "eps", eps)
  accumulation_size = check_monitoring(fn, accumulation_size, value_in_update, name)
  owner = owner_of(
      "compat.torch.ReduceLROnPlateau", lr=base, mode=mode, factor=factor, patience=patience,
      threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr,
      eps=eps, accumulation_size=accumulation_size, axis_name=axis_name,
      value_in_update=value_in_update, name=name)

  def better(v, best):
    if threshold_mode == "rel":
      return v < best * (1 - threshold) if mode == "min" else v > best * (threshold + 1)
    return v < best - threshold if mode == "min" else v > best + threshold

  def observe(state: ReduceOnPlateauState, value) -> ReduceOnPlateauState:
    improved = better(value, state.best_value)
    best = jnp.where(improved, value, state.best_value)
    bad = jnp.where(improved, 0, state.plateau_count + 1)
    cooling = state.cooldown_count > 0
    cooldown_count = jnp.where(cooling, state.cooldown_count - 1, state.cooldown_count)
    bad = jnp.where(cooling, 0, bad)
    reduce = bad > patience
    old = state.scale * base
    new = jnp.maximum(old * factor, jnp.asarray(min_lr, old.dtype))
    scale = jnp.where(reduce & (old - new > eps), new / base, state.scale)
    return state.replace(
        scale=scale, best_value=best,
        plateau_count=jnp.where(reduce, 0, bad).astype(jnp.int32),
        cooldown_count=jnp.where(reduce, cooldown, cooldown_count).astype(jnp.int32))

  return plateau_transformation(
      fn, owner, observe, lambda: init_state(mode), accumulation_size=accumulation_size,
      axis_name=axis_name, value_in_update=value_in_update)


# The PyTorch class behind `to_torch`, built on first use: this module must
# import without PyTorch installed.
_TORCH_SCHEDULER_CLASS = None


def _config_json(schedule: Schedule) -> str | None:
  """The schedule's config as canonical JSON, or None if it has none."""
  import json

  from optax_scheds import _config

  try:
    return json.dumps(_config.to_config(schedule), sort_keys=True, allow_nan=False)
  except ValueError:
    return None


def _config_shown(config: str) -> str:
  """A saved config JSON as the text form of its schedule, where it reads back."""
  import json

  from optax_scheds import _config, _text

  try:
    return _text.to_text(_config.from_config(json.loads(config)))
  except (TypeError, ValueError):
    return config


def _torch_scheduler_class() -> type:
  global _TORCH_SCHEDULER_CLASS
  if _TORCH_SCHEDULER_CLASS is not None:
    return _TORCH_SCHEDULER_CLASS
  import torch

  def set_lr(group: dict, lr: float):
    if isinstance(group["lr"], torch.Tensor):  # a tensor lr (capturable optimizers)
      group["lr"].fill_(lr)
    else:
      group["lr"] = lr

  def lr_list(optimizer) -> list:
    return [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
            for g in optimizer.param_groups]

  class LRScheduler(torch.optim.lr_scheduler.LRScheduler):
    """optax_scheds schedules as a PyTorch scheduler; build it with
    :func:`optax_scheds.compat.torch.to_torch`."""

    def __init__(self, schedules: list[Schedule], optimizer):
      self._schedules = list(schedules)
      self._configs = None  # JSON per group, written on the first state_dict()
      for group, lr in zip(optimizer.param_groups, self._lrs(0), strict=True):
        group["initial_lr"] = lr
      super().__init__(optimizer)  # steps to last_epoch = 0: lr = schedule(0)

    def _lrs(self, step: int) -> list[float]:
      return [float(s(step)) for s in self._schedules]

    @property
    def schedules(self) -> list[Schedule]:
      """The native schedule of each param group."""
      return list(self._schedules)

    def get_lr(self) -> list[float]:
      return self._lrs(self.last_epoch)

    _get_closed_form_lr = get_lr  # the deprecated step(epoch) is closed form too

    def _schedule_configs(self) -> list:
      if self._configs is None:
        self._configs = [_config_json(s) for s in self._schedules]
      return self._configs

    def state_dict(self) -> dict[str, Any]:
      """The step count and lrs, and each group's schedule config as a JSON string
      (None without one), for ``load_state_dict`` to check against; no schedule
      objects, so ``torch.load(weights_only=True)`` reads it."""
      return {"last_epoch": self.last_epoch, "_step_count": self._step_count,
              "base_lrs": list(self.base_lrs), "_last_lr": list(self._last_lr),
              "schedule_configs": list(self._schedule_configs())}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
      """Resume at the saved step: ``last_epoch`` and every group's lr
      (``schedule(last_epoch)``), on the schedules given to ``to_torch``."""
      where = "`to_torch(...).load_state_dict(state_dict=...)`"
      if not isinstance(state_dict, dict) or not {"last_epoch", "schedule_configs"} <= set(
          state_dict):
        raise ValueError(f"{where} must be a dict from a to_torch scheduler's state_dict(), "
                         f"got state_dict={state_dict!r}.")
      saved, configs = state_dict["schedule_configs"], self._schedule_configs()
      if len(saved) != len(configs):
        raise ValueError(f"{where} holds {len(saved)} param groups' schedules, but this "
                         f"optimizer has {len(configs)} param groups.")
      for g, (old, new) in enumerate(zip(saved, configs, strict=True)):
        if old is not None and new is not None and old != new:
          raise ValueError(
              f"{where} was saved with another schedule for param group {g}: saved "
              f"{_config_shown(old)}, now {_config_shown(new)}. Pass to_torch the "
              "schedule the checkpoint was trained with.")
      self.last_epoch = int(state_dict["last_epoch"])
      self._step_count = int(state_dict.get("_step_count", self.last_epoch + 1))
      if "base_lrs" in state_dict:
        self.base_lrs = list(state_dict["base_lrs"])
      for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
        set_lr(group, lr)
      self._last_lr = lr_list(self.optimizer)

    def __repr__(self) -> str:
      schedules = self._schedules
      shown = repr(schedules[0]) if len(set(map(id, schedules))) == 1 else repr(schedules)
      return f"to_torch({shown}, last_epoch={self.last_epoch})"

  LRScheduler.__module__ = __name__
  LRScheduler.__qualname__ = "LRScheduler"
  _TORCH_SCHEDULER_CLASS = LRScheduler
  return LRScheduler


def to_torch(schedule: Schedule | Callable | Sequence[Schedule | Callable], optimizer) -> Any:
  r"""A PyTorch ``LRScheduler`` that sets ``optimizer``'s lr to ``schedule(k)``.

  .. math:: \mathrm{lr}_g \text{ after } k \text{ calls of } \texttt{step()} =
    \mathrm{schedule}_g(k)

  The convention of this module's ports, inverted: ``s(0)`` is the lr right
  after construction (PyTorch's ``last_epoch == 0``), so in the usual loop
  (``optimizer.step(); scheduler.step()``) the ``(k+1)``-th optimizer step
  uses ``s(k)``, the lr optax uses at ``count == k``. One schedule drives every
  param group; a list gives one schedule per group. Each ``step()`` evaluates
  the schedules eagerly with JAX on the Python integer ``last_epoch`` (each
  kind of schedule compiles once) and writes ``float(s(k))`` (the float32
  value) into ``param_groups[g]["lr"]`` (a tensor lr is filled in place);
  ``get_last_lr()`` reports the same.

  Construction writes ``s(0)`` into each group's ``"lr"`` and
  ``"initial_lr"``. ``state_dict()`` holds only Python numbers, lists and
  strings (``last_epoch``, ``_step_count``, ``base_lrs``, ``_last_lr`` and
  each group's schedule config as a JSON string, or None for a schedule
  without a config), so ``torch.save`` / ``torch.load(weights_only=True)``
  round-trip it. The schedules themselves are not saved: build the scheduler
  with the same schedules, then ``load_state_dict`` restores the step and sets
  every group's lr to ``s(last_epoch)``; it raises if a saved config differs
  from the schedule's (not checked where either has no config).

  Quirks: this scheduler is absolute (it ignores what other schedulers do to
  the lr), so chaining it with other PyTorch schedulers (``ChainedScheduler``,
  two schedulers on one optimizer) is not supported; compose the schedules
  natively instead (``tc.ChainedScheduler``, ``tc.SequentialLR``,
  ``osch.join``, arithmetic). Steps past ``2**31 - 1`` need
  ``jax_enable_x64``.

  Args:
    schedule: a :class:`~optax_scheds.Schedule` (or a callable ``step ->
      value`` traceable with ``jnp``) for every param group, or a list of them,
      one per param group. Each gives one lr (a scalar) per step.
    optimizer: a ``torch.optim.Optimizer``.

  Returns:
    A ``torch.optim.lr_scheduler.LRScheduler``; its ``schedules`` attribute
    lists the native schedule of each param group.

  Raises:
    TypeError: for a ``schedule`` that is not a schedule or one-argument
      callable, or an ``optimizer`` that is not a ``torch.optim.Optimizer``.
    ValueError: for a list whose length is not the number of param groups, or
      a schedule whose value is not a scalar; from ``load_state_dict``, for a
      state of another number of groups or saved with another schedule.

  Examples:
    >>> import torch
    >>> import optax_scheds as osch
    >>> from optax_scheds.compat import torch as tc
    >>> model = torch.nn.Linear(2, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    >>> scheduler = tc.to_torch(osch.warmup(osch.cosine_decay(0.1, 90), 10), optimizer)
    >>> lrs = []
    >>> for _ in range(56):
    ...   lrs.append(optimizer.param_groups[0]["lr"])
    ...   optimizer.step()
    ...   scheduler.step()
    >>> print(f"{lrs[0]:.3f} {lrs[10]:.3f} {lrs[55]:.3f}")
    0.000 0.100 0.050
  """
  fn = "to_torch"
  many = isinstance(schedule, list) or type(schedule) is tuple  # not a NamedTuple transform
  schedules = [_checks.check_scalar_schedule(
      fn, _checks.check_schedule(fn, "schedule", s),
      "Index the array parameter, or give one schedule per param group.")
      for s in (schedule if many else [schedule])]
  try:
    import torch
  except ImportError as e:
    raise ImportError("`to_torch` needs PyTorch (`pip install torch`).") from e
  if not isinstance(optimizer, torch.optim.Optimizer):
    _checks.fail(fn, "optimizer", "a torch.optim.Optimizer", optimizer, TypeError)
  groups = len(optimizer.param_groups)
  if many and len(schedules) != groups:
    _checks.fail(fn, "schedule", f"one schedule, or a list of {groups} (one per param "
                 f"group), not {len(schedules)}", schedule)
  return _torch_scheduler_class()(schedules if many else schedules * groups, optimizer)
