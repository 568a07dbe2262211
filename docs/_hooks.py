"""MkDocs hooks: the API reference and the catalogue's pictures, made at build time.

`on_config` expands the nav's "API reference" entry into one page per module
(`docs/_api.py` lists them); `on_pre_build` draws the catalogue
(`docs/catalogue.py`) into `build/docs-catalogue/`, again only when its inputs
(the catalogue, the package's sources, the plotting versions) changed since the
last draw; `on_files` adds the API pages and serves the fresh pictures and page
in place of the copies committed under `docs/`.
"""

import hashlib
import importlib.metadata
import importlib.util
import logging
import pathlib
import shutil
import tempfile
import time

import _api
from mkdocs.structure.files import File

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / "build" / "docs-catalogue"
log = logging.getLogger("mkdocs.hooks.optax_scheds")

_pages: dict[str, str] = {}
_drawn: pathlib.Path | None = None


def on_config(config):
  _pages.clear()
  _pages.update(_api.pages())
  api = [{"Overview": "api/index.md"}]
  for path in _pages:
    if path != "api/index.md":
      title = path.removeprefix("api/").removesuffix(".md").replace("/", ".")
      api.append({title: path})
  for k, entry in enumerate(config["nav"] or []):
    if isinstance(entry, dict) and "API reference" in entry:
      config["nav"][k] = {"API reference": api}
  return config


def _catalogue_key() -> str:
  digest = hashlib.sha256()
  sources = [HERE / "catalogue.py", *sorted((ROOT / _api.PACKAGE).rglob("*.py"))]
  for path in sources:
    digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
  for package in ("matplotlib", "numpy", "jax", "optax"):
    digest.update(f"{package}={importlib.metadata.version(package)}".encode())
  return digest.hexdigest()[:16]


def on_pre_build(config):
  global _drawn
  target = CACHE / _catalogue_key()
  if not (target / "schedules.md").is_file():
    spec = importlib.util.spec_from_file_location("catalogue", HERE / "catalogue.py")
    catalogue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(catalogue)
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.mkdtemp(dir=CACHE))
    catalogue.PICTURES, catalogue.PAGE = scratch / "schedules", scratch / "schedules.md"
    start = time.perf_counter()
    catalogue.draw()
    log.info("Drew the schedule catalogue in %.1f s", time.perf_counter() - start)
    for old in CACHE.iterdir():  # keep one finished drawing: the current one
      if (old / "schedules.md").is_file() and old != scratch:
        shutil.rmtree(old, ignore_errors=True)
    try:
      scratch.rename(target)
    except OSError:  # a concurrent build finished the same drawing first
      shutil.rmtree(scratch, ignore_errors=True)
  _drawn = target


def _replace(files, config, uri: str, **source) -> None:
  old = files.get_file_from_path(uri)
  if old is not None:
    files.remove(old)
  files.append(File.generated(config, uri, **source))


def on_files(files, config):
  for path, text in _pages.items():
    _replace(files, config, path, content=text)
  _replace(files, config, "schedules.md", abs_src_path=str(_drawn / "schedules.md"))
  for picture in sorted((_drawn / "schedules").glob("*.png")):
    _replace(files, config, f"schedules/{picture.name}", abs_src_path=str(picture))
  return files
