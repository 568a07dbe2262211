"""Plateau reduction: a stateful transformation scaling updates when a metric
stalls, and a readout of the effective learning rate from an optimizer state.

The compat ports (``compat.torch`` / ``compat.keras`` ``ReduceLROnPlateau``)
reuse this machinery with their own decision rule (``observe`` function) and
the argument checks they share. Each transformation's state is a subclass of
:class:`ReduceOnPlateauState` named by the transformation's arguments, so the
pytree structure tells whose state is whose, under ``jit`` and after a restore.
"""

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_scheds import _checks, _registry
from optax_scheds._base import Schedule, as_schedule, float_dtype, select
from optax_scheds._registry import constructor


class ReduceOnPlateauState(NamedTuple):
  """State of :func:`reduce_on_plateau` and the plateau ports.

  Three leaves: the ``scale`` on the updates (a field, as in
  ``optax.contrib``, so ``optax.tree_utils.tree_get(state, "scale")`` finds
  it), the float ``values`` ``[best_value, avg_value]`` and the int32
  ``counts`` ``[plateau_count, cooldown_count, count]``. Every leaf of an
  optimizer state is one more buffer in and out of each jitted step (about
  1.5 us on a CPU), so the six scalars of ``optax.contrib``'s state are
  packed into three; they read as properties of the same names
  (``state.best_value``, ``state.plateau_count``, ...), and :meth:`replace`
  returns a state with some of them changed.

  Each transformation's state is an instance of a subclass (also named
  ``ReduceOnPlateauState``) whose class attribute ``owner`` is a string made of
  the transformation's public name and arguments. The subclass is part of the
  pytree structure, so :meth:`PlateauTransformation.observe` finds its own
  state under ``jit``, and a new process that builds the same transformation
  gets the same structure to restore a checkpoint into. ``owner`` is ``None``
  on this base class.
  """

  scale: jax.Array  # shape=(), dtype=float32 (float64 with x64): factor on updates
  values: jax.Array  # shape=(2,), the scale's dtype: best_value, avg_value
  counts: jax.Array  # shape=(3,), dtype=int32: plateau_count, cooldown_count, count

  owner = None

  # The packed entries, by name; `[..., i]` so that a state stacked over
  # devices (pmap) reads per device.
  @property
  def best_value(self) -> jax.Array:
    """The best metric seen (``+inf`` at the start in min mode, ``-inf`` in max)."""
    return self.values[..., 0]

  @property
  def avg_value(self) -> jax.Array:
    """The running mean of the values accumulated towards the next evaluation."""
    return self.values[..., 1]

  @property
  def plateau_count(self) -> jax.Array:
    """Evaluations without improvement."""
    return self.counts[..., 0]

  @property
  def cooldown_count(self) -> jax.Array:
    """Evaluations left in the cooldown."""
    return self.counts[..., 1]

  @property
  def count(self) -> jax.Array:  # type: ignore[override]  # tuple.count
    """Values accumulated towards the next evaluation."""
    return self.counts[..., 2]

  def replace(self, **entries) -> "ReduceOnPlateauState":
    """This state with the named entries (``scale``, ``best_value``,
    ``avg_value``, ``plateau_count``, ``cooldown_count``, ``count``) replaced,
    each cast to its leaf's dtype (the counts must be integers).

    Raises:
      TypeError: for an unknown entry or a count that is not an integer.
    """
    unknown = sorted(set(entries) - {"scale", *_VALUES, *_COUNTS})
    if unknown:
      raise TypeError(f"`ReduceOnPlateauState.replace` got unknown entries {unknown}; "
                      f"the entries are scale, {', '.join(_VALUES + _COUNTS)}.")

    for n in _COUNTS:  # a count cast from a float would be truncated silently
      if n in entries and not jnp.issubdtype(jnp.result_type(entries[n]), jnp.integer):
        raise TypeError(f"`ReduceOnPlateauState.replace` needs an integer {n}, got "
                        f"{n}={entries[n]!r}.")

    def pack(leaf, names):
      if not any(n in entries for n in names):
        return leaf
      return jnp.stack([jnp.asarray(entries[n]).astype(leaf.dtype) if n in entries
                        else getattr(self, n) for n in names], axis=-1)

    scale = entries.get("scale", self.scale)
    return self._replace(scale=jnp.asarray(scale).astype(self.scale.dtype),
                         values=pack(self.values, _VALUES), counts=pack(self.counts, _COUNTS))

  def __repr__(self) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("scale", *_VALUES, *_COUNTS))
    return f"ReduceOnPlateauState({shown})"


