"""Modern schedules (cooldown, WSD, inverse-sqrt, Noam, REX, tri-stage, cyclic,
k-decay, tanh) against their published formulas and the real references.

Closed forms are written here from the papers and the references' sources
(fairseq, timm), in float64 Python; HuggingFace and PyTorch are run.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_scheds as osch

torch = pytest.importorskip("torch")

RTOL, ATOL = 2e-5, 2e-7

SHAPES = {
    "linear": lambda x, r: 1 - x,
    "cosine": lambda x, r: 0.5 * (1 + math.cos(math.pi * x)),
    "1-sqrt": lambda x, r: 1 - math.sqrt(x),
    "1-square": lambda x, r: 1 - x * x,
    "exponential": lambda x, r: (r**x - r) / (1 - r),
}


def _close(actual, desired, scale=1.0):
  np.testing.assert_allclose(np.asarray(actual, np.float64), desired, rtol=RTOL,
                             atol=ATOL * scale)


def _jit_values(schedule, steps):
  return np.asarray(jax.jit(lambda s, t: s(t))(schedule, jnp.asarray(steps, jnp.int32)))


# ---------------------------------------------------------------------- cooldown


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("seed", range(3))
def test_cooldown_against_its_formula(shape, seed):
  rng = np.random.default_rng(seed)
  start, length = int(rng.integers(0, 50)), int(rng.integers(1, 60))
  end, ratio = float(rng.uniform(0, 0.3)), float(rng.uniform(0.01, 0.9))
  inner = osch.linear(1.0, 0.5, 80)  # a running schedule, not a constant
  s = osch.cooldown(inner, start, length, end_value=end, shape=shape, decay_ratio=ratio)
  steps = np.arange(0, start + length + 20)
  top = 1.0 - 0.5 * min(start, 80) / 80

  def expected(t):
    if t < start:
      return 1.0 - 0.5 * min(t, 80) / 80
    if t >= start + length:
      return end
    return end + (top - end) * SHAPES[shape]((t - start) / length, ratio)

  _close(_jit_values(s, steps), [expected(t) for t in steps])
  assert float(s(start + length)) == np.float32(end)  # exactly the end value


def test_cooldown_of_a_running_schedule_starts_from_its_value_there():
  base = osch.warmup_cosine_decay(0.0, 1.0, 100, 10_000)
  s = osch.cooldown(base, start_step=3_000, cooldown_steps=500)
  np.testing.assert_allclose(s(jnp.arange(3_001)), base(jnp.arange(3_001)), rtol=1e-7)
  np.testing.assert_allclose(float(s(3_000)), float(base(3_000)), rtol=1e-7)
  assert float(s(3_500)) == 0.0


# --------------------------------------------------------------------------- wsd


@pytest.mark.parametrize("seed", range(6))
def test_wsd_is_cooldown_of_warmup_at_every_step(seed):
  rng = np.random.default_rng(seed)
  w, st, d = (int(x) for x in rng.integers([0, 0, 1], [20, 30, 40]))
  peak, init, end = (float(x) for x in rng.uniform([0.5, 0, 0], [2, 0.3, 0.3]))
  ws = str(rng.choice(["linear", "cosine", "1-sqrt"]))
  ds = str(rng.choice(sorted(SHAPES)))
  s = osch.wsd(peak, w, st, d, init, end, ws, ds, decay_ratio=0.2)
  ref = osch.cooldown(osch.warmup(osch.constant(peak), w, init, ramp=ws), w + st, d, end,
                      ds, decay_ratio=0.2)
  steps = np.arange(0, w + st + d + 10)
  np.testing.assert_array_equal(_jit_values(s, steps), _jit_values(ref, steps))


@pytest.mark.parametrize("seed", range(12))
def test_wsd_against_huggingface(seed):
  transformers = pytest.importorskip("transformers")
  del transformers
  from transformers.optimization import get_wsd_schedule

  rng = np.random.default_rng(seed)
  w, st, d = (int(x) for x in rng.integers([0, 0, 1], [30, 40, 50]))
  lr, m = float(rng.uniform(1e-4, 1e-2)), float(rng.choice([0.0, 0.1, 0.37]))
  wt = str(rng.choice(["linear", "cosine", "1-sqrt"]))
  dt = str(rng.choice(["linear", "cosine", "1-sqrt"]))
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
  hf = get_wsd_schedule(opt, w, d, num_stable_steps=st, warmup_type=wt, decay_type=dt,
                        min_lr_ratio=m)
  steps = np.arange(0, w + st + d + 20)
  expected = [lr * hf.lr_lambdas[0](int(k)) for k in steps]
  # HuggingFace warms up from min_lr_ratio * lr (not 0).
  s = osch.wsd(lr, w, st, d, init_value=m * lr, end_value=m * lr, warmup_shape=wt,
               decay_shape=dt)
  _close(_jit_values(s, steps), expected, lr)


# ------------------------------------------------------------------ inverse_sqrt


@pytest.mark.parametrize("w, timescale", [(0, None), (4, None), (100, None), (10, 37),
                                          (0, 500)])
def test_inverse_sqrt_against_huggingface(w, timescale):
  pytest.importorskip("transformers")
  from transformers.optimization import get_inverse_sqrt_schedule

  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
  hf = get_inverse_sqrt_schedule(opt, w, timescale=timescale)
  steps = np.concatenate([np.arange(0, 300), [10**5, 10**7, 2**31 - 1]])
  expected = [0.3 * hf.lr_lambdas[0](int(k)) for k in steps]
  _close(_jit_values(osch.inverse_sqrt(0.3, w, timescale), steps), expected, 0.3)


def test_inverse_sqrt_against_fairseq_formula():
  # fairseq: lr * sqrt(W) / sqrt(n) for n >= W, warmup from 0.
  w, lr = 4000, 5e-4
  steps = np.arange(w, w + 50_000, 997)
  s = osch.inverse_sqrt(lr, w, timescale=w)
  _close(_jit_values(s, steps), [lr * math.sqrt(w) / math.sqrt(n) for n in steps], lr)


# -------------------------------------------------------------------- noam, rex


@pytest.mark.parametrize("d_model, w, factor", [(512, 4000, 1.0), (64, 10, 2.0),
                                                (1024, 1, 0.5)])
def test_noam_against_the_paper(d_model, w, factor):
  steps = np.concatenate([np.arange(0, 50), np.arange(w - 5, w + 5), [10**6, 2**31 - 2]])
  steps = steps[steps >= 0]
  expected = [factor * d_model**-0.5 * min((t + 1) ** -0.5, (t + 1) * w**-1.5)
              for t in steps]
  _close(_jit_values(osch.noam(d_model, w, factor), steps), expected, 1e-3)


@pytest.mark.parametrize("init, end, t_total", [(1.0, 0.0, 100), (3e-4, 1e-5, 997)])
def test_rex_against_the_paper(init, end, t_total):
  steps = np.arange(0, t_total + 20)
  expected = [end + (init - end) * (1 - z) / (1 - z / 2)
              for z in np.minimum(steps / t_total, 1.0)]
  _close(_jit_values(osch.rex(init, t_total, end), steps), expected, init)


# ---------------------------------------------------------------------- tri-stage


def _fairseq_tri_stage(n, peak, w, h, d, init_scale, final_scale):
  """fairseq/optim/lr_scheduler/tri_stage_lr_scheduler.py, step_update."""
  init, final = init_scale * peak, final_scale * peak
  rate = (peak - init) / w if w else 0.0
  decay = -math.log(final_scale) / d
  if n < w:
    return init + rate * n
  if n < w + h:
    return peak
  if n <= w + h + d:
    return peak * math.exp(-decay * (n - w - h))
  return final


@pytest.mark.parametrize("seed", range(6))
def test_tri_stage_against_fairseq(seed):
  rng = np.random.default_rng(seed)
  w, h, d = (int(x) for x in rng.integers([0, 0, 1], [40, 40, 60]))
  peak = float(rng.uniform(1e-4, 1.0))
  a, b = float(rng.uniform(0, 0.2)), float(rng.uniform(0.001, 0.5))
  steps = np.arange(0, w + h + d + 20)
  expected = [_fairseq_tri_stage(int(n), peak, w, h, d, a, b) for n in steps]
  _close(_jit_values(osch.tri_stage(peak, w, h, d, a, b), steps), expected, peak)


# ------------------------------------------------------------------------- cyclic


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize("seed", range(3))
def test_cyclic_against_torch(mode, seed):
  rng = np.random.default_rng(seed)
  base, top = sorted(float(x) for x in rng.uniform(0.01, 1.0, 2))
  up, down = int(rng.integers(1, 12)), int(rng.integers(0, 12))
  gamma = float(rng.uniform(0.95, 1.0))
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
  ref = torch.optim.lr_scheduler.CyclicLR(opt, base, top, up, down or None, mode, gamma,
                                          cycle_momentum=False)
  if down == 0:  # torch's None means "as up"; 0 is a sawtooth here
    down = up
  expected = []
  for _ in range(200):
    expected.append(ref.get_last_lr()[0])
    opt.step()
    ref.step()
  s = osch.cyclic(base, top, up, down, mode, gamma)
  _close(_jit_values(s, np.arange(200)), expected, top)


def test_cyclic_triangular2_does_not_overflow():
  s = osch.cyclic(0.1, 1.0, 1, 1, "triangular2")
  assert float(s(2**31 - 1)) == pytest.approx(0.1)


# ------------------------------------------------------------------ k-decay, tanh


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0, 3.7])
def test_k_decay_of_cosine_and_polynomial_against_the_paper(k):
  t_total, init, end = 97, 1.0, 0.1
  steps = np.arange(0, t_total + 10)
  z = np.minimum(steps, t_total) ** k / t_total**k
  cosine = osch.k_decay(osch.cosine_decay(init - end, t_total) + end, t_total, k)
  _close(_jit_values(cosine, steps), end + 0.5 * (init - end) * (1 + np.cos(np.pi * z)))
  poly = osch.k_decay(osch.polynomial(init, end, 2.0, t_total), t_total, k)
  _close(_jit_values(poly, steps), (init - end) * (1 - z) ** 2 + end)


def test_k_decay_in_cycles_as_timm():
  # timm's CosineLRScheduler with k_decay warps every cycle: t_curr**k / t_i**k.
  t_i, k = 10, 2.0
  s = osch.cycle(osch.k_decay(osch.cosine_decay(1.0, t_i), t_i, k), t_i)
  steps = np.arange(0, 40)
  expected = [0.5 * (1 + math.cos(math.pi * (t % t_i) ** k / t_i**k)) for t in steps]
  _close(_jit_values(s, steps), expected)


def test_tanh_decay_against_timm_formula():
  t_total, init, end, lb, ub = 50, 0.4, 0.01, -6.0, 2.5
  steps = np.arange(0, t_total + 10)
  expected = [end + 0.5 * (init - end) * (1 - math.tanh(lb * (1 - tr) + ub * tr))
              for tr in np.minimum(steps / t_total, 1.0)]
  _close(_jit_values(osch.tanh_decay(init, t_total, end, lb, ub), steps), expected, init)


# ------------------------------------------------------------- pytrees and errors


def test_modern_schedules_vmap_over_their_values():
  peaks = jnp.array([1e-3, 3e-3, 1e-2])
  for make in (lambda p: osch.wsd(p, 10, 20, 30), lambda p: osch.inverse_sqrt(p, 10),
               lambda p: osch.rex(p, 100), lambda p: osch.tri_stage(p, 5, 5, 10),
               lambda p: osch.tanh_decay(p, 100), lambda p: osch.cyclic(0.0, p, 5),
               lambda p: osch.cooldown(osch.constant(p), 10, 10)):
    out = jax.vmap(lambda p, m=make: m(p)(jnp.arange(60)))(peaks)
    np.testing.assert_allclose(out[1], 3 * out[0], rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda: osch.cooldown(osch.constant(1.0), 10, 0),
     "`cooldown(cooldown_steps=...)` must be positive, got cooldown_steps=0."),
    (lambda: osch.cooldown(osch.constant(1.0), 10, 5, shape="sqrt"),
     "`cooldown(shape=...)` must be one of 'linear', 'cosine', '1-sqrt', '1-square', "
     "'exponential', got shape='sqrt'."),
    (lambda: osch.cooldown(osch.constant(1.0), 10, 5, decay_ratio=1.0),
     "`cooldown(decay_ratio=...)` must be in the open interval (0, 1), got decay_ratio=1.0."),
    (lambda: osch.wsd(1.0, 10, 10, 0),
     "`wsd(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: osch.wsd(1.0, 10, 10, 5, warmup_shape="exponential"),
     "`wsd(warmup_shape=...)` must be one of 'linear', 'cosine', '1-sqrt', got "
     "warmup_shape='exponential'."),
    (lambda: osch.inverse_sqrt(1.0, 10, timescale=0),
     "`inverse_sqrt(timescale=...)` must be positive, got timescale=0."),
    (lambda: osch.noam(512, 0), "`noam(warmup_steps=...)` must be positive, got "
     "warmup_steps=0."),
    (lambda: osch.noam(-1, 10), "`noam(d_model=...)` must be positive, got d_model=-1.0."),
    (lambda: osch.rex(1.0, 0), "`rex(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: osch.tri_stage(1.0, 10, 10, 0),
     "`tri_stage(decay_steps=...)` must be positive, got decay_steps=0."),
    (lambda: osch.tri_stage(1.0, 10, 10, 10, final_scale=0.0),
     "`tri_stage(final_scale=...)` must be positive, got final_scale=0.0."),
    (lambda: osch.cyclic(0.1, 1.0, 0), "`cyclic(step_size_up=...)` must be positive, got "
     "step_size_up=0."),
    (lambda: osch.cyclic(0.1, 1.0, 5, mode="exp_range", gamma=1.5),
     "`cyclic(gamma=...)` must be in (0, 1] with mode='exp_range', got gamma=1.5."),
    (lambda: osch.k_decay(osch.constant(1.0), 10, -1.0),
     "`k_decay(k=...)` must be non-negative, got k=-1.0."),
    (lambda: osch.tanh_decay(1.0, 0), "`tanh_decay(decay_steps=...)` must be positive, got "
     "decay_steps=0."),
])
def test_errors(make, message):
  with pytest.raises(ValueError, match=__import__("re").escape(message)):
    make()
