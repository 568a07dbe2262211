"""`compat.torch.to_torch` drives a real PyTorch optimizer step for step.

References: PyTorch itself. In a plain training loop (``optimizer.step();
scheduler.step()``) every param group's ``lr`` and ``get_last_lr()`` after
``k`` scheduler steps are ``s_g(k)``, and plain SGD moves the parameters by
``-s_g(k) * grad``; a port driven through ``to_torch`` gives the lrs of the
real PyTorch scheduler; a state saved with ``torch.save`` and read with
``torch.load(weights_only=True)`` resumes the same lrs as an uninterrupted
run.
"""

import io
import json
import os
import re
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

import optax_scheds as osch
from optax_scheds.compat import torch as tc

N = 60


def _model(seed=0):
  torch.manual_seed(seed)
  return torch.nn.Linear(3, 2)


def _two_groups(model, **kwargs):
  return torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.3}],
                         lr=0.1, **kwargs)


def _loss(model, seed, k):
  rng = np.random.default_rng([seed, k])
  x = torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float32)
  y = torch.tensor(rng.normal(size=(4, 2)), dtype=torch.float32)
  return torch.mean((model(x) - y) ** 2)


def _train(model, optimizer, scheduler, steps, seed=0, start=0):
  """The usual loop; returns each step's group lrs, get_last_lr() and, per
  parameter, its gradient and its change."""
  lrs, last, grads, deltas = [], [], [], []
  for k in range(start, start + steps):
    lrs.append([float(g["lr"]) for g in optimizer.param_groups])  # a tensor lr is filled
    last.append([float(lr) for lr in scheduler.get_last_lr()])
    optimizer.zero_grad()
    _loss(model, seed, k).backward()
    before = [p.detach().clone() for p in model.parameters()]
    grads.append([p.grad.detach().clone() for p in model.parameters()])
    optimizer.step()
    scheduler.step()
    deltas.append([p.detach() - b for p, b in zip(model.parameters(), before, strict=True)])
  return lrs, last, grads, deltas


def _scalar_values(s, n):
  """``float(s(k))`` one step at a time, as the scheduler calls it."""
  return [float(s(k)) for k in range(n)]


def test_two_groups_follow_two_schedules_step_for_step():
  s1 = osch.warmup(osch.cosine_decay(0.1, 50), 5)
  s2 = tc.OneCycleLR(0.5, total_steps=40)
  model = _model()
  optimizer = _two_groups(model)
  scheduler = tc.to_torch([s1, s2], optimizer)
  assert [g["initial_lr"] for g in optimizer.param_groups] == [float(s1(0)), float(s2(0))]
  lrs, last, grads, deltas = _train(model, optimizer, scheduler, N)
  desired = np.asarray([_scalar_values(s1, N), _scalar_values(s2, N)]).T
  np.testing.assert_array_equal(np.asarray(lrs), desired)  # the same Python floats
  np.testing.assert_array_equal(np.asarray(last), desired)
  assert scheduler.last_epoch == N
  assert scheduler.get_last_lr() == [float(s1(N)), float(s2(N))]
  # Plain SGD moved weight (group 0) and bias (group 1) by -lr * grad.
  for k in range(N):
    for p, group in enumerate((0, 1)):
      np.testing.assert_allclose(deltas[k][p].numpy(), -desired[k, group] * grads[k][p].numpy(),
                                 rtol=1e-5, atol=1e-7)


def test_one_schedule_drives_every_group():
  s = osch.exponential_decay(0.2, 10, 0.5)
  optimizer = _two_groups(_model(), momentum=0.9)
  scheduler = tc.to_torch(s, optimizer)
  for _ in range(25):
    optimizer.step()
    scheduler.step()
  assert [g["lr"] for g in optimizer.param_groups] == [float(s(25))] * 2
  assert scheduler.schedules == [s, s]


