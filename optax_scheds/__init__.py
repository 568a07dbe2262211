"""optax_scheds: composable, jittable learning-rate schedules for JAX and optax."""

import importlib.metadata

from optax_scheds._arithmetic import clip as clip
from optax_scheds._arithmetic import maximum as maximum
from optax_scheds._arithmetic import minimum as minimum
from optax_scheds._base import Schedule as Schedule
from optax_scheds._base import as_schedule as as_schedule
from optax_scheds._combinators import advance as advance
from optax_scheds._combinators import cooldown as cooldown
from optax_scheds._combinators import cycle as cycle
from optax_scheds._combinators import delay as delay
from optax_scheds._combinators import k_decay as k_decay
from optax_scheds._combinators import stretch as stretch
from optax_scheds._combinators import warmup as warmup
from optax_scheds._composites import cosine_onecycle as cosine_onecycle
from optax_scheds._composites import cyclic as cyclic
from optax_scheds._composites import inverse_sqrt as inverse_sqrt
from optax_scheds._composites import linear_onecycle as linear_onecycle
from optax_scheds._composites import sgdr as sgdr
from optax_scheds._composites import tri_stage as tri_stage
from optax_scheds._composites import warmup_constant as warmup_constant
from optax_scheds._composites import warmup_cosine_decay as warmup_cosine_decay
from optax_scheds._composites import warmup_exponential_decay as warmup_exponential_decay
from optax_scheds._composites import wsd as wsd
from optax_scheds._config import from_config as from_config
from optax_scheds._config import to_config as to_config
from optax_scheds._join import join as join
from optax_scheds._plateau import PlateauTransformation as PlateauTransformation
from optax_scheds._plateau import ReduceOnPlateauState as ReduceOnPlateauState
from optax_scheds._plateau import learning_rate as learning_rate
from optax_scheds._plateau import reduce_on_plateau as reduce_on_plateau
from optax_scheds._plot import plot as plot
from optax_scheds._plot import preview as preview
from optax_scheds._primitives import constant as constant
from optax_scheds._primitives import cosine_decay as cosine_decay
from optax_scheds._primitives import exponential_decay as exponential_decay
from optax_scheds._primitives import linear as linear
from optax_scheds._primitives import noam as noam
from optax_scheds._primitives import piecewise_constant as piecewise_constant
from optax_scheds._primitives import piecewise_interpolate as piecewise_interpolate
from optax_scheds._primitives import polynomial as polynomial
from optax_scheds._primitives import rex as rex
from optax_scheds._primitives import table as table
from optax_scheds._primitives import tanh_decay as tanh_decay
from optax_scheds._range_test import LRRangeTestResult as LRRangeTestResult
from optax_scheds._range_test import lr_range_test as lr_range_test
from optax_scheds._text import parse as parse
from optax_scheds._text import to_text as to_text

try:
  __version__ = importlib.metadata.version("optax_scheds")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
  __version__ = "0.0.0"
