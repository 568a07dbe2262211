"""compat ReduceLROnPlateau ports against the real PyTorch and Keras."""

import os
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optax_scheds.compat._plateaus import (
    keras_reduce_lr_on_plateau,
    torch_reduce_lr_on_plateau,
)

torch = pytest.importorskip("torch")
os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")


def _ours(transform, lr, values):
  params = jnp.zeros(2)
  opt = optax.chain(optax.sgd(lr), transform)
  state = opt.init(params)
  step = jax.jit(lambda s, v: opt.update(jnp.ones(2), s, params, value=v))
  out = []
  for v in values:
    updates, state = step(state, jnp.float32(v))
    out.append(-float(updates[0]))  # sgd: update = -lr * grad, grad = 1
  return np.array(out)


def _torch_lrs(lr, values, **kwargs):
  opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
  sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
  out = []
  for v in values:
    opt.step()
    sched.step(float(v))
    out.append(sched.get_last_lr()[0])
  return np.array(out)


def _keras_lrs(lr, values, **kwargs):
  model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
  model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
  cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kwargs)
  cb.set_model(model)
  cb.on_train_begin()
  out = []
  with jax.numpy_dtype_promotion("standard"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for epoch, v in enumerate(values):
      cb.on_epoch_end(epoch, {"val_loss": float(v)})
      out.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
  return np.array(out)


def _metrics(rng, n=50):
  kind = rng.integers(0, 4)
  walk = np.cumsum(rng.normal(0, 0.05, n))
  if kind == 0:
    vals = 1 + walk  # positive, noisy
  elif kind == 1:
    vals = -1 + walk  # negative
  elif kind == 2:
    vals = np.round(1 + walk, 1)  # plateaus with exact repeats
  else:
    vals = np.maximum(1 - 0.02 * np.arange(n), 0.3) + rng.normal(0, 1e-3, n)
  return vals.astype(np.float32)


@pytest.mark.parametrize("seed", range(25))
def test_torch_reduce_lr_on_plateau(seed):
  rng = np.random.default_rng(seed)
  kw = dict(mode=str(rng.choice(["min", "max"])), factor=float(rng.uniform(0.1, 0.9)),
            patience=int(rng.integers(0, 5)), threshold=float(rng.choice([0, 1e-4, 1e-2])),
            threshold_mode=str(rng.choice(["rel", "abs"])), cooldown=int(rng.integers(0, 4)),
            min_lr=float(rng.choice([0.0, 1e-3])), eps=float(rng.choice([1e-8, 1e-3])))
  lr = float(rng.uniform(0.01, 1.0))
  values = _metrics(rng)
  np.testing.assert_allclose(_ours(torch_reduce_lr_on_plateau(lr, **kw), lr, values),
                             _torch_lrs(lr, values, **kw), rtol=2e-5)


@pytest.mark.parametrize("seed", range(25))
def test_keras_reduce_lr_on_plateau(seed):
  rng = np.random.default_rng(seed)
  kw = dict(mode=str(rng.choice(["auto", "min", "max"])), factor=float(rng.uniform(0.1, 0.9)),
            patience=int(rng.integers(0, 5)), min_delta=float(rng.choice([0, 1e-4, 1e-2])),
            cooldown=int(rng.integers(0, 4)), min_lr=float(rng.choice([0.0, 1e-3])))
  lr = float(rng.uniform(0.01, 1.0))
  values = _metrics(rng)
  np.testing.assert_allclose(_ours(keras_reduce_lr_on_plateau(lr, **kw), lr, values),
                             _keras_lrs(lr, values, **kw), rtol=2e-5)


def test_patience_conventions_differ_as_documented():
  values = [1.0] * 8
  t = _ours(torch_reduce_lr_on_plateau(1.0, factor=0.5, patience=2), 1.0, values)
  k = _ours(keras_reduce_lr_on_plateau(1.0, factor=0.5, patience=2), 1.0, values)
  np.testing.assert_array_equal(t, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
  np.testing.assert_array_equal(k, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125])


def test_nan_first_value_is_keras_best():
  values = np.array([np.nan, 1.0, 1.0, 0.5], np.float32)
  np.testing.assert_allclose(_ours(keras_reduce_lr_on_plateau(1.0, factor=0.5, patience=1),
                                   1.0, values),
                             _keras_lrs(1.0, values, factor=0.5, patience=1), rtol=2e-5)


@pytest.mark.parametrize("make,message", [
    (lambda: torch_reduce_lr_on_plateau(0.1, factor=1.0),
     "`ReduceLROnPlateau(factor=...)` must be < 1.0, got factor=1.0."),
    (lambda: torch_reduce_lr_on_plateau(0.1, threshold_mode="x"),
     "`ReduceLROnPlateau(threshold_mode=...)` must be one of 'rel', 'abs', got "
     "threshold_mode='x'."),
    (lambda: torch_reduce_lr_on_plateau(0.0),
     "`ReduceLROnPlateau(lr=...)` must be a positive number, got lr=0.0."),
    (lambda: keras_reduce_lr_on_plateau(0.1, mode="avg"),
     "`ReduceLROnPlateau(mode=...)` must be one of 'auto', 'min', 'max', got mode='avg'."),
    (lambda: keras_reduce_lr_on_plateau(0.1, patience=-1),
     "`ReduceLROnPlateau(patience=...)` must be non-negative, got patience=-1."),
])
def test_errors(make, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    make()


def test_exported_from_the_compat_modules():
  from optax_scheds.compat import keras as kc
  from optax_scheds.compat import torch as tc

  assert tc.ReduceLROnPlateau is torch_reduce_lr_on_plateau
  assert kc.ReduceLROnPlateau is keras_reduce_lr_on_plateau
