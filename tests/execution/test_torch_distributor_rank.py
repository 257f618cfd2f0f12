"""What a TorchDistributor rank uses: the import path it inherits, and the group's collectives
on a real two-process gloo group."""
from __future__ import annotations

import os
import socket
import sys
import zipfile

import torch
import torch.multiprocessing as mp

from adanet_spark.execution.torch_distributor_rank import average_in_place, group_agrees, worker_pythonpath


def test_the_import_path_of_the_ranks_is_absolute_and_leaves_out_the_interpreter(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / "shipped.zip", "w") as z:
        z.writestr("pkg/__init__.py", "")
    monkeypatch.chdir(tmp_path)  # an executor's working directory, where Spark puts --py-files
    site = next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages"))
    monkeypatch.setattr(sys, "path", ["", "./shipped.zip", "./missing.zip", site])
    monkeypatch.setenv("PYTHONPATH", "/opt/spark/python/lib/pyspark.zip")
    assert worker_pythonpath().split(os.pathsep) == [
        str(tmp_path), str(tmp_path / "shipped.zip"), "/opt/spark/python/lib/pyspark.zip"]


def _rank(rank: int, port: int, results) -> None:
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    allreduce_ = average_in_place(2)
    grads = [torch.full((2, 3), float(rank)), torch.full((4,), 10.0 * rank)]
    allreduce_(grads)  # a list: one flattened operation
    loss = torch.tensor([1.0 + rank], dtype=torch.float64)
    allreduce_(loss)  # one tensor, another dtype
    results[rank] = (grads[0].tolist(), grads[1].tolist(), loss.item(), group_agrees(rank == 1), group_agrees(False))
    dist.destroy_process_group()


def test_a_group_averages_in_place_and_agrees_on_stopping():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(_rank, args=(port, results), nprocs=2, join=True)
    for rank in (0, 1):
        g0, g1, loss, any_true, all_false = results[rank]
        assert g0 == [[0.5] * 3] * 2 and g1 == [5.0] * 4 and loss == 1.5
        assert any_true is True and all_false is False