_VALUES = ("best_value", "avg_value")
_COUNTS = ("plateau_count", "cooldown_count", "count")


# One subclass per owner string and process: jax compares namedtuple types by
# identity, so the same owner must always map to the same class.
_STATE_TYPES: dict[str, type[ReduceOnPlateauState]] = {}


def _state_type(owner: str) -> type[ReduceOnPlateauState]:
  cls = _STATE_TYPES.get(owner)
  if cls is None:
    cls = type("ReduceOnPlateauState", (ReduceOnPlateauState,),
               {"__slots__": (), "__module__": __name__, "owner": owner,
                "__reduce__": _reduce_owned_state})
    cls = _STATE_TYPES.setdefault(owner, cls)
  return cls


def _reduce_owned_state(state):
  # pickle would look the dynamic class up by name and find the base class.
  return _owned_state, (type(state).owner, tuple(state))


def _owned_state(owner: str, fields) -> ReduceOnPlateauState:
  return _state_type(owner)(*fields)


def owner_of(fn: str, **arguments) -> str:
  """A transformation's identity: its public name and arguments, written
  deterministically (no object ids), so another process derives the same."""

  def show(x):
    if isinstance(x, (np.ndarray, np.generic, jax.Array)):
      return repr(np.asarray(x).tolist())
    return repr(x)

  return f"{fn}(" + ", ".join(f"{k}={show(v)}" for k, v in arguments.items()) + ")"


def init_state(mode: str = "min") -> ReduceOnPlateauState:
  fdt = float_dtype()
  worst = np.inf if mode == "min" else -np.inf
  return ReduceOnPlateauState(
      scale=jnp.ones((), fdt),
      values=jnp.asarray([worst, 0.0], fdt),
      counts=jnp.zeros((3,), jnp.int32),
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

  def __repr__(self) -> str:
    from optax_scheds import _text

    text = _text.short_text(self) if _registry.call_of(self) is not None else None
    return text or f"{type(self).__name__}(...)"

  def observe(self, opt_state, value):
    """Observes ``value`` in this transformation's state inside ``opt_state``.

    Jittable. Use it when the metric exists only at evaluation time: build the
    transformation with ``value_in_update=False``, train with plain
    ``update(grads, state, params)`` and call ``opt_state =
    plateau.observe(opt_state, val_loss)`` once per evaluation. The new scale
    applies from the next update on. Other plateau states in ``opt_state``
    (other transformations, whose owner differs) are left untouched.

    Args:
      opt_state: the state of an optimizer containing this transformation (or
        this transformation's own state).
      value: the metric, a scalar.

    Returns:
      ``opt_state`` with this transformation's state updated.

    Raises:
      ValueError: if ``opt_state`` holds no state of this transformation, or
        several that cannot be told apart (transformations built with identical
        arguments: give them distinct ``name=``).
    """
    return self.update.observe(opt_state, value)  # type: ignore[attr-defined]


def plateau_transformation(
    fn: str,
    owner: str,
    observe: Callable[[ReduceOnPlateauState, jax.Array], ReduceOnPlateauState],
    init: Callable[[], ReduceOnPlateauState],
    *,
    accumulation_size: int = 1,
    axis_name: Any = None,
    value_in_update: bool = True,
) -> PlateauTransformation:
  """Wraps a decision rule ``observe(state, mean_value) -> state`` into a
  transformation: metric averaging over ``axis_name`` and over
  ``accumulation_size`` values, the ``value=`` contract, update scaling, and
  an ``observe`` that finds the state of ``owner`` (from :func:`owner_of`).
  ``fn`` is the public name errors show."""
  state_type = _state_type(owner)

  def is_own(x) -> bool:
    return isinstance(x, ReduceOnPlateauState) and type(x).owner == owner

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
    state = state.replace(count=count, avg_value=mean)
    full = count >= accumulation_size

    evaluated = observe(state, state.avg_value).replace(count=0, avg_value=0)
    # Selects, not lax.cond: the decision is a few scalar ops, and XLA's CPU
    # runtime runs a conditional as its own sequence of small kernels, a few
    # microseconds a step. `observe` is pure, so evaluating it on a state that
    # is not full and discarding the result changes nothing.
    return jax.tree.map(lambda new, old: select(full, new, old), evaluated, state)

  def init_fn(params):
    del params
    return state_type(*init())

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
    # With value_in_update=False the metric comes through observe; a value=
    # that optax.chain forwards to every transformation is another one's.
    scale = state.scale
    updates = jax.tree.map(lambda u: u * scale.astype(jnp.result_type(u)), updates)
    return updates, state

  def observe_tree(opt_state, value):
    call = f"`{fn}(...).observe(opt_state=...)`"
    states = jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, ReduceOnPlateauState))
    states = [x for x in states if isinstance(x, ReduceOnPlateauState)]
    own = sum(map(is_own, states))
    if own > 1:
      raise ValueError(
          f"{call} found {own} plateau states built with identical arguments and cannot "
          "tell which is its own: give each transformation a distinct `name=`, e.g. "
          f"`{fn}(..., name='val_loss')`.")
    if not own:
      others = len(states)
      raise ValueError(
          f"{call} found no state of this transformation in opt_state (it holds {others} "
          f"other plateau state{'' if others == 1 else 's'}). Pass the state of an "
          "optimizer that contains this very transformation (or one built with the same "
          "arguments); restore checkpoints into the structure of `optimizer.init(params)`. "
          f"This transformation is {owner}.")
    return jax.tree.map(lambda x: accumulate(x, value) if is_own(x) else x, opt_state,
                        is_leaf=is_own)

  update_fn.observe = observe_tree  # type: ignore[attr-defined]
  return PlateauTransformation(init_fn, update_fn)


