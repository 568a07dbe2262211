"""The real timm schedulers, without importing timm.

``import timm`` needs torchvision, which these tests do not install. The
schedulers are pure Python over torch, so this loads only
``timm/scheduler/*.py`` under stub ``timm`` / ``timm.scheduler`` packages
(with ``torchvision`` blocked), then removes the stubs from ``sys.modules`` so
that other libraries probing for timm or torchvision see neither.
"""

import functools
import importlib
import importlib.machinery
import importlib.util
import pathlib
import sys
import types

_MODULES = ("scheduler", "cosine_lr", "tanh_lr", "step_lr", "multistep_lr", "poly_lr",
            "plateau_lr", "wsd_lr", "scheduler_factory")


@functools.cache
def timm_scheduler() -> types.SimpleNamespace:
  """``timm.scheduler``'s classes and ``create_scheduler_v2``, loaded from the
  installed timm's files."""
  spec = importlib.util.find_spec("timm")  # locates the package, runs nothing
  if spec is None or not spec.submodule_search_locations:
    raise ImportError("timm is not installed (pip install --no-deps timm==1.0.31)")
  root = pathlib.Path(next(iter(spec.submodule_search_locations)))
  names = ["torchvision", "timm", "timm.scheduler"] + [f"timm.scheduler.{m}" for m in _MODULES]
  saved = {n: sys.modules[n] for n in names if n in sys.modules}
  try:
    sys.modules["torchvision"] = None  # anything that reaches for it fails loudly
    for name, path in (("timm", root), ("timm.scheduler", root / "scheduler")):
      stub = types.ModuleType(name)
      stub.__path__ = [str(path)]
      stub.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
      sys.modules[name] = stub
    mods = {m: importlib.import_module(f"timm.scheduler.{m}") for m in _MODULES}
  finally:
    for n in names:
      sys.modules.pop(n, None)
    sys.modules.update(saved)
  return types.SimpleNamespace(
      CosineLRScheduler=mods["cosine_lr"].CosineLRScheduler,
      TanhLRScheduler=mods["tanh_lr"].TanhLRScheduler,
      StepLRScheduler=mods["step_lr"].StepLRScheduler,
      MultiStepLRScheduler=mods["multistep_lr"].MultiStepLRScheduler,
      PolyLRScheduler=mods["poly_lr"].PolyLRScheduler,
      WSDLRScheduler=mods["wsd_lr"].WSDLRScheduler,
      create_scheduler_v2=mods["scheduler_factory"].create_scheduler_v2,
  )
