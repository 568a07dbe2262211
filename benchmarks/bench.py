"""The benchmark suite: optax_scheds against its baseline, side by side.

Run: ``python benchmarks/bench.py`` (``make bench``), or ``--quick`` for a
smoke run of every section (``make bench-quick``, part of ``make test``).
Each section times ours and its baseline in this one process, interleaved,
warm-up excluded, every timed call blocked until ready; it prints a table of
medians and ratios (baseline / ours: above 1 means we are faster), and the
whole run is written as JSON (``--json``) and plotted as PNGs (``--plots``,
skipped when matplotlib is missing).

Sections:

- ``scaling``: schedules of N pieces (``join``, ``piecewise_constant``,
  ``sgdr``, ``cycle`` with N restarts, ``table`` of N values) against optax's
  equivalents (``jnp.take`` for ``table``): compile time of
  ``jax.jit(schedule)`` on a scalar step, compiled program size (HLO ops), and
  ``jax.jit(jax.vmap(schedule))`` on 1M steps. optax is skipped at an N where
  its compile time, extrapolated from the previous two N (at least
  linearly), passes ``--optax-cap`` seconds.
- ``train_step``: a jitted ``optax.adamw`` step of a small MLP and of a
  ~10M-parameter MLP with a constant lr, optax's and our warmup-cosine, and
  both chained with their plateau reduction; overhead over the constant lr.
  The small MLP runs twice: one jitted call per step, and 50 steps in one
  ``lax.scan`` (what its cost is without the per-call transfer of each state
  leaf).
- ``eager``: calling a schedule on Python ints (logging) and on
  ``np.arange(100_000)`` (plotting), ours vs optax's.
- ``ports``: a PyTorch scheduler's ``step()`` loop vs our port evaluated for
  the same steps in one call.
"""

import argparse
import json
import pathlib
import platform
import re
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_scheds as osch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SECTIONS = ("scaling", "train_step", "eager", "ports")


# ---------------------------------------------------------------- scaling


