"""compat ReduceLROnPlateau ports against the real PyTorch and Keras."""

import os
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from optax_scheds.compat import torch as tc

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


def _keras_model(lr, metrics=None):
  model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
  model.compile(optimizer=keras.optimizers.SGD(lr), loss="binary_crossentropy",
                metrics=metrics)
  if metrics:
    # Keras infers mode="auto" from the compiled metrics, built on first use.
    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
      model.evaluate(np.zeros((2, 1)), np.zeros((2, 1)), verbose=0)
  return model


def _keras_lrs(lr, values, monitor="val_loss", metrics=None, **kwargs):
  model = _keras_model(lr, metrics)
  cb = keras.callbacks.ReduceLROnPlateau(monitor=monitor, **kwargs)
  cb.set_model(model)
  cb.on_train_begin()
  out = []
  with jax.numpy_dtype_promotion("standard"), warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for epoch, v in enumerate(values):
      cb.on_epoch_end(epoch, {monitor: float(v)})
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
  np.testing.assert_allclose(_ours(tc.ReduceLROnPlateau(lr, **kw), lr, values),
                             _torch_lrs(lr, values, **kw), rtol=2e-5)


@pytest.mark.parametrize("seed", range(25))
def test_keras_reduce_lr_on_plateau(seed):
  rng = np.random.default_rng(seed)
  kw = dict(mode=str(rng.choice(["auto", "min", "max"])), factor=float(rng.uniform(0.1, 0.9)),
            patience=int(rng.integers(0, 5)), min_delta=float(rng.choice([0, 1e-4, 1e-2])),
            cooldown=int(rng.integers(0, 4)), min_lr=float(rng.choice([0.0, 1e-3])))
  lr = float(rng.uniform(0.01, 1.0))
  values = _metrics(rng)
  np.testing.assert_allclose(_ours(kc.ReduceLROnPlateau(lr, **kw), lr, values),
                             _keras_lrs(lr, values, **kw), rtol=2e-5)


def test_patience_conventions_differ_as_documented():
  values = [1.0] * 8
  t = _ours(tc.ReduceLROnPlateau(1.0, factor=0.5, patience=2), 1.0, values)
  k = _ours(kc.ReduceLROnPlateau(1.0, factor=0.5, patience=2), 1.0, values)
  np.testing.assert_array_equal(t, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
  np.testing.assert_array_equal(k, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125])


def test_nan_first_value_is_keras_best():
  values = np.array([np.nan, 1.0, 1.0, 0.5], np.float32)
  np.testing.assert_allclose(_ours(kc.ReduceLROnPlateau(1.0, factor=0.5, patience=1),
                                   1.0, values),
                             _keras_lrs(1.0, values, factor=0.5, patience=1), rtol=2e-5)


