"""GRU4Rec and Caser over the multimodal item tower: the RNN and CNN that also read the catalogue.

They are to GRU4Rec and Caser what ``multimodal`` is to SASRec: the same encoder, with item
vectors that fuse id, text, picture, clip, category, brand, attributes and price, and user
states that add what the user wrote and searched for. Items never bought in training are
scored by their content.
"""

from __future__ import annotations

from mercato.models.sequence._caser import CaserEncoder
from mercato.models.sequence._config import MultimodalCaserConfig, MultimodalGRU4RecConfig
from mercato.models.sequence._content_model import ContentRecommender
from mercato.models.sequence._gru4rec import GRU4RecEncoder
from mercato.models.sequence._modules import ItemTower, SequenceEncoder

__all__ = ["MultimodalCaser", "MultimodalGRU4Rec"]


class MultimodalGRU4Rec(ContentRecommender[MultimodalGRU4RecConfig]):
    """GRU4Rec whose item vectors come from the multimodal tower.

    Stability: experimental.
    """

    name = "multimodal-gru4rec"
    config_class = MultimodalGRU4RecConfig

    def _build_sequence_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return GRU4RecEncoder(tower, self.config)


class MultimodalCaser(ContentRecommender[MultimodalCaserConfig]):
    """Caser whose item vectors come from the multimodal tower.

    Stability: experimental.
    """

    name = "multimodal-caser"
    config_class = MultimodalCaserConfig

    def _build_sequence_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return CaserEncoder(tower, self.config)
