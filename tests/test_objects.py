"""Schedules as Python objects: pickle, deepcopy, equality and hash by value, pytree
rebuilds without validation; and `advance`, the counterpart of `delay`."""

import copy
import functools
import pickle
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from optax_scheds.compat import torch as tc

STEPS = np.arange(0, 3000, 3, dtype=np.int32)


def _builders():
  return {
      "warmup cosine": lambda: osch.warmup(osch.cosine_decay(3e-4, 1000), 10),
      "join": lambda: osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 10)], [5]),
      "arithmetic": lambda: 0.5 * osch.cosine_decay(1.0, 100) + osch.rex(0.1, 50),
      "cycle": lambda: osch.cycle(osch.linear(1.0, 0.0, 10), 10, length_mul=1.5),
      "torch": lambda: tc.OneCycleLR(0.1, total_steps=100),
      "keras": lambda: kc.CosineDecayRestarts(1.0, 15, 1.5, 0.8),
      "array leaves": lambda: osch.cosine_decay(np.array([0.1, 0.2], np.float32), 100),
  }


@pytest.mark.parametrize("name", sorted(_builders()))
def test_equal_and_hash_by_value(name):
  make = _builders()[name]
  a, b = make(), make()
  assert a is not b and a == b and hash(a) == hash(b) and not (a != b)
  assert len({a, b}) == 1
  other = jax.tree.map(
      lambda x: x + 1 if np.issubdtype(np.asarray(x).dtype, np.floating) else x, a)
  assert other != a


def test_different_numbers_or_structure_are_not_equal():
  assert osch.cosine_decay(1.0, 100) != osch.cosine_decay(1.0, 101)
  assert osch.cosine_decay(1.0, 100) != osch.cosine_decay(1.0, 100, alpha=0.1)
  assert osch.warmup(osch.constant(1.0), 5) != osch.warmup(osch.constant(1.0), 5,
                                                           ramp="cosine")
  assert osch.constant(1.0) != osch.linear(1.0, 1.0, 1)
  assert osch.constant(1.0) != 1.0


@pytest.mark.parametrize("name", sorted(_builders()))
def test_pickle_and_deepcopy_keep_values_and_text(name):
  s = _builders()[name]()
  for t in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
    assert t == s and repr(t) == repr(s)
    np.testing.assert_array_equal(jax.vmap(t)(STEPS), jax.vmap(s)(STEPS))


