"""Jobs run as real processes through ./spark-submit.sh, as a user runs them, so that their
stdout and stderr are really apart (imported as ``tests.jobs.submitted``)."""
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT_S = 900
# The driver JVM of a test's job lives seconds on a few hundred rows: compiling hot code
# only with the quick C1 compiler starts it about 3.5 s sooner (20 -> 16 s for a small
# prepare_features). The shared session of the suite keeps full compilation, which a
# 20-minute JVM pays back.
QUICK_JVM = "-XX:TieredStopAtLevel=1"


@dataclass
class Finished:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list:
        return self.err.splitlines()

    def __repr__(self) -> str:  # what an assertion shows
        return f"exit {self.code}\n--- stderr\n{self.err[-3000:]}\n--- stdout (end)\n{self.out[-3000:]}"


def sets(**overrides) -> list:
    """``--set key=value`` arguments; ``a__b=1`` is ``a.b=1``."""
    return [a for k, v in overrides.items() for a in ("--set", f"{k.replace('__', '.')}={v}")]


def start(job: str, *args: str, env: Optional[dict] = None) -> subprocess.Popen:
    """``./spark-submit.sh jobs/<job>.py args`` in its own process group (so a test can kill
    the whole job, JVM and workers included), on local[2] with a small driver."""
    full = {k: v for k, v in os.environ.items() if k != "PYSPARK_SUBMIT_ARGS"}  # the script sets its own
    full.update(SPARK_MASTER="local[2]", ADANET_DRIVER_MEMORY="1g", SPARK_SUBMIT_OPTS=QUICK_JVM, **(env or {}))
    return subprocess.Popen([os.path.join(ROOT, "spark-submit.sh"), "--conf", "spark.ui.enabled=false",
                             f"jobs/{job}.py", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full,
                            start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT_S) -> Finished:
    out, err = proc.communicate(timeout=timeout)
    return Finished(proc.returncode, out, err)


def run(job: str, *args: str) -> Finished:
    return finish(start(job, *args))


def run_all(commands: dict, parallel: int = 2) -> dict:
    """name -> (job, args): run them, ``parallel`` at a time; name -> Finished."""
    with ThreadPoolExecutor(parallel) as pool:
        futures = {name: pool.submit(run, job, *args) for name, (job, args) in commands.items()}
        return {name: f.result() for name, f in futures.items()}


def files_under(folder: str) -> set:
    """Every file below ``folder`` (what a job wrote there)."""
    return {os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs}
