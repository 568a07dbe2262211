"""Configs and the text form: round trips for every public constructor, refusals.

The schedules come from the catalogue's example list (docs/catalogue.py, kept
complete against the public API by tests/test_catalogue.py), so a new public
schedule is round-tripped here as soon as it is public; the registry test below
fails when a public constructor is not registered for configs and text.
"""

import importlib
import importlib.util
import json
import pathlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optax_scheds as osch
from optax_scheds import _registry
from optax_scheds.compat import keras as kc
from optax_scheds.compat import torch as tc
from optax_scheds.compat import transformers as hf
from tests._util import random_example

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogue", ROOT / "docs" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)

# Built from Python functions: their values are not serialized (documented).
REFUSED = {"tc.LambdaLR": "lr_lambda", "tc.MultiplicativeLR": "lr_lambda",
           "kc.LearningRateScheduler": "schedule"}
NAMES = sorted(catalogue.EXAMPLES)
# Registered besides the catalogued schedules: plateau transformations, and
# as_schedule (a number has a config; a callable is refused when written).
PLATEAU_CONSTRUCTORS = {"osch.reduce_on_plateau", "tc.ReduceLROnPlateau",
                        "kc.ReduceLROnPlateau", "hf.get_reduce_on_plateau_schedule",
                        "osch.as_schedule"}
STEPS = np.unique(np.concatenate([
    np.arange(0, 400), np.arange(400, 5000, 37),
    [2**24 - 1, 2**24, 2**24 + 1, 2**30, 2**31 - 2, 2**31 - 1]])).astype(np.int32)


def _same_values(a, b, steps=STEPS):
  x, y = np.asarray(a(steps)), np.asarray(b(steps))
  assert x.dtype == y.dtype
  np.testing.assert_array_equal(x, y)  # bit for bit (NaN == NaN)
  fsteps = steps[:200].astype(np.float32) + np.float32(0.25)
  np.testing.assert_array_equal(np.asarray(a(fsteps)), np.asarray(b(fsteps)))


def _json_round_trip(s):
  return osch.from_config(json.loads(json.dumps(osch.to_config(s), allow_nan=False)))


def test_every_public_constructor_is_registered():
  # Every catalogued schedule constructor (tests/test_catalogue.py keeps the
  # catalogue complete) and every plateau constructor writes and reads configs.
  expected = set(catalogue.public_constructors()) | PLATEAU_CONSTRUCTORS
  registered = {
      name if "." not in name else f"{catalogue_prefix(name)}.{name.split('.')[1]}"
      for name in osch._config.load_constructors()}
  registered = {n if "." in n else f"osch.{n}" for n in registered}
  assert registered == expected


def catalogue_prefix(name):
  short = {m.rsplit(".", 1)[1]: p for p, m in catalogue.MODULES.items() if p != "osch"}
  return short[name.split(".")[0]]


@pytest.mark.parametrize("name", NAMES)
def test_config_and_text_round_trip_bit_for_bit(name):
  s = catalogue.build(name)
  if name in REFUSED:
    arg = REFUSED[name]
    with pytest.raises(ValueError, match=re.escape(f"({arg}=...) is a Python callable")):
      osch.to_config(s)
    with pytest.raises(ValueError, match=re.escape(f"({arg}=...) is a Python callable")):
      osch.to_text(s)
    return
  config = osch.to_config(s)
  assert config["format_version"] == 1
  assert config["name"] == (name.split(".", 1)[1] if name.startswith("osch.") else
                            _registry.call_of(s).name)
  _same_values(_json_round_trip(s), s)
  text = osch.to_text(s)
  _same_values(osch.parse(text), s)
  assert osch.to_text(osch.parse(text)) == text
  assert repr(s) == text  # short examples are not abbreviated
  # A config read back writes the same config.
  assert osch.to_config(_json_round_trip(s)) == json.loads(json.dumps(config))


