"""The Python examples in README.md and docs/*.md run.

The blocks of one page run in order in one namespace, as a reader would.
"""

import pathlib
import re

import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(page):
  return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_markdown_examples_run(page, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  namespace = {"__name__": "__doc_example__"}
  with jax.numpy_dtype_promotion("standard"):  # examples use optax.adamw
    for code in _blocks(page):
      exec(compile(code, str(page), "exec"), namespace)


def test_pages_have_examples():
  assert sum(len(_blocks(p)) for p in PAGES) >= 6