@pytest.mark.parametrize("name", ["OneCycleLR", "CosineAnnealingWarmRestarts", "StepLR"])
def test_ports_through_to_torch_match_the_real_scheduler(name):
  ours, theirs = {
      "OneCycleLR": (tc.OneCycleLR(0.5, total_steps=N + 1),
                     lambda o: L.OneCycleLR(o, 0.5, total_steps=N + 1)),
      "CosineAnnealingWarmRestarts": (tc.CosineAnnealingWarmRestarts(0.1, 7, 2, 1e-3),
                                      lambda o: L.CosineAnnealingWarmRestarts(o, 7, 2, 1e-3)),
      "StepLR": (tc.StepLR(0.1, 9, 0.5), lambda o: L.StepLR(o, 9, 0.5)),
  }[name]
  runs = []
  for make in (lambda o: tc.to_torch(ours, o), theirs):
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    runs.append(_train(model, optimizer, make(optimizer), N))
  (lrs, last, _, _), (ref_lrs, ref_last, _, _) = runs
  # The ports' float32 against PyTorch's float64 (tests/test_compat_torch.py's tolerance).
  atol = 2e-7 * np.max(ref_lrs)
  np.testing.assert_allclose(np.asarray(lrs), np.asarray(ref_lrs), rtol=2e-5, atol=atol)
  np.testing.assert_allclose(np.asarray(last), np.asarray(ref_last), rtol=2e-5, atol=atol)


def _primitive(x) -> bool:
  if isinstance(x, dict):
    return all(isinstance(k, str) and _primitive(v) for k, v in x.items())
  if isinstance(x, list):
    return all(map(_primitive, x))
  return x is None or isinstance(x, (bool, int, float, str, torch.Tensor))


def _save_load(state):
  buffer = io.BytesIO()
  torch.save(state, buffer)
  buffer.seek(0)
  return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("tensor_lr", [False, True])
def test_state_dict_resumes_like_an_uninterrupted_run(tensor_lr):
  schedules = [osch.warmup(osch.cosine_decay(0.1, 50), 5), tc.OneCycleLR(0.5, total_steps=40)]

  def optimizer_of(model):
    if tensor_lr:  # a tensor lr, filled in place
      return torch.optim.Adam([{"params": [model.weight], "lr": torch.tensor(0.01)},
                               {"params": [model.bias], "lr": torch.tensor(0.01)}])
    return _two_groups(model, momentum=0.9)

  model = _model()
  optimizer = optimizer_of(model)
  scheduler = tc.to_torch(schedules, optimizer)
  straight = _train(model, optimizer, scheduler, N)

  model = _model()
  optimizer = optimizer_of(model)
  scheduler = tc.to_torch(schedules, optimizer)
  first = _train(model, optimizer, scheduler, 23)
  state = scheduler.state_dict()
  assert _primitive(state)
  assert set(state) == {"last_epoch", "_step_count", "base_lrs", "_last_lr",
                        "schedule_configs"}
  assert state["last_epoch"] == 23
  assert [json.loads(c) for c in state["schedule_configs"]] == [
      osch.to_config(s) for s in schedules]
  checkpoint = _save_load({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                           "scheduler": state})

  model = _model(seed=1)
  optimizer = optimizer_of(model)
  scheduler = tc.to_torch(schedules, optimizer)  # the same schedules, given again
  model.load_state_dict(checkpoint["model"])
  optimizer.load_state_dict(checkpoint["optimizer"])
  scheduler.load_state_dict(checkpoint["scheduler"])
  assert scheduler.last_epoch == 23
  assert [float(g["lr"]) for g in optimizer.param_groups] == [float(s(23)) for s in schedules]
  rest = _train(model, optimizer, scheduler, N - 23, start=23)
  for a, b in zip(straight[:2], (first[0] + rest[0], first[1] + rest[1]), strict=True):
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
  for p, q in zip(straight[3][-1], rest[3][-1], strict=True):  # the same last update
    np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_dict_of_a_schedule_without_config():
  s = osch.as_schedule(lambda t: 0.1 * jnp.exp(-0.1 * t.astype(jnp.float32)))
  optimizer = torch.optim.SGD(_model().parameters(), lr=0.1)
  scheduler = tc.to_torch(s, optimizer)
  for _ in range(5):
    optimizer.step()
    scheduler.step()
  state = _save_load(scheduler.state_dict())
  assert state["schedule_configs"] == [None]
  resumed = tc.to_torch(s, torch.optim.SGD(_model().parameters(), lr=0.1))
  resumed.load_state_dict(state)
  assert resumed.get_last_lr() == scheduler.get_last_lr() == [float(s(5))]


