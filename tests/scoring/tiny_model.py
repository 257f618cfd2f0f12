"""Helpers of the scoring tests: a small saved ensemble, raw rows for it, and its
probabilities computed in this process (imported as ``tests.scoring.tiny_model``)."""
import numpy as np
import pandas as pd
import torch

from adanet_spark.adanet.architecture import InputSpec, SubnetworkArch
from adanet_spark.adanet.ensemble import Ensemble
from adanet_spark.adanet.subnetwork import Subnetwork
from adanet_spark.data import features
from adanet_spark.data.spec import CategoricalFeature, FeatureSpec, NumericFeature
from adanet_spark.results import models

# xz is a derived feature; ``label`` a derived non-feature whose input (answer) scoring rows lack.
SPEC = FeatureSpec(dataset="tiny",
                   numeric=(NumericFeature("x", 0.1, 1.1, 0.1), NumericFeature("z", -0.2, 0.9, -0.2),
                            NumericFeature("xz", 0.0, 1.3, 0.0)),
                   categorical=(CategoricalFeature("color", ("red", "green", "blue")),),
                   source_label="answer", positive="yes",
                   derived={"xz": "x * z", "label": "CAST(answer = 'yes' AS INT)"}, key_columns=("id",))


def tiny_ensemble(spec: FeatureSpec = SPEC, seed: int = 0) -> Ensemble:
    torch.manual_seed(seed)
    inputs = InputSpec(len(spec.numeric), tuple(spec.cardinalities), 4)
    subs = [Subnetwork(SubnetworkArch(f"s{i}", depth=1 + i, width=3, inputs=inputs)) for i in range(2)]
    return Ensemble(subs, mixture=[0.9, 0.6], bias=-0.1)


def save_tiny_model(spark, folder, seed: int = 0) -> models.SavedModel:
    """A saved model under ``folder``, loaded back as jobs load it."""
    uri = models.save_model(spark, f"file://{folder}/tiny/iter-1", tiny_ensemble(seed=seed), SPEC,
                            run_id="score-run", iteration=1)
    return models.load_model(spark, uri)


def raw_frame(n: int = 300, seed: int = 1) -> pd.DataFrame:
    """Raw scoring rows: no label, a rare colour, a null and an infinity among the numbers."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    x[3], z[5] = np.nan, np.inf
    color = rng.choice(["red", "green", "blue", "rare", None], size=n, p=[.4, .3, .2, .05, .05])
    return pd.DataFrame({"id": np.arange(n), "x": x, "z": z, "color": color})


def in_process(spark, saved, frame: pd.DataFrame) -> pd.Series:
    """P(label = 1) by id: xz computed in pandas, Spark's own ``features.transform``, then
    the ensemble in this process (no UDF, no model cache)."""
    with_xz = frame.assign(xz=frame["x"] * frame["z"])
    rows = features.transform(spark.createDataFrame(with_xz), saved.spec, keep=("id",)).toPandas()
    p = saved.ensemble().predict_proba((rows[saved.spec.numeric_names].to_numpy(np.float32),
                                        rows[saved.spec.categorical_names].to_numpy(np.int64)))
    return pd.Series(np.asarray(p, dtype=np.float64), index=rows["id"].to_numpy())
