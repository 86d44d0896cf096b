"""Sequence recommenders: Caser (CNN), GRU4Rec (RNN), SASRec (Transformer), their content
versions (multimodal Caser, GRU4Rec and SASRec) and a two-tower retrieval model.

Each reads a user's recent events in time order (item, behaviour type, time gap), encodes them
into a user state and scores every item by a dot product with the item tower's vectors. All
share one data pipeline (``_data``), one training loop (``_loop``) and one contract
implementation (``_recommender``). :class:`ItemTower` is the seam for item vectors: an id
embedding, or :class:`MultimodalItemTower`, which fuses each item's text, picture, clip,
category, brand, attributes and price with it, so items never seen in training are scored too.

Example::

    from mercato.models import get_model

    model = get_model("sasrec", max_len=50, embedding_dim=64).fit(dataset)
    top = model.recommend(users, k=10)
    multimodal = get_model("multimodal", text_encoder="minilm").fit(dataset)
"""

from mercato.models.sequence._caser import Caser
from mercato.models.sequence._config import (
    CaserConfig,
    ContentConfig,
    GRU4RecConfig,
    MultimodalCaserConfig,
    MultimodalConfig,
    MultimodalGRU4RecConfig,
    SASRecConfig,
    SequenceConfig,
    TwoTowerConfig,
)
from mercato.models.sequence._content_model import ContentRecommender
from mercato.models.sequence._gru4rec import GRU4Rec
from mercato.models.sequence._modules import ItemTower
from mercato.models.sequence._multimodal import MultimodalItemTower
from mercato.models.sequence._multimodal_rnn_cnn import MultimodalCaser, MultimodalGRU4Rec
from mercato.models.sequence._multimodal_sasrec import MultimodalSASRec
from mercato.models.sequence._recommender import SequenceRecommender
from mercato.models.sequence._sasrec import SASRec
from mercato.models.sequence._two_tower import TwoTower

__all__ = [
    "Caser",
    "CaserConfig",
    "ContentConfig",
    "ContentRecommender",
    "GRU4Rec",
    "GRU4RecConfig",
    "ItemTower",
    "MultimodalCaser",
    "MultimodalCaserConfig",
    "MultimodalConfig",
    "MultimodalGRU4Rec",
    "MultimodalGRU4RecConfig",
    "MultimodalItemTower",
    "MultimodalSASRec",
    "SASRec",
    "SASRecConfig",
    "SequenceConfig",
    "SequenceRecommender",
    "TwoTower",
    "TwoTowerConfig",
]