@pytest.mark.parametrize("name", [n for n in NAMES if n not in REFUSED])
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_with_random_parameters(name, data):
  s = random_example(catalogue, name, data)
  steps = STEPS[::7]
  _same_values(_json_round_trip(s), s, steps)
  _same_values(osch.parse(osch.to_text(s)), s, steps)


def _nested():
  w = osch.warmup(osch.cosine_decay(3e-4, 98_000), 2_000)
  return {
      "arithmetic": 0.5 * w + osch.constant(1e-5) - w / 3,
      "negation": -(w - 1e-4) * 2,
      "operator precedence": (w + 1.0) * (w - 1.0) / (2.0 - w),
      "join of composites": osch.join(
          [osch.warmup_cosine_decay(0.0, 1.0, 10, 100), tc.OneCycleLR(0.1, total_steps=50),
           hf.get_wsd_schedule(0.3, 5, 10, num_training_steps=40)], [100, 150]),
      "cycle of a warmup": osch.cycle(osch.warmup(osch.linear(1.0, 0.1, 30), 5), 35,
                                      length_mul=1.5, value_mul=0.8),
      "clip with infinite bound": osch.clip(w * 10.0, 0.0, float("inf")),
      "minimum of ports": osch.minimum(kc.CosineDecayRestarts(1.0, 15, 1.5, 0.8),
                                       tc.StepLR(0.9, 20)),
      "array hyperparameters": osch.cosine_decay(np.array([0.1, 0.2, 0.3], np.float32), 100),
      "jax array table": osch.table(jnp.linspace(1.0, 0.0, 7)),
      "sgdr dicts": osch.sgdr([dict(init_value=0.0, peak_value=1.0, warmup_steps=5,
                                    decay_steps=50)] * 2),
      "stretched delay": osch.stretch(osch.delay(osch.rex(1.0, 10), 3), 7, staircase=True),
      "cooldown from a checkpoint": osch.cooldown(osch.constant(3e-4), 1000, 200,
                                                  shape="1-square"),
  }


@pytest.mark.parametrize("name", sorted(_nested()))
def test_nested_compositions_round_trip(name):
  s = _nested()[name]
  if jax.eval_shape(s, 0).shape:  # array leaves: one value per entry, per step
    def values(sched):
      return jax.vmap(sched)
  else:
    def values(sched):
      return sched
  _same_values(values(_json_round_trip(s)), values(s))
  _same_values(values(osch.parse(osch.to_text(s))), values(s))


def test_text_writes_numbers_and_calls_as_written():
  s = 0.5 * osch.warmup(osch.cosine_decay(0.0003, 98000), 2000)
  assert osch.to_text(s) == "0.5 * warmup(cosine_decay(0.0003, 98000), 2000)"
  assert repr(tc.OneCycleLR(0.1, total_steps=1000)) == "torch.OneCycleLR(0.1, total_steps=1000)"
  assert repr(osch.clip(s, None, float("inf"))).endswith(", None, inf)")
  assert repr(-(s - 1)) == "-(0.5 * warmup(cosine_decay(0.0003, 98000), 2000) - 1)"
  j = osch.join([osch.constant(1.0), osch.linear(1.0, 0.0, 10)], [5])
  assert repr(j) == "join([constant(1.0), linear(1.0, 0.0, 10)], [5])"


def test_config_names_the_call_and_arguments_as_written():
  s = osch.warmup_cosine_decay(0.0, 3e-4, 2000, 100_000, end_value=1e-5)
  assert osch.to_config(s) == {
      "format_version": 1, "name": "warmup_cosine_decay",
      "args": {"init_value": 0.0, "peak_value": 3e-4, "warmup_steps": 2000,
               "decay_steps": 100_000, "end_value": 1e-5}}
  assert osch.to_config(kc.CosineDecayRestarts(1.0, 10))["name"] == "keras.CosineDecayRestarts"


