"""Where the repository is: relative local paths in conf files (the warehouse, the sample
data) resolve against it, so every job sees the same files from any working directory."""
from __future__ import annotations

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_remote_or_absolute(path: str) -> bool:
    """A URI (``hdfs://``, ``s3a://``, Spark's ``file:/x``) or an absolute local path."""
    return "://" in path or path.startswith("file:") or os.path.isabs(path)


def in_repo(path: str) -> str:
    """``path`` itself when absolute or a URI, else the same path under the repository."""
    return path if is_remote_or_absolute(path) else os.path.join(REPO_ROOT, path)
