"""What the API reference shows, and how its docstrings become Markdown.

The reference documents every public name: the names `optax_scheds/__init__.py`
re-exports, grouped by the private module that defines them, and each
`optax_scheds.compat` module's `__all__` (found with pkgutil), grouped by what the
constructors return. So a new public name or a new port gets its entry without
editing the docs. `docs/_hooks.py` turns `pages()` into one page per module;
`RstToMarkdown` is the griffe extension (listed in mkdocs.yml) that rewrites the
docstrings' Sphinx markup (`.. math::`, `:math:`, `:func:`, `:class:`, `:meth:`,
`` `text <url>`_ `` links) into the Markdown that mkdocstrings renders.
"""

import importlib
import inspect
import pkgutil
import re

import griffe

PACKAGE = "optax_scheds"

# Section titles for the package's private modules, in page order; a module not
# listed here gets a section titled from its name, after these.
KINDS = {
    "_base": "The schedule type",
    "_primitives": "Primitives",
    "_composites": "Composites",
    "_combinators": "Combinators",
    "_join": "Joins",
    "_arithmetic": "Arithmetic",
    "_plateau": "Plateau reduction",
    "_range_test": "Learning-rate range test",
    "_config": "Configs",
    "_text": "Text form",
    "_plot": "Plotting",
}

# Section titles for a compat module, by what a name returns.
RETURNS = {"Schedule": "Schedules", "PlateauTransformation": "Plateau reduction"}


def modules() -> list[str]:
  """The documented modules: the package, then every compat module."""
  compat = importlib.import_module(f"{PACKAGE}.compat")
  ports = sorted(m.name for m in pkgutil.iter_modules(compat.__path__)
                 if not m.name.startswith("_"))
  return [PACKAGE, *(f"{PACKAGE}.compat.{name}" for name in ports)]


def public_names(module_name: str) -> list[str]:
  """A module's public names: `__all__` where it has one, else what it re-exports."""
  module = importlib.import_module(module_name)
  names = getattr(module, "__all__", None)
  if names is not None:
    return list(names)
  names = [name for name, obj in vars(module).items()
           if not name.startswith("_") and not inspect.ismodule(obj)]
  return sorted(names, key=lambda name: _source_line(getattr(module, name)))


def _source_line(obj) -> int:
  """Where `obj` is defined, so a section lists names in their module's order."""
  try:
    return inspect.getsourcelines(obj)[1]
  except (OSError, TypeError):
    return 0


def _returns(obj) -> str:
  try:
    annotation = inspect.signature(obj).return_annotation
  except (TypeError, ValueError):
    return ""
  return getattr(annotation, "__name__", str(annotation))


def groups(module_name: str) -> list[tuple[str, str, list[str]]]:
  """`(title, blurb, names)` per section of a module's page."""
  module = importlib.import_module(module_name)
  sections: dict[str, tuple[str, str, list[str]]] = {}
  for name in public_names(module_name):
    obj = getattr(module, name)
    home = getattr(obj, "__module__", None) or ""
    if module_name == PACKAGE and home.startswith(f"{PACKAGE}."):
      key = home.rsplit(".", 1)[-1]
      title = KINDS.get(key) or key.strip("_").replace("_", " ").capitalize()
      blurb = _first_paragraph(importlib.import_module(home))
    elif module_name == PACKAGE:  # a constant, or a name from another library
      key, title, blurb = "~other", "Other names", ""
    elif inspect.isclass(obj):
      key, title, blurb = "~types", "Types", ""
    else:
      key = _returns(obj)
      title, blurb = RETURNS.get(key, "Factories and helpers"), ""
      key = key if key in RETURNS else "~other"
    sections.setdefault(key, (title, blurb, []))[2].append(name)
  order = [*KINDS, *RETURNS]
  keys = sorted(sections, key=lambda k: (order.index(k) if k in order else len(order), k))
  return [sections[k] for k in keys]


def _first_paragraph(module) -> str:
  doc = inspect.getdoc(module) or ""
  text = " ".join(doc.split("\n\n")[0].split()).removeprefix(f"{module.__name__}: ")
  return rst_to_markdown(text).replace("``", "`")


