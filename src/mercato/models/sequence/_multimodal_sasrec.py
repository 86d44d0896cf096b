"""SASRec over the multimodal item tower: the sequence model that also reads the catalogue."""

from __future__ import annotations

from mercato.models.sequence._config import MultimodalConfig
from mercato.models.sequence._content_model import ContentRecommender
from mercato.models.sequence._modules import ItemTower, SequenceEncoder
from mercato.models.sequence._sasrec import SASRecEncoder

__all__ = ["MultimodalSASRec"]


class MultimodalSASRec(ContentRecommender[MultimodalConfig]):
    """SASRec whose item vectors fuse id, text, picture, clip, category, brand, attributes and
    price, and whose user state adds what the user wrote and searched for.

    Inputs and outputs share the multimodal vectors, so the attention reads what the items
    are as well as which they are, and an item never bought in training still gets a vector
    (from its content) that scores on a par with the others: the model can recommend new
    arrivals. Everything else (windows, behaviour types, time gaps, the training loop) is
    SASRec's.

    Example::

        from mercato.models import get_model

        model = get_model("multimodal", text_encoder="tfidf", image_encoder="none")
        model.fit(dataset).recommend(users, k=12)

    Stability: experimental.
    """

    name = "multimodal"
    config_class = MultimodalConfig

    def _build_sequence_encoder(self, tower: ItemTower) -> SequenceEncoder:
        return SASRecEncoder(tower, self.config)
