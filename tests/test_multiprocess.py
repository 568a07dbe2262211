"""Two processes, two simulated CPU devices each, one 4-device mesh.

The test launches this file twice as a script (``python test_multiprocess.py
worker <process_id> <port> <out>``), joined by ``jax.distributed.initialize``
over loopback with gloo collectives. Each process trains the same linear model
data-parallel with a joined schedule and plateau reduction, in both styles:
``shard_map`` with ``reduce_on_plateau(axis_name=...)`` (each device feeds its
own local loss) and sharded ``jit`` with a global loss. Every device sees a
differently scaled target, so the local metrics of the two processes differ.
Both processes must end with identical parameters, plateau state and
learning-rate history, equal to a one-device run on the global batch.
"""

import os
import pathlib
import socket
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch

NUM_PROCESSES, LOCAL_DEVICES = 2, 2
DEVICES = NUM_PROCESSES * LOCAL_DEVICES
STEPS, ROWS = 40, 8
TIMEOUT_S = 120


def _schedule():
  return osch.join([osch.linear(0.0, 0.1, 5), osch.cosine_decay(0.1, STEPS - 5, alpha=0.1)],
                   [5])


def _optimizer(axis_name=None):
  return optax.chain(
      optax.sgd(_schedule(), momentum=0.5),
      osch.reduce_on_plateau(factor=0.5, patience=2, accumulation_size=4,
                             axis_name=axis_name))


