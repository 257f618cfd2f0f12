"""End-of-run report: a Markdown summary and a PNG plot beside the run's models, and the
seed-style comparison table (model, training time, evaluation time, AUC) in the log.

Everything comes from the result tables (this run's rows only: a few dozen), so a
report can be rebuilt for any past run with :func:`write_report`.
"""
from __future__ import annotations

import io
import json
import logging
import math
from typing import Any, Optional, Sequence

from adanet_spark import hadoop_fs
from adanet_spark.results import models

log = logging.getLogger(__name__)

REPORT_MD = "report.md"
REPORT_PNG = "report.png"
SECONDS = "{:.1f}"  # durations to a tenth of a second; metrics get fmt_number's four decimals


def fmt_number(value: Any, fmt: str = "{:.4f}") -> str:
    """A metric for people: ``n/a`` for a missing (None) or undefined (NaN) value, so
    a run with a failed model still prints and renders its table."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return fmt.format(value)


def comparison_table(auc_rows: Sequence[Any]) -> str:
    """The seed-style table: one line per model."""
    head = f"{'model':<20} {'training time (s)':>18} {'evaluation time (s)':>20} {'valid AUC':>10} {'test AUC':>9}"
    lines = [head, "-" * len(head)]
    for r in auc_rows:
        lines.append(f"{r['model']:<20} {fmt_number(r['train_seconds'], SECONDS):>18} "
                     f"{fmt_number(r['eval_seconds'], SECONDS):>20} {fmt_number(r['valid_auc']):>10} "
                     f"{fmt_number(r['test_auc']):>9}")
    return "\n".join(lines)


def plot_png(ensembles: Sequence[Any], candidates: Sequence[Any], title: str) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    its = [r["iteration"] for r in ensembles]
    aucs = [r["valid_auc"] if r["valid_auc"] is not None else math.nan for r in ensembles]
    ax.plot(its, aucs, "-o", color="tab:blue", label="ensemble (valid AUC)", zorder=3)
    done = [r for r in candidates if r["status"] == "completed" and r["valid_auc"] is not None]
    ax.scatter([r["iteration"] for r in done], [r["valid_auc"] for r in done], marker="o", facecolors="none",
               edgecolors="tab:gray", label="candidate (valid AUC)", zorder=2)
    sel = [r for r in done if r["selected"]]
    ax.scatter([r["iteration"] for r in sel], [r["valid_auc"] for r in sel], marker="*", s=140,
               color="tab:green", label="selected candidate", zorder=4)
    known = [a for a in aucs + [r["valid_auc"] for r in done] if a is not None and not math.isnan(a)]
    floor = (min(known) - 0.01) if known else 0.5
    dropped = [r for r in candidates if r["status"] != "completed" or r["valid_auc"] is None]
    if dropped:
        ax.scatter([r["iteration"] for r in dropped], [floor] * len(dropped), marker="x", s=60, color="tab:red",
                   label="dropped straggler / failed (no AUC)", zorder=4)
        for r in dropped:
            ax.annotate(r["candidate"], (r["iteration"], floor), fontsize=7, color="tab:red",
                        xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("AdaNet iteration")
    ax.set_ylabel("validation AUC")
    ax.set_title(title, fontsize=10)
    if its:
        ax.set_xticks(sorted(set(its) | {r["iteration"] for r in candidates}))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _sub(s: dict) -> str:
    return f"{s['name']} (depth {s['depth']}, width {s['width']})"


def _header(run: Any, final: Optional[Any]) -> list[str]:
    out = [f"# AdaNet run `{run['run_id']}`", "",
           f"- dataset: `{run['dataset']}`, date {run['run_date']}, job `{run['job']}`, "
           f"code `{run['code_version']}`",
           f"- started {run['started_at']} UTC (attempt {run['attempts']})"]
    if final is not None:
        arch = json.loads(final["subnetworks"])["subnetworks"]
        out += [f"- final ensemble: iteration {final['iteration']}, {final['n_subnetworks']} subnetworks "
                f"({', '.join(_sub(s) for s in arch) or 'bias only'}), "
                f"{final['num_parameters']:,d} parameters",
                f"- final valid AUC {fmt_number(final['valid_auc'])}, test AUC {fmt_number(final['test_auc'])}",
                f"- model URI: `{final['model_uri']}`"]
    return out


def _table(title: str, head: str, align: str, rows: list[str]) -> list[str]:
    return ["", f"## {title}", "", head, align, *rows]


def markdown(run: Any, ensembles: Sequence[Any], candidates: Sequence[Any], auc_rows: Sequence[Any]) -> str:
    final = next((r for r in ensembles if r["is_final"]), ensembles[-1] if ensembles else None)
    n = fmt_number
    out = _header(run, final)
    out += _table("Models", "| model | training time (s) | evaluation time (s) | valid AUC | test AUC | trials |",
                  "|---|---:|---:|---:|---:|---:|",
                  [f"| {r['model']} | {n(r['train_seconds'], SECONDS)} | {n(r['eval_seconds'], SECONDS)} | "
                   f"{n(r['valid_auc'])} | {n(r['test_auc'])} | {r['trials']} |" for r in auc_rows])
    out += _table("Iterations", "| iteration | selected | subnetworks | valid AUC | valid objective | seconds |",
                  "|---:|---|---:|---:|---:|---:|",
                  [f"| {r['iteration']} | {r['selected_candidate']} | {r['n_subnetworks']} | {n(r['valid_auc'])} | "
                   f"{n(r['valid_objective'])} | {n(r['train_seconds'], SECONDS)} |" for r in ensembles])
    out += _table("Candidates",
                  "| iteration | candidate | status | attempts | worker | train s | valid AUC | objective | selected |",
                  "|---:|---|---|---:|---|---:|---:|---:|---|",
                  [f"| {r['iteration']} | {r['candidate']} | {r['status']} | {r['attempts']} | {r['worker']} | "
                   f"{n(r['train_seconds'], SECONDS)} | {n(r['valid_auc'])} | {n(r['objective'])} | "
                   f"{'yes' if r['selected'] else ''} |" for r in candidates])
    out += ["", f"![valid AUC per iteration]({REPORT_PNG})", ""]
    return "\n".join(out)


def write_report(spark, cfg, writer) -> Optional[str]:
    """Write report.md + report.png into the run's model folder; log the comparison table."""
    spark.sparkContext.setJobDescription(f"report {cfg.dataset} run {writer.run_id}")
    run = writer.run_row()
    ensembles = writer.ensemble_rows()
    candidates = writer.candidate_rows()
    auc_rows = writer.auc_rows()
    folder = models.run_dir(cfg.output.warehouse, cfg.output.database, cfg.dataset, writer.run_id)
    text = markdown(run, ensembles, candidates, auc_rows)
    png = plot_png(ensembles, candidates, f"{cfg.dataset}: run {writer.run_id}")
    hadoop_fs.write_bytes(spark, f"{folder}/{REPORT_PNG}", png)
    hadoop_fs.write_text(spark, f"{folder}/{REPORT_MD}", text)
    log.info("run %s: model comparison\n%s", writer.run_id, comparison_table(auc_rows))
    log.info("report: %s/%s (plot %s)", folder, REPORT_MD, REPORT_PNG)
    spark.sparkContext.setJobDescription(None)
    return folder
