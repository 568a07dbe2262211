"""Hostile input, table-driven, for every public schedule constructor.

Each constructor comes from the catalogue's example list (docs/catalogue.py,
kept complete against the public API by tests/test_catalogue.py). Every
argument of the example call is replaced, one at a time, by each hostile value.
The call must either build a schedule whose values have no NaN, or raise
ValueError / TypeError whose message names the function and the parameter,
never a raw error from deep inside JAX or NumPy. Plateau transformations get
NaN and inf metrics.
"""

import ast
import importlib.util
import inspect
import math
import pathlib
import warnings

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_scheds as osch
from optax_scheds.compat import keras as kc
from optax_scheds.compat import torch as tc

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogue", ROOT / "docs" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

HOSTILE = [math.nan, math.inf, -math.inf, -1, 0, 1.5, 2**63, -2**63, "x", True, None, [],
           [3, 1], np.array([np.nan])]
STEPS = np.arange(0, 200, 7)


def _example_call(name):
  """The constructor and its example arguments, bound to its signature."""
  prefix, attr = name.split(".")
  ns = catalogue.namespace()
  fn = getattr(ns[prefix], attr)
  call = ast.parse(catalogue.EXAMPLES[name][1], mode="eval").body

  def value(node):
    return eval(compile(ast.Expression(node), name, "eval"), ns)  # noqa: S307

  bound = inspect.signature(fn).bind(*map(value, call.args),
                                     **{k.arg: value(k.value) for k in call.keywords})
  bound.apply_defaults()
  arguments = {}
  for param, v in bound.arguments.items():  # a **kw parameter's entries, one by one
    kind = bound.signature.parameters[param].kind
    arguments.update(v if kind is inspect.Parameter.VAR_KEYWORD else {param: v})
  return attr, fn, arguments


@pytest.mark.parametrize("name", sorted(catalogue.EXAMPLES))
def test_hostile_arguments_raise_naming_the_call_or_build_a_sane_schedule(name):
  attr, fn, arguments = _example_call(name)
  params = inspect.signature(fn).parameters
  names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
  names += [n for n in arguments if n not in params]  # the example's **kw entries
  problems = []
  for param in names:
    for bad in HOSTILE:
      try:
        with warnings.catch_warnings():
          warnings.simplefilter("ignore")
          out = np.asarray(fn(**{**arguments, param: bad})(STEPS))
      except (ValueError, TypeError) as e:
        # Names the call, the parameter and the value it got ("..., got name=...").
        if f"`{attr}(" not in str(e) or param not in str(e) or " got " not in str(e):
          problems.append(f"{param}={bad!r}: {type(e).__name__}: {e}")
        continue
      except Exception as e:  # noqa: BLE001 - any other error is the finding
        problems.append(f"{param}={bad!r}: raw {type(e).__name__}: {e}")
        continue
      if np.any(np.isnan(out)):
        problems.append(f"{param}={bad!r}: built, but gives NaN")
  assert not problems, f"{name}:\n" + "\n".join(problems)


PLATEAUS = {
    "reduce_on_plateau": lambda: osch.reduce_on_plateau(factor=0.5, patience=1),
    "reduce_on_plateau(max)": lambda: osch.reduce_on_plateau(factor=0.5, patience=1,
                                                             mode="max"),
    "tc.ReduceLROnPlateau": lambda: tc.ReduceLROnPlateau(0.1, factor=0.5, patience=1),
    "kc.ReduceLROnPlateau": lambda: kc.ReduceLROnPlateau(0.1, factor=0.5, patience=1),
}


@pytest.mark.parametrize("name", sorted(PLATEAUS))
def test_non_finite_metrics_leave_every_plateau_state_sane(name):
  opt = optax.chain(optax.sgd(0.1), PLATEAUS[name]())
  params = jnp.zeros(2)
  state = opt.init(params)
  for v in [1.0, math.nan, math.inf, -math.inf, math.nan, 0.5, math.nan]:
    updates, state = opt.update(jnp.ones(2), state, params, value=jnp.float32(v))
    plateau = state[1]
    assert np.all(np.isfinite(np.asarray(updates)))
    assert 0 < float(plateau.scale) <= 1
    assert not np.isnan(float(plateau.best_value))
    assert int(plateau.plateau_count) >= -1 and int(plateau.cooldown_count) >= 0
  if name.startswith("reduce_on_plateau"):
    # Natively, non-finite metrics never improve: the best is a finite value seen.
    assert float(state[1].best_value) in (1.0, 0.5)
  else:
    # The ports keep their reference's rule, where -inf beats every finite best
    # (PyTorch's `a < best * (1 - threshold)`, Keras' `a + delta < best`).
    assert float(state[1].best_value) == -math.inf
