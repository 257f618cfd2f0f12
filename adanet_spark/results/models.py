"""Save and load ensembles under a model URI, through Hadoop FS (local, HDFS, S3, DBFS).

Layout of a model URI (``<warehouse>/<db>.db/_models/<dataset>/<run_id>/iter-<k>``)::

    ensemble.safetensors   weights; the architecture JSON is in its metadata
    architecture.json      the same architecture, for people and SQL (EnsembleArch JSON)
    spec.json              the FeatureSpec: the transformation raw rows need before scoring
    model.json             written last, so its presence means "complete": run_id, iteration, ...

Every file is written to a temporary name and renamed (hadoop_fs), and
``model.json`` comes last, so a reader never loads half a model. The ``_models``
folder starts with ``_``: the catalog's warehouse scan and Delta ignore it.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from pyspark.sql import SparkSession

from adanet_spark import catalog, hadoop_fs
from adanet_spark.data.spec import FeatureSpec
from adanet_spark.errors import BadInputError

WEIGHTS = "ensemble.safetensors"
ARCHITECTURE = "architecture.json"
SPEC = "spec.json"
META = "model.json"
MODEL_FORMAT = "adanet-spark/model"


def models_root(warehouse: str, database: str) -> str:
    return catalog.table_path(warehouse, database, "_models")


def run_dir(warehouse: str, database: str, dataset: str, run_id: str) -> str:
    """Where a run's models and its report live."""
    return f"{models_root(warehouse, database)}/{dataset}/{_safe(run_id)}"


def model_uri(warehouse: str, database: str, dataset: str, run_id: str, iteration: int) -> str:
    return f"{run_dir(warehouse, database, dataset, run_id)}/iter-{iteration}"


def _safe(run_id: str) -> str:
    bad = set('/\\:*?"<>| ')
    return "".join("_" if c in bad else c for c in run_id)


@dataclass
class SavedModel:
    uri: str
    ensemble_bytes: bytes
    spec: FeatureSpec
    meta: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.ensemble_bytes).hexdigest()[:16]

    def ensemble(self):
        from adanet_spark.adanet.ensemble import Ensemble
        return Ensemble.from_bytes(self.ensemble_bytes)


def num_parameters(ensemble: Any) -> int:
    return int(sum(p.numel() for p in ensemble.parameters()))


def save_model(spark: SparkSession, uri: str, ensemble: Any, spec: FeatureSpec, **meta: Any) -> str:
    """Write the ensemble, its architecture and spec under ``uri``; returns ``uri``."""
    uri = uri.rstrip("/")
    blob = ensemble.to_bytes()
    hadoop_fs.write_bytes(spark, f"{uri}/{WEIGHTS}", blob)
    hadoop_fs.write_text(spark, f"{uri}/{ARCHITECTURE}", ensemble.architecture.to_json())
    hadoop_fs.write_text(spark, f"{uri}/{SPEC}", spec.to_json())
    info = {"format": MODEL_FORMAT, "version": 1, "n_subnetworks": len(ensemble),
            "num_parameters": num_parameters(ensemble), "sha256": hashlib.sha256(blob).hexdigest(),
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **meta}
    hadoop_fs.write_text(spark, f"{uri}/{META}", json.dumps(info, sort_keys=True, default=str))
    return uri


def model_exists(spark: SparkSession, uri: str) -> bool:
    try:
        return hadoop_fs.exists(spark, f"{uri.rstrip('/')}/{META}")
    except Exception:  # malformed URI, unknown scheme
        return False


def load_model(spark: SparkSession, uri: Optional[str]) -> SavedModel:
    """The model saved under ``uri``; an unknown or incomplete URI is a BadInputError naming it."""
    if not uri:
        raise BadInputError("no model URI given")
    uri = uri.rstrip("/")
    try:
        meta_text = hadoop_fs.read_text(spark, f"{uri}/{META}")
    except FileNotFoundError:
        raise BadInputError(f"unknown model URI '{uri}': no saved AdaNet model there "
                            f"(expected {META}, {WEIGHTS} and {SPEC})") from None
    except Exception as exc:
        raise BadInputError(f"cannot read model URI '{uri}': {str(exc).splitlines()[0][:200]}") from exc
    try:
        meta = json.loads(meta_text)
        blob = hadoop_fs.read_bytes(spark, f"{uri}/{WEIGHTS}")
        spec = FeatureSpec.from_json(hadoop_fs.read_text(spark, f"{uri}/{SPEC}"))
    except FileNotFoundError as exc:
        raise BadInputError(f"model URI '{uri}' is incomplete: {exc} is missing") from exc
    if meta.get("format") != MODEL_FORMAT:
        raise BadInputError(f"model URI '{uri}' does not hold an adanet-spark model")
    if meta.get("sha256") and hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise BadInputError(f"model URI '{uri}': weights do not match their checksum (corrupt copy?)")
    return SavedModel(uri, blob, spec, meta)


def same_transformation(a: FeatureSpec, b: FeatureSpec) -> bool:
    """True when both specs turn raw rows into the same features (a model of one scores the other)."""
    return a.numeric == b.numeric and a.categorical == b.categorical
