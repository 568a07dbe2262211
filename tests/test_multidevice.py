"""Plateau reduction and schedules across simulated CPU devices.

conftest.py sets --xla_force_host_platform_device_count=8. With more devices
than cores, each step's result is blocked on, or XLA's CPU collectives stall.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import AxisType, NamedSharding, PartitionSpec

import optax_scheds as osch

N = jax.device_count()
pytestmark = pytest.mark.skipif(N < 2, reason="needs several (simulated) devices")


def _train_step(opt):
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
    grads = jax.lax.pmean(grads, "batch")
    updates, state = opt.update(grads, state, params, value=loss)  # local loss
    return optax.apply_updates(params, updates), state

  return jax.pmap(step, axis_name="batch")


def _data(rng, steps):
  x = rng.normal(size=(steps, N, 8, 3)).astype(np.float32)
  # Each device sees a differently scaled target: very different local losses.
  y = (x @ np.array([1.0, -1.0, 2.0], np.float32)) * np.arange(1, N + 1)[None, :, None]
  return x, y.astype(np.float32)


def test_pmap_with_axis_name_keeps_replicas_identical():
  schedule = osch.warmup_cosine_decay(0.0, 0.05, 5, 60)
  opt = optax.chain(optax.sgd(schedule),
                    osch.reduce_on_plateau(factor=0.5, patience=2, axis_name="batch"))
  step = _train_step(opt)
  params = jnp.zeros((N, 3))
  state = jax.pmap(opt.init)(params)
  x, y = _data(np.random.default_rng(0), 40)
  for k in range(40):
    params, state = jax.block_until_ready(step(params, state, x[k], y[k]))
  scales = np.asarray(state[1].scale)
  best = np.asarray(state[1].best_value)
  assert np.all(scales == scales[0]) and np.all(best == best[0])
  assert scales[0] < 1.0  # the averaged loss plateaued at least once
  np.testing.assert_array_equal(np.asarray(params), np.broadcast_to(params[0], params.shape))


def test_pmap_without_axis_name_drifts_apart():
  """The failure mode axis_name fixes (kept to show the test can fail)."""
  opt = optax.chain(optax.sgd(0.01), osch.reduce_on_plateau(factor=0.5, patience=2))
  step = _train_step(opt)
  params = jnp.zeros((N, 3))
  state = jax.pmap(opt.init)(params)
  rng = np.random.default_rng(1)
  for _ in range(30):
    loss_noise = rng.normal(size=(N, 8, 3)).astype(np.float32)
    x = loss_noise * np.arange(1, N + 1)[:, None, None].astype(np.float32)
    y = rng.normal(size=(N, 8)).astype(np.float32)
    params, state = jax.block_until_ready(step(params, state, x, y))
  scales = np.asarray(state[1].scale)
  assert len(set(scales.tolist())) > 1


def test_nan_on_one_replica_is_a_bad_evaluation_everywhere():
  t = osch.reduce_on_plateau(factor=0.5, patience=1, axis_name="i")
  params = jnp.zeros((N, 2))
  state = jax.pmap(t.init)(params)
  update = jax.pmap(lambda s, v: t.update(jnp.ones(2), s, value=v)[1], axis_name="i")
  state = jax.block_until_ready(update(state, jnp.ones(N)))
  values = jnp.ones(N).at[3].set(jnp.nan) * 0.5
  state = jax.block_until_ready(update(state, values))
  np.testing.assert_array_equal(np.asarray(state.scale), np.full(N, 0.5))
  np.testing.assert_array_equal(np.asarray(state.best_value), np.full(N, 1.0))


def test_observe_under_pmap_updates_its_own_state_only():
  p_loss = osch.reduce_on_plateau(factor=0.5, patience=1, axis_name="i",
                                  value_in_update=False)
  p_acc = osch.reduce_on_plateau(factor=0.1, patience=5, mode="max", axis_name="i",
                                 value_in_update=False)
  opt = optax.chain(optax.sgd(0.1), p_loss, p_acc)
  state = jax.pmap(opt.init)(jnp.zeros((N, 2)))
  observe = jax.pmap(p_loss.observe, axis_name="i")
  for _ in range(2):
    # Replica r sees 2r; the mean over replicas is N - 1 twice: one cut.
    state = jax.block_until_ready(observe(state, 2 * jnp.arange(N, dtype=jnp.float32)))
  np.testing.assert_array_equal(np.asarray(state[1].scale), np.full(N, 0.5))
  np.testing.assert_array_equal(np.asarray(state[1].best_value), np.full(N, N - 1.0))
  np.testing.assert_array_equal(np.asarray(state[2].scale), np.ones(N))
  np.testing.assert_array_equal(np.asarray(state[2].best_value), np.full(N, -np.inf))


def test_observe_under_shard_map_updates_its_own_state_only():
  mesh = jax.make_mesh((N,), ("i",), axis_types=(AxisType.Auto,))
  p_loss = osch.reduce_on_plateau(factor=0.5, patience=1, axis_name="i",
                                  value_in_update=False)
  p_acc = osch.reduce_on_plateau(factor=0.1, mode="max", value_in_update=False)
  opt = optax.chain(optax.sgd(0.1), p_loss, p_acc)
  state = opt.init(jnp.zeros(2))
  spec = jax.tree.map(lambda _: PartitionSpec(), state)
  observe = jax.jit(jax.shard_map(lambda s, v: p_loss.observe(s, v[0]), mesh=mesh,
                                  in_specs=(spec, PartitionSpec("i")), out_specs=spec))
  values = jax.device_put(2 * jnp.arange(N, dtype=jnp.float32),
                          NamedSharding(mesh, PartitionSpec("i")))
  for _ in range(2):
    state = jax.block_until_ready(observe(state, values))
  assert float(state[1].scale) == 0.5 and float(state[1].best_value) == N - 1.0
  assert float(state[2].scale) == 1.0 and float(state[2].best_value) == -np.inf


def test_jit_with_sharded_batch_needs_no_axis_name():
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(AxisType.Auto,))
  sharded = NamedSharding(mesh, PartitionSpec("batch"))
  schedule = osch.warmup(osch.cosine_decay(0.05, 100), 5)
  opt = optax.chain(optax.sgd(schedule), osch.reduce_on_plateau(factor=0.5, patience=2))
  params = jnp.zeros(3)
  state = opt.init(params)

  @jax.jit
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x @ p - y) ** 2))(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, loss

  rng = np.random.default_rng(2)
  for _ in range(30):
    x = jax.device_put(rng.normal(size=(8 * N, 3)).astype(np.float32), sharded)
    y = jax.device_put(rng.normal(size=(8 * N,)).astype(np.float32), sharded)
    params, state, loss = jax.block_until_ready(step(params, state, x, y))
  assert float(state[1].scale) < 1.0
  assert np.isfinite(float(osch.learning_rate(schedule, state)))


def test_schedule_evaluated_on_sharded_steps():
  mesh = jax.make_mesh((N,), ("s",), axis_types=(AxisType.Auto,))
  steps = jax.device_put(jnp.arange(N * 4, dtype=jnp.int32),
                         NamedSharding(mesh, PartitionSpec("s")))
  s = osch.sgdr([dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=8)] * 4)
  np.testing.assert_allclose(jax.jit(s)(steps), s(np.arange(N * 4)), rtol=1e-6, atol=1e-7)