def test_repr_of_a_huge_join_is_bounded_and_to_text_is_complete():
  n = 20_000
  s = osch.join([osch.cosine_decay(1.0 + k / n, 10) for k in range(n)],
                list(range(10, 10 * n, 10)))
  short = repr(s)
  assert len(short) < 300 and f"...<{n - 3} more>" in short
  text = osch.to_text(s)
  assert "..." not in text and text.count("cosine_decay(") == n
  _same_values(osch.parse(text), s, np.arange(0, 10 * n + 20, 3, dtype=np.int32))


def test_pytree_operations_and_traced_values_have_no_config():
  s = osch.cosine_decay(1.0, 10)
  with pytest.raises(ValueError, match=re.escape(
      "cannot be written: the schedule is a CosineDecay not built by a public "
      "constructor")):
    osch.to_config(jax.tree.map(lambda x: x, s))
  with pytest.raises(ValueError, match=re.escape(
      "`to_text(schedule=...)` cannot be written: the schedule is a CosineDecay")):
    osch.to_text(jax.jit(lambda s: s)(s))

  def inside(peak):
    osch.to_config(osch.cosine_decay(peak, 10))
    return peak
  with pytest.raises(ValueError, match=re.escape(
      "cannot be written: cosine_decay(init_value=...) is a traced value")):
    jax.jit(inside)(1.0)


def test_callable_pieces_are_refused_naming_the_piece():
  with pytest.raises(ValueError, match=re.escape(
      "`to_config(schedule=...)` cannot be written: as_schedule(fn_or_value=...) is a "
      "Python callable (test_callable_pieces_are_refused_naming_the_piece.<locals>.<lambda>)"
  )):
    osch.to_config(osch.as_schedule(lambda t: 0.1 * t))
  piece = optax.linear_schedule(1.0, 0.0, 10)
  s = osch.join([osch.constant(1.0), piece], [5])
  with pytest.raises(ValueError, match=re.escape(
      "cannot be written: join(schedules=...)[1] is a Python callable")):
    osch.to_config(s)
  with pytest.raises(ValueError, match=re.escape(
      "cannot be written: torch.LambdaLR(lr_lambda=...) is a Python callable")):
    osch.to_text(tc.LambdaLR(0.1, lambda e: 0.9 ** e.astype(jnp.float32)))
  with pytest.raises(TypeError, match=re.escape("`to_config(schedule=...)` must be a "
                                                "schedule, got 0.1.")):
    osch.to_config(0.1)


PLATEAUS = {
    "native": lambda: osch.reduce_on_plateau(factor=0.5, patience=2, cooldown=1,
                                             mode="max", min_scale=0.01),
    "native, validation metric": lambda: osch.reduce_on_plateau(
        factor=0.3, patience=1, value_in_update=False, name="val"),
    "torch": lambda: tc.ReduceLROnPlateau(0.1, factor=0.5, patience=1, threshold=0.01,
                                          threshold_mode="abs", min_lr=1e-3),
    "keras": lambda: kc.ReduceLROnPlateau(0.1, monitor="val_accuracy", factor=0.5,
                                          patience=1),
    "transformers": lambda: hf.get_reduce_on_plateau_schedule(0.1, patience=1),
}


@pytest.mark.parametrize("name", sorted(PLATEAUS))
def test_plateau_transformations_round_trip(name):
  p = PLATEAUS[name]()
  config = osch.to_config(p)
  q = _json_round_trip(p)
  r = osch.parse(osch.to_text(p))
  assert osch.to_config(q) == osch.to_config(r) == json.loads(json.dumps(config))
  params = {"w": jnp.ones(3)}
  metrics = jnp.array([1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.9, 0.9, 0.9])
  scales = []
  for t in (p, q, r):
    def run(t=t):  # the whole sequence in one compiled scan
      def step(state, v):
        if "validation" in name:
          state = t.observe(state, v)
          _, state = t.update(params, state, params)
        else:
          _, state = t.update(params, state, params, value=v)
        return state, osch.learning_rate(1.0, state)
      return jax.lax.scan(step, t.init(params), metrics)[1]
    scales.append(np.asarray(jax.jit(run)()).tolist())
  assert scales[0] == scales[1] == scales[2]
  assert len(set(scales[0])) > 1  # the plateau did cut