# Argument checks shared by reduce_on_plateau and the compat ports.


def check_count(fn: str, name: str, x, unit: str, *, minimum: int = 0) -> int:
  """A concrete whole number of ``unit`` (e.g. evaluations), ``>= minimum``;
  integral floats such as ``5.0`` are accepted as the integer they denote."""
  if not _checks.is_concrete(x):
    _checks.fail(fn, name, "a concrete integer (it fixes the structure)", x, TypeError)
  is_array = isinstance(x, (np.ndarray, np.generic, jax.Array))
  if (isinstance(x, (bool, np.bool_)) or np.ndim(x) != 0
      or not (isinstance(x, numbers.Real) or is_array and np.asarray(x).dtype.kind in "iuf")):
    _checks.fail(fn, name, f"an integer number of {unit}", x, TypeError)
  if not float(x).is_integer():
    _checks.fail(fn, name, f"a whole number of {unit}", x)
  if x < minimum:
    _checks.fail(fn, name, {0: "non-negative", 1: "positive"}.get(minimum, f">= {minimum}"),
                 x)
  if x > np.iinfo(np.int32).max:
    _checks.fail(fn, name, f"at most {np.iinfo(np.int32).max}", x)
  return int(x)


def check_monitoring(fn: str, accumulation_size, value_in_update, name) -> int:
  """The options every plateau transformation has; returns accumulation_size."""
  accumulation_size = check_count(fn, "accumulation_size", accumulation_size, "values",
                                  minimum=1)
  if not isinstance(value_in_update, bool):
    _checks.fail(fn, "value_in_update", "a bool", value_in_update, TypeError)
  if name is not None and not isinstance(name, str):
    _checks.fail(fn, "name", "a string or None", name, TypeError)
  return accumulation_size


def check_non_negative(fn: str, name: str, x) -> float:
  """A concrete number ``>= 0``, as a Python float (it is closed over)."""
  x = _checks.check_value(fn, name, x)
  if not (_checks.is_concrete(x) and np.ndim(x) == 0):
    _checks.fail(fn, name, "a concrete scalar", x, TypeError)
  if not x >= 0:
    _checks.fail(fn, name, "non-negative", x)
  return float(x)


def check_base_lr(fn: str, name: str, lr) -> float:
  """The base learning rate of a port: a concrete number ``> 0``."""
  lr = _checks.check_value(fn, name, lr)
  if not (_checks.is_concrete(lr) and np.ndim(lr) == 0 and lr > 0):
    _checks.fail(fn, name, "a positive number", lr)
  return float(lr)


def check_port_factor(fn: str, factor) -> float:
  """A port's ``factor``: in [0, 1), as PyTorch and Keras accept."""
  factor = check_non_negative(fn, "factor", factor)
  if not factor < 1:
    _checks.fail(fn, "factor", "< 1.0", factor)
  return factor


def _check_tolerance(fn, name, x):
  x = _checks.check_value(fn, name, x)
  if _checks.is_concrete(x) and not np.all(np.asarray(x) >= 0):
    _checks.fail(fn, name, "non-negative", x)
  return x


