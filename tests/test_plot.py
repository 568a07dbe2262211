"""plot, preview, summary and the marks they draw."""

import math
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds import _plot
from optax_scheds._plot import marks, plot, preview, summary
from optax_scheds.compat import keras as kc
from optax_scheds.compat import timm as tm
from optax_scheds.compat import torch as tc
from optax_scheds.compat import transformers as hf


@pytest.fixture
def plt():
  """pyplot on the Agg backend; every figure a test opens is closed after it."""
  matplotlib = pytest.importorskip("matplotlib")
  matplotlib.use("Agg")
  import matplotlib.pyplot as pyplot

  yield pyplot
  pyplot.close("all")


def _kw(warmup_steps, decay_steps):
  return dict(init_value=0.0, peak_value=1.0, warmup_steps=warmup_steps,
              decay_steps=decay_steps)


def _values(schedule, num_steps):
  return np.asarray(schedule(np.arange(num_steps + 1)), np.float64)


# --------------------------------------------------------------------------
# marks: positions known from each construction, by hand.

B, W, R = "boundary", "warmup", "restart"

MARKS = {
    "join": (lambda: osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 10),
                                osch.constant(0.0)], [5, 15]), 20, [(5, B), (15, B)]),
    "join, part in range": (lambda: osch.join([osch.constant(1.0), osch.constant(0.5),
                                               osch.constant(0.1)], [5, 15]), 10, [(5, B)]),
    "warmup": (lambda: osch.warmup(osch.cosine_decay(1.0, 100), 10), 200, [(10, W)]),
    "warmup of 0 steps": (lambda: osch.warmup(osch.cosine_decay(1.0, 100), 0), 200, []),
    "warmup_cosine_decay": (lambda: osch.warmup_cosine_decay(0.0, 1.0, 10, 100), 100,
                            [(10, W)]),
    "sgdr": (lambda: osch.sgdr([_kw(5, 50)] * 3), 200,
             [(5, W), (50, B), (55, W), (100, B), (105, W)]),
    "sgdr, first cycles only": (lambda: osch.sgdr([_kw(5, 50)] * 1000), 120,
                                [(5, W), (50, B), (55, W), (100, B), (105, W)]),
    "wsd": (lambda: osch.wsd(1.0, 10, 80, 10), 100, [(10, W), (90, B)]),
    "cooldown": (lambda: osch.cooldown(osch.constant(1.0), 50, 20), 100, [(50, B)]),
    "cooldown hides what follows": (
        lambda: osch.cooldown(osch.warmup(osch.constant(1.0), 30), 20, 10), 100, [(20, B)]),
    "cycle": (lambda: osch.cycle(osch.cosine_decay(1.0, 10), 10), 30,
              [(10, R), (20, R), (30, R)]),
    # Cycle k starts at 10 (2**k - 1).
    "cycle, length_mul=2": (lambda: osch.cycle(osch.cosine_decay(1.0, 10), 10, 2), 100,
                            [(10, R), (30, R), (70, R)]),
    # ... and its warmup ends 10 * 2**k steps later.
    "cycle of a warmup": (
        lambda: osch.cycle(osch.warmup(osch.cosine_decay(1.0, 90), 10), 100, 2), 1000,
        [(10, W), (100, R), (120, W), (300, R), (340, W), (700, R), (780, W)]),
    "cyclic": (lambda: osch.cyclic(0.1, 1.0, 5, 5), 30,
               [(5, B), (10, R), (15, B), (20, R), (25, B), (30, R)]),
    "delay": (lambda: osch.delay(osch.warmup(osch.constant(1.0), 3), 10), 100, [(13, W)]),
    "stretch": (lambda: osch.stretch(osch.warmup(osch.constant(1.0), 3), 10), 100, [(30, W)]),
    # The boundary at 50 is seen from the first t with 100 (t / 100)**2 >= 50.
    "k_decay": (lambda: osch.k_decay(osch.join([osch.constant(1.0), osch.constant(0.5)],
                                               [50]), 100, 2.0), 200,
                [(math.ceil(100 * math.sqrt(0.5)), B)]),
    "arithmetic": (lambda: osch.minimum(0.5 * osch.warmup(osch.constant(1.0), 7),
                                        osch.cycle(osch.cosine_decay(1.0, 30), 30)), 70,
                   [(7, W), (30, R), (60, R)]),
    "clip": (lambda: osch.clip(osch.warmup(osch.constant(1.0), 7), 0.1, 0.9), 70, [(7, W)]),
    "noam": (lambda: osch.noam(512, 4000), 10_000, [(3999, W)]),
    "tri_stage": (lambda: osch.tri_stage(1.0, 10, 10, 10), 100, [(10, B), (20, B)]),
    "primitives": (lambda: osch.piecewise_constant(1.0, {10: 0.5}) + osch.cosine_decay(
        1.0, 10), 100, []),
    "callable": (lambda: osch.as_schedule(optax.cosine_decay_schedule(1.0, 10)), 100, []),
    "torch.OneCycleLR": (lambda: tc.OneCycleLR(1.0, total_steps=100), 100, [(29, B)]),
    "torch.OneCycleLR three phases": (
        lambda: tc.OneCycleLR(1.0, total_steps=100, three_phase=True), 100,
        [(29, B), (58, B)]),
    "torch.CosineAnnealingWarmRestarts": (
        lambda: tc.CosineAnnealingWarmRestarts(1.0, 10, 2), 200,
        [(10, R), (30, R), (70, R), (150, R)]),
    "torch.CosineAnnealingLR": (lambda: tc.CosineAnnealingLR(1.0, 10), 40,
                                [(10, B), (20, R), (30, B), (40, R)]),
    "torch.SequentialLR": (lambda: tc.SequentialLR(
        [tc.LinearLR(1.0, 0.1, 1.0, 5), tc.ExponentialLR(1.0, 0.9)], [5]), 30, [(5, B)]),
    "torch.ChainedScheduler": (lambda: tc.ChainedScheduler(
        [tc.ConstantLR(1.0, 0.5, 4), tc.ExponentialLR(1.0, 0.9)]), 30, [(4, B)]),
    "timm cycles": (lambda: tm.CosineLRScheduler(1.0, 20, cycle_limit=4, warmup_t=5), 200,
                    [(5, B), (20, R), (40, R), (60, R)]),
    # Prefixed by the warmup; cycles of 20, 30, 45.
    "timm cycle_mul": (lambda: tm.CosineLRScheduler(1.0, 20, cycle_mul=1.5, cycle_limit=4,
                                                    warmup_t=5, warmup_prefix=True), 200,
                       [(5, B), (25, R), (55, R), (100, R)]),
    "timm WSD power decay": (lambda: tm.WSDLRScheduler(1.0, 100, 20, decay_fn="power"), 100,
                             [(1, B), (80, B)]),
    "keras PolynomialDecay cycle": (lambda: kc.PolynomialDecay(1.0, 10, cycle=True), 40,
                                    [(11, R), (21, R), (31, R)]),
    "keras CosineDecayRestarts": (lambda: kc.CosineDecayRestarts(1.0, 10, t_mul=2.0), 100,
                                  [(10, R), (30, R), (70, R)]),
    "HF hard restarts": (lambda: hf.get_cosine_with_hard_restarts_schedule_with_warmup(
        1.0, 4, 10, num_cycles=2), 12, [(4, W), (7, R)]),
    "HF warmup": (lambda: hf.get_linear_schedule_with_warmup(1.0, 4, 10), 12, [(4, W)]),
}


