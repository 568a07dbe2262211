"""The ``optax-scheds`` command: see, plot and write down a schedule from a shell.

Every command takes SPEC, the text form (``"warmup(cosine_decay(3e-4, 98000),
2000)"``) or the path of a JSON config file. Bad input prints one line on
stderr and exits with status 2, never a traceback.
"""

import argparse
import json
import os
import sys

USAGE = """optax-scheds COMMAND SPEC [options]

commands:
  show SPEC --steps N [--at STEP ...]   terminal preview and key values
  plot SPEC [SPEC ...] --steps N -o lr.png [--labels ...] [--log] [--size WxH]
                                        a PNG, several schedules compared
  config SPEC                           the JSON config
  text SPEC                             the text form

SPEC is the text form, e.g. "warmup(cosine_decay(3e-4, 98000), 2000)", or the
path of a JSON config file (as `optax-scheds config` prints it)."""


class _Error(Exception):
  """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
  def error(self, message):  # one line instead of argparse's usage block
    # "argument --steps: --steps must be ..." says the name once.
    head, _, rest = message.partition(": ")
    name = head.removeprefix("argument ")
    raise _Error(rest if rest.startswith(name) else message)


def _positive_int(name):
  def parse(text):
    try:
      value = int(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got "
                                       f"{text!r}") from None
    if value <= 0:
      raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {value}")
    return value
  return parse


def _step(text):
  try:
    value = int(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f"--at steps must be integers, got {text!r}") from None
  if value < 0:
    raise argparse.ArgumentTypeError(f"--at steps must be >= 0, got {value}")
  return value


def _size(text):
  try:
    w, h = (int(v) for v in text.lower().split("x"))
  except ValueError:
    raise argparse.ArgumentTypeError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 800x400, "
                                     f"got {text!r}") from None
  if not (16 <= w <= 20_000 and 16 <= h <= 20_000):
    raise argparse.ArgumentTypeError(f"--size must be between 16 and 20000 pixels each way, "
                                     f"got {text!r}")
  return w, h


def _parser() -> argparse.ArgumentParser:
  parser = _Parser(prog="optax-scheds", usage=USAGE, add_help=True)
  commands = parser.add_subparsers(dest="command", parser_class=_Parser)
  show = commands.add_parser("show", help="terminal preview and key values")
  show.add_argument("spec")
  show.add_argument("--steps", required=True, type=_positive_int("--steps"))
  show.add_argument("--at", nargs="+", type=_step, default=[])
  show.add_argument("--width", type=_positive_int("--width"), default=72)
  show.add_argument("--height", type=_positive_int("--height"), default=12)
  plot = commands.add_parser("plot", help="write a PNG")
  plot.add_argument("spec", nargs="+")
  plot.add_argument("--steps", required=True, type=_positive_int("--steps"))
  plot.add_argument("-o", "--output", required=True)
  plot.add_argument("--labels", nargs="+")
  plot.add_argument("--log", action="store_true")
  plot.add_argument("--size", type=_size, default=(800, 400))
  config = commands.add_parser("config", help="print the JSON config")
  config.add_argument("spec")
  text = commands.add_parser("text", help="print the text form")
  text.add_argument("spec")
  return parser


def load(spec: str):
  """The schedule SPEC describes: a JSON config file's path, or the text form."""
  import optax_scheds as osch

  if spec.endswith(".json") or os.path.isfile(spec):
    try:
      with open(spec, encoding="utf-8") as f:
        config = json.load(f)
    except FileNotFoundError:
      raise _Error(f"no such config file: {spec}") from None
    except (OSError, UnicodeDecodeError) as e:
      raise _Error(f"cannot read {spec}: {e}") from None
    except json.JSONDecodeError as e:
      raise _Error(f"{spec} is not JSON: {e}") from None
    return osch.from_config(config)
  return osch.parse(spec)


def _one_line(message: str) -> str:
  first = message.strip().splitlines()[0] if message.strip() else "unknown error"
  return first.rstrip(":")


def _run(argv) -> int:
  import optax_scheds as osch
  from optax_scheds import _plot

  args = _parser().parse_args(argv)
  if args.command is None:
    raise _Error("a command is needed: show, plot, config or text (see optax-scheds -h)")
  if args.command == "show":
    schedule = load(args.spec)
    print(_plot.summary(schedule, args.steps, at=args.at, width=args.width,
                        height=args.height))
  elif args.command == "config":
    print(json.dumps(osch.to_config(load(args.spec)), indent=2))
  elif args.command == "text":
    print(osch.to_text(load(args.spec)))
  else:
    schedules = [load(s) for s in args.spec]
    if args.labels is not None and len(args.labels) != len(schedules):
      raise _Error(f"--labels must give one label per SPEC, got {len(args.labels)} labels "
                   f"for {len(schedules)} specs")
    try:
      import matplotlib
    except ImportError:
      raise _Error("plot needs matplotlib: pip install optax_scheds[plot]") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dpi = 100
    fig, ax = plt.subplots(figsize=(args.size[0] / dpi, args.size[1] / dpi), dpi=dpi)
    labels = args.labels if args.labels is not None else (
        list(args.spec) if len(schedules) > 1 else None)
    osch.plot(schedules, args.steps, ax=ax, labels=labels, log=args.log)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    fig.tight_layout()
    try:
      fig.savefig(args.output, dpi=dpi, format="png")
    except OSError as e:
      raise _Error(f"cannot write {args.output}: {e.strerror or e}") from None
    finally:
      plt.close(fig)
    print(f"wrote {args.output} ({args.size[0]}x{args.size[1]} pixels)")
  return 0


def main(argv=None) -> int:
  """Entry point of ``optax-scheds`` and ``python -m optax_scheds``."""
  try:
    return _run(sys.argv[1:] if argv is None else argv)
  except SystemExit as e:  # -h prints its help and exits 0
    return int(e.code or 0)
  except KeyboardInterrupt:
    return 130
  except (_Error, ValueError, TypeError, OSError) as e:
    print(f"optax-scheds: error: {_one_line(str(e))}", file=sys.stderr)
    return 2
  except Exception as e:  # noqa: BLE001 - never a traceback at the user
    print(f"optax-scheds: error: {type(e).__name__}: {_one_line(str(e))}", file=sys.stderr)
    return 2
