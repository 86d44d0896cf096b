"""Sequence recommenders: Caser (CNN), GRU4Rec (RNN) and SASRec (Transformer).

Each reads a user's recent events in time order (item, behaviour type, time gap), encodes them
into a user state and scores every item by a dot product with the item tower's vectors. All
three share one data pipeline (``_data``), one training loop (``_loop``) and one contract
implementation (``_recommender``); :class:`ItemTower` is the seam for multimodal item vectors.

Example::

    from mercato.models import get_model

    model = get_model("sasrec", max_len=50, embedding_dim=64).fit(dataset)
    top = model.recommend(users, k=10)
"""

from mercato.models.sequence._caser import Caser
from mercato.models.sequence._config import (
    CaserConfig,
    GRU4RecConfig,
    SASRecConfig,
    SequenceConfig,
)
from mercato.models.sequence._gru4rec import GRU4Rec
from mercato.models.sequence._modules import ItemTower
from mercato.models.sequence._recommender import SequenceRecommender
from mercato.models.sequence._sasrec import SASRec

__all__ = [
    "Caser",
    "CaserConfig",
    "GRU4Rec",
    "GRU4RecConfig",
    "ItemTower",
    "SASRec",
    "SASRecConfig",
    "SequenceConfig",
    "SequenceRecommender",
]
