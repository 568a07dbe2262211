"""Plateau reduction: a stateful transformation scaling updates when a metric
stalls, and a readout of the effective learning rate from an optimizer state.

The compat ports (``compat.torch`` / ``compat.keras`` ``ReduceLROnPlateau``)
reuse this machinery with their own decision rule (``observe`` function).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_scheds import _checks
from optax_scheds._base import Schedule, as_schedule, float_dtype


class ReduceOnPlateauState(NamedTuple):
  """State of :func:`reduce_on_plateau` (field names as in optax.contrib)."""

  scale: jax.Array  # shape=(), dtype=float32 (float64 with x64): factor on updates
  best_value: jax.Array  # shape=(), dtype=float32: best metric seen (+-inf at start)
  plateau_count: jax.Array  # shape=(), dtype=int32: evaluations without improvement
  cooldown_count: jax.Array  # shape=(), dtype=int32: evaluations left in cooldown
  count: jax.Array  # shape=(), dtype=int32: values accumulated towards the next evaluation
  avg_value: jax.Array  # shape=(), dtype=float32: running mean of those values


def init_state(mode: str = "min") -> ReduceOnPlateauState:
  fdt = float_dtype()
  worst = np.inf if mode == "min" else -np.inf
  return ReduceOnPlateauState(
      scale=jnp.ones((), fdt),
      best_value=jnp.asarray(worst, fdt),
      plateau_count=jnp.zeros((), jnp.int32),
      cooldown_count=jnp.zeros((), jnp.int32),
      count=jnp.zeros((), jnp.int32),
      avg_value=jnp.zeros((), fdt),
  )


def improved(value, best, mode: str, rtol, atol) -> jax.Array:
  """Whether ``value`` beats ``best`` by more than the tolerances.

  min: ``value < best - rtol * |best| - atol``; max: ``value > best +
  rtol * |best| + atol``. Using ``|best|`` keeps the relative threshold right
  for negative metrics. Non-finite values never improve.
  """
  sign = 1 if mode == "min" else -1
  v, b = sign * value, sign * best
  # (1 - rtol) * b for b >= 0 is optax's form; it is b - rtol*|b| exactly.
  threshold = jnp.where(b >= 0, (1 - rtol) * b, (1 + rtol) * b) - atol
  threshold = jnp.where(jnp.isinf(b), b, threshold)
  return jnp.isfinite(value) & (v < threshold)


def _increment(count):
  return optax.safe_increment(count)


class PlateauTransformation(optax.GradientTransformationExtraArgs):
  """A ``GradientTransformationExtraArgs`` that also has :meth:`observe`.

  ``update(updates, state, params=None, *, value=...)`` observes ``value`` and
  multiplies the updates by the resulting scale. ``observe(opt_state, value)``
  feeds a metric outside the update (e.g. a validation loss once per epoch).
  """

  def observe(self, opt_state, value):
    """Observes ``value`` in every plateau state inside ``opt_state``.

    Jittable. Use it when the metric exists only at evaluation time: build the
    transformation with ``value_in_update=False``, train with plain
    ``update(grads, state, params)`` and call ``opt_state =
    plateau.observe(opt_state, val_loss)`` once per evaluation. The new scale
    applies from the next update on.

    Args:
      opt_state: the state of an optimizer containing this transformation (or
        this transformation's own state).
      value: the metric, a scalar.

    Returns:
      ``opt_state`` with its plateau state(s) updated.

    Raises:
      ValueError: if ``opt_state`` holds no plateau state.
    """
    return self.update.observe(opt_state, value)  # type: ignore[attr-defined]


def plateau_transformation(
    fn: str,
    observe: Callable[[ReduceOnPlateauState, jax.Array], ReduceOnPlateauState],
    init: Callable[[], ReduceOnPlateauState],
    *,
    accumulation_size: int = 1,
    axis_name: Any = None,
    value_in_update: bool = True,
) -> PlateauTransformation:
  """Wraps a decision rule ``observe(state, mean_value) -> state`` into a
  transformation: metric averaging over ``axis_name`` and over
  ``accumulation_size`` calls, the ``value=`` contract, update scaling."""

  def accumulate(state: ReduceOnPlateauState, value) -> ReduceOnPlateauState:
    value = jnp.asarray(value)
    if value.ndim != 0:
      raise ValueError(f"`{fn}` needs a scalar metric `value`, got shape {value.shape}.")
    value = value.astype(state.avg_value.dtype)
    if axis_name is not None:
      value = jax.lax.pmean(value, axis_name)
    count = _increment(state.count)
    mean = (state.count.astype(value.dtype) * state.avg_value + value) / count.astype(
        value.dtype)
    state = state._replace(count=count, avg_value=mean)
    full = count >= accumulation_size

    def evaluate(s):
      return observe(s, s.avg_value)._replace(
          count=jnp.zeros_like(s.count), avg_value=jnp.zeros_like(s.avg_value))

    return jax.lax.cond(full, evaluate, lambda s: s, state)

  def init_fn(params):
    del params
    return init()

  def update_fn(updates, state, params=None, *, value=None, **extra_args):
    del params, extra_args
    if value_in_update:
      if value is None:
        raise TypeError(
            f"`{fn}` needs the monitored metric at every update: call "
            "`update(updates, state, params, value=loss)` (optax.chain forwards "
            f"`value=`), or build it with `{fn}(..., value_in_update=False)` and "
            "feed the metric with `.observe(opt_state, value)`."
        )
      state = accumulate(state, value)
    elif value is not None:
      raise TypeError(
          f"`{fn}(value_in_update=False)` takes the metric through "
          "`.observe(opt_state, value)`, not `update(..., value=...)`."
      )
    scale = state.scale
    updates = jax.tree.map(lambda u: u * scale.astype(jnp.result_type(u)), updates)
    return updates, state

  def observe_tree(opt_state, value):
    found = []

    def visit(node):
      if isinstance(node, ReduceOnPlateauState):
        found.append(node)
        return accumulate(node, value)
      return node

    out = jax.tree.map(visit, opt_state, is_leaf=lambda x: isinstance(x, ReduceOnPlateauState))
    if not found:
      raise ValueError(f"`{fn}.observe(opt_state=...)` found no plateau state in opt_state.")
    return out

  update_fn.observe = observe_tree  # type: ignore[attr-defined]
  return PlateauTransformation(init_fn, update_fn)


def _check_tolerance(fn, name, x):
  x = _checks.check_value(fn, name, x)
  if _checks.is_concrete(x) and not np.all(np.asarray(x) >= 0):
    _checks.fail(fn, name, "non-negative", x)
  return x


def reduce_on_plateau(
    factor: float = 0.1,
    patience: int = 10,
    rtol: float = 1e-4,
    atol: float = 0.0,
    cooldown: int = 0,
    accumulation_size: int = 1,
    min_scale: float = 0.0,
    *,
    mode: str = "min",
    axis_name: Any = None,
    value_in_update: bool = True,
) -> PlateauTransformation:
  r"""Multiplies updates by a scale that drops by ``factor`` on plateaus.

  Chain it after an optimizer: ``optax.chain(optax.adamw(schedule),
  osch.reduce_on_plateau(...))`` gives an effective learning rate of
  ``schedule(step) * scale``. Every ``accumulation_size`` calls of
  ``update(..., value=v)`` the mean of the values is evaluated:

  .. math::
    \text{improved} \iff v < b - r|b| - a \quad(\text{min mode};
    \ v > b + r|b| + a \text{ in max mode})

  An improvement sets ``best = v`` and the bad count to 0; otherwise the bad
  count grows. During a cooldown the bad count is held at 0. When it reaches
  ``max(patience, 1)``: ``scale = max(scale * factor, min_scale)``, the bad
  count resets and the cooldown starts. The update that receives ``value=v``
  is already scaled by the scale that results from observing ``v``.

  A drop-in superset of ``optax.contrib.reduce_on_plateau`` (same names,
  defaults and scales for positive metrics and ``patience >= 1``). Beyond it:
  ``mode='max'``; ``patience=0`` reduces on every non-improving evaluation
  (optax reduces on every improving one); ``rtol=atol=0`` is allowed (any
  strict improvement counts); the relative threshold uses ``|best|`` so
  negative metrics work (optax and PyTorch's ``rel`` mode never reduce on
  them); NaN/inf values never improve nor touch ``best`` and count as bad
  evaluations; the state has fixed dtypes (the scale is float32, cast to each
  update's dtype), so bf16/fp16 params work under strict dtype promotion.

  Multi-device: with ``axis_name`` the metric is averaged over that mapped axis
  (``pmap``/``shard_map``), so every replica keeps the same scale (one
  replica's NaN makes the mean NaN everywhere, consistently: a bad evaluation
  on all replicas). Under ``jax.jit`` with sharded arrays a global scalar
  metric needs nothing.

  Args:
    factor: multiplier of the scale on a plateau, in (0, 1).
    patience: non-improving evaluations before a reduction, ``>= 0``.
    rtol: relative tolerance, ``>= 0``.
    atol: absolute tolerance, ``>= 0``.
    cooldown: evaluations after a reduction during which no plateau counts.
    accumulation_size: ``update`` calls averaged into one evaluation, ``>= 1``.
    min_scale: lower bound of the scale, in [0, 1].
    mode: ``'min'`` or ``'max'``: whether lower or higher metrics are better.
    axis_name: mapped axis name (or names) to average the metric over.
    value_in_update: if ``False``, ``update`` takes no ``value=`` and the
      metric is fed with ``.observe(opt_state, value)`` (validation metrics).

  Returns:
    A :class:`PlateauTransformation` (a ``GradientTransformationExtraArgs``
    with an ``observe`` method) whose state is a
    :class:`ReduceOnPlateauState`.

  Raises:
    ValueError: for ``factor`` outside (0, 1), negative ``patience``,
      ``cooldown`` or tolerances, ``accumulation_size < 1``, ``min_scale``
      outside [0, 1] or an unknown ``mode``.
    TypeError: for wrongly typed arguments, and from ``update`` when
      ``value=`` is missing.

  Examples:
    >>> import jax.numpy as jnp
    >>> import optax
    >>> import optax_scheds as osch
    >>> plateau = osch.reduce_on_plateau(factor=0.5, patience=2)
    >>> params = {"w": jnp.zeros(2)}
    >>> state = plateau.init(params)
    >>> for loss in [1.0, 1.0, 1.0, 1.0, 1.0]:
    ...   _, state = plateau.update(params, state, value=loss)
    >>> print(f"{state.scale:.2f}")
    0.25
  """
  fn = "reduce_on_plateau"
  factor = _checks.check_value(fn, "factor", factor)
  if not 0 < factor < 1:
    _checks.fail(fn, "factor", "in the open interval (0, 1)", factor)
  patience = _checks.check_static_int(fn, "patience", patience)
  cooldown = _checks.check_static_int(fn, "cooldown", cooldown)
  accumulation_size = _checks.check_static_int(fn, "accumulation_size", accumulation_size,
                                               minimum=1)
  rtol, atol = _check_tolerance(fn, "rtol", rtol), _check_tolerance(fn, "atol", atol)
  min_scale = _checks.check_value(fn, "min_scale", min_scale)
  if not 0 <= min_scale <= 1:
    _checks.fail(fn, "min_scale", "in [0, 1]", min_scale)
  _checks.check_choice(fn, "mode", mode, ("min", "max"))
  if not isinstance(value_in_update, bool):
    _checks.fail(fn, "value_in_update", "a bool", value_in_update, TypeError)

  def observe(state: ReduceOnPlateauState, value) -> ReduceOnPlateauState:
    better = improved(value, state.best_value, mode, rtol, atol)
    best = jnp.where(better, value, state.best_value)
    bad = jnp.where(better, jnp.zeros_like(state.plateau_count),
                    _increment(state.plateau_count))
    cooling = state.cooldown_count > 0
    reduce = ~cooling & (bad >= max(patience, 1))
    scale = jnp.where(reduce, state.scale * factor, state.scale)
    return state._replace(
        scale=jnp.where(cooling, state.scale,
                        jnp.maximum(scale, jnp.asarray(min_scale, scale.dtype))),
        best_value=best,
        plateau_count=jnp.where(cooling | reduce, jnp.zeros_like(bad), bad),
        cooldown_count=jnp.where(
            cooling, state.cooldown_count - 1,
            jnp.where(reduce, jnp.int32(cooldown), jnp.int32(0))),
    )

  return plateau_transformation(
      fn, observe, lambda: init_state(mode), accumulation_size=accumulation_size,
      axis_name=axis_name, value_in_update=value_in_update)


def _nodes(tree, types):
  leaves = jax.tree.leaves(tree, is_leaf=lambda x: isinstance(x, types))
  return [x for x in leaves if isinstance(x, types)]


_PLATEAU_TYPES = (ReduceOnPlateauState, optax.contrib.ReduceLROnPlateauState)


def learning_rate(schedule: Schedule | Callable | float, opt_state, *, step=None) -> jax.Array:
  r"""The learning rate the next update will use, for logging.

  .. math:: \mathrm{lr} = \mathrm{schedule}(k) \cdot \prod \mathrm{scale}

  where ``k`` is the number of updates applied so far (the count in the
  ``ScaleByScheduleState`` that ``optax.adamw(schedule)`` and friends keep)
  and the product runs over the plateau states in ``opt_state`` (ours, the
  compat ports' and ``optax.contrib.reduce_on_plateau``'s). It reports the
  *next* update's learning rate, given no new metric is observed: after
  ``k`` updates the next one uses ``schedule(k)``. Jittable.

  Args:
    schedule: the schedule (or constant learning rate) given to the optimizer.
    opt_state: the optimizer state.
    step: the update count, if ``opt_state`` holds no ``ScaleByScheduleState``
      (e.g. the optimizer got a constant learning rate).

  Returns:
    A scalar float ``jax.Array``.

  Raises:
    ValueError: if ``step`` is not given and ``opt_state`` holds no
      ``ScaleByScheduleState``.

  Examples:
    >>> import jax.numpy as jnp
    >>> import optax
    >>> import optax_scheds as osch
    >>> schedule = osch.linear(1.0, 0.0, transition_steps=10)
    >>> opt = optax.chain(optax.sgd(schedule), osch.reduce_on_plateau())
    >>> params = {"w": jnp.zeros(2)}
    >>> state = opt.init(params)
    >>> _, state = opt.update(params, state, params, value=1.0)
    >>> print(f"{osch.learning_rate(schedule, state):.2f}")
    0.90
  """
  if step is None:
    counts = _nodes(opt_state, optax.ScaleByScheduleState)
    if not counts:
      raise ValueError(
          "`learning_rate(opt_state=...)` holds no ScaleByScheduleState (was the "
          "optimizer given a schedule?): pass the update count as `step=`.")
    step = counts[0].count
  lr = as_schedule(schedule)(step)
  for node in _nodes(opt_state, _PLATEAU_TYPES):
    lr = lr * jnp.asarray(node.scale).astype(lr.dtype)
  return lr