@constructor
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
    name: str | None = None,
) -> PlateauTransformation:
  r"""Multiplies updates by a scale that drops by ``factor`` on plateaus.

  Chain it after an optimizer: ``optax.chain(optax.adamw(schedule),
  osch.reduce_on_plateau(...))`` gives an effective learning rate of
  ``schedule(step) * scale``. Every ``accumulation_size`` values (one per
  ``update(..., value=v)``, or per ``observe`` call) the mean of the values
  is evaluated:

  .. math::
    \text{improved} \iff v < b - r|b| - a \quad(\text{min mode};
    \ v > b + r|b| + a \text{ in max mode})

  An improvement sets ``best = v`` and the bad count to 0; otherwise the bad
  count grows. During a cooldown the bad count is held at 0. When it reaches
  ``max(patience, 1)``: ``scale = max(scale * factor, min_scale)``, the bad
  count resets and the cooldown starts. The update that receives ``value=v``
  is already scaled by the scale that results from observing ``v``.

  Two ways to feed the metric: ``value_in_update=True`` (default) takes it as
  ``update(..., value=v)`` at every update (a training loss); with
  ``value_in_update=False`` ``update`` ignores any ``value=`` (``optax.chain``
  forwards it to every transformation, so a training-loss plateau and this one
  can share a chain) and the metric is fed with ``observe(opt_state, v)``,
  e.g. a validation metric once per epoch. ``observe`` updates this
  transformation's state only; two transformations built with identical
  arguments in one optimizer need distinct ``name=`` for it to tell them apart.

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
    accumulation_size: values averaged into one evaluation, ``>= 1``: one per
      ``update`` (or per ``observe`` call with ``value_in_update=False``, e.g.
      the losses of the validation batches).
    min_scale: lower bound of the scale, in [0, 1].
    mode: ``'min'`` or ``'max'``: whether lower or higher metrics are better.
    axis_name: mapped axis name (or names) to average the metric over.
    value_in_update: if ``False``, ``update`` needs no ``value=`` and ignores
      one, and the metric is fed with ``.observe(opt_state, value)``
      (validation metrics).
    name: a label that only tells this transformation's state apart from that
      of another one built with the same arguments (for ``observe``).

  Returns:
    A :class:`PlateauTransformation` (a ``GradientTransformationExtraArgs``
    with an ``observe`` method) whose state is a
    :class:`ReduceOnPlateauState`.

  Raises:
    ValueError: for ``factor`` outside (0, 1), negative or fractional
      ``patience`` or ``cooldown``, negative tolerances, ``accumulation_size <
      1``, ``min_scale`` outside [0, 1] or an unknown ``mode``.
    TypeError: for wrongly typed arguments, and from ``update`` when
      ``value=`` is missing and ``value_in_update=True``.

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

    A validation metric, fed once per epoch next to a training-loss plateau:

    >>> val = osch.reduce_on_plateau(factor=0.1, patience=1, mode="max",
    ...                              value_in_update=False)
    >>> opt = optax.chain(optax.sgd(0.1), osch.reduce_on_plateau(), val)
    >>> state = opt.init(params)
    >>> _, state = opt.update(params, state, params, value=1.0)  # training loss
    >>> for accuracy in [0.8, 0.7]:
    ...   state = val.observe(state, accuracy)
    >>> print(f"{state[1].scale:.2f} {state[2].scale:.2f}")
    1.00 0.10
  """
  fn = "reduce_on_plateau"
  factor = _checks.check_value(fn, "factor", factor)
  if not 0 < factor < 1:
    _checks.fail(fn, "factor", "in the open interval (0, 1)", factor)
  patience = check_count(fn, "patience", patience, "evaluations")
  cooldown = check_count(fn, "cooldown", cooldown, "evaluations")
  rtol, atol = _check_tolerance(fn, "rtol", rtol), _check_tolerance(fn, "atol", atol)
  min_scale = _checks.check_value(fn, "min_scale", min_scale)
  if not 0 <= min_scale <= 1:
    _checks.fail(fn, "min_scale", "in [0, 1]", min_scale)
  _checks.check_choice(fn, "mode", mode, ("min", "max"))
  accumulation_size = check_monitoring(fn, accumulation_size, value_in_update, name)
  owner = owner_of(fn, factor=factor, patience=patience, rtol=rtol, atol=atol,
                   cooldown=cooldown, accumulation_size=accumulation_size,
                   min_scale=min_scale, mode=mode, axis_name=axis_name,
                   value_in_update=value_in_update, name=name)

  def observe(state: ReduceOnPlateauState, value) -> ReduceOnPlateauState:
    better = improved(value, state.best_value, mode, rtol, atol)
    best = jnp.where(better, value, state.best_value)
    bad = jnp.where(better, jnp.zeros_like(state.plateau_count),
                    _increment(state.plateau_count))
    cooling = state.cooldown_count > 0
    reduce = ~cooling & (bad >= max(patience, 1))
    scale = jnp.where(reduce, state.scale * factor, state.scale)
    return state.replace(
        scale=jnp.where(cooling, state.scale,
                        jnp.maximum(scale, jnp.asarray(min_scale, scale.dtype))),
        best_value=best,
        plateau_count=jnp.where(cooling | reduce, jnp.zeros_like(bad), bad),
        cooldown_count=jnp.where(
            cooling, state.cooldown_count - 1,
            jnp.where(reduce, jnp.int32(cooldown), jnp.int32(0))),
    )

  return plateau_transformation(
      fn, owner, observe, lambda: init_state(mode), accumulation_size=accumulation_size,
      axis_name=axis_name, value_in_update=value_in_update)


