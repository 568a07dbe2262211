"""Every sharding style on the 8 simulated devices gives the one-device result.

A few data-parallel training steps of a linear model with a joined schedule
and plateau reduction: ``jit`` over an Explicit-axes mesh, ``jit`` over an
Auto-axes mesh (the compiler's sharding propagation), ``shard_map`` and
``pmap`` (both with ``axis_name`` on the plateau and a local loss per device)
end with the parameters and plateau state of one device on the global batch.
The learning rate computed inside the step is replicated, never sharded.
Every catalogued schedule (docs/catalogue.py, kept complete against the public
API by tests/test_catalogue.py) also runs on a vector of steps sharded over an
Explicit mesh axis. With more devices than cores, every step is blocked on.
"""

import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import optax_scheds as osch

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogue", ROOT / "docs" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

N = jax.device_count()
STEPS, ROWS = 16, 4
pytestmark = pytest.mark.skipif(N < 2, reason="needs several (simulated) devices")


def _schedule():
  return osch.join([osch.linear(0.0, 0.1, 4), osch.cosine_decay(0.1, STEPS, alpha=0.1)], [4])


def _optimizer(axis_name=None):
  return optax.chain(optax.sgd(_schedule(), momentum=0.5),
                     osch.reduce_on_plateau(factor=0.5, patience=1, accumulation_size=2,
                                            axis_name=axis_name))


