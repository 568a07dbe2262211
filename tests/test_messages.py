"""Errors name the user's own call, parameter and value; compat modules expose
only their API."""

import re

import jax.numpy as jnp
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from optax_scheds.compat import timm
from optax_scheds.compat import torch as tc
from optax_scheds.compat import transformers as hf

INF = float("inf")
NAN = float("nan")
WCD = dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10)

ERRORS = [
    # The user's call is named, never an inner helper.
    (lambda: osch.cosine_onecycle(100, 1.0, div_factor=0), ValueError,
     "`cosine_onecycle(div_factor=...)` must be positive, got div_factor=0.0."),
    (lambda: osch.cosine_onecycle(100, 1.0, div_factor=-1), ValueError,
     "`cosine_onecycle(div_factor=...)` must be positive, got div_factor=-1.0."),
    (lambda: osch.cosine_onecycle(100, 1.0, final_div_factor="x"), TypeError,
     "`cosine_onecycle(final_div_factor=...)` must be a real number or a real array, got "
     "final_div_factor='x'."),
    (lambda: osch.linear_onecycle(100, 1.0, div_factor="x"), TypeError,
     "`linear_onecycle(div_factor=...)` must be a real number or a real array, got "
     "div_factor='x'."),
    (lambda: osch.linear_onecycle(100, 1.0, final_div_factor=True), TypeError,
     "`linear_onecycle(final_div_factor=...)` must be a real number or a real array, got "
     "final_div_factor=True."),
    (lambda: osch.as_schedule("x"), TypeError,
     "`as_schedule(fn_or_value=...)` must be a schedule, a callable step -> value or a "
     "number, got fn_or_value='x'."),
    (lambda: osch.as_schedule(NAN), ValueError,
     "`as_schedule(fn_or_value=...)` must be a number, not NaN, got fn_or_value=nan."),
    (lambda: osch.maximum(osch.constant(1.0), NAN), ValueError,
     "`maximum(b=...)` must be a number, not NaN, got b=nan."),
    (lambda: osch.minimum("x", 1.0), TypeError,
     "`minimum(a=...)` must be a schedule, callable or number, got a='x'."),
    (lambda: osch.constant(1.0) + INF, ValueError,
     "`Schedule.__add__(other=...)` must be finite, got other=inf."),
    (lambda: osch.warmup_exponential_decay(0.0, 1.0, 10, 0, 0.5), ValueError,
     "`warmup_exponential_decay(transition_steps=...)` must be positive, got "
     "transition_steps=0."),
    (lambda: osch.warmup_exponential_decay(0.0, 1.0, 10, 10, -0.5), ValueError,
     "`warmup_exponential_decay(decay_rate=...)` must be positive, got decay_rate=-0.5."),
    (lambda: osch.warmup_exponential_decay(0.0, INF, 10, 10, 0.5), ValueError,
     "`warmup_exponential_decay(peak_value=...)` must be finite, got peak_value=inf."),
    (lambda: osch.sgdr(None), TypeError,
     "`sgdr(cosine_kwargs=...)` must be an iterable of dicts, got cosine_kwargs=None."),
    (lambda: osch.sgdr([WCD, 3]), TypeError,
     "`sgdr(cosine_kwargs[1]=...)` must be a dict of warmup_cosine_decay's arguments, got "
     "cosine_kwargs[1]=3."),
    (lambda: osch.sgdr([{}]), TypeError,
     "`sgdr(cosine_kwargs=...)` must hold dicts of warmup_cosine_decay's arguments "
     "(init_value, peak_value, warmup_steps, decay_steps; optionally end_value, exponent), "
     "got cosine_kwargs[0]={}, which misses init_value, peak_value, warmup_steps, "
     "decay_steps."),
    (lambda: osch.sgdr([dict(WCD, alpha=0.1)]), TypeError,
     "which has unknown alpha."),
    (lambda: osch.sgdr([WCD, dict(WCD, decay_steps=0)]), ValueError,
     "`sgdr(cosine_kwargs[1]['decay_steps']=...)` must be positive, got "
     "cosine_kwargs[1]['decay_steps']=0."),
    (lambda: osch.sgdr([dict(WCD, decay_steps=2)]), ValueError,
     "`sgdr(cosine_kwargs[0]['decay_steps']=...)` must be greater than "
     "cosine_kwargs[0]['warmup_steps'] (it includes the warmup), got "
     "cosine_kwargs[0]['decay_steps']=2, cosine_kwargs[0]['warmup_steps']=2."),
    # A factory passed where a schedule belongs.
    (lambda: osch.warmup(optax.cosine_decay_schedule, 10), TypeError,
     "`warmup(schedule=...)` must be a schedule or a callable step -> value, got "
     "schedule=cosine_decay_schedule, which takes (init_value, decay_steps) rather than one "
     "step. Call it to build the schedule first, e.g. schedule=cosine_decay_schedule(...)."),
    (lambda: osch.join([osch.constant(1.0), optax.linear_schedule], [5]), TypeError,
     "`join(schedules[1]=...)` must be a schedule or a callable step -> value, got "
     "schedules[1]=linear_schedule"),
    (lambda: osch.cycle(lambda: 1.0, 10), TypeError,
     "`cycle(schedule=...)` must be a schedule or a callable step -> value"),
    # inf is refused except for bounds that mean "no bound".
    (lambda: osch.cosine_decay(INF, 100), ValueError,
     "`cosine_decay(init_value=...)` must be finite, got init_value=inf."),
    (lambda: osch.warmup(osch.constant(1.0), 10, init_value=-INF), ValueError,
     "`warmup(init_value=...)` must be finite, got init_value=-inf."),
    (lambda: osch.table([1.0, INF]), ValueError,
     "`table(values=...)` must be finite (no NaN or inf), got values=[1.0, inf]."),
    (lambda: osch.piecewise_constant(1.0, {5: INF}), ValueError,
     "`piecewise_constant(boundaries_and_scales=...)` must be finite, got "
     "boundaries_and_scales=inf."),
    (lambda: kc.LearningRateScheduler(lambda e, lr: lr, INF, 10, 5), ValueError,
     "`LearningRateScheduler(initial_learning_rate=...)` must be finite, got "
     "initial_learning_rate=inf."),
    (lambda: tc.StepLR(INF, 10), ValueError, "`StepLR(lr=...)` must be finite, got lr=inf."),
    # Negative exponents and factors are refused.
    (lambda: osch.polynomial(1.0, 0.0, -1, 10), ValueError,
     "`polynomial(power=...)` must be non-negative, got power=-1.0."),
    (lambda: osch.cosine_decay(1.0, 10, exponent=-1.0), ValueError,
     "`cosine_decay(exponent=...)` must be non-negative, got exponent=-1.0."),
    (lambda: osch.warmup_cosine_decay(0.0, 1.0, 2, 10, exponent=-0.5), ValueError,
     "`warmup_cosine_decay(exponent=...)` must be non-negative, got exponent=-0.5."),
    (lambda: kc.PolynomialDecay(1.0, 10, power=-2.0), ValueError,
     "`PolynomialDecay(power=...)` must be non-negative, got power=-2.0."),
    (lambda: osch.cycle(osch.constant(1.0), 10, value_mul=-1), ValueError,
     "`cycle(value_mul=...)` must be non-negative, got value_mul=-1.0."),
    (lambda: kc.CosineDecayRestarts(1.0, 10, m_mul=-0.5), ValueError,
     "`CosineDecayRestarts(m_mul=...)` must be non-negative, got m_mul=-0.5."),
]