@pytest.mark.parametrize("make,message", [
    (lambda: tc.ReduceLROnPlateau(0.1, factor=1.0),
     "`ReduceLROnPlateau(factor=...)` must be < 1.0, got factor=1.0."),
    (lambda: tc.ReduceLROnPlateau(0.1, threshold_mode="x"),
     "`ReduceLROnPlateau(threshold_mode=...)` must be one of 'rel', 'abs', got "
     "threshold_mode='x'."),
    (lambda: tc.ReduceLROnPlateau(0.0),
     "`ReduceLROnPlateau(lr=...)` must be a positive number, got lr=0.0."),
    (lambda: kc.ReduceLROnPlateau(0.1, mode="avg"),
     "`ReduceLROnPlateau(mode=...)` must be one of 'auto', 'min', 'max', got mode='avg'."),
    (lambda: kc.ReduceLROnPlateau(0.1, patience=-1),
     "`ReduceLROnPlateau(patience=...)` must be non-negative, got patience=-1."),
    (lambda: kc.ReduceLROnPlateau(0.0),
     "`ReduceLROnPlateau(initial_learning_rate=...)` must be a positive number, got "
     "initial_learning_rate=0.0."),
    (lambda: tc.ReduceLROnPlateau(0.1, patience=2.5),
     "`ReduceLROnPlateau(patience=...)` must be a whole number of evaluations, got "
     "patience=2.5."),
    (lambda: kc.ReduceLROnPlateau(0.1, cooldown=0.5),
     "`ReduceLROnPlateau(cooldown=...)` must be a whole number of evaluations, got "
     "cooldown=0.5."),
    (lambda: tc.ReduceLROnPlateau(0.1, accumulation_size=0),
     "`ReduceLROnPlateau(accumulation_size=...)` must be positive, got accumulation_size=0."),
])
def test_errors(make, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    make()


def test_exported_from_the_compat_modules():
  for port in (tc.ReduceLROnPlateau, kc.ReduceLROnPlateau):
    assert port.__name__ == "ReduceLROnPlateau"
  assert tc.ReduceLROnPlateau.__module__ == "optax_scheds.compat.torch"
  assert kc.ReduceLROnPlateau.__module__ == "optax_scheds.compat.keras"


@pytest.mark.parametrize("port", [tc.ReduceLROnPlateau, kc.ReduceLROnPlateau])
def test_a_wrong_keyword_names_the_public_callable(port):
  with pytest.raises(TypeError, match=re.escape(
      "ReduceLROnPlateau() got an unexpected keyword argument 'patienc'")):
    port(0.1, patienc=2)


def _ours_per_epoch(port, lr, values, steps_per_epoch=3):
  """A validation metric once per epoch: plain updates, then observe."""
  params = jnp.zeros(2)
  opt = optax.chain(optax.sgd(lr), port)
  state = opt.init(params)
  train = jax.jit(lambda s: opt.update(jnp.ones(2), s, params))
  observe = jax.jit(port.observe)
  out = []
  for v in values:
    for _ in range(steps_per_epoch):
      updates, state = train(state)
    state = observe(state, jnp.float32(v))
    out.append(float(osch.learning_rate(lr, state)))
  # The lr the updates of the next epoch use.
  np.testing.assert_allclose(-float(train(state)[0][0]), out[-1], rtol=1e-6)
  return np.array(out)


@pytest.mark.parametrize("seed", range(4))
def test_torch_port_observes_a_validation_metric(seed):
  rng = np.random.default_rng(seed)
  values = _metrics(rng, 20)
  kw = dict(factor=0.5, patience=1, cooldown=int(rng.integers(0, 2)))
  port = tc.ReduceLROnPlateau(0.3, value_in_update=False, **kw)
  np.testing.assert_allclose(_ours_per_epoch(port, 0.3, values), _torch_lrs(0.3, values, **kw),
                             rtol=2e-5)


@pytest.mark.parametrize("seed", range(4))
def test_keras_port_observes_a_validation_metric(seed):
  rng = np.random.default_rng(seed)
  values = _metrics(rng, 20)
  kw = dict(factor=0.5, patience=1, cooldown=int(rng.integers(0, 2)))
  port = kc.ReduceLROnPlateau(0.3, value_in_update=False, **kw)
  np.testing.assert_allclose(_ours_per_epoch(port, 0.3, values), _keras_lrs(0.3, values, **kw),
                             rtol=2e-5)


@pytest.mark.parametrize("reference,port", [
    (_torch_lrs, tc.ReduceLROnPlateau), (_keras_lrs, kc.ReduceLROnPlateau)])
def test_accumulation_size_steps_the_reference_once_per_mean(reference, port):
  """accumulation_size=n: one scheduler.step / on_epoch_end per n values, with
  their mean (PyTorch's and Keras' epoch-mean training loss)."""
  rng = np.random.default_rng(7)
  values = _metrics(rng, 60)
  means = values.reshape(20, 3).mean(axis=1)
  kw = dict(factor=0.5, patience=1)
  ours = _ours(port(0.3, accumulation_size=3, **kw), 0.3, values)
  np.testing.assert_allclose(ours[2::3], reference(0.3, means, **kw), rtol=2e-5)


@pytest.mark.parametrize("port", [tc.ReduceLROnPlateau, kc.ReduceLROnPlateau])
def test_a_missing_value_recommends_a_call_that_works(port):
  t = port(0.1, patience=1)
  with pytest.raises(TypeError, match=re.escape(
      "build it with `ReduceLROnPlateau(..., value_in_update=False)`")):
    t.update(jnp.ones(2), t.init(jnp.zeros(2)))
  t = port(0.1, patience=1, value_in_update=False)
  state = t.init(jnp.zeros(2))
  _, state = t.update(jnp.ones(2), state)
  _, state = t.update(jnp.ones(2), state, value=3.0)  # forwarded by optax.chain: ignored
  assert int(state.count) == 0 and float(state.scale) == 1.0


def test_ports_and_native_observe_their_own_states_only():
  torch_port = tc.ReduceLROnPlateau(0.1, factor=0.5, patience=0, value_in_update=False)
  keras_port = kc.ReduceLROnPlateau(0.1, factor=0.5, patience=1, value_in_update=False)
  native = osch.reduce_on_plateau(factor=0.5, patience=1, value_in_update=False)
  opt = optax.chain(optax.sgd(0.1), torch_port, keras_port, native)
  state = opt.init(jnp.zeros(2))
  fresh = opt.init(jnp.zeros(2))
  for _ in range(2):
    state = jax.jit(torch_port.observe)(state, 1.0)
  assert float(state[1].scale) == 0.5
  jax.tree.map(np.testing.assert_array_equal, state[2:], fresh[2:])


# Keras metrics whose direction Keras 3 knows (`_direction`), as compiled names.
_KERAS_MONITORS = [("val_loss", None), ("loss", None), ("val_accuracy", "accuracy"),
                   ("acc", "acc"), ("val_auc", "auc"), ("val_mse", "mse"),
                   ("val_binary_crossentropy", "binary_crossentropy")]


@pytest.mark.parametrize("monitor,metric", _KERAS_MONITORS)
def test_keras_mode_auto_infers_the_direction_from_monitor(monitor, metric):
  rng = np.random.default_rng(3)
  values = np.concatenate([_metrics(rng, 15), np.linspace(0.5, 0.9, 15, dtype=np.float32)])
  kw = dict(factor=0.5, patience=1, mode="auto")
  ours = _ours(kc.ReduceLROnPlateau(0.3, monitor=monitor, **kw), 0.3, values)
  ref = _keras_lrs(0.3, values, monitor=monitor, metrics=[metric] if metric else None, **kw)
  np.testing.assert_allclose(ours, ref, rtol=2e-5)


def test_keras_mode_auto_with_an_unknown_metric_raises_as_keras():
  message = ("`ReduceLROnPlateau(mode=...)` must be 'min' or 'max' for monitor='val_top1' "
             "(only Keras' loss and built-in metrics have a known direction), got "
             "mode='auto'.")
  with pytest.raises(ValueError, match=re.escape(message)):
    kc.ReduceLROnPlateau(0.1, monitor="val_top1")
  with pytest.raises(ValueError, match="isn't able to automatically determine"):
    _keras_lrs(0.1, [1.0], monitor="val_top1")
  kc.ReduceLROnPlateau(0.1, monitor="val_top1", mode="max")


def test_keras_direction_table_matches_keras_metrics():
  from optax_scheds.compat.keras import _KERAS_METRIC_DIRECTIONS

  m = keras.metrics
  two = dict(num_classes=2, target_class_ids=[0])
  needs_arguments = {  # keras.metrics.get would call these without arguments
      ("IoU", "io_u"): lambda: m.IoU(**two),
      ("OneHotIoU", "one_hot_io_u"): lambda: m.OneHotIoU(**two),
      ("MeanIoU", "mean_io_u"): lambda: m.MeanIoU(num_classes=2),
      ("OneHotMeanIoU", "one_hot_mean_io_u"): lambda: m.OneHotMeanIoU(num_classes=2),
      ("PrecisionAtRecall", "precision_at_recall"): lambda: m.PrecisionAtRecall(0.5),
      ("RecallAtPrecision", "recall_at_precision"): lambda: m.RecallAtPrecision(0.5),
      ("SensitivityAtSpecificity", "sensitivity_at_specificity"):
          lambda: m.SensitivityAtSpecificity(0.5),
      ("SpecificityAtSensitivity", "specificity_at_sensitivity"):
          lambda: m.SpecificityAtSensitivity(0.5),
  }
  build = {name: make for names, make in needs_arguments.items() for name in names}
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, direction in _KERAS_METRIC_DIRECTIONS.items():
      obj = build[name]() if name in build else m.get(name)
      assert getattr(obj, "_direction", None) == direction, name
    # and every public Keras metric class with a direction is in the table.
    for name in dir(m):
      cls = getattr(m, name)
      if isinstance(cls, type) and issubclass(cls, m.Metric) and name != "MeanMetricWrapper":
        direction = getattr(build[name]() if name in build else cls(), "_direction", None)
        assert _KERAS_METRIC_DIRECTIONS.get(name) == direction, name