def _data():
  """x, y of shape (STEPS, DEVICES, ROWS, ...): one linear target plus noise of
  standard deviation (d + 1) / 2 on device d, so the loss reaches a floor (a
  plateau) that differs per device."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(STEPS, DEVICES, ROWS, 3)).astype(np.float32)
  noise = rng.normal(size=(STEPS, DEVICES, ROWS)) * (np.arange(DEVICES)[:, None] + 1) / 2
  y = x @ np.array([1.0, -1.0, 0.5], np.float32) + noise.astype(np.float32)
  return x, y.astype(np.float32)


def _loss(params, x, y):
  return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


PLATEAU_ENTRIES = ("scale", "best_value", "plateau_count", "cooldown_count", "count",
                   "avg_value")


def _init_params():
  return {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}


def _result(params, state, lrs):
  plateau = state[1]
  return {"w": np.asarray(params["w"]), "b": np.asarray(params["b"]),
          "lrs": np.asarray(lrs, np.float32),
          **{f"plateau_{k}": np.asarray(getattr(plateau, k)) for k in PLATEAU_ENTRIES}}


def _reference():
  """One device, one process, the global batch: the loss is the mean of the
  per-device losses (equal shard sizes), i.e. the globally averaged metric."""
  schedule, opt = _schedule(), _optimizer()
  x, y = _data()
  x, y = x.reshape(STEPS, DEVICES * ROWS, 3), y.reshape(STEPS, DEVICES * ROWS)

  @jax.jit
  def step(params, state, x, y):
    loss, grads = jax.value_and_grad(_loss)(params, x, y)
    updates, state = opt.update(grads, state, params, value=loss)
    params = optax.apply_updates(params, updates)
    return params, state, osch.learning_rate(schedule, state)

  params = _init_params()
  state = opt.init(params)
  lrs = []
  for k in range(STEPS):
    params, state, lr = step(params, state, x[k], y[k])
    lrs.append(float(lr))
  return _result(params, state, lrs)


def _worker(process_id: int, port: int, out: str):
  from jax.sharding import AxisType, NamedSharding
  from jax.sharding import PartitionSpec as P

  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.config.update("jax_numpy_dtype_promotion", "strict")
  jax.config.update("jax_numpy_rank_promotion", "raise")
  jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}",
                             num_processes=NUM_PROCESSES, process_id=process_id,
                             initialization_timeout=60)
  assert jax.device_count() == DEVICES and jax.local_device_count() == LOCAL_DEVICES
  mesh = jax.make_mesh((DEVICES,), ("batch",), axis_types=(AxisType.Auto,))
  replicated, by_batch = NamedSharding(mesh, P()), NamedSharding(mesh, P("batch"))
  # This process's rows of the global batch: the devices it owns, in mesh order.
  mine = [i for i, d in enumerate(mesh.devices.flat) if d.process_index == process_id]
  x_all, y_all = _data()
  x_local, y_local = x_all[:, mine], y_all[:, mine]
  schedule = _schedule()
  results = {}

  def run(opt, step, x_global, y_global):
    params = jax.jit(_init_params, out_shardings=replicated)()
    state = jax.jit(opt.init, out_shardings=replicated)(params)
    lrs, local_losses = [], []
    for k in range(STEPS):
      # Block on every step: XLA's CPU collectives stall when programs pile up.
      params, state, lr, local = jax.block_until_ready(
          step(params, state, x_global(k), y_global(k)))
      lrs.append(float(lr))  # replicated: every process can read it
      local_losses.append([float(s.data[0]) for s in local.addressable_shards])
    return params, state, lrs, np.asarray(local_losses)

  # Style 1: shard_map; each device feeds its local loss, the plateau averages.
  opt = _optimizer(axis_name="batch")

  def local_step(params, state, x, y):
    def objective(params):
      loss = _loss(params, x[0], y[0])
      return jax.lax.pmean(loss, "batch"), loss

    # The gradient of the mean loss. (shard_map sums the gradient of a local
    # loss with respect to replicated params over the axis by itself: a
    # pmean of those gradients would give N times the mean.)
    (_, loss), grads = jax.value_and_grad(objective, has_aux=True)(params)
    updates, state = opt.update(grads, state, params, value=loss)  # the local loss
    params = optax.apply_updates(params, updates)
    return params, state, osch.learning_rate(schedule, state), loss[None]

  specs = (P(), P(), P("batch"), P("batch"))
  step = jax.jit(jax.shard_map(local_step, mesh=mesh, in_specs=specs,
                               out_specs=(P(), P(), P(), P("batch"))))

  def global_array(a, k):
    return jax.make_array_from_process_local_data(by_batch, a[k])

  params, state, lrs, local = run(opt, step, lambda k: global_array(x_local, k),
                                  lambda k: global_array(y_local, k))
  results["shard_map"] = _result(params, state, lrs)
  results["shard_map_local_losses"] = local

  # Style 2: jit over sharded arrays; the loss is global, no axis_name.
  opt = _optimizer()

  @jax.jit
  def global_step(params, state, x, y):
    loss, grads = jax.value_and_grad(_loss)(params, x, y)
    updates, state = opt.update(grads, state, params, value=loss)  # the global loss
    params = optax.apply_updates(params, updates)
    return params, state, osch.learning_rate(schedule, state), jnp.broadcast_to(loss, (DEVICES,))

  flat_x, flat_y = x_local.reshape(STEPS, -1, 3), y_local.reshape(STEPS, -1)
  params, state, lrs, _ = run(opt, global_step, lambda k: global_array(flat_x, k),
                              lambda k: global_array(flat_y, k))
  results["jit"] = _result(params, state, lrs)

  flat = {f"{style}/{k}": v for style, r in results.items()
          for k, v in (r.items() if isinstance(r, dict) else [("", r)])}
  np.savez(out, **flat)
  jax.distributed.shutdown()


def _free_port() -> int:
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_each_other_and_one_device(tmp_path):
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={LOCAL_DEVICES}",
         "JAX_PLATFORMS": "cpu",
         "PYTHONPATH": os.pathsep.join([str(pathlib.Path(__file__).resolve().parents[1]),
                                        os.environ.get("PYTHONPATH", "")])}
  port = _free_port()
  outs = [tmp_path / f"p{i}.npz" for i in range(NUM_PROCESSES)]
  logs = [open(tmp_path / f"p{i}.log", "w+") for i in range(NUM_PROCESSES)]
  procs = []
  try:
    for i in range(NUM_PROCESSES):
      procs.append(subprocess.Popen(
          [sys.executable, __file__, "worker", str(i), str(port), str(outs[i])],
          env=env, cwd=tmp_path, stdout=logs[i], stderr=subprocess.STDOUT))
    reference = _reference()  # while the workers start
    for i, p in enumerate(procs):
      try:
        rc = p.wait(timeout=TIMEOUT_S)
      except subprocess.TimeoutExpired:
        rc = "timeout"
      if rc != 0:
        logs[i].seek(0)
        pytest.fail(f"process {i} exited with {rc}:\n{logs[i].read()[-4000:]}")
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
        p.wait()
    for f in logs:
      f.close()

  r0, r1 = (dict(np.load(o)) for o in outs)
  assert r0.keys() == r1.keys()
  for key in r0:
    if not key.startswith("shard_map_local_losses"):
      np.testing.assert_array_equal(r0[key], r1[key], err_msg=key)
  # The processes fed different local metrics (device d: noise (d + 1) / 2).
  local0, local1 = r0["shard_map_local_losses/"], r1["shard_map_local_losses/"]
  assert local1[10:].mean() > 2 * local0[10:].mean()
  for style in ("shard_map", "jit"):
    got = {k.split("/")[1]: v for k, v in r0.items() if k.startswith(style + "/")}
    assert got["plateau_scale"] < 0.5  # the averaged loss plateaued at least twice
    for key in ("plateau_scale", "plateau_plateau_count", "plateau_cooldown_count",
                "plateau_count"):
      np.testing.assert_array_equal(got[key], reference[key], err_msg=f"{style} {key}")
    # Sums over a different device split round differently: float32 closeness.
    for key in ("w", "b", "lrs", "plateau_best_value", "plateau_avg_value"):
      np.testing.assert_allclose(got[key], reference[key], rtol=1e-5, atol=1e-6,
                                 err_msg=f"{style} {key}")


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
  _worker(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
