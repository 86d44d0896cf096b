"""The multimodal item tower: each item's vector fuses its id with what the catalogue says of it.

Shape letters: ``I`` items, ``N`` items looked up at once, ``M`` modalities (the id included),
``D`` embedding width, ``W`` a modality's input width, ``C`` code columns.

Every content modality becomes one ``[N, D]`` vector per item: frozen pretrained text, picture
and clip vectors through a learned linear projection, the price through a small MLP, category
levels, the brand and attribute values through learned embeddings averaged over the codes an
item has. A learned gate weighs the modalities each item has (:class:`GatedFusion`); a modality
an item lacks gets no weight, so an item without a picture is made of the rest.

The id embedding is added on top, as a residual: what the item's own history says beyond its
content (a popular shirt against its look-alikes). A never-seen item's id row is never trained,
so items without training events get no id part at all, and during training each lookup drops
the id part with probability ``id_dropout``: the content part learns to stand alone, and a new
item scores as an old one with the same content would before its history is known. A residual
rather than one more gated part, because a convex mix would shrink an old item's content by
its id's share and so score every new item above the old ones it resembles.

The features are buffers, saved with the weights; a loaded model rebuilds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

from mercato.models.sequence._content import (
    CODE_MODALITIES,
    VECTOR_MODALITIES,
    Codes,
    ItemContent,
    Vectors,
)
from mercato.models.sequence._modules import EMBEDDING_INIT_STD, ItemTower

__all__ = [
    "GatedFusion",
    "MultimodalItemTower",
    "PooledCodes",
    "ProjectedVectors",
    "item_content_of",
]

#: Modalities read through a small MLP rather than a linear map: a scalar needs the bend to
#: tell price bands apart.
SCALAR_MODALITIES = frozenset({"price"})


class ProjectedVectors(nn.Module):
    """A frozen vector modality (buffers) and its learned projection into ``D``.

    Args:
        vectors: ``[R, W]`` values and ``[R]`` presence, one row per item (or user).
        dim: output width ``D``.
        scalar: project through ``Linear(W, D) -> GELU -> Linear(D, D)`` instead of one linear
            map.
    """

    values: Tensor  # [R, W] float32
    present: Tensor  # [R] bool

    def __init__(self, vectors: Vectors, dim: int, *, scalar: bool = False) -> None:
        super().__init__()
        self.register_buffer("values", torch.from_numpy(vectors.values))
        self.register_buffer("present", torch.from_numpy(vectors.present))
        width = vectors.values.shape[1]
        self.project: nn.Module = (
            nn.Sequential(nn.Linear(width, dim), nn.GELU(), nn.Linear(dim, dim))
            if scalar
            else nn.Linear(width, dim)
        )

    def forward(self, rows: Tensor | None) -> tuple[Tensor, Tensor]:
        """Rows ``[N]`` (``None``: all) -> projected vectors ``[N, D]`` and presence ``[N]``."""
        values = self.values if rows is None else self.values[rows]
        present = self.present if rows is None else self.present[rows]
        projected: Tensor = self.project(values)
        return projected, present


class PooledCodes(nn.Module):
    """Code columns (category levels, a brand, attribute values) embedded and averaged.

    Each column has its own rows in one shared table, so "Shoes" at level 1 and a brand code 7
    never share a vector; code 0 (none) is the table's zero padding row.
    """

    codes: Tensor  # [I, C] int64, 0 = none
    sizes: Tensor  # [C] int64 vocabulary size per column, code 0 included
    table_rows: Tensor  # [I, C] int64 row of each code in the table, 0 = none (not saved)

    def __init__(self, codes: Codes, dim: int) -> None:
        super().__init__()
        self.register_buffer("codes", torch.from_numpy(codes.codes))
        self.register_buffer("sizes", torch.from_numpy(codes.sizes))

        # Column c's codes 1 .. size_c - 1 sit after those of the columns before it.
        first = 1 + np.concatenate([[0], np.cumsum(codes.sizes - 1)[:-1]])  # [C]
        table_rows = np.where(codes.codes > 0, codes.codes - 1 + first, 0)  # [I, C]
        self.register_buffer("table_rows", torch.from_numpy(table_rows), persistent=False)
        self.table = nn.Embedding(1 + int((codes.sizes - 1).sum()), dim, padding_idx=0)
        nn.init.normal_(self.table.weight, std=EMBEDDING_INIT_STD)
        with torch.no_grad():
            self.table.weight[0].zero_()

    def forward(self, rows: Tensor | None) -> tuple[Tensor, Tensor]:
        """Rows ``[N]`` (``None``: all) -> mean code vectors ``[N, D]`` and presence ``[N]``."""
        index = self.table_rows if rows is None else self.table_rows[rows]  # [N, C]
        counts = (index > 0).sum(dim=1, keepdim=True)  # [N, 1]
        pooled = self.table(index).sum(dim=1) / counts.clamp_min(1)  # [N, C, D] -> [N, D]
        return pooled, counts[:, 0] > 0


class GatedFusion(nn.Module):
    """A softmax over the modalities each item has, with a learned gate per modality.

    Modality ``m`` has a gate vector ``g_m`` and a bias ``b_m``; an item's weight on it is the
    softmax of ``v_m . g_m + b_m`` over the modalities the item has, so the gate can trust a
    modality more for some items (a telling description) than for others. Gates start at zero:
    every present modality weighs the same at first. An item with no modality is zero.
    """

    def __init__(self, n_modalities: int, dim: int) -> None:
        super().__init__()
        self.gates = nn.Parameter(torch.zeros(n_modalities, dim))
        self.biases = nn.Parameter(torch.zeros(n_modalities))

    def forward(self, parts: Tensor, present: Tensor) -> Tensor:
        """``parts [N, M, D]``, ``present [N, M]`` bool -> fused vectors ``[N, D]``."""
        logits = (parts * self.gates).sum(dim=-1) + self.biases  # [N, M]

        # The lowest finite value, not -inf: a row with nothing present then gets a uniform
        # softmax, zeroed by the mask, where -inf would give NaN (and NaN gradients).
        logits = logits.masked_fill(~present, torch.finfo(logits.dtype).min)
        weights = torch.softmax(logits, dim=1) * present  # [N, M]
        fused: Tensor = (weights.unsqueeze(-1) * parts).sum(dim=1)  # [N, D]
        return fused


class MultimodalItemTower(ItemTower):
    """Item vectors: the gated fusion of the item's content plus its id residual; see the
    module notes.

    Keeps the seam of :class:`ItemTower`: ``forward`` maps shifted ids ``[*]`` (0 = padding)
    to ``[*, D]``, ``item_vectors`` gives ``[I, D]``, and inputs and scores share the vectors.

    Args:
        content: the catalogue's features, the modalities to use and which items are known.
        dim: embedding width ``D``.
        id_dropout: chance that a training lookup drops a known item's id part.

    Example:
        >>> content = ItemContent(np.ones(3, bool), {}, {"brand": Codes(
        ...     np.array([[1], [1], [2]]), np.array([3]))})
        >>> tower = MultimodalItemTower(content, dim=8)
        >>> tower(torch.tensor([[0, 3]])).shape, tower.item_vectors().shape
        (torch.Size([1, 2, 8]), torch.Size([3, 8]))

    Stability: experimental.
    """

    known: Tensor  # [I] bool: items with an id part

    def __init__(self, content: ItemContent, dim: int, *, id_dropout: float = 0.0) -> None:
        super().__init__(content.n_items, dim)
        self.id_dropout = id_dropout
        self.register_buffer("known", torch.from_numpy(content.known))

        # Canonical order, so a loaded tower lines its gates up with the same modalities.
        modalities: dict[str, nn.Module] = {}
        for name in VECTOR_MODALITIES:
            if name in content.vectors:
                scalar = name in SCALAR_MODALITIES
                modalities[name] = ProjectedVectors(content.vectors[name], dim, scalar=scalar)
        for name in CODE_MODALITIES:
            if name in content.codes:
                modalities[name] = PooledCodes(content.codes[name], dim)
        self.modalities = nn.ModuleDict(modalities)
        self.fusion = GatedFusion(len(modalities), dim)

    @property
    def modality_names(self) -> tuple[str, ...]:
        """What the vectors are made of: the id, then the content modalities in gate order."""
        return ("id", *self.modalities.keys())

    def forward(self, items: Tensor) -> Tensor:
        """Vectors ``[*, D]`` of items given as shifted ids ``[*]`` (0 = padding: zeros)."""
        # Each distinct item is fused once: a batch repeats items many times.
        distinct, position = torch.unique(items, return_inverse=True)  # [N], [*]
        fused = self._fuse((distinct - 1).clamp_min(0))  # [N, D]
        vectors: Tensor = fused[position] * (items > 0).unsqueeze(-1)  # [*, D]
        return vectors

    def item_vectors(self) -> Tensor:
        """``[I, D]``: row ``i`` is the vector of item index ``i``."""
        return self._fuse(None)

    def _fuse(self, rows: Tensor | None) -> Tensor:
        """Item indices ``[N]`` (``None``: every item) -> fused vectors ``[N, D]``."""
        ids = self.ids.weight[1:] if rows is None else self.ids(rows + 1)  # [N, D]
        vectors = ids * self._has_id(rows).unsqueeze(-1)  # [N, D]
        if not self.modalities:
            return vectors

        parts, present = [], []
        for modality in self.modalities.values():
            part, has = modality(rows)  # [N, D], [N]
            parts.append(part)
            present.append(has)
        content: Tensor = self.fusion(torch.stack(parts, dim=1), torch.stack(present, dim=1))
        return vectors + content  # [N, D]

    def _has_id(self, rows: Tensor | None) -> Tensor:
        """``[N]``: which items get their id part in this lookup."""
        known = self.known if rows is None else self.known[rows]
        if not (self.training and self.id_dropout > 0):
            return known
        return known & (torch.rand(known.shape) >= self.id_dropout)


def item_content_of(tower_state: Mapping[str, Tensor]) -> ItemContent:
    """The content a saved :class:`MultimodalItemTower` holds, read from its ``state_dict``.

    Used to build the tower again, with the same shapes, before the weights are loaded.
    """
    vectors = {
        name: Vectors(
            tower_state[f"modalities.{name}.values"].numpy(),
            tower_state[f"modalities.{name}.present"].numpy(),
        )
        for name in VECTOR_MODALITIES
        if f"modalities.{name}.values" in tower_state
    }
    codes = {
        name: Codes(
            tower_state[f"modalities.{name}.codes"].numpy(),
            tower_state[f"modalities.{name}.sizes"].numpy(),
        )
        for name in CODE_MODALITIES
        if f"modalities.{name}.codes" in tower_state
    }
    return ItemContent(tower_state["known"].numpy(), vectors, codes)
