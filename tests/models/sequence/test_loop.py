"""The shared training loop: early stopping, restoring the best epoch, logging, determinism."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
import torch

from mercato.data import Dataset
from mercato.models import SASRecConfig
from mercato.models.sequence import _loop
from mercato.models.sequence._data import Windows
from mercato.models.sequence._modules import ItemTower, SequenceEncoder
from mercato.models.sequence._sasrec import SASRecEncoder

from ..data import make_dataset
from .planted import cycles
from .test_learning import build

LOOP_LOGGER = "mercato.models.sequence._loop"


def scripted_validation(values: list[float]) -> tuple[Callable[..., float], list[int]]:
    """A stand-in for ``validation_ndcg`` that returns ``values`` in turn and counts calls."""
    calls: list[int] = []
    stream: Iterator[float] = iter(values)

    def validate(
        encoder: SequenceEncoder, valid: Windows, users: np.ndarray | None = None
    ) -> float:
        calls.append(len(calls) + 1)
        return next(stream)

    return validate, calls


def epoch_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The one-line-per-epoch reports the loop logged."""
    records = [r for r in caplog.records if r.name == LOOP_LOGGER]
    return [r.getMessage() for r in records if "epoch %d/%d" in r.msg]


def test_early_stopping_stops_and_restores_the_best_epoch(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, train, _, _ = cycles()
    users = np.arange(train.n_users)

    # Best at epoch 2, then two epochs without a better score: patience 2 stops after epoch 4.
    validate, calls = scripted_validation([0.1, 0.5, 0.3, 0.4, 0.9, 0.9])
    monkeypatch.setattr(_loop, "validation_ndcg", validate)
    with caplog.at_level(logging.INFO, logger=LOOP_LOGGER):
        stopped = build("gru4rec", max_epochs=6, patience=2).fit(train)
    assert len(calls) == 4
    assert len(epoch_lines(caplog)) == 4
    assert "restored epoch 2" in caplog.text

    # Validation draws no random numbers, so two epochs with no stopping give epoch 2's weights.
    validate, _ = scripted_validation([0.1, 0.5])
    monkeypatch.setattr(_loop, "validation_ndcg", validate)
    two_epochs = build("gru4rec", max_epochs=2, patience=2).fit(train)
    np.testing.assert_array_equal(stopped.score_users(users), two_epochs.score_users(users))
    # ...and restoring did something: the last epoch's weights score differently.
    validate, _ = scripted_validation([0.1, 0.2, 0.3, 0.4])
    monkeypatch.setattr(_loop, "validation_ndcg", validate)
    four_epochs = build("gru4rec", max_epochs=4, patience=4).fit(train)
    assert not np.array_equal(four_epochs.score_users(users), two_epochs.score_users(users))


def test_training_stops_once_validation_cannot_improve(caplog: pytest.LogCaptureFixture) -> None:
    _, train, _, _ = cycles()
    with caplog.at_level(logging.INFO, logger=LOOP_LOGGER):
        build("sasrec", max_epochs=60, patience=2).fit(train)
    lines = epoch_lines(caplog)
    assert 3 <= len(lines) < 60
    assert "valid NDCG@10" in lines[0] and " s" in lines[0]


def test_validation_ranks_a_seeded_sample_of_the_held_out_events(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, train, _, _ = cycles()
    sizes: list[int] = []

    def validate(
        encoder: SequenceEncoder, valid: Windows, users: np.ndarray | None = None
    ) -> float:
        sizes.append(len(valid))
        return 0.0

    monkeypatch.setattr(_loop, "validation_ndcg", validate)
    with caplog.at_level(logging.INFO):
        build("sasrec", max_epochs=2, max_valid=7).fit(train)
        build("sasrec", max_epochs=1, max_valid=None).fit(train)
    assert sizes[:2] == [7, 7] and sizes[2] > 7
    assert f"validating on 7 of {sizes[2]} held-out events" in caplog.text


def test_without_validation_every_epoch_runs(caplog: pytest.LogCaptureFixture) -> None:
    # Sequences of two events are too short to give one to validation.
    frame = pd.DataFrame({"user_idx": np.repeat(np.arange(6), 2), "item_idx": [0, 1, 1, 2] * 3})
    with caplog.at_level(logging.INFO, logger=LOOP_LOGGER):
        model = build("sasrec", max_epochs=3, patience=1).fit(make_dataset(frame, 6, 3))
    assert len(epoch_lines(caplog)) == 3
    assert np.isfinite(model.score_users(np.arange(6))).all()


def test_nothing_to_learn_leaves_the_encoder_untrained(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"user_idx": [0, 1, 2], "item_idx": [0, 1, 2]})
    with caplog.at_level(logging.WARNING):
        model = build("caser").fit(make_dataset(frame, 3, 4))
    assert "stays untrained" in caplog.text
    assert np.isfinite(model.score_users(np.arange(3))).all()


def test_the_seed_decides_the_model_and_the_callers_generator_is_left_alone() -> None:
    _, train, _, _ = cycles()
    users = np.arange(train.n_users)

    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = build("sasrec", max_epochs=2, seed=1).fit(train).score_users(users)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected_next.numpy())

    again = build("sasrec", max_epochs=2, seed=1).fit(train).score_users(users)
    other = build("sasrec", max_epochs=2, seed=2).fit(train).score_users(users)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_fit_respects_the_torch_thread_count() -> None:
    _, train, _, _ = cycles(n_sequences=20)
    torch.set_num_threads(1)
    build("gru4rec", max_epochs=1).fit(train)
    assert torch.get_num_threads() == 1


