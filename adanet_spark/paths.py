"""Where the repository is: relative local paths in conf files (the warehouse, the sample
data) resolve against it, so every job sees the same files from any working directory."""
from __future__ import annotations

import os


def _repo_root() -> str:
    """The folder above the package. Imported from a zip (the ``--py-files`` of a cluster
    run) there is none: then ``ADANET_REPO_ROOT`` (spark-submit.sh sets it), else the
    working directory."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return here if os.path.isdir(here) else os.environ.get("ADANET_REPO_ROOT") or os.getcwd()


REPO_ROOT = _repo_root()


def is_remote_or_absolute(path: str) -> bool:
    """A URI (``hdfs://``, ``s3a://``, Spark's ``file:/x``) or an absolute local path."""
    return "://" in path or path.startswith("file:") or os.path.isabs(path)


def in_repo(path: str) -> str:
    """``path`` itself when absolute or a URI, else the same path under the repository."""
    return path if is_remote_or_absolute(path) else os.path.join(REPO_ROOT, path)
