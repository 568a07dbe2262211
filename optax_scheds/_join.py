"""`join`: pieces one after another, O(log N) in the number of pieces.

Pieces of the same kind (same pytree structure and leaf shapes) are stacked
into one schedule whose leaves have a leading piece axis. A step picks its
piece with a binary search over the boundaries, then evaluates that piece's
kind once with the piece's gathered parameters. Program size grows with the
number of distinct kinds, not with the number of pieces.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optax_scheds import _checks
from optax_scheds._base import (
    Schedule,
    _short,
    as_int,
    host_array,
    locate,
    schedule_class,
)
from optax_scheds._registry import constructor


def _kind(schedule: Schedule):
  leaves, treedef = jax.tree.flatten(schedule)
  return treedef, tuple(_leaf_kind(x) for x in leaves)


def _leaf_kind(x):
  if type(x) is float:  # the common case, without NumPy
    return (), "f"
  if type(x) is int:
    return (), "i"
  return np.shape(x), np.result_type(x).kind


def _stack(xs):
  if _checks.is_concrete(xs) and not any(isinstance(x, jax.Array) for x in xs):
    return host_array(np.stack([np.asarray(x) for x in xs]))
  return jnp.stack([jnp.asarray(x) for x in xs])


def eval_stacked(stacked: Schedule, index: jax.Array, i: jax.Array, f):
  """Evaluates piece ``index`` of a stacked schedule at each step."""
  leaves, treedef = jax.tree.flatten(stacked)

  def one(k, ik, fk):
    piece = treedef.unflatten([jnp.asarray(leaf)[k] for leaf in leaves])
    return piece._value(ik, fk)

  if i.ndim == 0:  # one step (a train step, or inside jax.vmap): nothing to batch
    return one(index, i, f)
  out = jax.vmap(one)(index.ravel(), i.ravel(), None if f is None else f.ravel())
  return out.reshape(i.shape + out.shape[1:])


@schedule_class
class Join(Schedule):
  groups: tuple  # One stacked schedule per kind of piece.
  starts: jax.typing.ArrayLike  # (N,) first step of each piece; starts[0] = 0.
  group_of: jax.typing.ArrayLike  # (N,) which group holds each piece.
  index_in_group: jax.typing.ArrayLike  # (N,) its row in that group.

  def _value(self, i, f):
    starts = as_int(self.starts)
    k = locate(starts, i) - 1
    d = i - starts[k]
    row = jnp.asarray(self.index_in_group)[k]
    if len(self.groups) == 1:
      return eval_stacked(self.groups[0], row, d, f)
    group = jnp.asarray(self.group_of)[k]
    out = None
    for g, stacked in enumerate(self.groups):
      mine = group == g
      value = eval_stacked(stacked, jnp.where(mine, row, 0), d, f)
      out = value if out is None else jnp.where(mine, value, out)
    return out

  @property
  def schedules(self) -> list[Schedule]:
    """The pieces, unstacked."""
    return [
        jax.tree.map(lambda x, r=int(r): x[r].item()
                     if isinstance(x, np.ndarray) and x.ndim == 1 else x[r],
                     self.groups[int(g)])
        for g, r in zip(np.asarray(self.group_of), np.asarray(self.index_in_group))
    ]

  def _structural_repr(self):
    # Bounded for any number of pieces: JAX calls repr when jitting a schedule,
    # and unstacking 100_000 pieces into text would cost seconds.
    n = np.shape(self.starts)[0]
    if n > REPR_PIECES:
      return (f"join(<{n} pieces of {len(self.groups)} kind(s)>, "
              f"boundaries={_short(self.starts[1:])})")
    bounds = np.asarray(self.starts)[1:].tolist() if _checks.is_concrete(self.starts) \
        else "<traced>"
    return f"join(schedules={self.schedules!r}, boundaries={bounds})"


REPR_PIECES = 8  # joins with more pieces show a summary in their repr


@constructor
def join(
    schedules: Sequence[Schedule | Callable],
    boundaries: Sequence[int] | jax.typing.ArrayLike,
) -> Schedule:
  r"""Runs ``schedules[k]`` from ``boundaries[k-1]`` to ``boundaries[k]``.

  .. math::
    v(t) = s_k(t - b_k) \quad\text{for } b_k \le t < b_{k+1},
    \qquad b_0 = 0

  Each piece sees the step counted from its own boundary, and the new piece
  starts at ``t == b_k`` (``optax.join_schedules`` semantics). The piece is
  chosen with a binary search on integers, exact at any step; cost and program
  size do not grow with the number of pieces of the same kind. Plain callables
  (optax schedules included) are accepted, each as one opaque piece. The
  ``repr`` of a join of more than 8 pieces is a bounded summary.

  Args:
    schedules: ``N >= 1`` schedules or callables ``step -> value``.
    boundaries: ``N - 1`` non-negative, strictly increasing integer steps.
      Traced boundaries skip the value checks.

  Returns:
    A :class:`~optax_scheds.Schedule`.

  Raises:
    TypeError: if ``schedules`` is empty of schedules or ``boundaries`` is not
      a sequence of integers.
    ValueError: if the lengths mismatch, or boundaries are negative or not
      strictly increasing.

  Examples:
    >>> import optax_scheds as osch
    >>> s = osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 10)], [5])
    >>> print(f"{s(4):.1f} {s(5):.1f} {s(10):.1f} {s(15):.1f}")
    1.0 1.0 0.5 0.0
  """
  if isinstance(schedules, (Schedule, str)) or not isinstance(schedules, Sequence) \
      or not schedules:
    _checks.fail("join", "schedules", "a non-empty sequence of schedules", schedules,
                 TypeError)
  pieces = [_checks.check_schedule("join", f"schedules[{k}]", s)
            for k, s in enumerate(schedules)]
  boundaries = _checks.check_boundaries("join", "boundaries", boundaries)
  if len(boundaries) != len(schedules) - 1:
    raise ValueError(
        f"`join(boundaries=...)` must have one entry fewer than schedules, got "
        f"{len(schedules)} schedules and boundaries={_show(boundaries)}."
    )
  if len(pieces) == 1:
    return pieces[0]
  kinds: dict = {}
  group_of, index_in_group = [], []
  order: dict = {}
  for piece in pieces:
    kind = _kind(piece)
    members = kinds.setdefault(kind, [])
    group_of.append(order.setdefault(kind, len(order)))
    index_in_group.append(len(members))
    members.append(piece)
  groups = tuple(
      jax.tree.map(lambda *xs: _stack(xs), *members) for members in kinds.values()
  )
  if isinstance(boundaries, np.ndarray):
    starts = host_array(np.concatenate([[0], boundaries]).astype(np.int64))
  else:
    starts = jnp.concatenate([jnp.zeros((1,), boundaries.dtype), boundaries])
  return Join(groups, starts, host_array(group_of), host_array(index_in_group))


def _show(boundaries):
  return boundaries.tolist() if isinstance(boundaries, np.ndarray) else boundaries
