"""The benchmark suite's quick mode runs, so the benchmarks cannot rot.

It runs ``benchmarks/bench.py --quick`` in a subprocess (a fresh process, as
``make bench-quick`` does) and checks that it exits 0 and wrote its JSON with
every section. Timings are never asserted on: they belong to the machine.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTIONS = ["meta", "scaling", "train_step", "eager", "ports", "targets"]


@pytest.mark.slow
def test_quick_benchmarks_run_and_write_every_section(tmp_path):
  out = tmp_path / "quick.json"
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one device, as users run it
  proc = subprocess.run(
      [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--json", str(out),
       "--plots", str(tmp_path)],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  result = json.loads(out.read_text())
  assert [s for s in SECTIONS if s not in result] == []
  assert sorted(result["scaling"]["cases"]) == sorted(
      ["join", "piecewise_constant", "sgdr", "cycle", "table"])
  for kind, entries in result["scaling"]["cases"].items():
    for e in entries:  # the same schedule both ways, or the comparison means nothing
      diff = e["max_abs_diff"]
      assert diff is not None and diff < 1e-5, (kind, e["N"], diff)
  assert [m["loop"] for m in result["train_step"]] == [
      "one jitted call per step", "20 steps per lax.scan"]
  for model in result["train_step"]:
    assert len(model["variants"]) == 6 and model["variants"]["constant"]["overhead"] == 0.0
  for name, e in result["ports"].items():
    assert e["max_abs_diff"] < 1e-6, name
  try:
    import matplotlib  # noqa: F401
  except ImportError:
    return
  for png in ("bench_scaling.png", "bench_overhead.png"):
    assert (tmp_path / png).stat().st_size > 0