MALICIOUS_TEXTS = [
    ("__import__('os').system('touch {marker}')", "attribute access is not allowed"),
    ("__import__('os')", "'__import__' is not a constructor of the library"),
    ("os.system('touch {marker}')", "'os.system' is not a constructor of the library"),
    ("open('{marker}', 'w')", "'open' is not a constructor of the library"),
    ("eval('1')", "'eval' is not a constructor of the library"),
    ("cosine_decay.__class__", "attribute access is not allowed"),
    ("cosine_decay(1.0, 10).__class__.__bases__", "attribute access is not allowed"),
    ("torch.__dict__", "attribute access is not allowed"),
    ("(lambda: constant(1.0))()", "calling a lambda is not allowed"),
    ("[constant(x) for x in [1.0]]", "a comprehension is not allowed"),
    ("constant(1.0) ** 2", "the operator Pow is not allowed"),
    ("constant(1.0) @ constant(1.0)", "the operator MatMult is not allowed"),
    ("cosine_decay(*[1.0, 10])", "* unpacking is not allowed"),
    ("cosine_decay(**{'init_value': 1.0, 'decay_steps': 10})", "** unpacking is not allowed"),
    ("1 + 2", "+ is allowed between schedules and numbers only, got int + int"),
    ("constant(1.0) + 'x'", "+ is allowed between schedules and numbers only"),
    ("cosine_decay", "cosine_decay must be called"),
    ("x", "the name 'x' is not allowed"),
    ("constant(1.0) if True else constant(2.0)", "a conditional expression is not allowed"),
    ("f'{constant(1.0)}'", "an f-string is not allowed"),
    ("[constant(1.0)][0]", "indexing is not allowed"),
    ("b'x'", "the literal b'x' is not allowed"),
    ("constant(1j)", "the literal 1j is not allowed"),
    ("constant(1.0) < constant(2.0)", "a comparison is not allowed"),
    ("(y := constant(1.0))", "an assignment expression is not allowed"),
    ("unknown_schedule(1.0)", "'unknown_schedule' is not a constructor of the library"),
    ("torch.NoSuchLR(1.0)", "'torch.NoSuchLR' is not a constructor of the library"),
    ("cosine_decay(1.0, -10)", "`cosine_decay(decay_steps=...)` must be"),
    ("cosine_decay(1.0, 10, nope=1)", "unexpected keyword argument 'nope'"),
    ("cosine_decay(1.0, 10); import os", "is not a valid expression"),
    ("import os", "is not a valid expression"),
    ("0.1", "must describe a schedule, got 0.1"),
    ("", "must be a schedule expression, got empty text"),
    ("[" * 150 + "]" * 150, "nested more than 100 levels deep"),
    ("(" * 300 + "constant(1.0)" + ")" * 300, "is not a valid expression"),
]


@pytest.mark.parametrize("text,message", MALICIOUS_TEXTS)
def test_parse_refuses_everything_but_the_library(text, message, tmp_path):
  marker = tmp_path / "side-effect"
  text = text.replace("{marker}", str(marker))
  with pytest.raises(ValueError, match=re.escape(message)) as info:
    osch.parse(text)
  assert str(info.value).startswith("`parse(text=...)`")
  assert not marker.exists()


def test_parse_points_at_the_offending_part():
  with pytest.raises(ValueError) as info:
    osch.parse("warmup(cosine_decay(1.0, 10), os.getcwd())")
  assert "line 1, column 31" in str(info.value)
  assert str(info.value).splitlines()[-1].index("^") == 2 + 30


def test_parse_refuses_huge_text_and_wrong_types():
  with pytest.raises(ValueError, match=re.escape("must be at most 10000000 characters")):
    osch.parse(" " * 10_000_001)
  with pytest.raises(TypeError, match=re.escape("`parse(text=...)` must be a str, got bytes")):
    osch.parse(b"constant(1.0)")


