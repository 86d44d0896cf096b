"""What the content models share: features built in ``fit``, the multimodal tower, user texts.

A subclass names itself, its config class and its encoder (``_build_sequence_encoder``); this
base builds the item (and user) features from the training dataset, the multimodal tower over
them, attaches the users' text signals to the encoder, and reads all of it back from a saved
model's weights on load.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from mercato.errors import DataError
from mercato.features import ItemEncoders
from mercato.models._training import TrainingData
from mercato.models.sequence._config import ContentConfig
from mercato.models.sequence._content import (
    ItemContent,
    UserContent,
    build_content,
    default_cache_dir,
    item_encoders,
)
from mercato.models.sequence._modules import TOWER_KEY, ItemTower, SequenceEncoder
from mercato.models.sequence._multimodal import MultimodalItemTower, item_content_of
from mercato.models.sequence._recommender import SequenceRecommender
from mercato.models.sequence._user_text import UserText, user_content_of

__all__ = ["ContentRecommender"]

logger = logging.getLogger(__name__)

ConfigT = TypeVar("ConfigT", bound=ContentConfig)

#: Where the encoder's user context sits in its ``state_dict``.
_USER_CONTEXT_KEY = "user_context"


class ContentRecommender(SequenceRecommender[ConfigT]):
    """A sequence model over the multimodal item tower; users' texts join their state.

    ``fit`` first builds the catalogue's features (see :mod:`mercato.features`) with the
    encoders the config names, through the on-disk vector cache, keeps the modalities the
    config lists and the data has, then trains as every sequence model does. Items without
    training events are scored by their content alone.

    Args:
        config: the model's config, or ``None`` for keyword settings.
        encoders: encoders to build features with instead of those the config names (for
            example an image encoder from local weights); the config's names are then unused.
        cache_dir: the feature cache; ``$MERCATO_CACHE`` or ``.mercato/features`` by default.
            Not a setting: where vectors are cached does not change the model.
        progress: show a progress bar per modality while features are built.
        checkpoint_dir: where training saves its progress after every epoch and resumes from
            (see :class:`SequenceRecommender`).
        **overrides: settings of the config.

    Stability: experimental.
    """

    _items: ItemContent
    _users: UserContent

    def __init__(
        self,
        config: ConfigT | None = None,
        /,
        *,
        encoders: ItemEncoders | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = True,
        checkpoint_dir: str | Path | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(config, checkpoint_dir=checkpoint_dir, **overrides)
        self.encoders = encoders
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.progress = progress

    @abstractmethod
    def _build_sequence_encoder(self, tower: ItemTower) -> SequenceEncoder:
        """The untrained encoder over ``tower``, without the user context."""

    def _fit(self, training: TrainingData) -> None:
        # Encoders first: a missing package fails before any feature is built.
        config = self.config
        encoders = self.encoders
        if encoders is None:
            encoders = item_encoders(
                config.item_modalities,
                config.text_encoder,
                config.image_encoder,
                user_texts=bool(config.user_signals),
            )
        known = np.asarray(training.popularity > 0, dtype=np.bool_)
        self._items, self._users = build_content(
            training.dataset,
            known,
            self.config,
            encoders=encoders,
            cache_dir=self.cache_dir if self.cache_dir is not None else default_cache_dir(),
            progress=self.progress,
        )
        if not (self._items.known.any() or self._items.vectors or self._items.codes):
            raise DataError(
                "no item has any of the modalities the model is set to use",
                found=f"item_modalities={list(self.config.item_modalities)}",
                expected="items with text, pictures, clips, categories, brands, attributes or "
                "prices, or 'id' in item_modalities",
                fix="add 'id' to item_modalities, or check the items table and the encoders",
            )
        super()._fit(training)

    def _build_tower(self, n_items: int) -> ItemTower:
        return MultimodalItemTower(
            self._items, self.config.embedding_dim, id_dropout=self.config.id_dropout
        )

    def _build_encoder(self, tower: ItemTower) -> SequenceEncoder:
        encoder = self._build_sequence_encoder(tower)
        if self._users.signals:
            encoder.user_context = UserText(self._users, self.config.embedding_dim)
        return encoder

    def _restore_inputs(self, network: dict[str, torch.Tensor]) -> None:
        self._items = item_content_of(_under(network, TOWER_KEY))
        self._users = user_content_of(_under(network, _USER_CONTEXT_KEY))


def _under(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of a module's ``state_dict`` that belong to its submodule ``prefix``."""
    start = f"{prefix}."
    return {key.removeprefix(start): value for key, value in state.items() if key.startswith(start)}
