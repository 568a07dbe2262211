"""The demo: a small real training run with a composed schedule and a plateau cut.

Run it with ``make demo`` or ``python -m optax_scheds.demo`` (needs the
``demo`` extra: scikit-learn, matplotlib, tqdm). It trains an MLP on
scikit-learn's digits (shipped with the package, nothing downloaded) with
``optax.adamw(warmup(cosine_decay(...)))`` chained with
``reduce_on_plateau``, fed the validation loss once per epoch, prints the
learning rate and losses per epoch and saves a plot.
"""

import argparse
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_scheds as osch


def _data(seed: int):
  from sklearn.datasets import load_digits

  x, y = load_digits(return_X_y=True)
  x = (x / 16.0).astype(np.float32)
  order = np.random.default_rng(seed).permutation(len(x))
  x, y = x[order], y[order].astype(np.int32)
  split = int(0.8 * len(x))
  return (x[:split], y[:split]), (x[split:], y[split:])


def _init(key, sizes):
  params = []
  for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
    key, sub = jax.random.split(key)
    params.append({"w": jax.random.normal(sub, (fan_in, fan_out)) * jnp.sqrt(2.0 / fan_in),
                   "b": jnp.zeros(fan_out)})
  return params


def _logits(params, x):
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer["w"] + layer["b"])
  return x @ params[-1]["w"] + params[-1]["b"]


def _loss(params, x, y):
  return optax.softmax_cross_entropy_with_integer_labels(_logits(params, x), y).mean()


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=40)
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--peak-lr", type=float, default=3e-3)
  parser.add_argument("--out", default="demo_out", help="folder for the plot")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)

  from tqdm import tqdm

  (x_train, y_train), (x_val, y_val) = _data(args.seed)
  steps_per_epoch = len(x_train) // args.batch_size
  total = args.epochs * steps_per_epoch
  warmup_steps = 2 * steps_per_epoch
  # The composed schedule: linear warmup into a cosine decay to 5% of the peak.
  schedule = osch.warmup(
      osch.cosine_decay(args.peak_lr, total - warmup_steps, alpha=0.05), warmup_steps)
  # Plateau reduction driven by the validation loss, once per epoch.
  plateau = osch.reduce_on_plateau(factor=0.3, patience=3, rtol=1e-2, cooldown=2,
                                   value_in_update=False)
  opt = optax.chain(optax.adamw(schedule, weight_decay=1e-4), plateau)
  print(f"schedule: {schedule!r}\nplateau:  {plateau!r}")
  print(osch.preview(schedule, total, width=60, height=6))

  params = _init(jax.random.key(args.seed), [64, 128, 64, 10])
  state = opt.init(params)

  @jax.jit
  def train_step(params, state, x, y):
    loss, grads = jax.value_and_grad(_loss)(params, x, y)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss

  @jax.jit
  def evaluate(params, state):
    logits = _logits(params, x_val)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y_val).mean()
    accuracy = (logits.argmax(-1) == y_val).mean()
    return plateau.observe(state, loss), loss, accuracy

  history = {"step": [], "lr": [], "schedule": [], "train": [], "val": []}
  rng = np.random.default_rng(args.seed)
  bar = tqdm(range(args.epochs), desc="training", unit="epoch")
  for epoch in bar:
    order = rng.permutation(len(x_train))
    losses = []
    for k in range(steps_per_epoch):
      batch = order[k * args.batch_size:(k + 1) * args.batch_size]
      params, state, loss = train_step(params, state, x_train[batch], y_train[batch])
      losses.append(loss)
    state, val_loss, accuracy = evaluate(params, state)
    step = (epoch + 1) * steps_per_epoch
    lr = float(osch.learning_rate(schedule, state))  # the next update's lr
    history["step"].append(step)
    history["lr"].append(lr)
    history["schedule"].append(float(schedule(step)))
    history["train"].append(float(jnp.mean(jnp.stack(losses))))
    history["val"].append(float(val_loss))
    bar.write(f"epoch {epoch + 1:3d}  lr {lr:.2e}  train loss {history['train'][-1]:.4f}  "
              f"val loss {float(val_loss):.4f}  val acc {float(accuracy):.3f}")
    bar.set_postfix(lr=f"{lr:.1e}", val_loss=f"{float(val_loss):.3f}")

  cuts = [s for s, lr, sched in zip(history["step"], history["lr"], history["schedule"])
          if lr < sched * 0.999]
  print(f"final validation accuracy {float(accuracy):.3f}; "
        + (f"plateau cut first applied at step {cuts[0]}" if cuts else "no plateau cut"))
  path = _plot(history, schedule, total, pathlib.Path(args.out))
  print(f"saved {path}")


def _plot(history, schedule, total, out: pathlib.Path) -> pathlib.Path:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  out.mkdir(parents=True, exist_ok=True)
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
  steps = np.arange(total + 1)
  top.plot(steps, schedule(steps), label="schedule: warmup + cosine", color="0.6")
  top.step(history["step"], history["lr"], where="post", label="effective lr (x plateau)")
  top.set_ylabel("learning rate")
  top.legend()
  bottom.plot(history["step"], history["train"], label="train loss")
  bottom.plot(history["step"], history["val"], label="validation loss")
  bottom.set_yscale("log")
  bottom.set_xlabel("step")
  bottom.set_ylabel("loss")
  bottom.legend()
  fig.tight_layout()
  path = out / "demo.png"
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


if __name__ == "__main__":
  main()