def _scaling_cases(n):
  """name -> (ours, baseline, largest step worth evaluating) for N pieces."""
  rng = np.random.default_rng(n)
  bounds = (np.arange(1, n + 1) * 1000).tolist()
  peaks = rng.uniform(0.5, 1.0, n).tolist()
  cos = [(p, 1000) for p in peaks]
  cycles = [dict(init_value=0.0, peak_value=p, warmup_steps=100, decay_steps=1000,
                 end_value=1e-4) for p in peaks]
  # N regular restarts: `cycle` states them once; optax has to list them.
  restart = dict(init_value=0.0, warmup_steps=100, decay_steps=1000, end_value=0.0)
  values = rng.uniform(0.0, 1.0, n).astype(np.float32)
  values_j = jnp.asarray(values)

  def take(step):
    return jnp.take(values_j, jnp.clip(step, 0, n - 1))

  return {
      "join": (lambda: osch.join([osch.cosine_decay(p, d) for p, d in cos], bounds[:-1]),
               lambda: optax.join_schedules([optax.cosine_decay_schedule(p, d)
                                             for p, d in cos], bounds[:-1]),
               1000 * n),
      "piecewise_constant": (
          lambda: osch.piecewise_constant(1.0, dict(zip(bounds, peaks))),
          lambda: optax.piecewise_constant_schedule(1.0, dict(zip(bounds, peaks))),
          1000 * (n + 1)),
      "sgdr": (lambda: osch.sgdr(cycles), lambda: optax.sgdr_schedule(cycles), 1000 * n),
      "cycle": (lambda: osch.cycle(osch.warmup_cosine_decay(peak_value=1.0, **restart),
                                   1000, value_mul=0.95),
                lambda: optax.sgdr_schedule([dict(restart, peak_value=0.95 ** k)
                                             for k in range(n)]),
                1000 * n),
      "table": (lambda: osch.table(values), lambda: take, n + n // 10 + 1),
  }


_HLO_OP = re.compile(r"^\s*(ROOT\s+)?%?[\w.\-]+ = ", re.M)


def _compile(fn, x):
  jax.clear_caches()  # trace, lower and compile from scratch, as a new process would
  t0 = time.perf_counter()
  compiled = jax.jit(fn).lower(x).compile()
  return time.perf_counter() - t0, compiled


def _program_size(compiled):
  text = compiled.as_text()
  return {"hlo_ops": len(_HLO_OP.findall(text)), "hlo_bytes": len(text)}


def _extrapolated(history, n):
  """optax's compile time at ``n`` pieces, from the previous measurements:
  along the growth between the last two (optax compiles superlinearly in N,
  e.g. 5 s at 1,000 join pieces and 14 minutes at 10,000), at least linearly."""
  (n1, c1), exponent = history[-1], 1.0
  if c1 is None:
    return np.inf
  if len(history) >= 2 and history[-2][1]:
    n0, c0 = history[-2]
    exponent = max(1.0, np.log(c1 / c0) / np.log(n1 / n0))
  return c1 * (n / n1) ** exponent


def bench_scaling(pieces, n_steps, repeats, cap_s):
  rng = np.random.default_rng(1)
  out, rows = {}, []
  last_ref = {}  # kind -> [(N, optax compile median), ...]: for the time cap
  scalar = jnp.int32(7)
  for n in pieces:
    for kind, (make_ours, make_ref, horizon) in _scaling_cases(n).items():
      build_ours = h.timed(lambda m=make_ours: m())
      ours, ref = make_ours(), make_ref()
      run_ref = True
      if kind in last_ref:
        run_ref = _extrapolated(last_ref[kind], n) <= cap_s
      # compile time: alternate ours / baseline, fresh caches each time
      comp = {"ours": [], "baseline": []}
      size = {}
      for _ in range(repeats):
        t, c = _compile(ours, scalar)
        comp["ours"].append(t)
        size["ours"] = _program_size(c)
        if run_ref and not (comp["baseline"] and sum(comp["baseline"]) > 5.0):
          t, c = _compile(ref, scalar)
          comp["baseline"].append(t)
          size["baseline"] = _program_size(c)
      comp = {k: h.stats(v) for k, v in comp.items()}
      last_ref.setdefault(kind, []).append((n, h.median(comp["baseline"])))
      # vmapped evaluation of n_steps steps
      steps = jnp.asarray(rng.integers(0, horizon + 1, n_steps), jnp.int32)
      fns = {"ours": jax.jit(jax.vmap(ours)).lower(steps).compile()}
      if run_ref:
        fns["baseline"] = jax.jit(jax.vmap(ref)).lower(steps).compile()
      ev = h.interleaved({k: (lambda f=f, s=steps: f(s).block_until_ready())
                          for k, f in fns.items()},
                         repeats, budget_s=10.0)
      ev.setdefault("baseline", None)
      diff = None
      if run_ref:
        diff = float(jnp.max(jnp.abs(fns["ours"](steps) - fns["baseline"](steps))))
      entry = {"N": n, "build_ours_s": build_ours, "compile": comp,
               "size": {k: size.get(k) for k in ("ours", "baseline")}, "evaluate": ev,
               "max_abs_diff": diff,
               "compile_ratio": h.ratio(h.median(comp["baseline"]), h.median(comp["ours"])),
               "evaluate_ratio": h.ratio(h.median(ev["baseline"]), h.median(ev["ours"]))}
      out.setdefault(kind, []).append(entry)
      ops_ref = size.get("baseline", {}).get("hlo_ops", "skipped") if run_ref else "skipped"
      rows.append([kind, n, h.fmt_s(h.median(comp["baseline"])), h.fmt_s(h.median(comp["ours"])),
                   h.fmt_x(entry["compile_ratio"]), ops_ref, size["ours"]["hlo_ops"],
                   h.fmt_s(h.median(ev["baseline"])), h.fmt_s(h.median(ev["ours"])),
                   h.fmt_x(entry["evaluate_ratio"]), h.fmt_s(build_ours)])
      print(f"  {kind} N={n} done", file=sys.stderr, flush=True)
  h.print_table(
      f"scaling in N ({n_steps:,} vmapped steps; baseline skipped past an extrapolated "
      f"{cap_s:.0f} s compile)",
      ["schedule", "N", "compile base", "ours", "ratio", "HLO ops base", "ours",
       f"eval {n_steps:,} base", "ours", "ratio", "build ours"], rows)
  return {"n_steps": n_steps, "optax_cap_s": cap_s, "cases": out}


# ------------------------------------------------------------- train step


def _mlp(sizes, seed=0):
  keys = jax.random.split(jax.random.key(seed), len(sizes) - 1)
  return [{"w": jax.random.normal(k, (a, b), jnp.float32) / np.sqrt(a),
           "b": jnp.zeros((b,), jnp.float32)} for k, a, b in zip(keys, sizes[:-1], sizes[1:])]


def _loss(params, x, y):
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer["w"] + layer["b"])
  x = x @ params[-1]["w"] + params[-1]["b"]
  return jnp.mean((x - y) ** 2)


