"""`compat.keras.to_keras` drives a real Keras 3 optimizer step for step.

References: Keras itself. A tiny model trained with ``model.fit`` under the
JAX backend reports, before each batch ``k``, ``optimizer.learning_rate ==
s(k)``; its plain-SGD weight update is ``-s(k) * grad``, with the gradient of
the mean squared error written here in float64; Keras' own serialization
(``schedules.serialize`` / ``deserialize``, the optimizer's ``get_config`` /
``from_config``, ``model.save`` / ``load_model``) rebuilds the schedule with
the same values.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from optax_scheds.compat import torch as tc
from tests._util import enable_x64

SCHEDULES = {
    "warmup cosine": lambda: osch.warmup(osch.cosine_decay(0.1, 50), 5),
    "torch OneCycleLR": lambda: tc.OneCycleLR(0.2, total_steps=40),
    "keras PiecewiseConstantDecay + arithmetic": lambda: 0.5 * kc.PiecewiseConstantDecay(
        [9, 30], [0.2, 0.1, 0.05]) + osch.linear(0.0, 0.02, 60),
    "as_schedule (no config)": lambda: osch.as_schedule(
        lambda t: 0.1 * jnp.exp(-0.05 * t.astype(jnp.float32))),
}
SAMPLES, BATCH, EPOCHS = 24, 4, 10  # 60 steps: past every schedule's last change


def _data(seed):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(SAMPLES, 3)).astype(np.float32)
  # Targets unrelated to x: each batch's gradient stays O(1) to the end.
  return x, rng.normal(size=(SAMPLES, 1)).astype(np.float32)


class _Recorder(keras.callbacks.Callback):
  """Before and after each batch: the optimizer's lr, iterations and kernel."""

  def __init__(self):
    super().__init__()
    self.lrs, self.iterations, self.before, self.after = [], [], [], []

  def on_train_batch_begin(self, batch, logs=None):
    self.lrs.append(np.asarray(self.model.optimizer.learning_rate))
    self.iterations.append(int(self.model.optimizer.iterations))
    self.before.append(np.asarray(self.model.layers[0].kernel, np.float64))

  def on_train_batch_end(self, batch, logs=None):
    self.after.append(np.asarray(self.model.layers[0].kernel, np.float64))


def _fit(lr, seed=0, *, run_eagerly=False, epochs=EPOCHS):
  """A linear model (no bias: Keras' bias add needs rank promotion) fit with
  plain SGD at ``lr``, unshuffled."""
  x, y = _data(seed)
  with jax.numpy_dtype_promotion("standard"):  # Keras' own ops
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(keras.optimizers.SGD(learning_rate=lr), loss="mse",
                  run_eagerly=run_eagerly)
    recorder = _Recorder()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0,
              callbacks=[recorder])
  return model, recorder, x, y


def _mse_grads(recorder, x, y):
  """The gradient of Keras' mse at each batch's starting kernel, in float64."""
  steps = SAMPLES // BATCH
  grads = []
  for k, w in enumerate(recorder.before):
    b = slice((k % steps) * BATCH, (k % steps + 1) * BATCH)
    xb, yb = x[b].astype(np.float64), y[b].astype(np.float64)
    grads.append(2.0 / BATCH * xb.T @ (xb @ w - yb))
  return np.asarray(grads)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_model_fit_follows_the_schedule_step_for_step(name):
  s = SCHEDULES[name]()
  model, rec, x, y = _fit(kc.to_keras(s))
  n = EPOCHS * SAMPLES // BATCH
  assert rec.iterations == list(range(n))
  assert int(model.optimizer.iterations) == n
  # One scalar call per step, as Keras makes them (a whole-array call may round
  # the cosine differently in the last place).
  desired = np.asarray([s(k) for k in range(n)])
  # The lr Keras reports before batch k is s(k), the same float32 value.
  assert all(lr.dtype == np.float32 and lr.shape == () for lr in rec.lrs)
  np.testing.assert_array_equal(np.asarray(rec.lrs), desired)
  # The update Keras applied inside its jitted train step is -s(k) * grad, up to
  # the float32 rounding of the kernel (a few ulp of |w|).
  grads = _mse_grads(rec, x, y)
  before, after = np.asarray(rec.before), np.asarray(rec.after)
  ulp = np.finfo(np.float32).eps * np.max(np.abs(before))
  np.testing.assert_allclose(after, before - desired[:, None, None] * grads, rtol=1e-5,
                             atol=4 * ulp)
  # The lr it used, where the update is large enough to read it back.
  used = -np.sum((after - before) * grads, axis=(1, 2)) / np.sum(grads**2, axis=(1, 2))
  big = desired >= 1e-3
  assert big.sum() >= 20
  np.testing.assert_allclose(used[big], desired[big], rtol=1e-4)


