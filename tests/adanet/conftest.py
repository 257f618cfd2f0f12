"""Fixtures for the AdaNet tests; data makers live in adanet_data.py."""
import pytest
import torch

from tests.adanet.adanet_data import linear_data, make_spec, parity_data


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Two shared cores: one intra-op thread per test process is fastest and fairest."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def parity():
    return {"spec": make_spec(6, (4, 6)), "train": parity_data(4000, 0), "valid": parity_data(1000, 1),
            "test": parity_data(2000, 2)}


@pytest.fixture
def linear():
    return {"spec": make_spec(5, (4,)), "train": linear_data(3000, 0), "valid": linear_data(1000, 1),
            "test": linear_data(1000, 2)}
