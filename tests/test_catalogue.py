"""The catalogue (docs/schedules.md) covers every public schedule, is up to date,
and every example builds a finite schedule."""

import importlib.util
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import optax_scheds as osch

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("catalogue", ROOT / "docs" / "catalogue.py")
catalogue = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogue)


def test_every_public_schedule_has_an_entry():
  public = set(catalogue.public_constructors())
  listed = set(catalogue.EXAMPLES)
  assert public - listed == set(), "public schedules missing from docs/catalogue.py"
  assert listed - public == set(), "catalogue entries that are not public schedules"


def test_page_is_up_to_date():
  assert (ROOT / "docs" / "schedules.md").read_text() == catalogue.page(), (
      "docs/schedules.md is stale: run `python docs/catalogue.py`")


@pytest.mark.parametrize("name", sorted(catalogue.EXAMPLES))
def test_example_builds_a_finite_schedule_with_a_picture(name):
  schedule = catalogue.build(name)
  assert isinstance(schedule, osch.Schedule)
  values = np.asarray(schedule(jnp.arange(catalogue.EXAMPLES[name][2])))
  assert np.all(np.isfinite(values))
  assert (ROOT / "docs" / "schedules" / f"{name.replace('.', '_')}.png").is_file()
