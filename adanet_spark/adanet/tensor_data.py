"""TensorData: one split in memory, the core's reference :class:`~adanet_spark.adanet.protocol.SplitData`.

It is also a :class:`~adanet_spark.adanet.protocol.Split` (``load()`` returns itself),
so a search runs on in-memory tensors as well as on references the workers load.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class TensorData:
    """One split as tensors: ``numeric`` float32 [N, n_num], ``categorical`` int64 [N, n_cat],
    ``label`` float32 [N]."""

    numeric: torch.Tensor
    categorical: torch.Tensor
    label: torch.Tensor

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def load(self) -> "TensorData":
        return self

    def subset(self, index: torch.Tensor | slice) -> "TensorData":
        return TensorData(self.numeric[index], self.categorical[index], self.label[index])

    def shard(self, rank: int, size: int) -> "TensorData":
        """Every ``size``-th row starting at ``rank``: the data-parallel share of one worker."""
        return self.subset(slice(rank, None, size))

    @classmethod
    def from_numpy(cls, numeric: np.ndarray, categorical: np.ndarray, label: np.ndarray) -> "TensorData":
        n = len(label)
        numeric = _rows(np.asarray(numeric, dtype=np.float32), n)
        categorical = _rows(np.asarray(categorical, dtype=np.int64), n)
        return cls(torch.from_numpy(np.ascontiguousarray(numeric)),
                   torch.from_numpy(np.ascontiguousarray(categorical)),
                   torch.from_numpy(np.asarray(label, dtype=np.float32)))


def _rows(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` as [n, k]; a 2-D array keeps its width even with zero rows (reshape(0, -1) cannot)."""
    return a if a.ndim == 2 else a.reshape(n, -1)


