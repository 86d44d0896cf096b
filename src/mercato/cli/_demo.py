"""The demo shop as an ingest source: generated frames handed to the generic adapter."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from mercato.data import ShopSource, frame_source
from mercato.demo import DemoConfig, generate_demo_shop

__all__ = ["build_demo_source"]

logger = logging.getLogger(__name__)


def build_demo_source(size: str, seed: int, *, media_dir: Path, progress: bool) -> ShopSource:
    """Generate the demo shop (images and clips under ``media_dir``) and describe its tables."""
    del progress  # generation of the largest preset takes seconds; the ingest shows progress
    shop = generate_demo_shop(DemoConfig.preset(size, seed=seed), media_dir=media_dir)
    logger.info("generated demo shop %s: %d events", size, len(shop.events))
    frames = {
        "events": shop.events,
        "items": _json_attributes(shop.items),
        "users": _json_attributes(shop.users),
        "reviews": shop.reviews,
        "queries": shop.queries,
    }
    return frame_source(f"demo-{size}", frames)


def _json_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """Attribute dicts as JSON text, the form the store keeps them in."""
    frame = frame.copy()
    frame["attributes"] = frame["attributes"].map(
        lambda value: json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else None
    )
    return frame
