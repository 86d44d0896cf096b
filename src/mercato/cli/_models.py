"""The model and feature commands: ``mercato train``, ``recommend`` and ``features``."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray
from rich.table import Table

from mercato.cli._app import QuietOption, StoreOption, _reasons, app, console
from mercato.data import DEFAULT_STORE, Dataset, Store
from mercato.errors import ConfigError, DataError
from mercato.features import (
    IMAGE_ENCODER_NAMES,
    TEXT_ENCODER_NAMES,
    ImageEncoder,
    ItemEncoders,
    ItemFeatures,
    TextEncoder,
    build_item_features,
    image_encoder_named,
    text_encoder_named,
)
from mercato.models import Recommendations, get_model, load_model, model_class

__all__: list[str] = []


@app.command("train")
@_reasons
def train_command(
    model: Annotated[str, typer.Option("--model", "-m", help="A registered model name.")],
    store: StoreOption = DEFAULT_STORE,
    out: Annotated[
        Path | None, typer.Option(help="Where to save the model [default: .mercato/models/NAME].")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="A config setting as key=value (JSON values); repeatable."),
    ] = None,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            help="Save training progress here after every epoch, and resume from it when the "
            "same command runs again (sequence models)."
        ),
    ] = None,
) -> None:
    """Fit a registered model on the store's dataset and save it."""
    options = _checkpoint_option(model, checkpoint_dir)
    recommender = get_model(model, **options, **_settings(settings or []))
    dataset = Store(store).dataset()
    started = time.perf_counter()
    recommender.fit(dataset)
    seconds = time.perf_counter() - started
    saved = recommender.save(out if out is not None else Path(".mercato/models") / model)
    console.print(
        f"[green]trained[/] {model} on {dataset.n_users:,} users and {dataset.n_items:,} items "
        f"in {seconds:.1f}s; saved to {saved}",
        highlight=False,
    )


def _checkpoint_option(model: str, checkpoint_dir: Path | None) -> dict[str, Path]:
    """``{"checkpoint_dir": ...}`` for a model that trains in epochs; refused for the others."""
    if checkpoint_dir is None:
        return {}
    if "checkpoint_dir" not in inspect.signature(model_class(model)).parameters:
        raise ConfigError(
            f"--checkpoint-dir applies to models that train in epochs; {model!r} does not. "
            "Drop the option, or pick caser, gru4rec, sasrec, multimodal or two-tower."
        )
    return {"checkpoint_dir": checkpoint_dir}


@app.command("recommend")
@_reasons
def recommend_command(
    model_dir: Annotated[Path, typer.Option(help="A model folder saved by 'mercato train'.")],
    store: StoreOption = DEFAULT_STORE,
    user: Annotated[str | None, typer.Option(help="Recommend for this user id.")] = None,
    session: Annotated[
        str | None, typer.Option(help="Recommend after these item ids (space-separated).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many items to list.")] = 10,
    keep_seen: Annotated[
        bool, typer.Option(help="Also list items the user or session has seen.")
    ] = False,
) -> None:
    """Top-k items for one user, or for a session of item ids, from a saved model."""
    if (user is None) == (session is None):
        raise ConfigError("pass exactly one of --user ID or --session 'item item ...'")
    recommender = load_model(model_dir)
    dataset = Store(store).dataset()
    if user is not None:
        users = _known(dataset.user_index([user], missing=-1), [user], "user", store)
        top = recommender.recommend(users=users, k=k, exclude_seen=not keep_seen)
        title = f"top {k} for user {user}"
    else:
        ids = (session or "").split()
        history = _known(dataset.item_index(ids, missing=-1), ids, "item", store)
        if len(history) == 0:
            raise ConfigError("--session needs at least one item id")
        top = recommender.recommend(histories=[history], k=k, exclude_seen=not keep_seen)
        title = f"top {k} after {len(history)} session items"
    console.print(_recommendation_table(dataset, top, title))


def _known(index: NDArray[np.int64], ids: list[str], kind: str, store: Path) -> NDArray[np.int64]:
    """``index`` itself, or a ``DataError`` naming the first id the store does not know."""
    if (index < 0).any():
        raise DataError(
            f"unknown {kind} id {ids[int(np.argmax(index < 0))]!r}",
            file=store,
            expected=f"one of the store's {kind} ids",
            fix=f"check the id, or run 'mercato info --store {store}'",
        )
    return index


def _recommendation_table(dataset: Dataset, top: Recommendations, title: str) -> Table:
    items = dataset.items.reindex(pd.RangeIndex(dataset.n_items))
    extra = [column for column in ("title", "category") if column in items.columns]
    table = Table(title=title, title_justify="left")
    for column in ("rank", "item", "score", *extra):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    ranked = [(i, s) for i, s in zip(top.items[0], top.scores[0], strict=True) if i >= 0]
    for rank, (item, score) in enumerate(ranked, start=1):
        cells = [_cell(items.at[int(item), column]) for column in extra]
        table.add_row(str(rank), str(dataset.item_ids[item]), f"{score:.4f}", *cells)
    return table


@app.command("features")
@_reasons
def features_command(
    store: StoreOption = DEFAULT_STORE,
    out: Annotated[Path, typer.Option(help="Where to save the features.")] = Path(
        ".mercato/features.npz"
    ),
    text: Annotated[str, typer.Option(help="Text encoder: tfidf, minilm, e5 or none.")] = "tfidf",
    image: Annotated[str, typer.Option(help="Image encoder: efficientnet or none.")] = "none",
    cache: Annotated[
        Path | None, typer.Option(help="Folder of the content-keyed vector cache.")
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Drop cached vectors this catalogue no longer uses.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Encode every catalogue item (text, image, reviews, price, codes) and save the features."""
    encoders = ItemEncoders(text=_text_encoder(text), image=_image_encoder(image))
    dataset = Store(store).dataset()
    features = build_item_features(
        dataset, encoders, cache_dir=cache, progress=not quiet, prune_cache=prune
    )
    saved = features.save(out)
    console.print(_coverage_table(features, saved))


def _text_encoder(name: str) -> TextEncoder | None:
    if name not in TEXT_ENCODER_NAMES:
        raise ConfigError(f"--text must be one of {', '.join(TEXT_ENCODER_NAMES)}; got {name!r}.")
    return text_encoder_named(name)


def _image_encoder(name: str) -> ImageEncoder | None:
    if name not in IMAGE_ENCODER_NAMES:
        raise ConfigError(f"--image must be one of {', '.join(IMAGE_ENCODER_NAMES)}; got {name!r}.")
    return image_encoder_named(name)


def _coverage_table(features: ItemFeatures, saved: Path) -> Table:
    total = len(features.item_ids)
    table = Table(title=f"item features ({saved})", title_justify="left")
    for column in ("modality", "items", "share", "width"):
        table.add_column(column, justify="left" if column == "modality" else "right")
    for name in ("text", "image", "video", "review"):
        vectors: np.ndarray[Any, Any] = getattr(features, name)
        count = int(np.count_nonzero(getattr(features, f"{name}_mask")))
        share = count / total if total else 0.0
        table.add_row(name, f"{count:,} of {total:,}", f"{share:.0%}", str(vectors.shape[1]))
    return table


def _settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set takes key=value, e.g. --set factors=64; got {pair!r}.")
        settings[key.strip()] = _value(text)
    return settings


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value)
