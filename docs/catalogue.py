"""The schedule catalogue: one example per public schedule, its picture and its page.

``python docs/catalogue.py`` (needs matplotlib) writes ``docs/schedules.md`` and
``docs/schedules/*.png``. ``EXAMPLES`` is the one list of every public schedule
constructor, native and ported; ``tests/test_catalogue.py`` fails when a public
constructor has no entry here, when the page is stale, or when a picture is
missing, so a new schedule cannot go uncatalogued.
"""

import importlib
import inspect
import pathlib
import re
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
PAGE = HERE / "schedules.md"
PICTURES = HERE / "schedules"

# Public callables that are not schedule constructors.
NOT_SCHEDULES = {
    "osch.Schedule", "osch.as_schedule", "osch.learning_rate", "osch.reduce_on_plateau",
    "osch.PlateauTransformation", "osch.ReduceOnPlateauState",
    "tc.ReduceLROnPlateau", "kc.ReduceLROnPlateau",
    "hf.get_reduce_on_plateau_schedule", "hf.get_scheduler", "timm.create_scheduler_v2",
    "osch.to_config", "osch.from_config", "osch.to_text", "osch.parse", "osch.plot",
    "osch.preview", "osch.lr_range_test", "osch.LRRangeTestResult", "kc.to_keras", "tc.to_torch",
}

# The modules whose public names are catalogued, and the prefix used for them.
MODULES = {
    "osch": "optax_scheds",
    "tc": "optax_scheds.compat.torch",
    "kc": "optax_scheds.compat.keras",
    "hf": "optax_scheds.compat.transformers",
    "timm": "optax_scheds.compat.timm",
    "t5x": "optax_scheds.compat.t5x",
    "bv": "optax_scheds.compat.big_vision",
}

