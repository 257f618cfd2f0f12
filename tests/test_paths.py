"""The repository root: where relative paths of conf files resolve."""
import os

import pytest

from adanet_spark import paths


def test_repo_root_is_this_checkout():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert os.path.samefile(paths.REPO_ROOT, here)
    assert os.path.isfile(os.path.join(paths.REPO_ROOT, "adanet_spark", "paths.py"))


@pytest.mark.parametrize("path", ["/tmp/wh", "hdfs://nn:8020/wh", "s3a://bucket/data.parquet",
                                  "file:///tmp/x"])
def test_absolute_paths_and_uris_stay_as_they_are(path):
    assert paths.is_remote_or_absolute(path)
    assert paths.in_repo(path) == path


@pytest.mark.parametrize("path", ["warehouse", "data/samples/adult.parquet", "./conf"])
def test_relative_paths_resolve_against_the_repo_not_the_working_directory(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not paths.is_remote_or_absolute(path)
    assert paths.in_repo(path) == os.path.join(paths.REPO_ROOT, path)