def _train_variants():
  lr, warm, total = 1e-3, 1_000, 100_000
  ref_s = optax.warmup_cosine_decay_schedule(0.0, lr, warm, total)
  our_s = osch.warmup_cosine_decay(0.0, lr, warm, total)
  return {
      "constant": optax.adamw(lr),
      # The same chain as a schedule's: optax.adamw(callable) adds
      # scale_by_schedule, whose update count is one more state leaf.
      "constant schedule": optax.adamw(optax.constant_schedule(lr)),
      "optax warmup_cosine": optax.adamw(ref_s),
      "osch warmup_cosine": optax.adamw(our_s),
      "optax warmup_cosine + reduce_on_plateau":
          optax.chain(optax.adamw(ref_s), optax.contrib.reduce_on_plateau()),
      "osch warmup_cosine + reduce_on_plateau":
          optax.chain(optax.adamw(our_s), osch.reduce_on_plateau()),
  }


def _train_model(name, sizes, batch, rounds, steps_per_sample, scanned=False):
  """Times each variant's jitted update, ``steps_per_sample`` steps a sample:
  one jitted call per step (the state in and out of every call), or with
  ``scanned`` all of them in one ``lax.scan`` (the state stays in the program,
  so only the computation of the schedule and the plateau shows)."""
  params0 = _mlp(sizes)
  n_params = sum(x.size for x in jax.tree.leaves(params0))
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch, sizes[0])), jnp.float32)
  y = jnp.asarray(rng.normal(size=(batch, sizes[-1])), jnp.float32)
  runners = {}
  for vname, opt in _train_variants().items():
    def one_step(params, state, opt=opt):
      loss, grads = jax.value_and_grad(_loss)(params, x, y)
      updates, state = opt.update(grads, state, params, value=loss)
      return optax.apply_updates(params, updates), state, loss

    @jax.jit
    def steps(params, state, one_step=one_step):
      def body(carry, _):
        p, s, loss = one_step(*carry)
        return (p, s), loss
      (p, s), losses = jax.lax.scan(body, (params, state), length=steps_per_sample)
      return p, s, losses[-1]

    step = jax.jit(one_step)
    holder = [params0, opt.init(params0)]

    def run(step=step, steps=steps, holder=holder):
      p, s = holder
      if scanned:
        p, s, loss = steps(p, s)
      else:
        for _ in range(steps_per_sample):
          p, s, loss = step(p, s)
      jax.block_until_ready((p, s, loss))
      holder[:] = [p, s]

    runners[vname] = run
  names = list(runners)
  for fn in runners.values():  # warm-up: compile and first calls
    fn()
  samples = {k: [] for k in names}
  for r in range(rounds):  # rotate the order every round to cancel drift
    for k in names[r % len(names):] + names[:r % len(names)]:
      samples[k].append(h.timed(runners[k]) / steps_per_sample)
  res = {k: h.stats(v) for k, v in samples.items()}
  # Paired within each round: a drift that slows a whole round cancels out.
  boot = np.random.default_rng(0).integers(0, rounds, (2000, rounds))
  for k in names:
    rel = np.asarray(samples[k]) / np.asarray(samples["constant"])
    res[k]["overhead"] = float(np.median(rel)) - 1.0
    res[k]["overhead_iqr"] = [float(q) - 1.0 for q in np.percentile(rel, [25, 75])]
    # How well the median is known: a 95% bootstrap interval over the rounds.
    res[k]["overhead_ci95"] = [float(q) - 1.0 for q in
                               np.percentile(np.median(rel[boot], axis=1), [2.5, 97.5])]
    res[k]["vs_constant_schedule"] = float(np.median(
        np.asarray(samples[k]) / np.asarray(samples["constant schedule"]))) - 1.0
    twin = k.replace("osch", "optax")
    if k.startswith("osch") and twin in samples:
      res[k]["vs_optax"] = float(np.median(np.asarray(samples[k]) / np.asarray(samples[twin])))
  loop = f"{steps_per_sample} steps per lax.scan" if scanned else "one jitted call per step"
  return {"model": name, "params": int(n_params), "batch": batch, "rounds": rounds,
          "steps_per_sample": steps_per_sample, "loop": loop, "variants": res}