@pytest.mark.parametrize("make, error, message", ERRORS)
def test_errors_name_the_users_call(make, error, message):
  with pytest.raises(error, match=re.escape(message)):
    make()


@pytest.mark.parametrize("bound", [INF, -INF])
def test_infinite_bounds_mean_no_bound(bound):
  s = osch.linear(0.0, 1.0, 10)
  assert float(osch.clip(s, min_value=-INF, max_value=INF)(5)) == 0.5
  assert float(osch.minimum(s, INF)(5)) == 0.5 and float(osch.maximum(s, -INF)(5)) == 0.5
  assert float(osch.exponential_decay(1.0, 10, 0.5, end_value=-INF)(10)) == 0.5
  assert float(osch.clip(s, max_value=bound)(5)) == (0.5 if bound > 0 else -INF)


def test_negative_values_are_accepted_like_optax():
  # optax accepts them (e.g. a schedule for a sign-flipped objective).
  assert float(osch.linear(-1.0, 0.0, 10)(5)) == -0.5
  assert float(osch.cosine_decay(-1.0, 10)(0)) == -1.0


def test_lambda_lr_with_a_python_if_fails_at_construction_naming_the_fix():
  def lr_lambda(epoch):
    return 1.0 if epoch < 10 else 0.1
  with pytest.raises(TypeError, match=re.escape(
      "`LambdaLR(lr_lambda=...)` must be traceable with jnp (it runs inside jit on a traced "
      "integer step), got lr_lambda=test_lambda_lr_with_a_python_if_fails_at_construction_"
      "naming_the_fix.<locals>.lr_lambda, which uses the step as a Python value")):
    tc.LambdaLR(0.1, lr_lambda)
  ok = tc.LambdaLR(0.1, lambda t: jnp.where(t < 10, 1.0, 0.1))
  assert float(ok(12)) == pytest.approx(0.01)


@pytest.mark.parametrize("module, api", [
    (tc, {"ChainedScheduler", "ConstantLR", "CosineAnnealingLR",
          "CosineAnnealingWarmRestarts", "CyclicLR", "CyclicMomentum", "ExponentialLR",
          "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR",
          "OneCycleMomentum", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR",
          "to_torch"}),
    (kc, {"CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
          "LearningRateScheduler", "PiecewiseConstantDecay", "PolynomialDecay",
          "ReduceLROnPlateau", "to_keras"}),
    (hf, {"get_constant_schedule", "get_constant_schedule_with_warmup",
          "get_cosine_schedule_with_warmup", "get_cosine_with_hard_restarts_schedule_with_warmup",
          "get_cosine_with_min_lr_schedule_with_warmup",
          "get_cosine_with_min_lr_schedule_with_warmup_lr_rate", "get_inverse_sqrt_schedule",
          "get_linear_schedule_with_warmup", "get_polynomial_decay_schedule_with_warmup",
          "get_reduce_on_plateau_schedule", "get_scheduler", "get_wsd_schedule"}),
    (timm, {"CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler",
            "TanhLRScheduler", "WSDLRScheduler", "create_scheduler_v2"}),
])
def test_compat_modules_expose_only_their_api(module, api):
  assert set(module.__all__) == api
  assert set(dir(module)) == api
  for name in api:
    assert callable(getattr(module, name))
  namespace = {}
  exec(f"from {module.__name__} import *", namespace)
  assert set(namespace) - {"__builtins__"} == api