# name -> (section, example expression, steps to draw, what it matches).
EXAMPLES = {
    # Primitives and optax drop-ins.
    "osch.constant": ("Primitives", "osch.constant(1.0)", 100, "optax.constant_schedule"),
    "osch.linear": ("Primitives", "osch.linear(1.0, 0.1, 80, transition_begin=10)", 100,
                    "optax.linear_schedule"),
    "osch.polynomial": ("Primitives", "osch.polynomial(1.0, 0.0, 2.0, 90)", 100,
                        "optax.polynomial_schedule"),
    "osch.exponential_decay": (
        "Primitives", "osch.exponential_decay(1.0, 10, 0.7, staircase=True, end_value=0.1)",
        100, "optax.exponential_decay"),
    "osch.cosine_decay": ("Primitives", "osch.cosine_decay(1.0, 90, alpha=0.1)", 100,
                          "optax.cosine_decay_schedule"),
    "osch.piecewise_constant": (
        "Primitives", "osch.piecewise_constant(1.0, {30: 0.5, 60: 0.2})", 100,
        "optax.piecewise_constant_schedule"),
    "osch.piecewise_interpolate": (
        "Primitives", "osch.piecewise_interpolate('cosine', 1.0, {30: 0.5, 80: 0.1})", 100,
        "optax.piecewise_interpolate_schedule"),
    "osch.table": ("Primitives", "osch.table([1.0, 0.8, 0.5, 0.5, 0.3, 0.1])", 8,
                   "a lookup table (e.g. values computed in Python)"),
    "osch.rex": ("Primitives", "osch.rex(1.0, 90)", 100, "REX (Chen et al., MLSys 2022)"),
    "osch.tanh_decay": ("Primitives", "osch.tanh_decay(1.0, 90)", 100,
                        "timm's TanhLRScheduler shape"),
    "osch.noam": ("Primitives", "osch.noam(512, 400)", 2000,
                  "the Transformer's schedule (Vaswani et al., NoamOpt)"),
    # Composites.
    "osch.warmup_constant": ("Composites", "osch.warmup_constant(0.0, 1.0, 20)", 100,
                             "optax.warmup_constant_schedule"),
    "osch.warmup_cosine_decay": (
        "Composites", "osch.warmup_cosine_decay(0.0, 1.0, 10, 90, end_value=0.05)", 100,
        "optax.warmup_cosine_decay_schedule"),
    "osch.warmup_exponential_decay": (
        "Composites", "osch.warmup_exponential_decay(0.0, 1.0, 10, 10, 0.7)", 100,
        "optax.warmup_exponential_decay_schedule"),
    "osch.linear_onecycle": ("Composites", "osch.linear_onecycle(90, 1.0)", 100,
                             "optax.linear_onecycle_schedule"),
    "osch.cosine_onecycle": ("Composites", "osch.cosine_onecycle(90, 1.0)", 100,
                             "optax.cosine_onecycle_schedule"),
    "osch.sgdr": (
        "Composites",
        "osch.sgdr([dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=30)]"
        " * 3)", 100, "optax.sgdr_schedule"),
    "osch.wsd": ("Composites", "osch.wsd(1.0, 10, 60, 25)", 100,
                 "warmup-stable-decay (MiniCPM; Hägele et al.'s 1-sqrt cooldown)"),
    "osch.inverse_sqrt": ("Composites", "osch.inverse_sqrt(1.0, 10)", 100,
                          "HuggingFace get_inverse_sqrt_schedule, big_vision rsqrt"),
    "osch.tri_stage": ("Composites", "osch.tri_stage(1.0, 20, 30, 40)", 100,
                       "fairseq tri_stage"),
    "osch.cyclic": ("Composites", "osch.cyclic(0.1, 1.0, 10, 15, mode='triangular2')", 100,
                    "torch.optim.lr_scheduler.CyclicLR (Smith's CLR)"),
    # Combinators.
    "osch.join": ("Combinators",
                  "osch.join([osch.linear(0.0, 1.0, 20), osch.cosine_decay(1.0, 80)], [20])",
                  100, "optax.join_schedules, O(log N) in the number of pieces"),
    "osch.warmup": ("Combinators", "osch.warmup(osch.cosine_decay(1.0, 80), 20)", 100,
                    "a warmup before any schedule"),
    "osch.cooldown": (
        "Combinators", "osch.cooldown(osch.cosine_decay(1.0, 200), 60, 30)", 100,
        "a cooldown from any step of any schedule (WSD's point)"),
    "osch.cycle": ("Combinators",
                   "osch.cycle(osch.cosine_decay(1.0, 10), 10, length_mul=2, value_mul=0.7)",
                   100, "SGDR restarts (torch CosineAnnealingWarmRestarts, Keras restarts)"),
    "osch.delay": ("Combinators", "osch.delay(osch.linear(1.0, 0.0, 50), 30)", 100,
                   "holds the first value, then runs the schedule"),
    "osch.advance": ("Combinators", "osch.advance(osch.warmup_cosine_decay(0.0, 1.0, 20, 150), 50)",
                     100, "starts mid-schedule: resumes a PyTorch last_epoch / Keras iterations"),
    "osch.stretch": ("Combinators",
                     "osch.stretch(osch.linear(1.0, 0.0, 10), 10, staircase=True)", 100,
                     "per-epoch schedules run per step"),
    "osch.k_decay": ("Combinators", "osch.k_decay(osch.cosine_decay(1.0, 90), 90, 3.0)", 100,
                     "k-decay (Zhang & Li 2020), timm's k_decay"),
    "osch.clip": ("Combinators", "osch.clip(osch.linear(0.0, 1.0, 100), 0.2, 0.8)", 100,
                  "bounds on any schedule"),
    "osch.minimum": ("Combinators",
                     "osch.minimum(osch.linear(0.0, 2.0, 100), osch.cosine_decay(1.0, 100))",
                     100, "pointwise minimum"),
    "osch.maximum": ("Combinators", "osch.maximum(osch.cosine_decay(1.0, 100), 0.3)", 100,
                     "pointwise maximum"),
    # PyTorch.
    "tc.StepLR": ("PyTorch", "tc.StepLR(1.0, 20, 0.5)", 100, "torch StepLR"),
    "tc.MultiStepLR": ("PyTorch", "tc.MultiStepLR(1.0, [30, 70], 0.3)", 100,
                       "torch MultiStepLR"),
    "tc.ConstantLR": ("PyTorch", "tc.ConstantLR(1.0, 0.3, 30)", 100, "torch ConstantLR"),
    "tc.LinearLR": ("PyTorch", "tc.LinearLR(1.0, 0.1, 1.0, 40)", 100, "torch LinearLR"),
    "tc.ExponentialLR": ("PyTorch", "tc.ExponentialLR(1.0, 0.97)", 100, "torch ExponentialLR"),
    "tc.PolynomialLR": ("PyTorch", "tc.PolynomialLR(1.0, 80, 2.0)", 100, "torch PolynomialLR"),
    "tc.CosineAnnealingLR": ("PyTorch", "tc.CosineAnnealingLR(1.0, 40, 0.1)", 100,
                             "torch CosineAnnealingLR (periodic past T_max)"),
    "tc.CosineAnnealingWarmRestarts": (
        "PyTorch", "tc.CosineAnnealingWarmRestarts(1.0, 15, 2, 0.05)", 100,
        "torch CosineAnnealingWarmRestarts"),
    "tc.LambdaLR": ("PyTorch", "tc.LambdaLR(1.0, lambda t: 0.97 ** t.astype(jnp.float32))",
                    100, "torch LambdaLR"),
    "tc.MultiplicativeLR": (
        "PyTorch", "tc.MultiplicativeLR(1.0, lambda t: jnp.where(t % 10 == 0, 0.7, 1.0), 100)",
        100, "torch MultiplicativeLR"),
    "tc.CyclicLR": ("PyTorch", "tc.CyclicLR(0.1, 1.0, 10, 15, mode='exp_range', gamma=0.99)",
                    100, "torch CyclicLR"),
    "tc.CyclicMomentum": ("PyTorch", "tc.CyclicMomentum(0.8, 0.9, 10, 15)", 100,
                          "the momentum torch CyclicLR sets"),
    "tc.OneCycleLR": ("PyTorch", "tc.OneCycleLR(1.0, total_steps=100)", 100,
                      "torch OneCycleLR"),
    "tc.OneCycleMomentum": ("PyTorch", "tc.OneCycleMomentum(total_steps=100)", 100,
                            "the momentum torch OneCycleLR sets"),
    "tc.SequentialLR": (
        "PyTorch",
        "tc.SequentialLR([tc.LinearLR(1.0, 0.1, 1.0, 20), tc.ExponentialLR(1.0, 0.95)], [20])",
        100, "torch SequentialLR"),
    "tc.ChainedScheduler": (
        "PyTorch", "tc.ChainedScheduler([tc.StepLR(1.0, 25, 0.5), tc.ExponentialLR(1.0, 0.99)])",
        100, "torch ChainedScheduler"),
    # Keras.
    "kc.ExponentialDecay": ("Keras", "kc.ExponentialDecay(1.0, 10, 0.8)", 100,
                            "keras ExponentialDecay"),
    "kc.PiecewiseConstantDecay": (
        "Keras", "kc.PiecewiseConstantDecay([30, 60], [1.0, 0.5, 0.1])", 100,
        "keras PiecewiseConstantDecay (switches at b + 1)"),
    "kc.PolynomialDecay": ("Keras", "kc.PolynomialDecay(1.0, 30, 0.1, 1.0, cycle=True)", 100,
                           "keras PolynomialDecay"),
    "kc.InverseTimeDecay": ("Keras", "kc.InverseTimeDecay(1.0, 10, 0.5)", 100,
                            "keras InverseTimeDecay"),
    "kc.CosineDecay": ("Keras", "kc.CosineDecay(0.0, 80, 0.1, warmup_target=1.0, "
                       "warmup_steps=20)", 100, "keras CosineDecay"),
    "kc.CosineDecayRestarts": ("Keras", "kc.CosineDecayRestarts(1.0, 15, 1.5, 0.8)", 100,
                               "keras CosineDecayRestarts"),
    "kc.LearningRateScheduler": (
        "Keras", "kc.LearningRateScheduler(lambda e, lr: lr * 0.8 if e >= 3 else lr, 1.0, 10, "
        "10)", 100, "the keras LearningRateScheduler callback"),
    # HuggingFace.
    "hf.get_constant_schedule": ("HuggingFace", "hf.get_constant_schedule(1.0)", 100,
                                 "transformers get_constant_schedule"),
    "hf.get_constant_schedule_with_warmup": (
        "HuggingFace", "hf.get_constant_schedule_with_warmup(1.0, 20)", 100,
        "transformers get_constant_schedule_with_warmup"),
    "hf.get_linear_schedule_with_warmup": (
        "HuggingFace", "hf.get_linear_schedule_with_warmup(1.0, 10, 80)", 100,
        "transformers get_linear_schedule_with_warmup"),
    "hf.get_cosine_schedule_with_warmup": (
        "HuggingFace", "hf.get_cosine_schedule_with_warmup(1.0, 10, 80)", 100,
        "transformers get_cosine_schedule_with_warmup (not clamped past T)"),
    "hf.get_cosine_with_hard_restarts_schedule_with_warmup": (
        "HuggingFace", "hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 10, 90, 3)",
        100, "transformers get_cosine_with_hard_restarts_schedule_with_warmup"),
    "hf.get_polynomial_decay_schedule_with_warmup": (
        "HuggingFace", "hf.get_polynomial_decay_schedule_with_warmup(1.0, 10, 80, lr_end=0.1, "
        "power=2.0)", 100, "transformers get_polynomial_decay_schedule_with_warmup"),
    "hf.get_inverse_sqrt_schedule": ("HuggingFace", "hf.get_inverse_sqrt_schedule(1.0, 10)",
                                     100, "transformers get_inverse_sqrt_schedule"),
    "hf.get_cosine_with_min_lr_schedule_with_warmup": (
        "HuggingFace", "hf.get_cosine_with_min_lr_schedule_with_warmup(1.0, 10, 80, "
        "min_lr_rate=0.1)", 100, "transformers get_cosine_with_min_lr_schedule_with_warmup"),
    "hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate": (
        "HuggingFace", "hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(1.0, 10, 80, "
        "min_lr_rate=0.1, warmup_lr_rate=0.2)", 100,
        "transformers get_cosine_with_min_lr_schedule_with_warmup_lr_rate (one step ahead)"),
    "hf.get_wsd_schedule": (
        "HuggingFace", "hf.get_wsd_schedule(1.0, 10, 20, num_training_steps=90, "
        "min_lr_ratio=0.1)", 100, "transformers get_wsd_schedule"),
    # timm.
    "timm.CosineLRScheduler": (
        "timm", "timm.CosineLRScheduler(1.0, 30, lr_min=0.05, cycle_decay=0.7, cycle_limit=3, "
        "warmup_t=5, warmup_lr_init=0.01)", 100, "timm CosineLRScheduler"),
    "timm.TanhLRScheduler": ("timm", "timm.TanhLRScheduler(1.0, 90, lr_min=0.01)", 100,
                             "timm TanhLRScheduler"),
    "timm.StepLRScheduler": ("timm", "timm.StepLRScheduler(1.0, 20, 0.5, warmup_t=5)", 100,
                             "timm StepLRScheduler"),
    "timm.MultiStepLRScheduler": ("timm", "timm.MultiStepLRScheduler(1.0, [30, 60], 0.3)", 100,
                                  "timm MultiStepLRScheduler (milestones one step early)"),
    "timm.PolyLRScheduler": ("timm", "timm.PolyLRScheduler(1.0, 45, power=2.0, cycle_limit=2)",
                             100, "timm PolyLRScheduler"),
    "timm.WSDLRScheduler": ("timm", "timm.WSDLRScheduler(1.0, 80, 25, warmup_t=10)", 100,
                            "timm WSDLRScheduler"),
    # t5x and big_vision.
    "t5x.create_learning_rate_scheduler": (
        "t5x", "t5x.create_learning_rate_scheduler('constant * linear_warmup * rsqrt_decay', "
        "0.5, warmup_steps=10)", 100, "t5x utils.create_learning_rate_scheduler"),
    "bv.create_learning_rate_schedule": (
        "big_vision", "bv.create_learning_rate_schedule(90, decay_type='rsqrt', "
        "warmup_steps=10, timescale=10, cooldown_steps=20)", 100,
        "big_vision utils.create_learning_rate_schedule (cooldown held at 0 past "
        "total_steps)"),
}


