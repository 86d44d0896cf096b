"""Sequence-model tests run torch on one thread: their tensors are tiny, and on a shared machine
several threads spend more time waiting for each other than computing. Content models cache
their features in a temporary folder, never in the working directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="package")
def feature_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MERCATO_CACHE", str(tmp_path_factory.mktemp("feature-cache")))
        yield