@pytest.mark.parametrize("name", MARKS)
def test_marks_at_known_steps(name):
  build, num_steps, expected = MARKS[name]
  assert marks(build(), num_steps) == expected


@pytest.mark.parametrize("build, num_steps", [
    (lambda: tc.CosineAnnealingWarmRestarts(1.0, 7, 3), 500),
    (lambda: osch.cycle(osch.cosine_decay(1.0, 10), 10, length_mul=1.37), 2000),
    (lambda: tm.CosineLRScheduler(1.0, 13, cycle_mul=1.21, cycle_limit=30, lr_min=0.01),
     2000),
    (lambda: kc.PolynomialDecay(1.0, 9, end_learning_rate=0.1, cycle=True), 200),
    (lambda: kc.CosineDecayRestarts(1.0, 11, t_mul=1.5, m_mul=0.9), 1000),
    (lambda: hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 17, 1.7), 17),
    (lambda: hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 1000, 7.3), 999),
], ids=["torch", "cycle", "timm", "keras poly", "keras cosine", "HF 1.7", "HF 7.3"])
def test_restarts_are_where_a_decaying_schedule_jumps_up(build, num_steps):
  schedule = build()
  v = _values(schedule, num_steps)
  jumps = [int(t) for t in np.nonzero(v[1:] > v[:-1] + 1e-6)[0] + 1]
  assert jumps
  # (timm without a warmup also has a join boundary at step 1, where its
  # first update starts.)
  assert [m for m in marks(schedule, num_steps) if m[1] == R] == [(t, R) for t in jumps]


