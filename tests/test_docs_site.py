"""The documentation site builds in strict mode (a warning fails the build), its API
reference has an entry for every public name, and the catalogue's pictures are there."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load(name):
  spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
  out = tmp_path_factory.mktemp("site")
  env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # material's end-of-life banner
  proc = subprocess.run(
      [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
  assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-5000:]}"
  return out


@pytest.mark.slow
def test_every_public_name_has_an_entry(site):
  api = _load("_api")
  assert "optax_scheds.cosine_decay" in (site / "api" / "optax_scheds" / "index.html").read_text()
  for module in api.modules():
    page = site / "api" / module.removeprefix("optax_scheds.").replace(".", "/") / "index.html"
    ids = set(re.findall(r'id="([^"]+)"', page.read_text()))
    missing = {f"{module}.{name}" for name in api.public_names(module)} - ids
    assert not missing, f"{page.relative_to(site)} has no entry for {sorted(missing)}"


@pytest.mark.slow
def test_catalogue_pictures_are_built(site):
  catalogue = _load("catalogue")
  html = (site / "schedules" / "index.html").read_text()
  for name in catalogue.EXAMPLES:
    picture = f"{name.replace('.', '_')}.png"
    assert (site / "schedules" / picture).is_file(), picture
    assert picture in html, picture


@pytest.mark.slow
def test_every_page_is_built(site):
  for page in sorted((ROOT / "docs").glob("*.md")):
    built = site / ("" if page.stem == "index" else page.stem) / "index.html"
    assert built.is_file(), f"{page.name} was not built"