TRAIN_HEADER = ["model", "lr", "median step", "vs constant (median, IQR)",
                "95% CI of the median", "vs constant schedule", "ours / optax"]


def _train_rows(r):
  rows = []
  for v, st in r["variants"].items():
    lo, hi = st["overhead_iqr"]
    ci = st.get("overhead_ci95")
    vs_cs = st.get("vs_constant_schedule")
    loop = r.get("loop", "one jitted call per step")
    rows.append([f"{r['model']} ({r['params']:,} params; {loop})", v, h.fmt_s(st["median"]),
                 f"{100 * st['overhead']:+.1f}% ({100 * lo:+.1f}% .. {100 * hi:+.1f}%)",
                 "" if ci is None or v == "constant" else
                 f"{100 * ci[0]:+.1f}% .. {100 * ci[1]:+.1f}%",
                 "" if vs_cs is None or v.startswith("constant") else f"{100 * vs_cs:+.1f}%",
                 f"{st['vs_optax']:.3f}" if "vs_optax" in st else ""])
  return rows


def bench_train_step(quick):
  small = ("MLP 32-64-64-1", [32, 64, 64, 1], 64, 10 if quick else 300, 20 if quick else 50)
  models = [(*small, False), (*small, True)]
  if not quick:
    models.append(("MLP 1024-1792x3-1024", [1024, 1792, 1792, 1792, 1024], 32, 60, 3, False))
  out, rows = [], []
  for name, sizes, batch, rounds, k, scanned in models:
    r = _train_model(name, sizes, batch, rounds, k, scanned)
    out.append(r)
    rows.extend(_train_rows(r))
  h.print_table("jitted optax.adamw train step (per step; overhead vs constant lr, paired "
                "by round)", TRAIN_HEADER, rows)
  return out


# ------------------------------------------------------------------ eager


def bench_eager(quick):
  ours = osch.warmup_cosine_decay(0.0, 1.0, 1_000, 100_000)
  ref = optax.warmup_cosine_decay_schedule(0.0, 1.0, 1_000, 100_000)
  calls = 50 if quick else 500
  repeats = 3 if quick else 15
  counter = iter(range(10**9))

  def log_loop(s):
    def run():
      for _ in range(calls):
        float(s(next(counter) % 100_000))  # what a logging line does
    return run

  grid = np.arange(100_000)
  res_int = h.interleaved({"ours": log_loop(ours), "baseline": log_loop(ref)}, repeats)
  res_arr = h.interleaved({"ours": lambda: np.asarray(ours(grid)),
                           "baseline": lambda: np.asarray(ref(grid))}, repeats)
  out = {}
  rows = []
  for name, res, per in [("python int step (per call)", res_int, calls),
                         ("np.arange(100_000) (per call)", res_arr, 1)]:
    o, b = h.median(res["ours"]) / per, h.median(res["baseline"]) / per
    out[name] = {"ours": res["ours"], "baseline": res["baseline"], "calls_per_sample": per,
                 "ours_per_call_s": o, "baseline_per_call_s": b, "ratio": h.ratio(b, o)}
    rows.append([name, h.fmt_s(b), h.fmt_s(o), h.fmt_x(h.ratio(b, o))])
  h.print_table("eager calls of warmup_cosine_decay (optax vs ours)",
                ["call", "optax", "ours", "ratio"], rows)
  return out


# ------------------------------------------------------------------ ports