@pytest.mark.parametrize("total, pct_start", [(100, 0.3), (80, 0.25), (77, 0.25),
                                               (77, 0.37), (77, 0.5)])
def test_one_cycle_boundary_is_its_peak(total, pct_start):
  # PyTorch's peak is at the float step pct_start * total - 1: the nearest step.
  schedule = tc.OneCycleLR(1.0, total_steps=total, pct_start=pct_start)
  turn = pct_start * total - 1
  assert marks(schedule, total) == [(math.floor(turn + 0.5), B)]
  if turn.is_integer():
    assert marks(schedule, total) == [(int(np.argmax(_values(schedule, total))), B)]


def test_marks_only_within_range():
  schedule = osch.cycle(osch.warmup(osch.constant(1.0), 5), 10)
  assert marks(schedule, 20) == [(5, W), (10, R), (15, W), (20, R)]
  assert marks(schedule, 19) == [(5, W), (10, R), (15, W)]
  assert marks(schedule, 1) == []


def test_marks_of_traced_fields_are_skipped():
  found = []

  @jax.jit
  def build(w):
    found.append(marks(osch.warmup(osch.cycle(osch.cosine_decay(1.0, 10), 10), w), 50))
    found.append(marks(osch.join([osch.warmup(osch.constant(1.0), 3), osch.constant(0.5)],
                                 jnp.reshape(w, (1,))), 50))
    found.append(marks(osch.delay(osch.warmup(osch.constant(1.0), 3), 2) +
                       osch.cooldown(osch.constant(1.0), w, 5), 50))
    return w

  build(20)
  assert found == [[], [], [(5, W)]]


def test_marks_of_schedules_built_for_vmap_are_skipped():
  schedule = osch.warmup(osch.constant(1.0), np.asarray([5, 10]))
  assert marks(osch.join([schedule, osch.constant(0.0)], [30]), 50) == [(30, B)]


# --------------------------------------------------------------------------
# plot


def _marks_drawn(ax):
  return {c.get_gid(): sorted(float(seg[0, 0]) for seg in c.get_segments())
          for c in ax.collections}


def test_plot_draws_the_values_at_every_step(plt):
  schedule = osch.warmup_cosine_decay(0.0, 1.0, 100, 1000)
  ax = plot(schedule, 1000)
  (line,) = ax.get_lines()
  np.testing.assert_array_equal(line.get_xdata(), np.arange(1001))
  np.testing.assert_array_equal(line.get_ydata(), np.asarray(schedule(np.arange(1001))))
  assert ax.get_yscale() == "linear"
  assert ax.get_legend() is None
  assert _marks_drawn(ax) == {W: [100.0]}


def test_plot_of_many_steps_samples_them_and_keeps_every_jump(plt):
  spike = osch.join([osch.constant(0.0), osch.constant(1.0), osch.constant(0.0)],
                    [500_001, 500_002])
  ax = plot(spike, 10**6)
  (line,) = ax.get_lines()
  x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
  assert x[0] == 0 and x[-1] == 10**6 and np.all(np.diff(x) > 0)
  assert len(x) <= 10_000 + 4
  np.testing.assert_array_equal(y, np.asarray(spike(x)))
  assert y.max() == 1.0 and x[np.argmax(y)] == 500_001
  assert _marks_drawn(ax) == {B: [500_001.0, 500_002.0]}