def pages() -> dict[str, str]:
  """Page path (under docs/) -> Markdown, one page per module plus an index."""
  out = {}
  index = ["# API reference", "",
           "Generated from the docstrings of every public name at build time.", ""]
  for module_name in modules():
    path = "api/" + module_name.removeprefix(f"{PACKAGE}.").replace(".", "/") + ".md"
    lines = [f"# `{module_name}`", "",
             f"::: {module_name}",
             "    options:",
             "      members: false",
             "      show_root_heading: false",
             "      show_root_toc_entry: false",
             ""]
    summary = []
    for title, blurb, names in groups(module_name):
      lines += [f"## {title}", ""]
      if blurb:
        lines += [blurb, ""]
      lines += [f"::: {module_name}.{name}\n" for name in names]
      summary.append(f"{title.lower()} ({len(names)})")
    out[path] = "\n".join(lines)
    module = importlib.import_module(module_name)
    index.append(f"- [`{module_name}`]({path.removeprefix('api/')}): "
                 + _first_paragraph(module).rstrip(".") + "; " + ", ".join(summary) + ".")
  out["api/index.md"] = "\n".join(index) + "\n"
  return out


def public_identifiers() -> set[str]:
  """The dotted paths the reference has an entry for (cross-reference targets)."""
  out = set()
  for module_name in modules():
    out.add(module_name)
    module = importlib.import_module(module_name)
    for name in public_names(module_name):
      out.add(f"{module_name}.{name}")
      obj = getattr(module, name)
      if inspect.isclass(obj):
        out.update(f"{module_name}.{name}.{member}" for member in vars(obj)
                   if not member.startswith("_"))
  return out


# --------------------------------------------------------------------------
# Sphinx markup -> Markdown.

_MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
_INLINE_MATH = re.compile(r":math:`([^`]+)`")
_LINK = re.compile(r"`(?P<text>[^`<]+?)\s*<(?P<url>[^>\s]+)>`__?")
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|obj|data|exc):`(?P<text>[^`]+)`")


def _math_blocks(text: str) -> str:
  """`.. math::` directives (one line or an indented block) -> `$$` blocks."""
  lines, out, k = text.split("\n"), [], 0
  while k < len(lines):
    match = _MATH.match(lines[k])
    if not match:
      out.append(lines[k])
      k += 1
      continue
    indent, body = match["indent"], [match["first"]] if match["first"].strip() else []
    k += 1
    while k < len(lines) and (not lines[k].strip()
                              or len(lines[k]) - len(lines[k].lstrip()) > len(indent)):
      body.append(lines[k].strip())
      k += 1
    while body and not body[-1]:
      body.pop()
    if out and out[-1].strip():
      out.append("")
    out += [indent + "$$", *(indent + line for line in body), indent + "$$"]
    if k < len(lines) and lines[k].strip():
      out.append("")
  return "\n".join(out)


def rst_to_markdown(text: str, resolve=None) -> str:
  """Sphinx's math, links and cross-references -> arithmatex math and Markdown links.

  `resolve(target)` gives the identifier a role points at, or None: then the
  name is shown as code, unlinked (a private helper has no entry to link to).
  """
  text = _math_blocks(text)
  text = _INLINE_MATH.sub(lambda m: f"${m[1].strip()}$", text)
  text = _LINK.sub(lambda m: f"[{' '.join(m['text'].split())}]({m['url']})", text)

  def role(match):
    words = match["text"]
    explicit = re.fullmatch(r"(.*?)\s*<(.+)>", words)
    title, target = (explicit[1], explicit[2]) if explicit else (None, words)
    target = target.lstrip("~")
    if title is None:
      title = target.rsplit(".", 1)[-1] if words.startswith("~") else target
    identifier = resolve(target) if resolve else None
    return f"[`{title}`][{identifier}]" if identifier else f"`{title}`"

  return _ROLE.sub(role, text)


class RstToMarkdown(griffe.Extension):
  """Rewrites every docstring of the package once it is loaded."""

  def __init__(self):
    self._known: set[str] | None = None

  def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
    if pkg.path != PACKAGE:
      return
    if self._known is None:
      self._known = public_identifiers()
    self._rewrite(pkg)

  def _rewrite(self, obj) -> None:
    if obj.is_alias:
      return
    if obj.docstring is not None:
      obj.docstring.value = rst_to_markdown(obj.docstring.value, self._resolver(obj))
    for member in obj.members.values():
      self._rewrite(member)

  def _resolver(self, obj):
    """Where a role's name points from `obj`: itself if dotted, else the public
    module the object is documented in, its class, then the package."""
    module = obj if obj.is_module else obj.module
    public = ".".join(p for p in module.path.split(".") if not p.startswith("_"))
    scopes = [public]
    if obj.parent is not None and obj.parent.is_class:
      scopes.insert(0, f"{public}.{obj.parent.name}")
    if obj.is_class:
      scopes.insert(0, f"{public}.{obj.name}")
    scopes.append(PACKAGE)

    def resolve(target: str) -> str | None:
      candidates = [target] if target.startswith(f"{PACKAGE}.") else [
          f"{scope}.{target}" for scope in scopes]
      return next((c for c in candidates if c in self._known), None)

    return resolve
