"""What every job shares: arguments, logging, the session, and exit codes.

Jobs stay thin: ``run_job(main)`` parses ``--conf/--set``, builds the session and
calls ``main(spark, cfg, args)``. Bad input exits 2 with one clear line; any
other failure exits 1 with its traceback.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Callable, Optional, Sequence

from adanet_spark.config import JobConfig, load_config
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline.summary import print_summary

log = logging.getLogger("adanet_spark")


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--conf", help="YAML job config (conf/<dataset>.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set adanet.max_iterations=3")
    return parser


def resumable_parser(description: str) -> argparse.ArgumentParser:
    """The parser of the jobs that start or resume a run (tune, nightly): ``--fresh``
    discards the run_id's earlier progress instead of resuming it."""
    parser = base_parser(description)
    parser.add_argument("--fresh", action="store_true", help="start the run over instead of resuming it")
    return parser


def resumable_job(run: Callable, description: str) -> tuple[Callable, Callable[[], argparse.ArgumentParser]]:
    """``(main, parser)`` of a job that starts or resumes one run (tune, nightly): ``main``
    calls ``run(spark, cfg, fresh=...)`` and prints the run summary both jobs share."""
    def main(spark, cfg, args) -> None:
        print_summary(run(spark, cfg, fresh=args.fresh))

    return main, lambda: resumable_parser(description)


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_job(name: str, main: Callable, parser: Optional[argparse.ArgumentParser] = None,
            argv: Optional[Sequence[str]] = None, needs_config: bool = True) -> int:
    """Run ``main(spark, cfg, args)``; returns the process exit code."""
    setup_logging()
    parser = parser or base_parser(name)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        cfg: JobConfig = load_config(args.conf, args.overrides)
        from adanet_spark.session import get_session
        spark = get_session(f"adanet-spark {name} {cfg.dataset}", cfg.output.warehouse)
        main(spark, cfg, args)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BadInputError.exit_code
    except Exception:
        log.exception("%s failed", name)
        return 1
    log.info("%s finished in %.1f s", name, time.perf_counter() - started)
    return 0


def exit_with(code: int) -> None:
    sys.stdout.flush()
    sys.exit(code)