def bench_ports(quick):
  import torch

  from optax_scheds.compat import torch as tc

  n = 2_000 if quick else 100_000
  repeats = 2 if quick else 3
  cases = {
      "OneCycleLR": (lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=n),
                     tc.OneCycleLR(0.1, total_steps=n)),
      "CosineAnnealingWarmRestarts": (
          lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
              o, T_0=1000, T_mult=2, eta_min=1e-5),
          tc.CosineAnnealingWarmRestarts(0.1, T_0=1000, T_mult=2, eta_min=1e-5)),
  }
  steps = jnp.arange(n, dtype=jnp.int32)
  grid = np.arange(n)
  out, rows = {}, []
  for name, (make_torch, ours) in cases.items():
    lrs = []

    def torch_loop(make_torch=make_torch, lrs=lrs):
      opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
      sched = make_torch(opt)
      lrs[:] = [sched.get_last_lr()[0]]
      for _ in range(n - 1):
        sched.step()
        lrs.append(sched.get_last_lr()[0])

    compiled = jax.jit(jax.vmap(ours)).lower(steps).compile()
    with warnings.catch_warnings():  # step() without optimizer.step(): expected here
      warnings.simplefilter("ignore", UserWarning)
      res = h.interleaved({"baseline": torch_loop,
                           "ours (jitted vmap)": lambda c=compiled: c(steps).block_until_ready(),
                           "ours (eager call)": lambda o=ours: np.asarray(o(grid))},
                          repeats, budget_s=20.0)
    diff = float(np.max(np.abs(np.asarray(compiled(steps)) - np.asarray(lrs))))
    b = h.median(res["baseline"])
    out[name] = {"steps": n, **res, "max_abs_diff": diff,
                 "ratio_jitted": h.ratio(b, h.median(res["ours (jitted vmap)"])),
                 "ratio_eager": h.ratio(b, h.median(res["ours (eager call)"]))}
    rows.append([name, n, h.fmt_s(b), h.fmt_s(h.median(res["ours (jitted vmap)"])),
                 h.fmt_x(out[name]["ratio_jitted"]), h.fmt_s(h.median(res["ours (eager call)"])),
                 h.fmt_x(out[name]["ratio_eager"]), f"{diff:.1e}"])
  h.print_table("PyTorch scheduler step() loop vs our port in one call",
                ["scheduler", "steps", "torch loop", "ours jitted", "ratio", "ours eager",
                 "ratio", "max |diff|"], rows)
  return out


# ---------------------------------------------------------------- targets


def targets(res):
  """The issue's targets, each with its measured value and whether it holds."""
  t = {}
  cases = res.get("scaling", {}).get("cases", {})
  for kind, entries in cases.items():
    by_n = {e["N"]: e for e in entries}
    ns = sorted(by_n)
    past_small = [n for n in ns if n >= 100] or ns[1:]
    if len(past_small) >= 2:
      ops = [by_n[n]["size"]["ours"]["hlo_ops"] for n in past_small]
      t[f"{kind}: HLO ops flat for N >= {past_small[0]}"] = {
          "value": f"{min(ops)}-{max(ops)} ops", "met": max(ops) <= 1.1 * min(ops)}
    if kind != "table" and 1 in by_n:
      e = by_n[1]
      worst = min(x for x in (e["compile_ratio"], e["evaluate_ratio"]) if x is not None)
      t[f"{kind}: N=1 no slower than 1.1x optax (compile, eval)"] = {
          "value": f"{h.fmt_x(e['compile_ratio'])}, {h.fmt_x(e['evaluate_ratio'])}",
          "met": worst >= 1 / 1.1}
    if kind != "table" and 1000 in by_n and by_n[1000]["compile_ratio"] is not None:
      e = by_n[1000]
      t[f"{kind}: N=1000 compile >= 20x optax"] = {
          "value": h.fmt_x(e["compile_ratio"]), "met": e["compile_ratio"] >= 20}
      t[f"{kind}: N=1000 evaluation >= 50x optax"] = {
          "value": h.fmt_x(e["evaluate_ratio"]), "met": e["evaluate_ratio"] >= 50}
  join = {e["N"]: e for e in cases.get("join", [])}
  if 100_000 in join:
    c = h.median(join[100_000]["compile"]["ours"])
    t["join: N=100000 compile of jax.jit(schedule) < 1 s"] = {"value": h.fmt_s(c), "met": c < 1}
  for model in res.get("train_step", []):
    for v, st in model["variants"].items():
      if v != "constant" and v.startswith("osch"):
        ci = st.get("overhead_ci95")
        shown = f"{100 * st['overhead']:+.1f}%" + (
            "" if ci is None else f" (95% CI {100 * ci[0]:+.1f}% .. {100 * ci[1]:+.1f}%)")
        loop = model.get("loop", "one jitted call per step")
        t[f"train step {model['model']} ({loop}): {v} overhead <= 1%"] = {
            "value": shown, "met": st["overhead"] <= 0.01}
  for name, e in res.get("eager", {}).items():
    t[f"eager {name}: no slower than optax"] = {"value": h.fmt_x(e["ratio"]),
                                                "met": e["ratio"] >= 1}
  h.print_table("targets", ["target", "measured", "met"],
                [[k, v["value"], "yes" if v["met"] else "NO"] for k, v in t.items()])
  return t


