"""A hardened test session: strict dtype promotion, simulated CPU devices.

XLA_FLAGS must be set before jax is imported, so it is done here, at the top
of the first module pytest loads.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def standard_promotion():
  """Reference libraries (optax itself) run under standard promotion."""
  with jax.numpy_dtype_promotion("standard"):
    yield