def _nodes(tree, types):
  leaves = jax.tree.leaves(tree, is_leaf=lambda x: isinstance(x, types))
  return [x for x in leaves if isinstance(x, types)]


_PLATEAU_TYPES = (ReduceOnPlateauState, optax.contrib.ReduceLROnPlateauState)
# States that count the updates applied: optax.adamw(schedule) and friends keep
# a ScaleByScheduleState; optax.inject_hyperparams keeps its own count (its
# `hyperparams` hold the lr of the *last* update, not of the next one).
_COUNT_TYPES = (
    (optax.ScaleByScheduleState,),
    tuple(getattr(optax, t) for t in ("InjectStatefulHyperparamsState", "InjectHyperparamsState")
          if hasattr(optax, t)),
)


def learning_rate(schedule: Schedule | Callable | float, opt_state, *, step=None) -> jax.Array:
  r"""The learning rate the next update will use, for logging.

  .. math:: \mathrm{lr} = \mathrm{schedule}(k) \cdot \prod \mathrm{scale}

  where ``k`` is the number of updates applied so far (the count in the
  ``ScaleByScheduleState`` that ``optax.adamw(schedule)`` and friends keep, or
  in the state of ``optax.inject_hyperparams(...)(learning_rate=schedule)``)
  and the product runs over the plateau states in ``opt_state`` (ours, the
  compat ports' and ``optax.contrib.reduce_on_plateau``'s). It reports the
  *next* update's learning rate, given no new metric is observed: after
  ``k`` updates the next one uses ``schedule(k)``. A constant learning rate
  (a number) needs no count. Jittable.

  Args:
    schedule: the schedule (or constant learning rate) given to the optimizer.
    opt_state: the optimizer state.
    step: the update count, for an ``opt_state`` that keeps none (neither a
      ``ScaleByScheduleState`` nor an ``inject_hyperparams`` state).

  Returns:
    A scalar float ``jax.Array``.

  Raises:
    TypeError: if ``schedule`` is neither callable nor a number.
    ValueError: if ``schedule`` is callable, ``step`` is not given and
      ``opt_state`` keeps no update count.

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
    >>> opt = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
    >>> state = opt.init(params)
    >>> _, state = opt.update(params, state, params)
    >>> print(f"{osch.learning_rate(schedule, state):.2f}")
    0.90
  """
  fn = "learning_rate"
  if callable(schedule):
    if step is None:
      step = _update_count(opt_state)
    lr = as_schedule(schedule)(step)
  else:
    if isinstance(schedule, bool) or not isinstance(
        schedule, (numbers.Real, np.ndarray, np.generic, jax.Array)):
      _checks.fail(fn, "schedule", "a schedule (a callable of the step) or a number",
                   schedule, TypeError)
    # A constant: the step cannot matter.
    lr = as_schedule(_checks.check_value(fn, "schedule", schedule))(0)
  for node in _nodes(opt_state, _PLATEAU_TYPES):
    lr = lr * jnp.asarray(node.scale).astype(lr.dtype)
  return lr


def _update_count(opt_state) -> jax.Array:
  for types in _COUNT_TYPES:
    nodes = _nodes(opt_state, types)
    if nodes:
      return nodes[0].count
  raise ValueError(
      "`learning_rate(opt_state=...)` holds no update count (no ScaleByScheduleState, as "
      "`optax.adamw(schedule)` keeps, and no `optax.inject_hyperparams` state): pass the "
      "number of updates applied so far as `step=`.")