# ------------------------------------------------------------------ plots


def plot(res, directory):
  plt = h.pyplot()
  if plt is None:
    print("matplotlib not installed: no plots")
    return []
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  paths = []
  cases = res["scaling"]["cases"]
  fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
  metrics = [("compile time of jax.jit(schedule) [s]", lambda e, s: h.median(e["compile"][s])),
             ("compiled program size [HLO ops]",
              lambda e, s: (e["size"][s] or {}).get("hlo_ops")),
             (f"vmapped evaluation of {res['scaling']['n_steps']:,} steps [s]",
              lambda e, s: h.median(e["evaluate"][s]))]
  for ax, (label, get) in zip(axes, metrics):
    for k, (kind, entries) in enumerate(cases.items()):
      color = f"C{k}"
      for side, style in (("ours", "-"), ("baseline", "--")):
        pts = [(e["N"], get(e, side)) for e in entries if get(e, side) is not None]
        if pts:
          ax.plot(*zip(*pts), style, marker="o", ms=3, color=color,
                  label=f"{kind} ({'optax_scheds' if side == 'ours' else 'baseline'})")
    ax.set(xscale="log", yscale="log", xlabel="N (pieces)", title=label)
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=6, ncol=2)
  fig.suptitle("optax_scheds (solid) vs optax / jnp.take (dashed)")
  fig.tight_layout()
  paths.append(directory / "bench_scaling.png")
  fig.savefig(paths[-1], dpi=110)
  plt.close(fig)

  fig, axes = plt.subplots(1, 2, figsize=(13, 4.2),
                           gridspec_kw={"width_ratios": [len(res["train_step"]) * 5, 4]})
  ax = axes[0]
  width = 0.8 / max(1, len(res["train_step"]))
  for m, model in enumerate(res["train_step"]):
    names = list(model["variants"])
    vals = [100 * model["variants"][v]["overhead"] for v in names]
    ax.bar(np.arange(len(names)) + m * width, vals, width,
           label=f"{model['model']} ({model.get('loop', 'one jitted call per step')})")
    ax.set_xticks(np.arange(len(names)) + width * (len(res["train_step"]) - 1) / 2,
                  [n.replace(" + ", "\n+ ").replace(" warmup", "\nwarmup") for n in names],
                  fontsize=7)
  ax.axhline(0, color="k", lw=0.5)
  ax.set(ylabel="median step time vs constant lr [%]", title="adamw train step overhead")
  ax.legend(fontsize=7)
  ax = axes[1]
  labels, ratios = [], []
  for name, e in res["eager"].items():
    labels.append(f"eager: {name.split(' (')[0]}")
    ratios.append(e["ratio"])
  for name, e in res["ports"].items():
    labels.append(f"torch {name}: loop vs jitted")
    ratios.append(e["ratio_jitted"])
  ax.barh(labels, ratios)
  ax.axvline(1, color="k", lw=0.5)
  ax.set(xscale="log", xlabel="speed-up (baseline time / ours)", title="eager calls and ports")
  ax.tick_params(axis="y", labelsize=7)
  fig.tight_layout()
  paths.append(directory / "bench_overhead.png")
  fig.savefig(paths[-1], dpi=110)
  plt.close(fig)
  for p in paths:
    print(f"wrote {p}")
  return [str(p) for p in paths]


# --------------------------------------------------------------- markdown