def test_pickled_schedule_hashes_correctly_in_another_process(tmp_path):
  s = osch.warmup(osch.cosine_decay(1.0, 100), 10, ramp="cosine")
  hash(s)  # caches the hash, which must not travel
  path = tmp_path / "s.pkl"
  path.write_bytes(pickle.dumps(s))
  code = (f"import pickle, optax_scheds as osch\n"
          f"s = pickle.loads(open({str(path)!r}, 'rb').read())\n"
          "t = osch.warmup(osch.cosine_decay(1.0, 100), 10, ramp='cosine')\n"
          "print(s == t, hash(s) == hash(t), len({s, t}))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env={"PYTHONHASHSEED": "123", "PATH": ""})
  assert out.stdout.split() == ["True", "True", "1"], out.stderr


def test_an_optimizer_state_with_a_schedule_pickles():
  s = osch.warmup(osch.cosine_decay(0.1, 100), 10)
  opt = optax.chain(optax.inject_hyperparams(optax.sgd)(learning_rate=s),
                    osch.reduce_on_plateau(factor=0.5, patience=1))
  params = jnp.ones(3)
  state = opt.init(params)
  for v in [1.0, 1.0, 1.0, 1.0]:
    _, state = opt.update(params, state, params, value=v)
  restored = pickle.loads(pickle.dumps((s, state)))
  assert restored[0] == s
  jax.tree.map(np.testing.assert_array_equal, restored[1], state)
  assert float(osch.learning_rate(*restored)) == float(osch.learning_rate(s, state))


def test_rebuilt_with_the_same_numbers_is_the_same_static_argument():
  traces = []

  @functools.partial(jax.jit, static_argnums=0)
  def lr(schedule, t):
    traces.append(schedule)
    return schedule(t)

  for _ in range(3):
    lr(osch.warmup(osch.cosine_decay(3e-4, 1000), 10), 5)
  assert len(traces) == 1
  lr(osch.warmup(osch.cosine_decay(3e-4, 1001), 10), 5)
  assert len(traces) == 2


def test_unflattening_never_validates():
  s = osch.warmup(osch.cosine_decay(1.0, 100), 10)
  weird = jax.tree.map(lambda x: -7, s)  # values no constructor accepts
  assert weird.schedule.decay_steps == -7
  peaks = jnp.array([0.1, 0.2, 0.3])
  batched = osch.warmup(osch.cosine_decay(peaks, 100), 10)
  in_axes = jax.tree.map(lambda x: 0 if np.ndim(x) else None, batched)
  out = jax.vmap(lambda sched: sched(50), in_axes=(in_axes,))(batched)
  np.testing.assert_allclose(out, peaks * np.float32(osch.cosine_decay(1.0, 100)(40)),
                             rtol=1e-6)


def test_traced_schedules_cannot_be_hashed():
  with pytest.raises(TypeError, match=re.escape("a schedule with traced leaves")):
    jax.jit(lambda p: hash(osch.cosine_decay(p, 10)))(1.0)


@pytest.mark.parametrize("k", [0, 1, 7, 40, 99, 100, 1234])
def test_advance_is_the_schedule_started_k_steps_in(k):
  s = osch.warmup_cosine_decay(0.0, 1.0, 10, 100, end_value=0.1)
  a = osch.advance(s, k)
  np.testing.assert_array_equal(a(STEPS), s(STEPS + k))
  np.testing.assert_array_equal(jax.jit(a)(STEPS), s(STEPS + k))
  f = STEPS[:50].astype(np.float32) + np.float32(0.5)
  np.testing.assert_array_equal(a(f), s(f + k))


def test_advance_saturates_at_the_largest_step_and_undoes_delay():
  s = osch.piecewise_constant(1.0, {2**31 - 1: 0.5})
  a = osch.advance(s, 10)
  np.testing.assert_array_equal(a(jnp.array([2**31 - 12, 2**31 - 11, 2**31 - 1], jnp.int32)),
                                [1.0, 0.5, 0.5])
  d = osch.linear(1.0, 0.0, 50)
  np.testing.assert_array_equal(osch.advance(osch.delay(d, 30), 30)(STEPS), d(STEPS))


def test_advance_resumes_a_torch_scheduler_saved_at_last_epoch():
  torch = pytest.importorskip("torch")
  model = torch.nn.Linear(1, 1)
  opt = torch.optim.SGD(model.parameters(), lr=0.1)
  sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)
  for _ in range(37):
    opt.step()
    sched.step()
  assert sched.last_epoch == 37
  resumed = osch.advance(tc.OneCycleLR(0.1, total_steps=100), sched.last_epoch)
  ours = np.asarray(resumed(np.arange(60)))
  theirs = []
  for _ in range(60):
    theirs.append(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
  np.testing.assert_allclose(ours, theirs, rtol=2e-5)


def test_advance_refuses_negative_and_non_integer_steps():
  s = osch.constant(1.0)
  with pytest.raises(ValueError, match=re.escape("`advance(steps=...)` must be")):
    osch.advance(s, -1)
  with pytest.raises(ValueError, match=re.escape("`advance(steps=...)` must be a whole")):
    osch.advance(s, 1.5)
  with pytest.raises(TypeError, match=re.escape("`advance(steps=...)`")):
    osch.advance(s, "1")
  with pytest.raises(TypeError, match=re.escape("`advance(schedule=...)`")):
    osch.advance("x", 1)