def test_plot_several_schedules_with_labels(plt):
  a = osch.sgdr([_kw(5, 50)] * 4)
  b = osch.wsd(0.8, 20, 120, 60)
  c = tc.CosineAnnealingWarmRestarts(0.6, 25, 2)
  ax = plot([a, b, c], 200, labels=["sgdr", "wsd", "torch"])
  lines = ax.get_lines()
  assert [line.get_label() for line in lines] == ["sgdr", "wsd", "torch"]
  for line, s in zip(lines, [a, b, c]):
    np.testing.assert_array_equal(line.get_ydata(), np.asarray(s(np.arange(201))))
  legend = [t.get_text() for t in ax.get_legend().get_texts()]
  assert legend == ["sgdr", "wsd", "torch", "join boundary", "end of warmup", "restart"]
  drawn = [(c.get_gid(), sorted(float(s[0, 0]) for s in c.get_segments()),
            tuple(c.get_colors()[0][:3])) for c in ax.collections]
  rgb = [tuple(plt.matplotlib.colors.to_rgb(line.get_color())) for line in lines]
  assert drawn == [
      (B, [50.0, 100.0, 150.0], rgb[0]), (W, [5.0, 55.0, 105.0, 155.0], rgb[0]),
      (B, [140.0], rgb[1]), (W, [20.0], rgb[1]),
      (R, [25.0, 75.0, 175.0], rgb[2]),
  ]
  styles = {c.get_gid(): c.get_linestyle() for c in ax.collections}
  assert len({str(s) for s in styles.values()}) == 3  # one style per kind


def test_plot_on_given_axes_with_log_scale(plt):
  fig, ax = plt.subplots()
  schedule = osch.exponential_decay(1.0, 10, 0.5)
  assert plot(schedule, 100, ax=ax, log=True) is ax
  assert ax.get_yscale() == "log"
  assert len(ax.collections) == 0
  np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(),
                                np.asarray(schedule(np.arange(101))))


def test_plot_leaves_out_marks_too_dense_to_see(plt):
  ax = plot(osch.cyclic(0.0, 1.0, 1, 1), 10_000)
  assert len(ax.collections) == 0
  ax = plot(osch.cyclic(0.0, 1.0, 10, 10), 10_000)
  assert sorted(c.get_gid() for c in ax.collections) == [B, R]


def test_plot_without_matplotlib(plt, monkeypatch):
  monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
  with pytest.raises(ImportError, match=re.escape(
      "`plot(...)` needs matplotlib, an optional dependency: "
      "pip install optax_scheds[plot]")):
    plot(osch.constant(1.0), 10)


s1 = osch.constant(1.0)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_steps=-5), ValueError,
     "`plot(num_steps=...)` must be a positive integer, got num_steps=-5."),
    (dict(num_steps=0), ValueError,
     "`plot(num_steps=...)` must be a positive integer, got num_steps=0."),
    (dict(num_steps=10.5), ValueError,
     "`plot(num_steps=...)` must be a positive integer, got num_steps=10.5."),
    (dict(num_steps=2**31), ValueError,
     "`plot(num_steps=...)` must be at most 2147483647 (the largest step; enable "
     "jax_enable_x64 for more), got num_steps=2147483648."),
    (dict(num_steps=True), TypeError,
     "`plot(num_steps=...)` must be a positive integer, got num_steps=True."),
    (dict(num_steps="10"), TypeError,
     "`plot(num_steps=...)` must be a positive integer, got num_steps='10'."),
    (dict(schedule_or_schedules=[]), ValueError,
     "`plot(schedule_or_schedules=...)` must be a schedule or a non-empty list of "
     "schedules, got schedule_or_schedules=[]."),
    (dict(schedule_or_schedules="lr"), TypeError,
     "`plot(schedule_or_schedules=...)` must be a schedule or a callable step -> value, "
     "got schedule_or_schedules='lr'."),
    (dict(schedule_or_schedules=[s1, 3]), TypeError,
     "`plot(schedule_or_schedules[1]=...)` must be a schedule or a callable step -> "
     "value, got schedule_or_schedules[1]=3."),
    (dict(schedule_or_schedules=[s1, s1], labels=["a"]), ValueError,
     "`plot(labels=...)` must have one label per schedule, got 2 schedules and "
     "labels=['a']."),
    (dict(labels="lr"), TypeError,
     "`plot(labels=...)` must be a list of str, one per schedule, got labels='lr'. "
     "Pass labels=['lr']."),
    (dict(labels=[1]), TypeError,
     "`plot(labels=...)` must be a list of str, one per schedule, got labels=[1]."),
    (dict(log=1), TypeError, "`plot(log=...)` must be a bool, got log=1."),
    (dict(ax=5), TypeError, "`plot(ax=...)` must be a matplotlib Axes or None, got ax=5."),
    (dict(schedule_or_schedules=osch.constant(np.ones((3, 1)))), ValueError,
     "`plot(...)` needs a schedule with one value per step, got one whose values at 11 "
     "steps have shape (3, 11)"),
])
def test_plot_errors(plt, kwargs, error, message):
  args = dict(schedule_or_schedules=s1, num_steps=10) | kwargs
  with pytest.raises(error, match=re.escape(message)):
    plot(**args)