def markdown(res):
  """The run's tables as Markdown (what docs/benchmarks.md shows)."""
  lines = []

  def table(header, rows):
    lines.extend(["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)])
    lines.extend("| " + " | ".join(str(c) for c in r) + " |" for r in rows)
    lines.append("")

  sc = res["scaling"]
  rows = []
  for kind, entries in sc["cases"].items():
    for e in entries:
      size = e["size"]
      rows.append([f"`{kind}`", f"{e['N']:,}", h.fmt_s(h.median(e["compile"]["baseline"])),
                   h.fmt_s(h.median(e["compile"]["ours"])), h.fmt_x(e["compile_ratio"]),
                   (size["baseline"] or {}).get("hlo_ops", "skipped"), size["ours"]["hlo_ops"],
                   h.fmt_s(h.median(e["evaluate"]["baseline"])),
                   h.fmt_s(h.median(e["evaluate"]["ours"])), h.fmt_x(e["evaluate_ratio"])])
  lines.append(f"Scaling ({sc['n_steps']:,} vmapped steps; baseline skipped where its compile "
               f"time, extrapolated from the previous N, passes {sc['optax_cap_s']:.0f} s):")
  table(["schedule", "N", "compile baseline", "compile ours", "ratio", "HLO ops baseline",
         "HLO ops ours", "eval baseline", "eval ours", "ratio"], rows)
  rows = [row for model in res["train_step"] for row in _train_rows(model)]
  lines.append("Train step (per step; ratios paired within each interleaved round):")
  table(TRAIN_HEADER, rows)
  rows = [[name, h.fmt_s(e["baseline_per_call_s"]), h.fmt_s(e["ours_per_call_s"]),
           h.fmt_x(e["ratio"])] for name, e in res["eager"].items()]
  lines.append("Eager calls of `warmup_cosine_decay`:")
  table(["call", "optax", "optax_scheds", "ratio"], rows)
  rows = [[f"`{name}`", f"{e['steps']:,}", h.fmt_s(h.median(e["baseline"])),
           h.fmt_s(h.median(e["ours (jitted vmap)"])), h.fmt_x(e["ratio_jitted"]),
           h.fmt_s(h.median(e["ours (eager call)"])), h.fmt_x(e["ratio_eager"]),
           f"{e['max_abs_diff']:.1e}"] for name, e in res["ports"].items()]
  lines.append("PyTorch `step()` loop vs our port:")
  table(["scheduler", "steps", "torch loop", "ours, jitted vmap", "ratio", "ours, eager call",
         "ratio", "max abs diff"], rows)
  rows = [[k, v["value"], "yes" if v["met"] else "**no**"] for k, v in res["targets"].items()]
  lines.append("Targets:")
  table(["target", "measured", "met"], rows)
  return "\n".join(lines)


# ------------------------------------------------------------------- main


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true",
                      help="smoke run: N=1 and 10, 10k steps, few repeats, small model only")
  parser.add_argument("--pieces", type=int, nargs="*", default=None,
                      help="N values for the scaling section")
  parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS)
  parser.add_argument("--optax-cap", type=float, default=60.0,
                      help="skip optax at an N where its extrapolated compile time passes this")
  parser.add_argument("--json", default=None, help="output JSON path")
  parser.add_argument("--plots", default=None, help="directory for PNGs (default: results)")
  parser.add_argument("--replot", default=None, metavar="JSON",
                      help="only redraw the plots of an earlier run's JSON")
  parser.add_argument("--markdown", default=None, metavar="JSON",
                      help="only print an earlier run's tables as Markdown")
  args = parser.parse_args(argv)
  if args.replot:
    plot(json.loads(pathlib.Path(args.replot).read_text()), args.plots or RESULTS)
    return
  if args.markdown:
    print(markdown(json.loads(pathlib.Path(args.markdown).read_text())))
    return
  pieces = args.pieces or ([1, 10] if args.quick else [1, 10, 100, 1000, 10_000, 100_000])
  mode = "quick" if args.quick else "full"
  json_path = args.json or RESULTS / f"{mode}.json"
  t_start = time.perf_counter()
  res = {"meta": {"mode": mode, "jax": jax.__version__, "optax": optax.__version__,
                  "optax_scheds": osch.__version__, "numpy": np.__version__,
                  "python": platform.python_version(), "machine": platform.machine(),
                  "platform": jax.devices()[0].platform, "cpu_count": _cpus(),
                  "command": " ".join([pathlib.Path(sys.executable).name, *sys.argv])}}
  print(", ".join(f"{k} {v}" for k, v in res["meta"].items()))
  if "scaling" in args.sections:
    res["scaling"] = bench_scaling(pieces, 10_000 if args.quick else 1_000_000,
                                   2 if args.quick else 7, args.optax_cap)
  if "train_step" in args.sections:
    res["train_step"] = bench_train_step(args.quick)
  if "eager" in args.sections:
    res["eager"] = bench_eager(args.quick)
  if "ports" in args.sections:
    res["ports"] = bench_ports(args.quick)
  res["targets"] = targets(res)
  res["meta"]["wall_s"] = time.perf_counter() - t_start
  if set(SECTIONS) <= set(res):
    res["plots"] = plot(res, args.plots or RESULTS)
  h.write_json(json_path, res)


def _cpus():
  import os

  return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
  main()
