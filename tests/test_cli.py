"""The optax-scheds command, run as users run it: a subprocess."""

import json
import pathlib
import struct
import subprocess
import sys

import numpy as np
import pytest

import optax_scheds as osch

SCRIPT = pathlib.Path(sys.executable).parent / "optax-scheds"
SPEC = "warmup(cosine_decay(0.0003, 98000), 2000)"


def run(*args, script=False):
  cmd = [str(SCRIPT)] if script else [sys.executable, "-m", "optax_scheds"]
  return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def test_show_prints_the_preview_and_key_values():
  out = run("show", SPEC, "--steps", "100000", "--at", "1000", "50000")
  assert out.returncode == 0, out.stderr
  lines = out.stdout.splitlines()
  assert len(lines) == 12 + 2 + 5
  s = osch.parse(SPEC)
  assert lines[-5:] == [
      "value at step 0:      0",
      "peak value:           0.0003 (at step 2000)",
      "value at step 100000: 0",
      "value at step 1000:   0.00015",
      f"value at step 50000:  {float(s(50000)):.6g}",
  ]
  assert lines[0].startswith("0.0003 ┤") and lines[11].startswith("     0 ┤")


def test_config_text_and_plot_from_a_config_file(tmp_path):
  out = run("config", "torch.OneCycleLR(0.1, total_steps=100)", script=True)
  assert out.returncode == 0, out.stderr
  config = json.loads(out.stdout)
  assert config == {"format_version": 1, "name": "torch.OneCycleLR",
                    "args": {"max_lr": 0.1, "total_steps": 100}}
  path = tmp_path / "onecycle.json"
  path.write_text(out.stdout)
  text = run("text", str(path))
  assert text.returncode == 0 and text.stdout == "torch.OneCycleLR(0.1, total_steps=100)\n"
  png = tmp_path / "lr.png"
  out = run("plot", str(path), SPEC, "--steps", "200", "-o", str(png), "--size", "640x320",
            "--log")
  assert out.returncode == 0, out.stderr
  data = png.read_bytes()
  assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
  assert struct.unpack(">II", data[16:24]) == (640, 320)


BAD = [
    (["show", "unknown_schedule(1.0)", "--steps", "10"],
     "'unknown_schedule' is not a constructor of the library"),
    (["show", "cosine_decay(1.0, 10, bogus=1)", "--steps", "10"],
     "unexpected keyword argument 'bogus'"),
    (["show", "cosine_decay(1.0,", "--steps", "10"], "is not a valid expression"),
    (["show", "missing.json", "--steps", "10"], "no such config file: missing.json"),
    (["show", "constant(1.0)", "--steps", "-5"], "--steps must be a positive integer, got -5"),
    (["show", "constant(1.0)", "--steps", "abc"],
     "--steps must be a positive integer, got 'abc'"),
    (["show", "constant(1.0)"], "the following arguments are required: --steps"),
    (["plot", "constant(1.0)", "--steps", "10", "-o", "/nonexistent/dir/x.png"],
     "cannot write /nonexistent/dir/x.png"),
    (["plot", "constant(1.0)", "--steps", "10", "-o", "x.png", "--size", "big"],
     "--size must be WIDTHxHEIGHT in pixels"),
    (["config", "as_schedule(1.0) ** 2"], "the operator Pow is not allowed"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "a command is needed"),
]


@pytest.mark.parametrize("args,message", BAD)
def test_bad_input_prints_one_line_and_exits_2(args, message, tmp_path):
  out = subprocess.run([sys.executable, "-m", "optax_scheds", *args], capture_output=True,
                       text=True, timeout=300, cwd=tmp_path)
  assert out.returncode == 2
  assert out.stdout == ""
  lines = out.stderr.splitlines()
  assert len(lines) == 1, out.stderr
  assert lines[0].startswith("optax-scheds: error: ") and message in lines[0], lines[0]
  assert "Traceback" not in out.stderr


def test_a_bad_config_file_is_one_line(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text('{"format_version": 1, "name": "cosine_decay", "args": {"init_value": 1}}')
  out = run("show", str(path), "--steps", "10")
  assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
  assert "is missing the argument 'decay_steps'" in out.stderr
  path.write_text("{not json")
  out = run("config", str(path))
  assert out.returncode == 2 and "is not JSON" in out.stderr


def test_show_values_match_the_schedule():
  spec = "torch.CyclicLR(0.1, 1.0, 10, 15, mode='exp_range', gamma=0.99)"
  out = run("show", spec, "--steps", "60", "--at", "7", "33", "--width", "40", "--height", "6")
  assert out.returncode == 0, out.stderr
  lines = out.stdout.splitlines()
  assert len(lines) == 6 + 2 + 5 and all(len(row.split("┤")[-1].split("│")[-1]) == 40
                                         for row in lines[:6])
  s = osch.parse(spec)
  for step, line in zip([7, 33], lines[-2:]):
    assert line.split(":")[1].strip() == f"{float(s(step)):.6g}"
  values = np.asarray(s(np.arange(61)))
  assert lines[-4].split(":")[1].strip() == (
      f"{values.max():.6g} (at step {int(values.argmax())})")
