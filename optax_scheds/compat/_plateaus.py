"""The PyTorch and Keras ``ReduceLROnPlateau`` decision rules, run by the
native plateau machinery (``optax_scheds._plateau``): metric plumbing,
``value=`` contract, ``observe``, update scaling and the state type are shared.

Both keep the learning rate as ``scale = lr / base_lr`` in a
:class:`~optax_scheds.ReduceOnPlateauState`, so ``osch.learning_rate`` reads
them like the native transformation.
"""

from typing import Any

import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._plateau import (
    PlateauTransformation,
    ReduceOnPlateauState,
    init_state,
    plateau_transformation,
)


def _base_lr(fn, lr):
  lr = _checks.check_value(fn, "lr", lr)
  if not (_checks.is_concrete(lr) and np.ndim(lr) == 0 and lr > 0):
    _checks.fail(fn, "lr", "a positive number", lr)
  return float(lr)


def _non_negative(fn, name, x):
  x = _checks.check_value(fn, name, x)
  if not x >= 0:
    _checks.fail(fn, name, "non-negative", x)
  return float(x)


def _shared(fn, factor, patience, cooldown):
  """The arguments both ports check alike: factor in [0, 1), counts >= 0."""
  factor = _non_negative(fn, "factor", factor)
  if not factor < 1:
    _checks.fail(fn, "factor", "< 1.0", factor)
  return (factor, _checks.check_static_int(fn, "patience", patience),
          _checks.check_static_int(fn, "cooldown", cooldown))


def torch_reduce_lr_on_plateau(
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
    axis_name: Any = None,
) -> PlateauTransformation:
  r"""PyTorch's ``ReduceLROnPlateau``, step for step, as an optax transformation.

  Chain it after an optimizer built with the same base learning rate:
  ``optax.chain(optax.sgd(lr), ReduceLROnPlateau(lr, ...))``. One
  ``update(..., value=v)`` is one ``scheduler.step(v)``; the updates are
  multiplied by ``current_lr / lr``, where ``current_lr`` is what PyTorch's
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
    axis_name: mapped axis to average the metric over (an extension).

  Returns:
    A :class:`~optax_scheds.PlateauTransformation`.

  Raises:
    ValueError: for out-of-range arguments or an unknown mode.
    TypeError: from ``update`` when ``value=`` is missing.

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
  """
  fn = "ReduceLROnPlateau"
  base = _base_lr(fn, lr)
  _checks.check_choice(fn, "mode", mode, ("min", "max"))
  _checks.check_choice(fn, "threshold_mode", threshold_mode, ("rel", "abs"))
  factor, patience, cooldown = _shared(fn, factor, patience, cooldown)
  threshold = _non_negative(fn, "threshold", threshold)
  min_lr, eps = _non_negative(fn, "min_lr", min_lr), _non_negative(fn, "eps", eps)

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
    return state._replace(
        scale=scale, best_value=best,
        plateau_count=jnp.where(reduce, 0, bad).astype(jnp.int32),
        cooldown_count=jnp.where(reduce, cooldown, cooldown_count).astype(jnp.int32))

  return plateau_transformation(fn, observe, lambda: init_state(mode), axis_name=axis_name)


def keras_reduce_lr_on_plateau(
    initial_learning_rate: float,
    factor: float = 0.1,
    patience: int = 10,
    mode: str = "auto",
    min_delta: float = 1e-4,
    cooldown: int = 0,
    min_lr: float = 0.0,
    *,
    axis_name: Any = None,
) -> PlateauTransformation:
  r"""Keras' ``ReduceLROnPlateau`` callback, epoch for epoch, as a transformation.

  Chain it after an optimizer built with ``initial_learning_rate``. One
  ``update(..., value=v)`` is one ``on_epoch_end`` with metric ``v``; the
  updates are multiplied by ``lr / initial_learning_rate``, with ``lr`` the
  optimizer's learning rate right after that call. Per call, in Keras' order:
  a cooldown counts down first (``wait = 0``); then if
  ``v - \delta`` beats ``best`` (min: ``v + |\delta| < best``; max:
  ``v - |\delta| > best``; the first value always does): ``best = v``,
  ``wait = 0``; else, out of cooldown, ``wait += 1`` and at ``wait >=
  patience``, if ``lr > min_lr``: ``lr = max(lr * factor, min_lr)``, the
  cooldown restarts and ``wait = 0``.

  Quirks reproduced: it reduces on the ``patience``-th bad epoch (PyTorch one
  later); the cooldown is checked before the improvement; the threshold is
  absolute only. ``mode='auto'`` means ``'min'`` (the metric is a loss);
  an unknown mode raises (Keras warns and falls back to ``'auto'``). Keras
  cannot combine this callback with a ``LearningRateSchedule``; here
  :func:`optax_scheds.reduce_on_plateau` chained after a scheduled optimizer
  does.

  Args:
    initial_learning_rate: the optimizer's learning rate, ``> 0``.
    factor: multiplier of the lr, in [0, 1).
    patience: bad epochs before a reduction, ``>= 0``.
    mode: ``'auto'``, ``'min'`` or ``'max'``.
    min_delta: absolute improvement threshold (its sign is ignored, as Keras).
    cooldown: epochs to wait after a reduction, ``>= 0``.
    min_lr: lower bound of the lr, ``>= 0``.
    axis_name: mapped axis to average the metric over (an extension).

  Returns:
    A :class:`~optax_scheds.PlateauTransformation`.

  Raises:
    ValueError: for ``factor >= 1``, negative counts or an unknown mode.
    TypeError: from ``update`` when ``value=`` is missing.

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
  """
  fn = "ReduceLROnPlateau"
  base = _base_lr(fn, initial_learning_rate)
  _checks.check_choice(fn, "mode", mode, ("auto", "min", "max"))
  mode = "max" if mode == "max" else "min"
  factor, patience, cooldown = _shared(fn, factor, patience, cooldown)
  delta = abs(float(_checks.check_value(fn, "min_delta", min_delta)))
  min_lr = _non_negative(fn, "min_lr", min_lr)

  def init():
    # plateau_count = -1 marks Keras' `best = None`: the first value improves.
    return init_state(mode)._replace(plateau_count=jnp.asarray(-1, jnp.int32))

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
    return state._replace(
        scale=jnp.where(reduce, new / base, state.scale),
        best_value=jnp.where(improved, value, state.best_value),
        plateau_count=jnp.where(reduce, 0, wait).astype(jnp.int32),
        cooldown_count=jnp.where(reduce, cooldown, cooldown_count).astype(jnp.int32))

  return plateau_transformation(fn, observe, init, axis_name=axis_name)