# --------------------------------------------------------------------------
# preview


def _parse(text, width, height):
  """(row labels, braille dots as a (4 height, 2 width) bool array, x labels)."""
  lines = text.split("\n")
  assert len(lines) == height + 2
  axis = lines[height]
  pad = axis.index("└") - 1
  assert axis == " " * pad + " └" + "─" * width
  labels, dots = [], np.zeros((4 * height, 2 * width), bool)
  for r, line in enumerate(lines[:height]):
    assert line[pad + 1] in "┤│" and len(line) == pad + 2 + width
    labels.append(line[:pad].strip() if line[pad + 1] == "┤" else None)
    for c, ch in enumerate(line[pad + 2:]):
      bits = 0 if ch == " " else ord(ch) - 0x2800
      assert 0 <= bits < 256
      for dr, pair in enumerate(((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))):
        for dc, bit in enumerate(pair):
          dots[4 * r + dr, 2 * c + dc] = bool(bits & bit)
  return labels, dots, lines[height + 1].split()


@pytest.mark.parametrize("width, height", [(72, 12), (8, 2), (31, 5)])
@pytest.mark.parametrize("num_steps", [10, 1000, 10**7])
def test_preview_layout_and_labels(width, height, num_steps):
  schedule = osch.warmup_cosine_decay(0.1, 2.5, num_steps // 10, num_steps)
  labels, dots, xlabels = _parse(preview(schedule, num_steps, width, height), width, height)
  v = np.asarray(schedule(np.asarray([0, num_steps // 10, num_steps])))
  assert labels[0] == f"{float(v[1]):.6g}" == "2.5"
  assert labels[-1] == f"{float(v[2]):.6g}" == "0"
  assert labels[1:-1] == [None] * (height - 2)
  assert xlabels == ["0", str(num_steps)]
  peak, n, columns = num_steps // 10, num_steps + 1, 2 * width
  # The peak's column: where it falls, or its first when steps span columns.
  column = peak * columns // n if n >= columns else -(-peak * columns // n)
  assert dots[0, column]  # the top row holds the peak
  assert dots[-1, -1]  # the end on the bottom row
  assert dots.any(axis=0).all()  # a dot in every column


def test_preview_of_a_constant_is_a_flat_line():
  labels, dots, _ = _parse(preview(osch.constant(0.5), 100, 20, 4), 20, 4)
  assert labels == [None, None, "0.5", None]
  rows = np.nonzero(dots.any(axis=1))[0]
  assert len(rows) == 1 and dots[rows[0]].all()


@pytest.mark.parametrize("schedule", [
    osch.cosine_decay(1.0, 1000),
    osch.exponential_decay(3.0, 7, 0.5, staircase=True),
    osch.piecewise_constant(1.0, {100: 0.5, 300: 0.1}),
], ids=["cosine", "stairs", "piecewise"])
def test_preview_of_a_decreasing_schedule_descends(schedule):
  _, dots, _ = _parse(preview(schedule, 1000, 40, 8), 40, 8)
  top = np.argmax(dots, axis=0)
  bottom = dots.shape[0] - 1 - np.argmax(dots[::-1], axis=0)
  assert dots.any(axis=0).all()
  assert np.all(np.diff(top) >= 0) and np.all(np.diff(bottom) >= 0)
  assert top[0] == 0 and bottom[-1] == dots.shape[0] - 1


def test_preview_columns_show_the_range_of_their_steps():
  # A one-step spike amid a column's steps: every step of it evaluated, or
  # (too short for the 16 steps sampled of a column) at join boundaries, so
  # sampled around them.
  for num_steps in (1000, 10**7):
    at = num_steps // 2 + 3
    spike = osch.join([osch.constant(0.0), osch.constant(1.0), osch.constant(0.0)],
                      [at, at + 1])
    _, dots, _ = _parse(preview(spike, num_steps, 20, 3), 20, 3)
    column = at * 40 // (num_steps + 1)
    assert np.nonzero(dots[0])[0].tolist() == [column]
    assert dots[:, column].all() and dots[-1].all()


def test_preview_of_few_steps_repeats_each_over_its_columns():
  schedule = osch.piecewise_constant(1.0, {2: 0.0})  # 1 1 0 0
  _, dots, _ = _parse(preview(schedule, 3, 8, 2), 8, 2)
  # Each step over 4 dot columns; the drop drawn in the first column of step 2.
  np.testing.assert_array_equal(np.nonzero(dots[0])[0], np.arange(9))
  np.testing.assert_array_equal(np.nonzero(dots[-1])[0], np.arange(8, 16))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_steps=-5), ValueError,
     "`preview(num_steps=...)` must be a positive integer, got num_steps=-5."),
    (dict(num_steps=np.int64(-1)), ValueError,
     "`preview(num_steps=...)` must be a positive integer, got num_steps=np.int64(-1)."),
    (dict(num_steps=None), TypeError,
     "`preview(num_steps=...)` must be a positive integer, got num_steps=None."),
    (dict(width=7), ValueError, "`preview(width=...)` must be an integer >= 8, got width=7."),
    (dict(width=72.0), TypeError,
     "`preview(width=...)` must be an integer >= 8, got width=72.0."),
    (dict(height=1), ValueError,
     "`preview(height=...)` must be an integer >= 2, got height=1."),
    (dict(height=False), TypeError,
     "`preview(height=...)` must be an integer >= 2, got height=False."),
    (dict(schedule=None), TypeError,
     "`preview(schedule=...)` must be a schedule or a callable step -> value, got "
     "schedule=None."),
])
def test_preview_errors(kwargs, error, message):
  args = dict(schedule=s1, num_steps=10) | kwargs
  with pytest.raises(error, match=re.escape(message)):
    preview(**args)


def test_preview_accepts_integral_floats_and_callables():
  schedule = optax.linear_schedule(1.0, 0.0, 100)
  _parse(preview(schedule, 1e2), 72, 12)
  assert preview(schedule, 1e2) == preview(schedule, 100)


# --------------------------------------------------------------------------
# summary


def test_summary():
  schedule = osch.warmup_cosine_decay(0.0, 1.0, 10, 100, end_value=0.1)
  text = summary(schedule, 100, at=[55, 1000])
  lines = text.split("\n")
  assert "\n".join(lines[:14]) == preview(schedule, 100)
  cosine = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 45 / 90))
  assert lines[14:] == [
      "value at step 0:    0",
      "peak value:         1 (at step 10)",
      "value at step 100:  0.1",
      f"value at step 55:   {cosine:.6g}",
      "value at step 1000: 0.1",
  ]


def test_summary_peak_of_many_steps_is_found_at_a_mark():
  schedule = osch.warmup_cosine_decay(0.0, 2.0, 12_345, 10**8)
  lines = summary(schedule, 10**8).split("\n")
  assert re.fullmatch(r"peak value: +2 \(at step 12345\)", lines[-2])


@pytest.mark.parametrize("at, error, message", [
    ("5", TypeError, "`summary(at=...)` must be a sequence of integer steps, got at='5'."),
    (5, TypeError, "`summary(at=...)` must be a sequence of integer steps, got at=5."),
    ([1.5], TypeError,
     "`summary(at=...)` must be a sequence of integer steps, got at=[1.5]."),
    ([3, -1], ValueError, "`summary(at=...)` must be steps in [0, 2147483647], got "
     "at=[3, -1]."),
])
def test_summary_errors(at, error, message):
  with pytest.raises(error, match=re.escape(message)):
    summary(s1, 10, at=at)
  with pytest.raises(ValueError, match=re.escape(
      "`summary(num_steps=...)` must be a positive integer, got num_steps=0.")):
    summary(s1, 0)


def test_module_surface():
  assert _plot.__all__ == ["plot", "preview", "summary"]