def public_constructors() -> list[str]:
  """Every public schedule constructor, as ``prefix.name``, from the modules'
  public names (``__all__`` where a module has one)."""
  names = []
  for prefix, module_name in MODULES.items():
    try:
      module = importlib.import_module(module_name)
    except ImportError:  # a port that does not exist (yet)
      continue
    public = getattr(module, "__all__", None) or [
        n for n in dir(module) if not n.startswith("_")]
    for name in public:
      obj = getattr(module, name)
      if inspect.ismodule(obj) or not callable(obj) or name == "compat":
        continue
      if f"{prefix}.{name}" not in NOT_SCHEDULES:
        names.append(f"{prefix}.{name}")
  return sorted(names)


def namespace() -> dict:
  """The names the examples use."""
  import jax.numpy as jnp

  out = {"jnp": jnp}
  for prefix, module_name in MODULES.items():
    try:
      out[prefix] = importlib.import_module(module_name)
    except ImportError:
      pass
  return out


def build(name: str):
  return eval(EXAMPLES[name][1], namespace())  # noqa: S307 - our own literal examples


def _slug(name: str) -> str:
  return name.replace(".", "_")


def _parameters(obj) -> str:
  """The parameters as a reader writes them: names and defaults, no types."""
  out, star = [], False
  for p in inspect.signature(obj).parameters.values():
    if p.kind is p.KEYWORD_ONLY and not star:
      out.append("*")
      star = True
    text = ("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL
            else "") + p.name
    if p.default is not p.empty:
      text += f"={p.default!r}"
    out.append(text)
  return ", ".join(out)


