"""Resume in a fresh process: identical learning rates, plateau state, params.

For the native plateau and both ported ones (PyTorch's and Keras'
``ReduceLROnPlateau``), chained after SGD with a joined schedule: this process
trains 30 steps, saves params and optimizer state with orbax, and trains 50
more (the uninterrupted run). A fresh Python process (this file as a script)
builds the same optimizer, restores the checkpoint into the structure of
``optimizer.init(params)`` and trains the same 50 steps. Both must agree
bit for bit (same machine, same XLA flags, same programs).
"""

import os
import pathlib
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

KINDS = ("native", "torch", "keras")
BEFORE, AFTER = 30, 50
PEAK = 0.05


def _schedule():
  return osch.join([osch.linear(0.0, PEAK, 5), osch.cosine_decay(PEAK, 100, alpha=0.1)], [5])


def _plateau(kind):
  if kind == "native":
    return osch.reduce_on_plateau(factor=0.5, patience=2, cooldown=1, accumulation_size=2)
  if kind == "torch":
    return tc.ReduceLROnPlateau(PEAK, factor=0.5, patience=1, cooldown=1, accumulation_size=2)
  return kc.ReduceLROnPlateau(PEAK, factor=0.5, patience=2, cooldown=1, accumulation_size=2)


def _problem(kind):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(64, 3)), jnp.float32)
  y = jnp.asarray(x @ np.array([1.0, -1.0, 0.5], np.float32)
                  + rng.normal(size=64).astype(np.float32))  # a noise floor: plateaus
  schedule = _schedule()
  opt = optax.chain(optax.sgd(schedule, momentum=0.9), _plateau(kind))

  @jax.jit
  def step(params, state, k):
    batch = (jnp.arange(16) + 16 * (k % 4)) % 64  # minibatches: a noisy loss
    loss, grads = jax.value_and_grad(
        lambda p: jnp.mean((x[batch] @ p["w"] + p["b"] - y[batch]) ** 2))(params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, osch.learning_rate(schedule, state)

  params = {"w": jnp.zeros(3, jnp.float32), "b": jnp.zeros((), jnp.float32)}
  return opt, step, params


def _run(step, params, state, start, n):
  lrs = []
  for k in range(start, start + n):
    params, state, lr = step(params, state, jnp.int32(k))
    lrs.append(lr)
  return {"params": params, "opt_state": state, "lrs": np.asarray(lrs)}


def _flat(result):
  return {jax.tree_util.keystr(path): np.asarray(leaf)
          for path, leaf in jax.tree_util.tree_leaves_with_path(result)}


def _restore_and_continue(directory: str):
  """The fresh process: restore each checkpoint, continue, save the results."""
  import orbax.checkpoint as ocp

  checkpointer = ocp.StandardCheckpointer()
  for kind in KINDS:
    opt, step, params = _problem(kind)
    target = {"params": params, "opt_state": opt.init(params)}
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    restored = checkpointer.restore(pathlib.Path(directory) / kind, abstract)
    plateau = restored["opt_state"][1]
    assert type(plateau) is type(target["opt_state"][1]), type(plateau)  # noqa: E721
    result = _run(step, restored["params"], restored["opt_state"], BEFORE, AFTER)
    np.savez(pathlib.Path(directory) / f"{kind}.npz", **_flat(result))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  import orbax.checkpoint as ocp

  directory = tmp_path_factory.mktemp("resume")
  checkpointer = ocp.StandardCheckpointer()
  uninterrupted = {}
  for kind in KINDS:
    opt, step, params = _problem(kind)
    head = _run(step, params, opt.init(params), 0, BEFORE)
    checkpointer.save(directory / kind, {"params": head["params"],
                                         "opt_state": head["opt_state"]})
    checkpointer.wait_until_finished()
    tail = _run(step, head["params"], head["opt_state"], BEFORE, AFTER)
    uninterrupted[kind] = (head, tail)
  env = {**os.environ, "PYTHONPATH": os.pathsep.join(
      [str(pathlib.Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
  proc = subprocess.run([sys.executable, __file__, "restore", str(directory)], env=env,
                        cwd=directory, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-4000:]
  return {kind: (*uninterrupted[kind], dict(np.load(directory / f"{kind}.npz")))
          for kind in KINDS}


@pytest.mark.filterwarnings("ignore::UserWarning")  # orbax's own notices
@pytest.mark.parametrize("kind", KINDS)
def test_resume_in_a_fresh_process_continues_identically(runs, kind):
  head, tail, resumed = runs[kind]
  # A cut before the checkpoint and another after it: the restored plateau
  # state (best value, counters, running mean, cooldown) decides the latter.
  assert float(head["opt_state"][1].scale) < 1.0
  assert float(tail["opt_state"][1].scale) < float(head["opt_state"][1].scale)
  expected = _flat(tail)
  assert resumed.keys() == expected.keys()
  for key, value in expected.items():
    np.testing.assert_array_equal(resumed[key], value, err_msg=f"{kind} {key}")


if __name__ == "__main__" and sys.argv[1:2] == ["restore"]:
  import conftest  # noqa: F401  # the test session's flags and promotion rules

  _restore_and_continue(sys.argv[2])
