"""The demo (`make demo`) runs end to end and shows a plateau cut."""

import jax
import pytest

from optax_scheds import demo


@pytest.mark.usefixtures("standard_promotion")  # optax.adamw needs it
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # tqdm / matplotlib internals
def test_demo_trains_and_saves_a_plot(tmp_path, capsys):
  # The demo is written like user code: standard promotion, broadcasting biases.
  with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
    demo.main(["--epochs", "12", "--out", str(tmp_path)])
  out = capsys.readouterr().out
  assert "plateau cut first applied at step" in out
  assert (tmp_path / "demo.png").stat().st_size > 10_000
  accuracy = float(out.split("final validation accuracy ")[1].split(";")[0])
  assert accuracy > 0.9
