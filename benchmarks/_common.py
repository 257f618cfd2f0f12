"""What the benchmarks share: the repository's paths, the one writer of their sections of
docs/BENCHMARKS.md, the local Spark environment, and the arguments every one takes.
Benchmarks import it by bare name (``from _common import ...``) before the package.

Each benchmark owns one section of docs/BENCHMARKS.md, between ``<!-- <name>:start -->``
and ``<!-- <name>:end -->``; rerunning it replaces that section and nothing else.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

# A benchmark runs as a script, with only benchmarks/ on sys.path: importing this module
# first makes the package importable (the one place that knows where the repository is
# before adanet_spark.paths can be imported).
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from adanet_spark.paths import REPO_ROOT  # noqa: E402

BENCHMARKS_MD = os.path.join(REPO_ROOT, "docs", "BENCHMARKS.md")
OUT_DIR = os.path.join(REPO_ROOT, "docs", "benchmarks")  # each benchmark's JSON and plots


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with section ``name`` set to ``body`` (appended when it has none yet)."""
    start, end = markers(name)
    section = f"{start}\n{body.strip(chr(10))}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        return before + section + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def write_section(name: str, body: str, path: str = BENCHMARKS_MD) -> None:
    """Replace section ``name`` of ``path`` (docs/BENCHMARKS.md) by ``body``."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(replace_section(text, name, body))


def write_json(path: str, data: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")


def command_line(script: str, argv: Optional[Sequence[str]] = None) -> str:
    """How the numbers were produced, as the docs quote it."""
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join([".venv/bin/python", f"benchmarks/{os.path.basename(script)}", *args])


def spark_environment(driver_memory: Optional[str] = None) -> None:
    """Spark on ``local[2]`` unless SPARK_MASTER says otherwise, with Python workers on this
    interpreter that can import the package; ``driver_memory`` also sets the driver's heap
    (and the project's log4j settings), which only works before the first session starts."""
    os.environ.setdefault("SPARK_MASTER", "local[2]")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = REPO_ROOT + (os.pathsep + path if path else "")
    if driver_memory:
        os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                              f"--driver-memory {driver_memory} --driver-java-options "
                              f"-Dlog4j.configurationFile=file:{REPO_ROOT}/conf/log4j2.properties pyspark-shell")
    os.chdir(REPO_ROOT)  # relative paths in conf files (warehouse, data) resolve against the repo


def parser(doc: str, **options: Any) -> argparse.ArgumentParser:
    """A benchmark's parser: its module docstring as help, ``--no-docs``, and one
    ``--some-name`` option per keyword ``some_name=default`` (typed like its default)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-docs", action="store_true",
                   help=f"print the results; leave {os.path.relpath(BENCHMARKS_MD, REPO_ROOT)} alone")
    for name, default in options.items():
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=default,
                       help=f"default {default}")
    return p
