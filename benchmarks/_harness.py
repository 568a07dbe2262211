"""Timing, tables, JSON and plots shared by the benchmark sections.

Every figure is a pair (ours, baseline) timed in one process, interleaved
repeat by repeat so drift on a shared machine hits both sides alike. The
warm-up call is excluded and each timed function blocks until its result is
ready. A figure keeps all its samples; tables show medians and ratios.
"""

import json
import pathlib
import statistics
import time


def stats(samples):
  """Median and spread of a list of seconds (``None`` when not measured)."""
  if not samples:
    return None
  s = sorted(samples)
  return {"median": statistics.median(s), "min": s[0], "max": s[-1], "n": len(s),
          "samples": s}


def median(entry):
  return None if entry is None else entry["median"]


def ratio(baseline, ours):
  """baseline / ours: above 1 means we are faster."""
  if baseline is None or ours is None or ours <= 0:
    return None
  return baseline / ours


def timed(fn):
  t0 = time.perf_counter()
  fn()
  return time.perf_counter() - t0


def interleaved(fns, repeats, *, budget_s=None, warmup=True):
  """Times each of ``fns`` (a dict name -> zero-argument blocking callable)
  ``repeats`` times, in rounds: one call of each per round, round-robin.

  A side whose accumulated time passes ``budget_s`` stops after its first
  timed call (a slow baseline does not need 5 samples to lose by 100x).
  """
  if warmup:
    for fn in fns.values():
      fn()
  samples = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      if budget_s is not None and samples[name] and sum(samples[name]) > budget_s:
        continue
      samples[name].append(timed(fn))
  return {name: stats(s) for name, s in samples.items()}


def fmt_s(x):
  if x is None:
    return "skipped"
  if x >= 1:
    return f"{x:.2f} s"
  if x >= 1e-3:
    return f"{x * 1e3:.1f} ms"
  return f"{x * 1e6:.1f} us"


def fmt_x(r):
  return "-" if r is None else f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def print_table(title, header, rows):
  widths = [max(len(str(h)), *(len(str(r[k])) for r in rows)) for k, h in enumerate(header)]
  line = " | ".join(str(h).ljust(w) for h, w in zip(header, widths))
  print(f"\n## {title}\n{line}\n{'-' * len(line)}")
  for r in rows:
    print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)), flush=True)


def write_json(path, data):
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(data, indent=1, default=float))
  print(f"\nwrote {path}")


def pyplot():
  """matplotlib's pyplot with a file-only backend, or None when missing."""
  try:
    import matplotlib
  except ImportError:
    return None
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  return plt