def test_the_step_keras_passes_in_its_train_step(monkeypatch):
  seen = []

  def spy(schedule, step):
    seen.append((type(step), step.value))
    return original(schedule, step)

  original = kc._keras_lr
  monkeypatch.setattr(kc, "_keras_lr", spy)
  _fit(kc.to_keras(SCHEDULES["warmup cosine"]()), epochs=1)
  # Keras passes its `iterations` variable (dtype "int": int32 with x64 off);
  # inside the jitted train step, traced once, its value is a tracer.
  assert all(issubclass(kind, keras.Variable) for kind, _ in seen)
  traced = [value for _, value in seen if isinstance(value, jax.core.Tracer)]
  assert len(traced) == 1 and traced[0].dtype == jnp.int32 and traced[0].shape == ()
  assert len(seen) == SAMPLES // BATCH + 1  # and the callback's eager reads


def test_run_eagerly_gives_the_same_training():
  s = SCHEDULES["warmup cosine"]()
  jitted, rec_jit, _, _ = _fit(kc.to_keras(s), epochs=3)
  eager, rec_eager, _, _ = _fit(kc.to_keras(s), run_eagerly=True, epochs=3)
  np.testing.assert_array_equal(np.asarray(rec_eager.lrs), np.asarray(rec_jit.lrs))
  np.testing.assert_allclose(np.asarray(eager.layers[0].kernel),
                             np.asarray(jitted.layers[0].kernel), rtol=1e-5, atol=1e-7)


def test_a_keras_schedule_and_its_port_train_alike():
  # The real Keras CosineDecay and its port through to_keras: same lrs, same
  # weights (up to float32 rounding of the two formulas).
  args = (0.1, 50)
  with jax.numpy_dtype_promotion("standard"):
    ref_model, ref, _, _ = _fit(keras.optimizers.schedules.CosineDecay(*args), epochs=3)
  model, rec, _, _ = _fit(kc.to_keras(kc.CosineDecay(*args)), epochs=3)
  np.testing.assert_allclose(np.asarray(rec.lrs), np.asarray(ref.lrs), rtol=1e-6,
                             atol=1e-8)
  np.testing.assert_allclose(np.asarray(model.layers[0].kernel),
                             np.asarray(ref_model.layers[0].kernel), rtol=1e-5)


def test_steps_keras_may_pass():
  s = osch.warmup(osch.cosine_decay(0.1, 50), 5)
  lr = kc.to_keras(s)
  variable = keras.Variable(7, dtype="int64", trainable=False)
  for step in (7, np.int64(7), jnp.asarray(7), variable):
    out = lr(step)
    assert isinstance(out, jax.Array) and out.dtype == jnp.float32 and out.shape == ()
    assert out == s(7)
  traced = jax.jit(lambda t: lr(t))(jnp.int32(7))
  assert traced.dtype == jnp.float32 and traced == s(7)
  with enable_x64(True):  # Keras' int64 iterations, float64 schedule values
    out = jax.jit(lambda t: lr(t))(jnp.asarray(7, jnp.int64))
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, s(7), rtol=1e-7)


def _same_schedule(a, b):
  assert osch.to_config(a) == osch.to_config(b)
  steps = np.arange(100)
  np.testing.assert_array_equal(np.asarray(a(steps)), np.asarray(b(steps)))


@pytest.mark.parametrize("name", [n for n in SCHEDULES if "no config" not in n])
def test_config_round_trips(name):
  s = SCHEDULES[name]()
  lr = kc.to_keras(s)
  config = lr.get_config()
  assert config == {"schedule": osch.to_config(s)}
  assert json.loads(json.dumps(config, allow_nan=False)) == config  # JSON types only
  _same_schedule(type(lr).from_config(json.loads(json.dumps(config))).schedule, s)
  serialized = keras.optimizers.schedules.serialize(lr)
  assert serialized["registered_name"] == "optax_scheds>LearningRateSchedule"
  back = keras.optimizers.schedules.deserialize(json.loads(json.dumps(serialized)))
  assert type(back) is type(lr)
  _same_schedule(back.schedule, s)
  optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=0.5)
  clone = keras.optimizers.SGD.from_config(json.loads(json.dumps(optimizer.get_config())))
  assert isinstance(clone._learning_rate, type(lr))
  _same_schedule(clone._learning_rate.schedule, s)


def test_config_with_tagged_values_round_trips():
  # {"array": ..., "dtype": ...} and {"float": "inf"} inside Keras' own config.
  s = osch.clip(osch.join([osch.constant(np.asarray(0.1, np.float32)),
                           osch.cosine_decay(0.1, 20)], [5]),
                min_value=0.01, max_value=float("inf"))
  text = json.dumps(osch.to_config(s))
  assert '"array"' in text and '"inf"' in text
  back = keras.optimizers.schedules.deserialize(
      json.loads(json.dumps(keras.optimizers.schedules.serialize(kc.to_keras(s)))))
  _same_schedule(back.schedule, s)


