"""Checkpoint mid-run with orbax, restore, continue: identical trajectory."""

import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import optax_scheds as osch


def _problem():
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(64, 3)), jnp.float32)
  y = jnp.asarray(rng.normal(size=64), jnp.float32)
  schedule = osch.warmup(osch.cosine_decay(0.1, 80), 5)
  opt = optax.chain(optax.sgd(schedule, momentum=0.9),
                    osch.reduce_on_plateau(factor=0.5, patience=2, cooldown=1,
                                           accumulation_size=2))

  @jax.jit
  def step(params, state):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state

  return schedule, opt, step


def _run(step, params, state, n, schedule):
  lrs = []
  for _ in range(n):
    params, state = step(params, state)
    lrs.append(float(osch.learning_rate(schedule, state)))
  return params, state, lrs


@pytest.mark.filterwarnings("ignore::UserWarning")  # orbax's own notices
def test_restore_continues_the_identical_trajectory(tmp_path):
  schedule, opt, step = _problem()
  params = jnp.zeros(3)
  state = opt.init(params)
  params, state, _ = _run(step, params, state, 30, schedule)

  checkpointer = ocp.StandardCheckpointer()
  checkpointer.save(tmp_path / "ckpt", {"params": params, "opt_state": state})
  checkpointer.wait_until_finished()
  _, tail_direct, lrs_direct = _run(step, params, state, 50, schedule)

  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct,
                          {"params": params, "opt_state": opt.init(params)})
  restored = checkpointer.restore(tmp_path / "ckpt", abstract)
  assert isinstance(restored["opt_state"][1], osch.ReduceOnPlateauState)
  _, tail_restored, lrs_restored = _run(step, restored["params"], restored["opt_state"], 50,
                                        schedule)
  assert float(state[1].scale) > float(tail_direct[1].scale)  # a cut after restoring
  np.testing.assert_array_equal(lrs_restored, lrs_direct)
  chex_equal = jax.tree.map(lambda a, b: np.array_equal(a, b), tail_direct, tail_restored)
  assert all(jax.tree.leaves(chex_equal))


_TWO_PLATEAUS = """
import jax, jax.numpy as jnp, optax
import optax_scheds as osch

p_loss = osch.reduce_on_plateau(factor=0.5, patience=1, value_in_update=False)
p_acc = osch.reduce_on_plateau(factor=0.1, patience=2, mode="max", value_in_update=False)
opt = optax.chain(optax.sgd(0.1), p_loss, p_acc)
"""

_SAVE = _TWO_PLATEAUS + """
import sys
import numpy as np
import orbax.checkpoint as ocp

state = opt.init(jnp.zeros(3))
for loss, acc in [(1.0, 0.5), (0.9, 0.4)]:
  state = p_acc.observe(p_loss.observe(state, loss), acc)
checkpointer = ocp.StandardCheckpointer()
checkpointer.save(sys.argv[1], state)
checkpointer.wait_until_finished()
for loss, acc in [(0.9, 0.4), (0.9, 0.4)]:
  state = p_acc.observe(p_loss.observe(state, loss), acc)
np.save(sys.argv[2], np.array([state[1].scale, state[2].scale]))
"""


@pytest.mark.filterwarnings("ignore::UserWarning")  # orbax's own notices
def test_observe_finds_its_state_after_a_restore_in_a_fresh_process(tmp_path):
  """The owner of a plateau state is static structure; a new process that
  builds the same optimizer restores states that observe recognises."""
  env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).resolve().parents[1])}
  subprocess.run([sys.executable, "-c", _SAVE, str(tmp_path / "ckpt"), str(tmp_path / "ref.npy")],
                 check=True, env=env, cwd=tmp_path, capture_output=True)
  namespace = {}
  exec(_TWO_PLATEAUS, namespace)
  opt, p_loss, p_acc = namespace["opt"], namespace["p_loss"], namespace["p_acc"]
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, opt.init(jnp.zeros(3)))
  state = ocp.StandardCheckpointer().restore(tmp_path / "ckpt", abstract)
  observe_loss, observe_acc = jax.jit(p_loss.observe), jax.jit(p_acc.observe)
  for loss, acc in [(0.9, 0.4), (0.9, 0.4)]:
    state = observe_acc(observe_loss(state, loss), acc)
  np.testing.assert_array_equal([state[1].scale, state[2].scale],
                                np.load(tmp_path / "ref.npy"))
  # Closed form: losses 1.0, 0.9, 0.9, 0.9 with patience 1: two cuts, 0.5**2;
  # accuracies 0.5, 0.4, 0.4, 0.4 with patience 2: one cut, 0.1.
  np.testing.assert_allclose([state[1].scale, state[2].scale], [0.25, 0.1], rtol=1e-6)
