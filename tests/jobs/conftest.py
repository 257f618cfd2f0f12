"""Job tests: one nightly run shared by the tests that only read it.

The shared run is also the resume test's subject: its first attempt is crashed by a
test hook right after iteration #1 is committed, and the second attempt resumes it.
"""
import uuid
from dataclasses import dataclass, field

import pytest

from adanet_spark import pipeline
from tests.jobs.tiny_runs import RUN_ID, rows, run_nightly, tiny_argv, tiny_frame


@pytest.fixture(scope="session")
def tiny_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.parquet"
    tiny_frame().to_parquet(path, index=False)
    return str(path)


@dataclass
class SharedRun:
    database: str
    argv: list
    crash_code: int
    after_crash: dict  # table -> rows of the run after the crashed attempt
    resume_code: int
    resumed_iterations: list = field(default_factory=list)


@pytest.fixture(scope="session")
def shared_run(spark, warehouse, tiny_parquet):
    database = f"j_{uuid.uuid4().hex[:8]}"
    argv = tiny_argv(tiny_parquet, warehouse, database, RUN_ID)

    def crash(run_id, iteration):
        if run_id == RUN_ID and iteration == 1:
            raise RuntimeError("injected crash after iteration 1")

    pipeline.after_iteration_hooks.append(crash)
    try:
        crash_code = run_nightly(argv)
    finally:
        pipeline.after_iteration_hooks.remove(crash)
    after = {t: rows(spark, database, t) for t in ("runs", "candidates", "ensembles")}
    trained = []
    hook = lambda run_id, iteration: trained.append(iteration)  # noqa: E731
    pipeline.after_iteration_hooks.append(hook)
    try:
        resume_code = run_nightly(argv)
    finally:
        pipeline.after_iteration_hooks.remove(hook)
    return SharedRun(database, argv, crash_code, after, resume_code, trained)