def test_the_targets_sampler_draws_only_items_that_are_trained_on() -> None:
    counts = np.array([3.0, 0.0, 1.0, 0.0, 0.0, 2.0])
    config = SASRecConfig(negative_sampler="targets", n_negatives=500)
    loss = _loop._loss(config, counts)
    assert isinstance(loss, _loop._SampledSoftmax)
    torch.manual_seed(0)
    assert set(loss._draw(()).tolist()) == {0, 2, 5}


def test_per_position_negatives_are_drawn_for_each_row_and_never_the_target() -> None:
    loss = _loop._loss(SASRecConfig(n_negatives=3, shared_negatives=False), np.ones(5))
    assert isinstance(loss, _loop._SampledSoftmax)
    torch.manual_seed(0)
    drawn = loss._draw((400,))
    assert drawn.shape == (400, 3) and len({tuple(row) for row in drawn.tolist()}) > 50

    # Every state points at item 0; a row whose negatives all equal its target (item 0) is
    # masked down to the target alone, so its loss is zero whatever the vectors.
    tower = ItemTower(5, 4)
    states = tower.item_vectors()[:1].detach().expand(2, -1)  # [2, D]
    targets = torch.tensor([0, 0])
    loss.probabilities = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0])
    assert float(loss(states, targets, tower).detach()) == pytest.approx(0.0, abs=1e-6)
    loss.probabilities = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])
    assert float(loss(states, targets, tower).detach()) > 0.0


def last_step_only() -> tuple[Dataset, np.ndarray]:
    """Sequences ``[r, 1, 2]``: the step ``1 -> 2`` only ever happens as a held-out event."""
    rng = np.random.default_rng(0)
    n_users = 48
    starts = rng.integers(3, 10, size=n_users)
    items = np.column_stack([starts, np.ones(n_users, int), np.full(n_users, 2)]).ravel()
    frame = pd.DataFrame({"user_idx": np.repeat(np.arange(n_users), 3), "item_idx": items})
    return make_dataset(frame, n_users, 10), np.column_stack([starts, np.ones(n_users, int)])


@pytest.mark.parametrize("refit", [False, True])
def test_refit_learns_from_the_held_out_events(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, refit: bool
) -> None:
    train, histories = last_step_only()

    # Best at epoch 8 of 10: the refit then runs 8 epochs on every event, without validation.
    validate, calls = scripted_validation([0.1 * epoch for epoch in range(1, 9)] + [0.1, 0.1])
    monkeypatch.setattr(_loop, "validation_ndcg", validate)
    with caplog.at_level(logging.INFO):
        model = build("sasrec", max_epochs=10, patience=10, refit=refit).fit(train)
    assert len(calls) == 10
    assert len(epoch_lines(caplog)) == (18 if refit else 10)
    assert ("refitting on every event for 8 epochs" in caplog.text) == refit

    top = model.recommend(histories=list(histories), k=1, exclude_seen=False).items[:, 0]
    hit_rate = float(np.mean(top == 2))
    # Without the refit, item 2 was never a training target: nothing points from 1 to it.
    assert hit_rate >= 0.9 if refit else hit_rate <= 0.1


def test_bf16_logits_give_the_float32_loss_to_bfloat16_precision() -> None:
    torch.manual_seed(0)
    tower = ItemTower(300, 32)
    states = torch.randn(64, 32, requires_grad=True)
    targets = torch.randint(300, (64,))
    exact = _loop._loss(SASRecConfig(loss="softmax"), np.ones(300))(states, targets, tower)
    fast = _loop._loss(SASRecConfig(loss="softmax", bf16_logits=True), np.ones(300))(
        states, targets, tower
    )
    assert fast.dtype == torch.float32
    assert float(fast.detach()) == pytest.approx(float(exact.detach()), rel=1e-2)
    (gradient,) = torch.autograd.grad(fast, states)
    (expected,) = torch.autograd.grad(exact, states)
    assert (
        torch.nn.functional.cosine_similarity(gradient.flatten(), expected.flatten(), dim=0) > 0.99
    )


