"""What every job shares: arguments, logging, the session, exit codes and output streams.

Jobs stay thin: ``run_job(main)`` parses ``--conf/--set``, builds the session and
calls ``main(spark, cfg, args)``. A job run as its own process (``./spark-submit.sh
jobs/<job>.py ...``) keeps stderr for failures only:

* ``0``: success. The log (this process's, the JVM's, the workers') is on stdout.
* ``2``: bad input: exactly one line on stderr, ``error: <what>, <where> (<config key>)``,
  and nothing written (no table, no row).
* ``1``: any other failure: its traceback on stderr; a run that had started is recorded
  ``failed`` with the reason.
* ``143``: stopped by SIGTERM: running candidates are cancelled and the run is recorded
  ``failed`` with that reason; one line on stderr.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Callable, Optional, Sequence, TextIO

from adanet_spark.config import JobConfig, load_config
from adanet_spark.errors import BadInputError
from adanet_spark.pipeline.summary import print_summary
from adanet_spark.results.lease import Terminated, deal_with_stop, failure, request_stop, stop_dealt_with, stop_reason

log = logging.getLogger("adanet_spark")

EXIT_FAILED, EXIT_TERMINATED = 1, 128 + signal.SIGTERM
STOP = "SIGTERM: the job was told to stop (by its cluster manager, or a kill)"


class JobArgumentParser(argparse.ArgumentParser):
    """Command-line mistakes are bad input too: one line, exit 2 (not argparse's usage text)."""

    def error(self, message: str):
        raise BadInputError(f"{message}, command line of {self.prog} (--help)")


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = JobArgumentParser(description=description)
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


def setup_logging(stream: Optional[TextIO] = None) -> None:
    """The job's log goes to stdout (stderr is for failures: see the module doc)."""
    logging.basicConfig(level=logging.INFO, stream=stream or sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # PySpark logs every Spark error it converts as a JSON record with the whole JVM stack
    # (kilobytes), before the job gets to say what was wrong in one line: the job words them.
    from pyspark.logger import PySparkLogger
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def take_stderr() -> TextIO:
    """Send everything to stdout from now on: this process's writes to stderr, and those of
    every process it starts (the JVM of the Spark session inherits file descriptor 2). The
    real stderr is kept aside (not inheritable) for the line a failure leaves there."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        real = os.dup(2)
        os.dup2(1, 2)
    except OSError:  # no such descriptors (an embedding host): leave the streams as they are
        return sys.stderr
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    return os.fdopen(real, "w", buffering=1)


def install_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():  # signal handlers live there only
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame) -> None:
    """Turn SIGTERM into :class:`Terminated` in the main thread, once. Not inside a Py4J call,
    which it would leave between a command and its answer: there Spark's jobs are cancelled
    (so the call returns) and the signal comes again shortly."""
    first = request_stop(STOP)
    if stop_dealt_with():
        return
    if inside_py4j(frame):
        if first:
            threading.Thread(target=_cancel_spark_jobs, name="adanet-sigterm-cancel", daemon=True).start()
        again = threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident, signum))
        again.daemon = True
        again.start()
        return
    deal_with_stop()
    raise Terminated(STOP)


def inside_py4j(frame) -> bool:
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("py4j"):
            return True
        frame = frame.f_back
    return False


def _cancel_spark_jobs() -> None:
    from pyspark import SparkContext
    sc = SparkContext._active_spark_context
    if sc is not None:
        log.warning("SIGTERM: cancelling the running Spark jobs")
        sc.cancelAllJobs()


def run_job(name: str, main: Callable, parser: Optional[argparse.ArgumentParser] = None,
            argv: Optional[Sequence[str]] = None, needs_config: bool = True) -> int:
    """Run ``main(spark, cfg, args)``; returns the process exit code. ``argv=None`` means the
    job's own command line, hence its own process: it takes over stderr and SIGTERM (see
    the module doc). Given ``argv`` (tests, in-process callers) it changes nothing
    process-wide, and the error line goes to ``sys.stderr``."""
    own_process = argv is None
    errors = take_stderr() if own_process else sys.stderr
    setup_logging()
    if own_process:
        install_sigterm()
    started = time.perf_counter()
    try:
        args = (parser or base_parser(name)).parse_args(argv)
        cfg: JobConfig = load_config(args.conf, args.overrides)
        from adanet_spark.session import get_session
        spark = get_session(f"adanet-spark {name} {cfg.dataset}", cfg.output.warehouse)
        main(spark, cfg, args)
    except BadInputError as exc:
        print(f"error: {exc}", file=errors)
        return BadInputError.exit_code
    except BaseException as exc:
        return _failed(name, exc, errors)
    finally:
        deal_with_stop()  # the job is over: a SIGTERM from now on interrupts nothing
    log.info("%s finished in %.1f s", name, time.perf_counter() - started)
    return 0


def _failed(name: str, exc: BaseException, errors: TextIO) -> int:
    if isinstance(exc, Terminated) or stop_reason():
        log.error("%s stopped: %s", name, failure(exc))
        print(f"error: {name} stopped: {failure(exc)}", file=errors)
        return EXIT_TERMINATED
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not ours to turn into a code
        raise exc
    log.error("%s failed: %s (traceback on stderr)", name, failure(exc).splitlines()[0][:300])
    traceback.print_exception(exc, file=errors)
    return EXIT_FAILED


def exit_with(code: int) -> None:
    sys.stdout.flush()
    sys.exit(code)