def test_model_save_and_load_keep_the_schedule(tmp_path):
  s = SCHEDULES["torch OneCycleLR"]()
  model, _, x, y = _fit(kc.to_keras(s), epochs=2)
  path = tmp_path / "model.keras"
  with jax.numpy_dtype_promotion("standard"):
    model.save(path)
    loaded = keras.saving.load_model(path)
  assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 12
  _same_schedule(loaded.optimizer._learning_rate.schedule, s)
  assert float(loaded.optimizer.learning_rate) == float(s(12))


def test_schedule_without_a_config_trains_but_has_no_keras_config():
  lr = kc.to_keras(lambda t: 0.1 * jnp.ones_like(t, jnp.float32))
  assert float(lr(3)) == pytest.approx(0.1)
  message = ("This `to_keras(schedule=...)` learning rate has no Keras config (Keras needs "
             "one to save or clone the optimizer): `to_config(schedule=...)` cannot be "
             "written: the schedule wraps a Python callable")
  with pytest.raises(ValueError, match=re.escape(message)):
    lr.get_config()
  with pytest.raises(ValueError, match=re.escape(message)):
    keras.optimizers.schedules.serialize(lr)
  lambda_lr = kc.to_keras(tc.LambdaLR(0.1, lambda t: 0.5 ** t.astype(jnp.float32)))
  with pytest.raises(ValueError, match=re.escape(
      "learning rate has no Keras config (Keras needs one to save or clone the optimizer): "
      "`to_config(schedule=...)` cannot be written: torch.LambdaLR(lr_lambda=...) is a "
      "Python callable")):
    lambda_lr.get_config()


def test_errors():
  with pytest.raises(TypeError, match=re.escape(
      "`to_keras(schedule=...)` must be a schedule or a callable step -> value, got "
      "schedule=0.1.")):
    kc.to_keras(0.1)
  with pytest.raises(TypeError, match=re.escape(
      "`to_keras(schedule=...)` must be a schedule or a callable step -> value, got "
      "schedule=cosine_decay_schedule, which takes (init_value, decay_steps) rather than "
      "one step.")):
    kc.to_keras(optax.cosine_decay_schedule)
  with pytest.raises(ValueError, match=re.escape(
      "`to_keras(schedule=...)` must give one learning rate per step (a scalar), got "
      "schedule=constant(array([0.10000000149011612, 0.20000000298023224], 'float32')), "
      "whose value has shape (2,). Index the array parameter, or vmap over it.")):
    kc.to_keras(osch.constant(np.asarray([0.1, 0.2], np.float32)))
  cls = type(kc.to_keras(osch.constant(0.1)))
  with pytest.raises(ValueError, match=re.escape(
      '`to_keras(...).from_config(config=...)` must be {"schedule": <an optax_scheds '
      "config>}, got config={'learning_rate': 0.1}.")):
    cls.from_config({"learning_rate": 0.1})
  with pytest.raises(ValueError, match=re.escape("`from_config(config=...)` is malformed")):
    cls.from_config({"schedule": {"format_version": 1, "name": "nope", "args": {}}})


def test_repr_and_class():
  lr = kc.to_keras(osch.cosine_decay(0.1, 50))
  assert repr(lr) == "to_keras(cosine_decay(0.1, 50))"
  assert isinstance(lr, keras.optimizers.schedules.LearningRateSchedule)
  assert type(lr) is type(kc.to_keras(osch.constant(0.1)))  # one class, registered once
  assert type(lr).__module__ == "optax_scheds.compat.keras"


@pytest.mark.slow
def test_torch_backend_evaluates_concrete_steps():
  # Another backend: the schedule runs in JAX on the step's value, eager train step.
  code = textwrap.dedent("""
      import numpy as np, keras, torch
      import optax_scheds as osch
      from optax_scheds.compat import keras as kc
      s = osch.warmup(osch.cosine_decay(0.1, 50), 5)
      lrs = []
      class R(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
          lrs.append(float(self.model.optimizer.learning_rate))
      x = np.random.default_rng(0).normal(size=(24, 3)).astype("float32")
      model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
      lr = kc.to_keras(s)
      out = lr(keras.Variable(3, dtype="int64", trainable=False))
      assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
      model.compile(keras.optimizers.SGD(learning_rate=lr), loss="mse", jit_compile=False)
      model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0, callbacks=[R()])
      assert int(model.optimizer.iterations) == 12
      assert lrs == [float(s(k)) for k in range(12)], lrs
      print("ok")
  """)
  env = {**os.environ, "KERAS_BACKEND": "torch", "JAX_PLATFORMS": "cpu"}
  out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().endswith("ok")
