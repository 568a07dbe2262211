"""Compile and evaluation time of many-piece schedules: optax_scheds vs optax.

Run: ``python benchmarks/bench_join.py`` (add ``--quick`` for a short run).
For N pieces of one kind it builds the same schedule both ways
(piecewise_constant with N boundaries, sgdr with N cycles, join of N cosine
pieces), then measures, side by side in one process:

- compile: ``jax.jit(jax.vmap(schedule)).lower(steps).compile()`` (best of 3)
- evaluate: the compiled call on 1M int32 steps (best of 3, blocked).

It prints a table with the ratios optax / optax_scheds (higher is better for
us). Targets: at N=1000 compile >= 20x and evaluation >= 50x; at N=1 we are
no slower than 1.3x optax (ratio >= 0.77).
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_scheds as osch


def _cases(n):
  rng = np.random.default_rng(0)
  bounds = (np.arange(1, n + 1) * 1000).tolist()
  scales = rng.uniform(0.9, 1.0, n).tolist()
  bs = dict(zip(bounds, scales))
  cycles = [dict(init_value=0.0, peak_value=float(p), warmup_steps=100, decay_steps=1000,
                 end_value=1e-4) for p in rng.uniform(0.5, 1.0, n)]
  cos = [(float(p), 1000) for p in rng.uniform(0.5, 1.0, n)]
  return {
      "piecewise_constant": (osch.piecewise_constant(1.0, bs),
                             optax.piecewise_constant_schedule(1.0, bs)),
      "sgdr": (osch.sgdr(cycles), optax.sgdr_schedule(cycles)),
      "join(cosine_decay)": (
          osch.join([osch.cosine_decay(p, d) for p, d in cos], bounds[:-1]),
          optax.join_schedules([optax.cosine_decay_schedule(p, d) for p, d in cos],
                               bounds[:-1])),
  }


def _measure(fn, steps, repeats):
  compile_s = float("inf")
  for _ in range(repeats):  # a fresh jit each time: trace, lower and compile again
    t0 = time.perf_counter()
    compiled = jax.jit(jax.vmap(fn)).lower(steps).compile()
    compile_s = min(compile_s, time.perf_counter() - t0)
  compiled(steps).block_until_ready()  # warm-up
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    compiled(steps).block_until_ready()
    best = min(best, time.perf_counter() - t0)
  return compile_s, best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="N=1 and N=100, 100k steps")
  parser.add_argument("--pieces", type=int, nargs="*", default=None)
  args = parser.parse_args()
  pieces = args.pieces or ([1, 100] if args.quick else [1, 1000])
  n_steps = 100_000 if args.quick else 1_000_000
  rng = np.random.default_rng(1)
  print(f"jax {jax.__version__}, optax {optax.__version__}, {jax.devices()[0].platform}, "
        f"{n_steps:,} steps")
  header = (f"{'schedule':<20} {'N':>5} | {'compile optax':>13} {'ours':>8} {'ratio':>7} | "
            f"{'eval optax':>10} {'ours':>8} {'ratio':>7}")
  print(header)
  print("-" * len(header))
  for n in pieces:
    steps = jnp.asarray(rng.integers(0, 1000 * (n + 1), n_steps), jnp.int32)
    for name, (ours, ref) in _cases(n).items():
      with jax.numpy_dtype_promotion("standard"):
        ref_c, ref_e = _measure(ref, steps, 3)
      our_c, our_e = _measure(ours, steps, 3)
      print(f"{name:<20} {n:>5} | {ref_c:>12.3f}s {our_c:>7.3f}s {ref_c / our_c:>6.1f}x | "
            f"{ref_e:>9.4f}s {our_e:>7.4f}s {ref_e / our_e:>6.1f}x", flush=True)


if __name__ == "__main__":
  main()
