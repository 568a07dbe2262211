"""The Python examples in README.md and docs/*.md run, each block on its own.

Every block runs in a fresh namespace, as a reader who copies one block into
a new file would run it, so every block must carry its own imports.
"""

import pathlib
import re

import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(page):
  return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


BLOCKS = [(page, k) for page in PAGES for k in range(len(_blocks(page)))]


@pytest.mark.parametrize("page, k", BLOCKS, ids=[f"{p.name}-{k}" for p, k in BLOCKS])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_markdown_example_runs_on_its_own(page, k, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  code = _blocks(page)[k]
  with jax.numpy_dtype_promotion("standard"):  # examples use optax.adamw
    exec(compile(code, f"{page.name} block {k}", "exec"), {"__name__": "__doc_example__"})


def test_pages_have_examples():
  assert len(BLOCKS) >= 6