def _formula(obj) -> str:
  """The first ``.. math::`` block of a docstring, as one display formula."""
  doc = inspect.getdoc(obj) or ""
  match = re.search(r"\.\. math::(.*?)(?:\n\S|\n\n(?! )|\Z)", doc + "\n\n", re.S)
  if not match:
    return ""
  text = match.group(1).strip()
  return " ".join(line.strip() for line in text.splitlines())


IMPORTS = {
    "jnp": "import jax.numpy as jnp",
    "osch": "import optax_scheds as osch",
    "tc": "from optax_scheds.compat import torch as tc",
    "kc": "from optax_scheds.compat import keras as kc",
    "hf": "from optax_scheds.compat import transformers as hf",
    "timm": "from optax_scheds.compat import timm",
    "t5x": "from optax_scheds.compat import t5x",
    "bv": "from optax_scheds.compat import big_vision as bv",
}


def _imports(example: str) -> list[str]:
  """The import lines an example needs, so each block runs on its own."""
  return [line for prefix, line in IMPORTS.items() if re.search(rf"\b{prefix}\.", example)]


def page() -> str:
  """The text of ``docs/schedules.md``."""
  ns = namespace()
  lines = [
      "# Schedule catalogue",
      "",
      "Every schedule the library has, native and ported: its formula (from its docstring),",
      "what it matches, an example and its picture (steps on the x axis). Generated by",
      "`python docs/catalogue.py` from the example list in that file; the test suite fails",
      "when a public schedule is missing here.",
      "",
  ]
  sections: dict[str, list[str]] = {}
  for name, (section, _, _, _) in EXAMPLES.items():
    sections.setdefault(section, []).append(name)
  lines.append("Sections: " + ", ".join(f"[{s}](#{s.lower()})" for s in sections) + ".")
  for section, names in sections.items():
    lines += ["", f"## {section}"]
    for name in names:
      _, example, steps, matches = EXAMPLES[name]
      prefix, attr = name.split(".")
      obj = getattr(ns[prefix], attr)
      summary = (inspect.getdoc(obj) or "").splitlines()[0].replace("``", "`")
      signature = f"{attr}({_parameters(obj)})"
      lines += ["", f"### `{name}`", "", summary, "", f"`{signature}`", ""]
      formula = _formula(obj)
      if formula:
        lines += ["$$", formula, "$$", ""]
      lines += [f"Matches: {matches}.", "", "```python", *_imports(example),
                f"schedule = {example}", "```", "",
                f"![{name}](schedules/{_slug(name)}.png)"]
  return "\n".join(lines) + "\n"


def draw(names=None) -> None:
  """Writes one picture per example (and the page)."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  PICTURES.mkdir(exist_ok=True)
  for name in names or EXAMPLES:
    _, example, steps, _ = EXAMPLES[name]
    t = np.arange(steps)
    values = np.asarray(build(name)(t))
    fig, ax = plt.subplots(figsize=(4.0, 1.8), dpi=80)
    ax.plot(t, values, lw=1.5, color="C0", drawstyle="steps-post" if steps <= 10 else None)
    ax.set_title(example if len(example) < 60 else name, fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(PICTURES / f"{_slug(name)}.png")
    plt.close(fig)
  PAGE.write_text(page())


if __name__ == "__main__":
  draw(sys.argv[1:] or None)
