"""The learning-rate range test (Smith's test; fastai's ``lr_find``).

The learning rate grows geometrically, one update per batch, through one
jitted training step that takes the schedule as an argument (it compiles once).
The host keeps a bias-corrected moving average of the losses, stops pulling
batches once it diverges, and the result reads a learning rate off that curve.
"""

import bisect
import dataclasses
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_scheds import _checks
from optax_scheds._primitives import table

_METHODS = ("steepest", "minimum", "valley")


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LRRangeTestResult:
  r"""What :func:`lr_range_test` recorded, and the learning rates it suggests.

  ``lrs``, ``losses`` (smoothed) and ``raw_losses`` are read-only float64
  NumPy arrays, one entry per step actually run: ``raw_losses[k]`` is the loss
  of batch ``k`` at the parameters before update ``k``, the update that uses
  ``lrs[k]`` (the convention of fastai and Lightning: the loss of a learning
  rate shows from the next entry on).

  **The curve the suggestions read.** The first ``num_steps // 10`` steps
  (of the steps asked for) are skipped, as fastai does: their smoothed losses
  average only a few noisy batches at learning rates too small to train, and
  a chance drop there would otherwise win. A non-finite last loss (the step
  that stopped a ``'non_finite'`` test) is dropped too. The step that stopped
  a ``'diverged'`` test stays: it rises, so no rule picks it. With
  :math:`x_k = \log \mathrm{lr}_k` and :math:`s_k` the smoothed losses of the
  remaining points, indexed from 0:

  - ``'steepest'`` (the default, :attr:`suggestion`): the learning rate at the
    most negative slope of the smoothed curve against :math:`\log
    \mathrm{lr}`, from forward differences :math:`g_k = (s_{k+1} - s_k) /
    (x_{k+1} - x_k)`; the suggestion is :math:`\mathrm{lr}_k` for the first
    :math:`k` with the smallest :math:`g_k`, the left end of the steepest
    segment (as fastai's ``steep``), so the last point is never suggested. A
    curve that never falls gives its least rise: then the test found no
    learning rate that trains.
  - ``'minimum'``: :math:`\mathrm{lr}_k / 10` at the first smallest
    :math:`s_k` (fastai's ``minimum``: a tenth of the lr of the lowest loss,
    which lies just before the divergence).
  - ``'valley'``: fastai's ``valley``. Let :math:`\ell` be the length of the
    longest strictly decreasing subsequence of :math:`s` (not necessarily
    contiguous) and :math:`e` the first index at which one of that length
    ends. The suggestion is :math:`\mathrm{lr}_j` with
    :math:`j = \max(e - \ell + \lfloor \ell/3 \rfloor + \lfloor \ell/6 \rfloor,
    e - \ell + 1)`, about half-way along the valley. For :math:`\ell \ge 3`
    this is fastai's index :math:`e - \ell + \lfloor \ell/3 \rfloor +
    \lfloor \ell/6 \rfloor`; for :math:`\ell \le 2` fastai's is :math:`e -
    \ell`, which is -1 when the curve never falls (fastai then wraps to the
    last point), so it is raised to :math:`e - \ell + 1`.

  Attributes:
    lrs: learning rate of each step run.
    losses: smoothed loss of each step run (see :func:`lr_range_test`).
    raw_losses: loss of each step run, as ``loss_fn`` returned it.
    num_steps: the number of steps asked for (``len(lrs)`` may be fewer).
    stop_reason: why the test stopped: ``'num_steps'`` (all steps run),
      ``'diverged'`` (the smoothed loss exceeded the divergence threshold),
      ``'non_finite'`` (a NaN or infinite loss) or ``'batches'`` (``batches``
      ran out first).
  """

  lrs: np.ndarray
  losses: np.ndarray
  raw_losses: np.ndarray
  num_steps: int
  stop_reason: str

  @property
  def suggestion(self) -> float:
    """The ``'steepest'`` suggestion; see :meth:`suggest`."""
    return self.suggest("steepest")

  def suggest(self, method: str = "steepest") -> float:
    """A learning rate read off the smoothed curve, by one of the rules above.

    Args:
      method: ``'steepest'``, ``'minimum'`` or ``'valley'``.

    Returns:
      The suggested learning rate, a Python float.

    Raises:
      ValueError: for an unknown ``method``, or when fewer than 2 points of
        the curve remain after the skipped first tenth (the test stopped or
        ran out of batches almost at once).
    """
    _checks.check_choice("LRRangeTestResult.suggest", "method", method, _METHODS)
    return float(self.lrs[self._index(method)]) / (10.0 if method == "minimum" else 1.0)

  def _index(self, method: str) -> int:
    """The index into ``lrs`` of the point ``method`` picks."""
    start = self.num_steps // 10
    end = len(self.losses) - (0 if np.isfinite(self.losses[-1]) else 1)
    if end - start < 2:
      # All num_steps steps leave at least 2; fewer means an early stop.
      fix = ("give more batches" if self.stop_reason == "batches" else
             "lower min_lr (the loss diverged from the start) or raise diverge_factor")
      raise ValueError(
          f"`LRRangeTestResult.suggest()` needs at least 2 finite smoothed losses after the "
          f"first {start} steps (num_steps // 10, skipped), got {max(end - start, 0)} of the "
          f"{len(self.losses)} steps run (stop_reason={self.stop_reason!r}): {fix}.")
    s = self.losses[start:end]
    if method == "steepest":
      slopes = np.diff(s) / np.diff(np.log(self.lrs[start:end]))
      return start + int(np.argmin(slopes))
    if method == "minimum":
      return start + int(np.argmin(s))
    return start + _valley(s)

  def plot(self, ax=None):
    """Plots the smoothed loss against the learning rate (log axis).

    The suggestion (:attr:`suggestion`) is marked by a dot on the curve,
    unless the curve is too short to give one. matplotlib is imported here,
    not with the library (``pip install matplotlib``).

    Args:
      ax: a matplotlib ``Axes`` to draw into; ``None`` makes a new figure.

    Returns:
      The ``Axes``.
    """
    if ax is None:
      import matplotlib.pyplot as plt

      _, ax = plt.subplots()
    ax.plot(self.lrs, self.losses, label="smoothed loss")
    try:
      k = self._index("steepest")
    except ValueError:  # too few points: the curve is still worth seeing
      k = None
    if k is not None:
      ax.plot([self.lrs[k]], [self.losses[k]], "o",
              label=f"steepest descent: lr={self.lrs[k]:.2e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("smoothed loss")
    ax.legend()
    return ax

  def __repr__(self) -> str:
    n = len(self.lrs)
    return (f"LRRangeTestResult({n} of {self.num_steps} steps, lrs from {self.lrs[0]:.3g} to "
            f"{self.lrs[-1]:.3g}, stop_reason={self.stop_reason!r})")


def _valley(s: np.ndarray) -> int:
  """fastai's valley index into ``s`` (see :class:`LRRangeTestResult`)."""
  # Longest strictly decreasing subsequence ending at each point, in O(n log n):
  # patience sorting of -s, where tails[j] is the smallest last value of an
  # increasing subsequence of length j + 1.
  tails: list[float] = []
  lengths = np.empty(len(s), dtype=np.int64)
  for k, v in enumerate((-s).tolist()):
    j = bisect.bisect_left(tails, v)
    if j == len(tails):
      tails.append(v)
    else:
      tails[j] = v
    lengths[k] = j + 1
  end = int(np.argmax(lengths))
  length = int(lengths[end])
  return max(end - length + length // 3 + length // 6, end - length + 1)


def _scalar(fn: str, name: str, x, **bounds) -> float:
  """A concrete real scalar, as a Python float (it only drives the host loop)."""
  x = _checks.check_value(fn, name, x, **bounds)
  if not (_checks.is_concrete(x) and np.ndim(x) == 0):
    _checks.fail(fn, name, "a concrete scalar", x, TypeError)
  return float(x)


def _check_optimizer(fn: str, optimizer) -> None:
  constraint = ("an optimizer factory such as optax.sgd, called as "
                "optimizer(learning_rate=schedule)")
  if isinstance(optimizer, optax.GradientTransformation):
    raise TypeError(
        f"`{fn}(optimizer=...)` must be {constraint}, got an optimizer already built "
        f"({type(optimizer).__name__}). Pass the factory, e.g. optimizer=optax.sgd or "
        "optimizer=functools.partial(optax.sgd, momentum=0.9).")
  if not callable(optimizer):
    _checks.fail(fn, "optimizer", constraint, optimizer, TypeError)
  try:
    signature = inspect.signature(optimizer)
  except (TypeError, ValueError):  # no signature to read: trust it
    return
  try:
    signature.bind(learning_rate=None)
  except TypeError:
    shown = getattr(optimizer, "__qualname__", repr(optimizer))
    raise TypeError(
        f"`{fn}(optimizer=...)` must be {constraint}, got optimizer={shown}, which takes "
        f"no learning_rate keyword.") from None


def lr_range_test(
    loss_fn: Callable[[Any, Any], jax.Array],
    params: Any,
    batches: Iterable[Any],
    optimizer: Callable[..., optax.GradientTransformation] = optax.sgd,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
) -> LRRangeTestResult:
  r"""Runs the learning-rate range test: trains briefly with a growing lr.

  Update :math:`k = 0, 1, \dots, N - 1` (:math:`N` = ``num_steps``) of
  ``optimizer(learning_rate=schedule)`` uses

  .. math::
    \mathrm{lr}_k = \mathrm{min\_lr} \cdot
      (\mathrm{max\_lr} / \mathrm{min\_lr})^{k / (N - 1)}

  (both ends included), and the loss :math:`\ell_k` of batch :math:`k`
  before that update is smoothed by a bias-corrected moving average
  (:math:`\beta` = ``smoothing``, :math:`a_{-1} = 0`):

  .. math::
    a_k = \beta a_{k-1} + (1 - \beta)\,\ell_k, \qquad
    s_k = \frac{a_k}{1 - \beta^{k+1}}

  The test stops after step :math:`k` when :math:`s_k` is NaN or infinite,
  or when, with :math:`b_k = \min_{j \le k} s_j` and :math:`d` =
  ``diverge_factor``,

  .. math:: s_k > b_k + (d - 1)\,|b_k|

  which is :math:`s_k > d\,b_k` for a positive best loss; the :math:`|b_k|`
  form keeps the rule meaningful for negative losses (where :math:`d\,b_k`
  would stop at once). The step that stops the test is recorded. See
  :class:`LRRangeTestResult` for the suggestion rules.

  The step is one ``jax.jit`` function that takes the schedule (an
  :func:`~optax_scheds.table` of the learning rates) as an argument: it
  traces and compiles once per call of ``lr_range_test``, as long as the
  batches keep their shapes and dtypes (a smaller last batch retraces).
  Each step waits for its loss, since the loss decides whether to go on.

  ``batches`` is consumed lazily, one batch per step: the test takes exactly
  as many batches as steps it runs, and no more after it stops, so an
  infinite generator is fine. If ``batches`` runs out first, the test stops
  there (``stop_reason='batches'``); the learning rates are still those of
  the ``N``-step sequence, so ``max_lr`` is not reached. ``params`` is not
  changed (the trained parameters are discarded, as fastai restores its
  model); the optimizer starts from ``optimizer(...).init(params)``.

  Args:
    loss_fn: ``loss_fn(params, batch) -> loss``, a scalar float, traceable
      by ``jax.value_and_grad`` with respect to ``params``.
    params: the initial parameters, a pytree.
    batches: an iterable of batches (pytrees), e.g. a generator or a data
      loader's iterator; ``loss_fn`` receives each one.
    optimizer: an optax optimizer factory, called as
      ``optimizer(learning_rate=schedule)``; bind other arguments with
      ``functools.partial(optax.sgd, momentum=0.9)``.
    min_lr: the first learning rate, ``> 0``.
    max_lr: the last learning rate, ``> min_lr``.
    num_steps: the number of updates :math:`N`, an integer ``>= 2``.
    smoothing: the moving-average factor :math:`\beta`, in [0, 1); 0 keeps
      the raw losses.
    diverge_factor: :math:`d > 1`; ``float('inf')`` stops only on non-finite
      losses.

  Returns:
    A :class:`LRRangeTestResult` with ``lrs``, ``losses`` (smoothed) and
    ``raw_losses`` of the steps run, ``suggestion``, ``suggest(method)``,
    ``stop_reason`` and ``plot()``.

  Raises:
    TypeError: for a ``loss_fn`` or ``optimizer`` that is not callable (or a
      built optimizer instead of its factory), a ``batches`` that is not an
      iterable of batches (a dict, a string), non-numeric or boolean numbers,
      and a ``loss_fn`` that does not return a scalar float.
    ValueError: for ``min_lr <= 0``, ``max_lr <= min_lr``, ``num_steps < 2``
      or fractional, ``smoothing`` outside [0, 1), ``diverge_factor <= 1``,
      NaN or infinite numbers (but ``diverge_factor=inf``), and a ``batches``
      that yields nothing.

  Examples:
    >>> import itertools
    >>> import jax.numpy as jnp
    >>> import optax_scheds as osch
    >>> def loss_fn(w, batch):  # curvature 4: gradient descent diverges above lr = 2/4
    ...   return 2.0 * jnp.sum(w ** 2)
    >>> result = osch.lr_range_test(loss_fn, jnp.ones(3), itertools.repeat(None),
    ...                             min_lr=1e-4, max_lr=10.0, num_steps=100)
    >>> print(len(result.lrs), result.stop_reason, f"{result.lrs[-1]:.2f}")
    92 diverged 3.94
    >>> for method in ("steepest", "minimum", "valley"):
    ...   print(method, f"{result.suggest(method):.3f}")
    steepest 0.034
    minimum 0.313
    valley 0.027

  References:
    Smith, `Cyclical Learning Rates for Training Neural Networks
    <https://arxiv.org/abs/1506.01186>`_, 2017 (section 3.3, the range test).

    fastai, `Learner.lr_find
    <https://docs.fast.ai/callback.schedule.html#learner.lr_find>`_.
  """
  fn = "lr_range_test"
  if not callable(loss_fn):
    _checks.fail(fn, "loss_fn", "a callable (params, batch) -> scalar loss", loss_fn,
                 TypeError)
  if isinstance(batches, (str, bytes, Mapping)) or not isinstance(batches, Iterable):
    _checks.fail(fn, "batches", "an iterable of batches (one batch is a pytree: pass e.g. "
                 "itertools.repeat(batch) to reuse it)", batches, TypeError)
  _check_optimizer(fn, optimizer)
  min_lr = _scalar(fn, "min_lr", min_lr, low=0.0, low_open=True, constraint="positive")
  max_lr = _scalar(fn, "max_lr", max_lr)
  if not max_lr > min_lr:
    _checks.fail(fn, "max_lr", f"greater than min_lr={min_lr!r}", max_lr)
  num_steps = _checks.check_static_int(fn, "num_steps", num_steps, minimum=2)
  smoothing = _scalar(fn, "smoothing", smoothing)
  if not 0 <= smoothing < 1:
    _checks.fail(fn, "smoothing", "in [0, 1)", smoothing)
  diverge_factor = _scalar(fn, "diverge_factor", diverge_factor, allow_inf=True)
  if not diverge_factor > 1:
    _checks.fail(fn, "diverge_factor", "greater than 1", diverge_factor)

  schedule = table(np.geomspace(min_lr, max_lr, num_steps))
  opt = optimizer(learning_rate=schedule)
  if not isinstance(opt, optax.GradientTransformation):
    raise TypeError(
        f"`{fn}(optimizer=...)` must return an optax GradientTransformation when called as "
        f"optimizer(learning_rate=schedule), got {type(opt).__name__}.")

  def checked_loss(p, batch):
    loss = loss_fn(p, batch)
    if jnp.shape(loss) != () or not jnp.issubdtype(jnp.result_type(loss), jnp.floating):
      raise TypeError(
          f"`{fn}(loss_fn=...)` must return a scalar float loss, got a loss of shape "
          f"{jnp.shape(loss)} and dtype {jnp.result_type(loss)}.")
    return loss

  @jax.jit
  def step(schedule, p, opt_state, batch):
    # Rebuilt from the traced schedule: its values are arguments, not constants.
    loss, grads = jax.value_and_grad(checked_loss)(p, batch)
    updates, opt_state = optimizer(learning_rate=schedule).update(grads, opt_state, p)
    return optax.apply_updates(p, updates), opt_state, loss

  opt_state = opt.init(params)
  planned = np.asarray(schedule.values, dtype=np.float64)
  raw: list[float] = []
  smoothed: list[float] = []
  avg, best = 0.0, np.inf
  stop_reason = "num_steps"
  iterator = iter(batches)
  for k in range(num_steps):
    try:
      batch = next(iterator)
    except StopIteration:
      stop_reason = "batches"
      break
    params, opt_state, loss = step(schedule, params, opt_state, batch)
    loss = float(loss)
    avg = smoothing * avg + (1 - smoothing) * loss
    s = avg / (1 - smoothing ** (k + 1))
    raw.append(loss)
    smoothed.append(s)
    if not np.isfinite(s):
      stop_reason = "non_finite"
      break
    best = min(best, s)
    # inf * |best| is NaN where best == 0: an infinite factor never stops.
    if diverge_factor < np.inf and s > best + (diverge_factor - 1) * abs(best):
      stop_reason = "diverged"
      break

  if not raw:
    _checks.fail(fn, "batches", "a non-empty iterable of batches", batches)

  def frozen(values):
    arr = np.asarray(values, dtype=np.float64)
    arr.flags.writeable = False
    return arr

  return LRRangeTestResult(lrs=frozen(planned[:len(raw)]), losses=frozen(smoothed),
                           raw_losses=frozen(raw), num_steps=num_steps,
                           stop_reason=stop_reason)
