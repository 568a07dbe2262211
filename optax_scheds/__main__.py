"""``python -m optax_scheds``: the ``optax-scheds`` command."""

import sys

from optax_scheds._cli import main

sys.exit(main())