def test_load_state_dict_errors():
  s1, s2 = osch.cosine_decay(0.1, 50), tc.OneCycleLR(0.5, total_steps=40)
  state = tc.to_torch([s1, s2], _two_groups(_model())).state_dict()
  with pytest.raises(ValueError, match=re.escape(
      "`to_torch(...).load_state_dict(state_dict=...)` was saved with another schedule for "
      "param group 1: saved torch.OneCycleLR(0.5, total_steps=40), now cosine_decay(0.1, "
      "50). Pass to_torch the schedule the checkpoint was trained with.")):
    tc.to_torch([s1, s1], _two_groups(_model())).load_state_dict(state)
  with pytest.raises(ValueError, match=re.escape(
      "`to_torch(...).load_state_dict(state_dict=...)` holds 2 param groups' schedules, but "
      "this optimizer has 1 param groups.")):
    tc.to_torch(s1, torch.optim.SGD(_model().parameters())).load_state_dict(state)
  torch_state = L.StepLR(torch.optim.SGD(_model().parameters()), 3).state_dict()
  with pytest.raises(ValueError, match=re.escape(
      "`to_torch(...).load_state_dict(state_dict=...)` must be a dict from a to_torch "
      "scheduler's state_dict(), got state_dict=")):
    tc.to_torch(s1, torch.optim.SGD(_model().parameters())).load_state_dict(torch_state)


def test_deprecated_step_with_an_epoch_is_closed_form():
  s = osch.cosine_decay(0.1, 50)
  optimizer = torch.optim.SGD(_model().parameters(), lr=0.1)
  scheduler = tc.to_torch(s, optimizer)
  optimizer.step()
  with pytest.warns(UserWarning, match="epoch"):
    scheduler.step(17)
  assert optimizer.param_groups[0]["lr"] == float(s(17))


def test_errors():
  optimizer = _two_groups(_model())
  s = osch.cosine_decay(0.1, 50)
  with pytest.raises(TypeError, match=re.escape(
      "`to_torch(optimizer=...)` must be a torch.optim.Optimizer, got optimizer=[1.0].")):
    tc.to_torch(s, [1.0])
  with pytest.raises(ValueError, match=re.escape(
      "`to_torch(schedule=...)` must be one schedule, or a list of 2 (one per param group), "
      "not 3, got schedule=[cosine_decay(0.1, 50), cosine_decay(0.1, 50), cosine_decay(0.1, "
      "50)].")):
    tc.to_torch([s, s, s], optimizer)
  with pytest.raises(TypeError, match=re.escape(
      "`to_torch(schedule=...)` must be a schedule or a callable step -> value, got "
      "schedule=0.1.")):
    tc.to_torch(0.1, optimizer)
  with pytest.raises(TypeError, match=re.escape(
      "`to_torch(schedule=...)` must be a schedule or a callable step -> value, got "
      "schedule=torch.ReduceLROnPlateau(0.1).")):
    tc.to_torch(tc.ReduceLROnPlateau(0.1), optimizer)
  with pytest.raises(ValueError, match=re.escape(
      "`to_torch(schedule=...)` must give one learning rate per step (a scalar), got "
      "schedule=constant(array([0.10000000149011612, 0.20000000298023224], 'float32')), "
      "whose value has shape (2,).")):
    tc.to_torch(osch.constant(np.asarray([0.1, 0.2], np.float32)), optimizer)


def test_repr_and_class():
  optimizer = _two_groups(_model())
  scheduler = tc.to_torch(osch.cosine_decay(0.1, 50), optimizer)
  assert isinstance(scheduler, L.LRScheduler)
  assert repr(scheduler) == "to_torch(cosine_decay(0.1, 50), last_epoch=0)"
  assert type(scheduler).__module__ == "optax_scheds.compat.torch"
  other = tc.to_torch([osch.constant(0.1), osch.constant(0.2)], _two_groups(_model()))
  assert type(other) is type(scheduler)
  assert repr(other) == "to_torch([constant(0.1), constant(0.2)], last_epoch=0)"


def test_compat_modules_import_without_torch_or_keras():
  code = textwrap.dedent("""
      import sys
      sys.modules["torch"] = None  # importing it raises ImportError
      sys.modules["keras"] = None
      import optax_scheds as osch
      from optax_scheds.compat import keras as kc, torch as tc
      s = osch.cosine_decay(0.1, 50)
      for call, name in ((lambda: tc.to_torch(s, None), "PyTorch"),
                         (lambda: kc.to_keras(s), "Keras 3")):
        try:
          call()
        except ImportError as e:
          assert name in str(e), e
        else:
          raise AssertionError("no ImportError")
      assert "torch" not in sys.modules or sys.modules["torch"] is None
      print("ok")
  """)
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert out.stdout.strip().endswith("ok")
