"""Where a run starts: over, after its last committed iteration, or from a warm start.

* each AdaNet iteration ends by saving its ensemble under a model URI, then
  replacing the iteration's ``candidates`` rows, then its ``ensembles`` row (the
  marker that the iteration is complete);
* a rerun with the same run_id reads the run's ``ensembles`` rows back, loads the
  last one's model, and continues the search at the next iteration with the
  remaining iteration budget (``start_iteration`` + ``warm_start`` of
  :class:`AdaNetSearch`); rows a crashed attempt left beyond that point are
  deleted first. A run whose search already ended (budget used, or its last
  iteration selected no candidate) is only finalised again. ``fresh=True``
  (``--fresh`` on the jobs) discards the run's earlier progress instead;
* a run with no progress starts from ``adanet.warm_start``: nothing, the final
  model of the dataset's latest succeeded run (``latest``), or a model URI.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Optional

from pyspark.sql import SparkSession

from adanet_spark.config import JobConfig
from adanet_spark.data.spec import FeatureSpec
from adanet_spark.errors import BadInputError
from adanet_spark.results import models
from adanet_spark.results.queries import latest_final_model
from adanet_spark.results.report import fmt_number
from adanet_spark.results.writer import ResultsWriter

log = logging.getLogger(__name__)


@dataclass
class ResumePlan:
    """What this attempt of the run does; ``done``: the search already ended, only finalise."""

    warm_start: Any = None  # Ensemble to grow, or None
    start_iteration: Optional[int] = None
    remaining: int = 0
    done: bool = False
    last_uri: Optional[str] = None
    resumed_at: Optional[int] = None
    history: list = field(default_factory=list)  # the committed iterations' records, for the generator


def plan(spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec: FeatureSpec,
         fresh: bool) -> ResumePlan:
    """Resume the run from its committed iterations when their last model still fits
    ``spec``; otherwise clear them and start over (warm-started if configured)."""
    if fresh:
        writer.clear_auc_reports()
    rows = [] if fresh else writer.ensemble_rows()
    resumed = _resume(spark, cfg, writer, spec, rows) if rows else None
    if resumed is not None:
        return resumed
    writer.clear_iterations(None)
    return ResumePlan(warm_start=warm_start(spark, cfg, writer, spec), remaining=cfg.adanet.max_iterations)


def _resume(spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec: FeatureSpec,
            rows: list[dict]) -> Optional[ResumePlan]:
    last = rows[-1]
    try:
        saved = models.load_model(spark, last["model_uri"])
    except BadInputError as exc:
        log.warning("run %s: cannot resume, the model of iteration %d is unreadable (%s); starting over",
                    writer.run_id, last["iteration"], exc)
        return None
    if not models.same_transformation(saved.spec, spec):
        log.warning("run %s: the feature table changed since iteration %d was saved; starting over",
                    writer.run_id, last["iteration"])
        return None
    budget, done = cfg.adanet.max_iterations, len(rows)
    writer.clear_iterations(last["iteration"] + 1)  # what a crashed attempt left beyond
    finished = last["selected_candidate"] == "previous" or done >= budget
    log.info("run %s: %d iteration(s) already complete (last #%d, %d subnetworks, valid AUC %s); %s",
             writer.run_id, done, last["iteration"], last["n_subnetworks"], fmt_number(last["valid_auc"]),
             "search already finished: finalising" if finished
             else f"resuming at iteration #{last['iteration'] + 1}")
    return ResumePlan(saved.ensemble(), last["iteration"] + 1, budget - done, finished, last["model_uri"],
                      None if finished else last["iteration"] + 1, history(rows, writer.candidate_rows()))


def history(ensembles: list[dict], candidates: list[dict]) -> list[dict]:
    """The committed iterations as the generator reads its reports (each iteration's
    candidates, then the iteration's outcome), so that a resumed search adapts to what
    the interrupted one learned instead of proposing the first iteration again."""
    records, size = [], 0
    for e in ensembles:
        for c in (c for c in candidates if c["iteration"] == e["iteration"]):
            records.append({"kind": "candidate", "iteration": c["iteration"], "candidate": c["candidate"],
                            "selected": bool(c["selected"]), "hyperparameters_json": c["hyperparameters"],
                            "n_subnetworks": size + 1})
        records.append({"kind": "iteration", "iteration": e["iteration"], "candidate": e["selected_candidate"]})
        size = e["n_subnetworks"]
    return records


def warm_start(spark: SparkSession, cfg: JobConfig, writer: ResultsWriter, spec: FeatureSpec):
    """The ensemble ``adanet.warm_start`` names, or None. ``latest`` quietly falls back to
    scratch (nothing to grow yet is normal); an explicit URI that does not fit is an error."""
    choice = cfg.adanet.warm_start
    if not choice:
        return None
    if choice == "latest":
        uri = latest_final_model(spark, cfg, exclude_run=writer.run_id)
        if uri is None:
            log.info("adanet.warm_start=latest: no earlier successful run of dataset %s; starting from scratch",
                     cfg.dataset)
            return None
        saved = models.load_model(spark, uri)
        if not models.same_transformation(saved.spec, spec):
            log.warning("adanet.warm_start=latest: %s was trained on other features (the feature table was "
                        "rebuilt with different statistics or levels); starting from scratch", uri)
            return None
    else:
        saved = fitting_model(spark, cfg, spec)
    ensemble = saved.ensemble()
    log.info("warm start from %s (%d subnetworks)", saved.uri, len(ensemble))
    return ensemble


def fitting_model(spark: SparkSession, cfg: JobConfig, spec: FeatureSpec) -> models.SavedModel:
    """The model an explicit ``adanet.warm_start`` URI names; BadInputError if it is missing
    or was trained on other features. The jobs call it before the run starts, too."""
    saved = models.load_model(spark, cfg.adanet.warm_start)
    if not models.same_transformation(saved.spec, spec):
        raise BadInputError(f"adanet.warm_start model '{cfg.adanet.warm_start}' was trained on other features "
                            f"than the feature table of dataset '{cfg.dataset}'")
    return saved
