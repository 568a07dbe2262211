"""Regenerates the figures of the docs: ``python docs/plots.py`` (needs matplotlib)."""

import pathlib

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

import optax_scheds as osch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


def plateau_figure(path=HERE / "plateau.png"):
  """Warmup-cosine schedule x plateau scale on a noisy regression."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(512, 8)), jnp.float32)
  y = x @ jnp.asarray(rng.normal(size=8), jnp.float32) + jnp.asarray(
      rng.normal(0, 0.3, 512), jnp.float32)
  schedule = osch.warmup(osch.cosine_decay(0.05, 1_900, alpha=0.1), 100)
  opt = optax.chain(optax.sgd(schedule, momentum=0.9),
                    osch.reduce_on_plateau(factor=0.5, patience=10, rtol=1e-3,
                                           accumulation_size=20))
  params, state = jnp.zeros(8), None
  state = opt.init(params)

  @jax.jit
  def step(params, state, k):
    batch = jax.random.choice(jax.random.key(k), 512, (32,))
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((x[batch] @ p - y[batch]) ** 2))(
        params)
    updates, state = opt.update(grads, state, params, value=loss)
    return optax.apply_updates(params, updates), state, loss

  lrs, losses = [], []
  with jax.numpy_dtype_promotion("standard"):
    for k in range(2_000):
      lrs.append(float(osch.learning_rate(schedule, state)))
      params, state, loss = step(params, state, k)
      losses.append(float(loss))
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
  top.plot(schedule(np.arange(2_000)), color="0.6", label="schedule(step)")
  top.plot(lrs, label="schedule(step) x plateau scale")
  top.set_ylabel("learning rate")
  top.legend()
  bottom.plot(np.convolve(losses, np.ones(20) / 20, mode="valid"), label="loss (20-step mean)")
  bottom.set_yscale("log")
  bottom.set_xlabel("step")
  bottom.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return path


if __name__ == "__main__":
  print(plateau_figure())
