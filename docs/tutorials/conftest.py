"""Fixtures for the tutorial pages whose code needs data that is not bundled with mynn.

A fence written ```` ```{.python fixture:mnist_data} ```` receives MNIST as
``(X_train, y_train, X_test, y_test)`` from the cache; ``fashion_mnist_data`` does the same
for Fashion-MNIST. Neither downloads anything: when the files are not cached the block is
skipped, and the skip reason (shown by ``pytest -rs``) names the folder and the command that
fills it. Run ``python -m mynn.mnist`` once on a machine with internet access to run them.
"""

from __future__ import annotations

import pytest

from mynn.mnist import DATASETS, default_cache_dir, load_fashion_mnist, load_mnist


def _cached(loader, key: str):
    try:
        return loader(download=False)
    except FileNotFoundError:
        pytest.skip(
            f"{DATASETS[key]['title']} is not cached in {default_cache_dir() / key}; "
            f"run `python -m mynn.mnist {key}` with internet access to download it."
        )


@pytest.fixture(scope="session")
def mnist_data():
    """MNIST from the cache, or a skip with the reason."""
    return _cached(load_mnist, "mnist")


@pytest.fixture(scope="session")
def fashion_mnist_data():
    """Fashion-MNIST from the cache, or a skip with the reason."""
    return _cached(load_fashion_mnist, "fashion-mnist")