def test_the_full_softmax_is_torchs_cross_entropy_with_its_gradients() -> None:
    torch.manual_seed(0)
    tower = ItemTower(300, 32)
    with torch.no_grad():
        tower.ids.weight.normal_(std=0.5)  # logits far from zero, as after some training
    states = torch.randn(64, 32, requires_grad=True)
    targets = torch.randint(300, (64,))
    loss = _loop._loss(SASRecConfig(loss="softmax"), np.ones(300))(states, targets, tower)
    gradients = torch.autograd.grad(3.0 * loss, (states, tower.ids.weight))

    expected = torch.nn.functional.cross_entropy(states @ tower.item_vectors().T, targets)
    expected_gradients = torch.autograd.grad(3.0 * expected, (states, tower.ids.weight))
    torch.testing.assert_close(loss, expected)
    for gradient, reference in zip(gradients, expected_gradients, strict=True):
        torch.testing.assert_close(gradient, reference)
    assert float(gradients[1][0].abs().max()) == 0.0  # the padding row gets no gradient


@pytest.mark.parametrize("loss", ["softmax", "sampled"])
def test_a_temperature_makes_every_logit_a_cosine_over_it(loss: str) -> None:
    torch.manual_seed(0)
    config = SASRecConfig(embedding_dim=32, loss=loss, n_negatives=299, score_temperature=0.1)
    encoder = SASRecEncoder(ItemTower(300, 32), config)
    with torch.no_grad():
        encoder.tower.ids.weight.normal_(std=0.5)
    raw = torch.randn(64, 32, requires_grad=True)
    targets = torch.randint(300, (64,))

    states = encoder.readout(raw, None)
    assert torch.allclose(states.norm(dim=1), torch.full((64,), 10.0))
    assert torch.allclose(encoder.item_vectors().norm(dim=1), torch.ones(300))

    loss_of = _loop._loss(config, np.ones(300))
    torch.manual_seed(1)
    value = loss_of(states, targets, encoder)
    logits = (
        torch.nn.functional.cosine_similarity(
            raw[:, None, :], encoder.tower.item_vectors()[None], dim=2
        )
        / 0.1
    )  # [64, 300]
    if loss == "sampled":  # the target in column 0, then the same draw of negatives
        assert isinstance(loss_of, _loop._SampledSoftmax)
        torch.manual_seed(1)
        drawn = loss_of._draw(())  # [K]
        negative = logits[:, drawn].masked_fill(drawn[None] == targets[:, None], -math.inf)
        logits = torch.cat([logits.gather(1, targets[:, None]), negative], dim=1)
        targets = torch.zeros_like(targets)
    torch.testing.assert_close(value, torch.nn.functional.cross_entropy(logits, targets))


def test_with_a_temperature_an_items_vector_length_does_not_change_its_scores() -> None:
    torch.manual_seed(0)
    states = torch.randn(16, 8)
    for temperature, unchanged in ((0.1, True), (None, False)):
        encoder = SASRecEncoder(
            ItemTower(20, 8),
            SASRecConfig(embedding_dim=8, max_len=4, score_temperature=temperature),
        )
        before = encoder.readout(states, None) @ encoder.item_vectors().T  # [16, 20]
        with torch.no_grad():
            encoder.tower.ids.weight[1:4] *= 5.0  # items 0, 1 and 2
        after = encoder.readout(states, None) @ encoder.item_vectors().T
        assert torch.allclose(before, after) == unchanged
        assert torch.allclose(before[:, 3:], after[:, 3:])


def test_a_fitted_model_with_a_temperature_ranks_by_cosine() -> None:
    _, train, _, _ = cycles()
    users = np.arange(train.n_users)
    model = build("sasrec", max_epochs=2, score_temperature=0.2).fit(train)

    encoder = model._encoder  # type: ignore[attr-defined]
    windows = model._user_windows.rows(users)  # type: ignore[attr-defined]
    with torch.inference_mode():
        last = encoder(*_loop._inputs(encoder, windows))[:, -1]  # [U, D], before the readout
        cosines = torch.nn.functional.cosine_similarity(
            last[:, None, :], encoder.tower.item_vectors()[None], dim=2
        )
    np.testing.assert_allclose(model.score_users(users), cosines.numpy() / 0.2, atol=1e-4)
