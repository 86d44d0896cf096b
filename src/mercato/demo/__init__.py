"""A demo shop generator with known ground truth, for tests, examples and benchmarks.

``generate_demo_shop`` draws a synthetic shop (events, items, users, reviews, queries) from a
seed together with the hidden truth it came from; ``write_events_csv`` writes a large events CSV
quickly for ingest benchmarks.
"""

from mercato.demo._config import DemoConfig
from mercato.demo._csv import write_events_csv
from mercato.demo._generator import DemoShop, generate_demo_shop
from mercato.demo._world import Behaviour, DemoTruth

__all__ = [
    "Behaviour",
    "DemoConfig",
    "DemoShop",
    "DemoTruth",
    "generate_demo_shop",
    "write_events_csv",
]
