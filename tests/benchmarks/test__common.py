"""benchmarks/_common.py: the one writer of docs/BENCHMARKS.md's sections, and the three
benchmarks' entry points (``--help`` only: the benchmarks themselves take many minutes)."""
import os
import subprocess
import sys

import pytest

from adanet_spark.paths import REPO_ROOT
from benchmarks import _common

DOC = """# Benchmarks

<!-- a:start -->
## A
old a
<!-- a:end -->

<!-- b:start -->
## B
old b
<!-- b:end -->
"""


def test_replace_section_touches_only_its_own_section():
    text = _common.replace_section(DOC, "a", "## A\nnew a\n")
    assert text == DOC.replace("old a", "new a")
    assert _common.replace_section(text, "a", "## A\nnew a\n") == text  # idempotent


def test_replace_section_appends_a_missing_section():
    text = _common.replace_section(DOC, "c", "## C\nc")
    assert text.startswith(DOC.rstrip("\n")) and text.endswith("\n\n<!-- c:start -->\n## C\nc\n<!-- c:end -->\n")
    assert _common.replace_section(text, "c", "## C\nc") == text


def test_write_section_creates_then_rewrites_the_file(tmp_path):
    path = str(tmp_path / "docs" / "BENCHMARKS.md")
    _common.write_section("b", "## B\n1", path)
    _common.write_section("a", "## A\n2", path)
    _common.write_section("b", "## B\n3", path)
    text = open(path).read()
    assert text == ("# Benchmarks\n\n<!-- b:start -->\n## B\n3\n<!-- b:end -->\n\n"
                    "<!-- a:start -->\n## A\n2\n<!-- a:end -->\n")


def test_paths_are_the_repository_s():
    assert _common.BENCHMARKS_MD == os.path.join(REPO_ROOT, "docs", "BENCHMARKS.md")
    assert os.path.isfile(_common.BENCHMARKS_MD)
    assert _common.command_line("/x/benchmarks/headline.py", ["--quick"]) == \
        ".venv/bin/python benchmarks/headline.py --quick"


@pytest.mark.parametrize("script", ["headline", "stragglers", "train_throughput"])
def test_benchmark_entry_points_parse_their_arguments(script, tmp_path):
    out = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "benchmarks", f"{script}.py"), "--help"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "--no-docs" in out.stdout and "usage:" in out.stdout
