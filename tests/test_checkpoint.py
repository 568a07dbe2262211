"""Checkpoint mid-run with orbax, restore, continue: identical trajectory."""

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