def _config(name, **args):
  return {"format_version": 1, "name": name, "args": args}


MALFORMED_CONFIGS = [
    ({"name": "constant", "args": {"value": 1.0}}, 'must have "format_version": 1'),
    ({**_config("constant", value=1.0), "format_version": 2}, "format_version=2"),
    ({**_config("constant", value=1.0), "format_version": "1"}, "format_version='1'"),
    ({**_config("constant", value=1.0), "format_version": True}, "format_version=True"),
    ({**_config("constant", value=1.0), "extra": 1}, 'must have the keys "format_version"'),
    (_config("no_such_schedule"), "unknown constructor name 'no_such_schedule'"),
    ({"format_version": 1, "name": 3, "args": {}}, "unknown constructor name 3"),
    ({"format_version": 1, "name": "constant", "args": [1.0]}, "args must be an object"),
    (_config("cosine_decay", init_value=1.0), "is missing the argument 'decay_steps'"),
    (_config("cosine_decay", init_value=1.0, decay_steps=10, nope=1),
     "cosine_decay(...) has no argument 'nope'"),
    (_config("cosine_decay", init_value=1.0, decay_steps="ten"),
     "`cosine_decay(decay_steps=...)` must be"),
    (_config("cosine_decay", init_value=1.0, decay_steps=-10),
     "`cosine_decay(decay_steps=...)` must be"),
    (_config("cosine_decay", init_value=float("inf"), decay_steps=10),
     'must be written {"float": "inf"}'),
    (_config("cosine_decay", init_value={"float": "huge"}, decay_steps=10),
     '{"float": ...} must be "inf", "-inf" or "nan"'),
    (_config("table", values={"array": [1.0, 0.5], "dtype": "object"}),
     "array dtype must be one of"),
    (_config("table", values={"array": [[1.0], [0.5, 2.0]], "dtype": "float32"}),
     "array values do not form a float32 array"),
    (_config("piecewise_constant", init_value=1.0, boundaries_and_scales={"items": [[1]]}),
     '{"items": ...} must be a list of [key, value] pairs'),
    (_config("piecewise_constant", init_value=1.0, boundaries_and_scales={"foo": 1}),
     "an object with keys ['foo'] is not a config value"),
    (_config("warmup", schedule={"name": "nope", "args": {}}, warmup_steps=10),
     "unknown constructor name 'nope'"),
    (_config("*", left=1.0, right=2.0), "operator '*' needs a schedule operand"),
    (_config("+", left={"name": "constant", "args": {"value": 1.0}}),
     "operator '+' takes the args ['left', 'right']"),
    (_config("constant", value=1.0 + 0 * len("x" * 3)) | {"args": {"value": (1,)}},
     "tuple is not a config value"),
]


def _deep(n):
  inner = {"name": "constant", "args": {"value": 1.0}}
  for _ in range(n):
    inner = {"name": "neg", "args": {"operand": inner}}
  return {"format_version": 1, **inner}


@pytest.mark.parametrize("config,message", MALFORMED_CONFIGS + [
    (_deep(150), "nested more than 100 levels deep")])
def test_from_config_refuses_malformed_configs(config, message):
  with pytest.raises(ValueError, match=re.escape(message)) as info:
    osch.from_config(config)
  assert str(info.value).startswith("`from_config(config=...)`")


def test_from_config_takes_only_dicts():
  with pytest.raises(TypeError, match=re.escape("`from_config(config=...)` must be a dict, "
                                                "got '[1]'.")):
    osch.from_config("[1]")


def test_deeply_nested_schedules_are_written_and_read_up_to_the_limit():
  s = osch.constant(1.0)
  for _ in range(40):
    s = -s
  _same_values(_json_round_trip(s), s, STEPS[:50])
  _same_values(osch.parse(osch.to_text(s)), s, STEPS[:50])