def _data():
  """(STEPS, N, ROWS, ...): device d's noise has standard deviation (d + 1) / 2."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(STEPS, N, ROWS, 3)).astype(np.float32)
  noise = rng.normal(size=(STEPS, N, ROWS)) * (np.arange(N)[:, None] + 1) / 2
  return x, (x @ np.array([1.0, -1.0, 0.5], np.float32) + noise).astype(np.float32)


def _loss(params, x, y):
  return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


def _params():
  return {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}


def _global_step(opt, schedule):
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(_loss)(params, x, y)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, osch.learning_rate(schedule, state)

  return step


def _local_step(opt, schedule, axis, *, mapped_params):
  """One device's step: its local loss feeds the plateau (which averages it over
  ``axis``); the gradient is that of the mean loss. With replicated (invariant)
  params, shard_map sums a local loss's gradient over the axis by itself, so the
  mean loss is differentiated; pmap's params are per-device copies, so the
  local gradients are averaged (a pmean of shard_map's would give N times the
  mean gradient)."""

  def step(params, state, x, y):
    if mapped_params:
      loss, grads = jax.value_and_grad(_loss)(params, x, y)
      grads = jax.lax.pmean(grads, axis)
    else:
      def objective(params):
        loss = _loss(params, x, y)
        return jax.lax.pmean(loss, axis), loss

      (_, loss), grads = jax.value_and_grad(objective, has_aux=True)(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, osch.learning_rate(schedule, state)

  return step


def _train(step, params, state, xs, ys):
  lrs = []
  for k in range(STEPS):
    params, state, lr = jax.block_until_ready(step(params, state, xs[k], ys[k]))
    lrs.append(lr)
  return params, state, lrs


def _host(params, state, lrs):
  return jax.tree.map(np.asarray, (params, state[1], np.stack([np.asarray(r) for r in lrs])))


@pytest.fixture(scope="module")
def reference():
  opt, schedule = _optimizer(), _schedule()
  x, y = _data()
  device = jax.devices()[0]
  with jax.default_device(device):
    params = _params()
    out = _train(jax.jit(_global_step(opt, schedule)), params, opt.init(params),
                 x.reshape(STEPS, N * ROWS, 3), y.reshape(STEPS, N * ROWS))
  assert float(out[1][1].scale) <= 0.25  # the mean loss plateaued at least twice
  return _host(*out)


def _assert_same(got, reference):
  params, plateau, lrs = got
  ref_params, ref_plateau, ref_lrs = reference
  for field in ("scale", "plateau_count", "cooldown_count", "count"):
    np.testing.assert_array_equal(getattr(plateau, field), getattr(ref_plateau, field),
                                  err_msg=field)
  # A different split of the sums: equal to float32 rounding.
  np.testing.assert_allclose(lrs, ref_lrs, rtol=1e-6)
  for a, b in zip(jax.tree.leaves((params, plateau)), jax.tree.leaves((ref_params,
                                                                        ref_plateau))):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _assert_replicated(lrs):
  for lr in lrs:
    assert lr.shape == () and lr.sharding.is_fully_replicated, lr.sharding


@pytest.mark.parametrize("axis_type", [AxisType.Explicit, AxisType.Auto])
def test_jit_over_a_mesh(reference, axis_type):
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(axis_type,))
  opt, schedule = _optimizer(), _schedule()
  x, y = _data()
  rows = NamedSharding(mesh, P("batch"))
  xs = [jax.device_put(x[k].reshape(N * ROWS, 3), rows) for k in range(STEPS)]
  ys = [jax.device_put(y[k].reshape(N * ROWS), rows) for k in range(STEPS)]
  replicated = NamedSharding(mesh, P())
  params = jax.device_put(_params(), replicated)
  state = jax.device_put(opt.init(params), replicated)
  step = _global_step(opt, schedule)

  def checked(params, state, x, y):
    params, state, lr = step(params, state, x, y)
    if axis_type == AxisType.Explicit:  # shardings are part of the types
      assert jax.typeof(x).sharding.spec == P("batch", None)
      assert jax.typeof(lr).sharding.spec == P()
      for leaf in jax.tree.leaves((params, state)):
        assert all(s is None for s in jax.typeof(leaf).sharding.spec), jax.typeof(leaf)
    return params, state, lr

  with jax.set_mesh(mesh):
    params, state, lrs = _train(jax.jit(checked), params, state, xs, ys)
  _assert_replicated(lrs)
  for leaf in jax.tree.leaves((params, state)):
    assert leaf.sharding.is_fully_replicated
  _assert_same(_host(params, state, lrs), reference)


def test_shard_map_with_axis_name(reference):
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(AxisType.Explicit,))
  opt, schedule = _optimizer(axis_name="batch"), _schedule()
  x, y = _data()
  local = _local_step(opt, schedule, "batch", mapped_params=False)
  step = jax.jit(jax.shard_map(lambda p, s, x, y: local(p, s, x[0], y[0]), mesh=mesh,
                               in_specs=(P(), P(), P("batch"), P("batch")),
                               out_specs=(P(), P(), P())))
  shard = NamedSharding(mesh, P("batch"))
  xs = [jax.device_put(x[k], shard) for k in range(STEPS)]
  ys = [jax.device_put(y[k], shard) for k in range(STEPS)]
  replicated = NamedSharding(mesh, P())
  params = jax.device_put(_params(), replicated)
  state = jax.device_put(opt.init(params), replicated)
  params, state, lrs = _train(step, params, state, xs, ys)
  _assert_replicated(lrs)
  _assert_same(_host(params, state, lrs), reference)


def test_pmap_with_axis_name(reference):
  opt, schedule = _optimizer(axis_name="batch"), _schedule()
  x, y = _data()
  step = jax.pmap(_local_step(opt, schedule, "batch", mapped_params=True), axis_name="batch")
  params = jax.tree.map(lambda a: jnp.broadcast_to(a, (N, *a.shape)), _params())
  state = jax.pmap(opt.init)(params)
  params, state, lrs = _train(step, params, state, x, y)
  params, plateau, lrs = _host(params, state, lrs)
  # Every replica holds the same values.
  for leaf in [*jax.tree.leaves((params, plateau)), lrs.T]:  # replicas first
    np.testing.assert_array_equal(leaf, np.broadcast_to(leaf[:1], leaf.shape))
  first = jax.tree.map(lambda a: a[0], (params, plateau))
  _assert_same((*first, lrs[:, 0]), reference)


def test_schedule_argument_stays_replicated():
  """A schedule passed to a jitted step is a pytree of arrays: device_put with a
  replicated NamedSharding keeps every leaf (and the lr) on all devices."""
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(AxisType.Explicit,))
  replicated = NamedSharding(mesh, P())
  schedule = osch.join([osch.table(np.linspace(0.1, 0.8, N, dtype=np.float32)),
                        osch.cosine_decay(0.1, 100)], [N])
  placed = jax.device_put(schedule, replicated)
  assert type(placed) is type(schedule)
  for leaf in jax.tree.leaves(placed):
    assert leaf.sharding.is_fully_replicated, leaf.sharding

  opt = optax.chain(optax.sgd(placed), osch.reduce_on_plateau())
  params = jax.device_put(jnp.zeros(3), replicated)
  state = jax.device_put(opt.init(params), replicated)

  @jax.jit
  def lr_of(schedule, state):
    lr = osch.learning_rate(schedule, state)
    assert jax.typeof(lr).sharding.spec == P()
    return lr

  with jax.set_mesh(mesh):
    lr = jax.block_until_ready(lr_of(placed, state))
  assert lr.sharding.is_fully_replicated
  np.testing.assert_allclose(float(lr), 0.1, rtol=1e-6)


@pytest.mark.parametrize("axis_type", [AxisType.Auto, AxisType.Explicit])
def test_schedule_on_sharded_steps(axis_type):
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(axis_type,))
  schedule = osch.join([osch.table(np.linspace(0.1, 0.8, N, dtype=np.float32)),
                        osch.cosine_decay(0.1, 100)], [N])
  schedule = jax.device_put(schedule, NamedSharding(mesh, P()))
  steps = jax.device_put(jnp.arange(N, dtype=jnp.int32), NamedSharding(mesh, P("batch")))
  with jax.set_mesh(mesh):
    # Integer steps, and float steps halfway into the same table entries.
    values = jax.block_until_ready(jax.jit(lambda s, t: (s(t), s(t.astype(jnp.float32) + 0.5)))(
        schedule, steps))
  # A vector of steps keeps its sharding; the schedule's leaves stay replicated.
  for v in values:
    assert v.sharding.spec == P("batch")
    np.testing.assert_allclose(v, np.linspace(0.1, 0.8, N), rtol=1e-6)


def _sharded_steps(name):
  """The catalogue's drawn steps and the largest steps, padded to a multiple
  of the device count."""
  n = catalogue.EXAMPLES[name][2]
  steps = np.concatenate([np.arange(n), [2**24 - 1, 2**24, 2**31 - 2, 2**31 - 1]])
  return np.pad(steps, (0, -len(steps) % N), mode="edge").astype(np.int32)


@pytest.mark.parametrize("name", sorted(catalogue.EXAMPLES))
def test_every_schedule_on_steps_sharded_over_an_explicit_axis(name):
  # The schedule's lookups (pieces, stairs, cycles, tables) would need an
  # output sharding JAX cannot infer. The values keep the steps' sharding and
  # equal those on replicated steps, to float32 rounding (the sharded program
  # is compiled for one shard's length and fused differently).
  mesh = jax.make_mesh((N,), ("batch",), axis_types=(AxisType.Explicit,))
  steps = _sharded_steps(name)

  @jax.jit
  def values(schedule, sharded, replicated):
    out = schedule(sharded), schedule(replicated)
    assert [jax.typeof(x).sharding.spec for x in out] == [P("batch"), P(None)]
    return out

  with jax.set_mesh(mesh):
    out, ref = jax.block_until_ready(values(
        catalogue.build(name), jax.device_put(steps, NamedSharding(mesh, P("batch"))),
        jax.device_put(steps, NamedSharding(mesh, P()))))
  assert out.sharding.spec == P("batch") and out.dtype == np.float32
  ref = np.asarray(ref)
  np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-6, atol=1e-7 * np.max(np.abs(ref)))
