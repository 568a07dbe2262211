"""No silent recompiles: a training step with a schedule and plateau reduction
traces once over 1000 steps (through plateau cuts and cooldowns, whose state
must keep its dtypes and weak types), and a schedule passed as an argument
takes new numbers without a retrace."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_scheds as osch


def _problem(plateau):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(32, 3)), jnp.float32)
  y = jnp.asarray(rng.normal(size=32), jnp.float32)  # noise: the loss plateaus

  def loss_fn(params, noise):
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2) + noise

  def optimizer(schedule):
    return optax.chain(optax.sgd(schedule, momentum=0.9), plateau)

  return loss_fn, optimizer


def test_training_step_compiles_once_over_1000_steps():
  chex.clear_trace_counter()
  plateau = osch.reduce_on_plateau(factor=0.5, patience=3, cooldown=2, accumulation_size=4)
  loss_fn, optimizer = _problem(plateau)
  schedule = osch.join([osch.linear(0.0, 0.05, 50), osch.cosine_decay(0.05, 950)], [50])
  opt = optimizer(schedule)
  traces = []

  @jax.jit
  @chex.assert_max_traces(n=1)
  def step(params, state, noise):
    traces.append(None)
    loss, grads = jax.value_and_grad(loss_fn)(params, noise)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, osch.learning_rate(schedule, state)

  params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
  state = opt.init(params)
  noise = np.random.default_rng(1).uniform(0, 1e-3, 1000).astype(np.float32)
  scales = set()
  for k in range(1000):
    params, state, lr = step(params, state, noise[k])
    if k % 50 == 0:
      scales.add(float(state[1].scale))
  assert len(traces) == 1 and step._cache_size() == 1
  assert len(scales) >= 3  # several cuts happened along the way
  assert np.isfinite(float(lr))


def test_new_schedule_numbers_do_not_recompile():
  chex.clear_trace_counter()
  plateau = osch.reduce_on_plateau(factor=0.5, patience=2)
  loss_fn, optimizer = _problem(plateau)

  @jax.jit
  @chex.assert_max_traces(n=1)
  def run(schedule, params):
    opt = optimizer(schedule)
    state = opt.init(params)

    def body(carry, noise):
      params, state = carry
      loss, grads = jax.value_and_grad(loss_fn)(params, noise)
      updates, state = opt.update(grads, state, params, value=loss)
      return (optax.apply_updates(params, updates), state), osch.learning_rate(schedule, state)

    _, lrs = jax.lax.scan(body, (params, state), jnp.zeros(20, jnp.float32))
    return lrs

  params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
  lrs = []
  for peak, warmup_steps, boundary in [(0.05, 5, 10), (0.2, 3, 12), (1e-3, 7, 15)]:
    schedule = osch.join([osch.warmup_cosine_decay(0.0, peak, warmup_steps, 30),
                          osch.constant(peak / 10)], [boundary])
    lrs.append(np.asarray(run(schedule, params)))
    # The run follows the new numbers: lr = schedule(k) * 0.5**cuts.
    ratio = lrs[-1] / np.asarray(schedule(np.arange(1, 21)))
    np.testing.assert_allclose(ratio, 0.5 ** np.round(-np.log2(ratio)), rtol=1e-5)
    assert ratio[0] == 1.0
  assert run._cache_size() == 1
  assert not np.allclose(lrs[0], lrs[1])
