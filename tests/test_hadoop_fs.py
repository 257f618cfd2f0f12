"""Small files through Hadoop's FileSystem API (here the local file system, as a file: URI too)."""
import os

import pytest

from adanet_spark import hadoop_fs


def test_write_read_round_trip(spark, tmp_path):
    blob = bytes(range(256)) * 300  # more than one copy buffer, every byte value
    path = str(tmp_path / "deep" / "er" / "blob.bin")  # missing parents are created
    hadoop_fs.write_bytes(spark, path, blob)
    assert hadoop_fs.read_bytes(spark, path) == blob
    assert hadoop_fs.read_bytes(spark, f"file://{path}") == blob
    hadoop_fs.write_text(spark, str(tmp_path / "t.md"), "héllo\nwörld")
    assert hadoop_fs.read_text(spark, str(tmp_path / "t.md")) == "héllo\nwörld"
    assert open(tmp_path / "t.md", encoding="utf-8").read() == "héllo\nwörld"


def test_write_by_rename_leaves_no_tmp_and_replaces(spark, tmp_path):
    path = str(tmp_path / "model.json")
    hadoop_fs.write_text(spark, path, "first, and longer than the second")
    hadoop_fs.write_text(spark, path, "second")
    assert hadoop_fs.read_text(spark, path) == "second"
    leftovers = [f for f in os.listdir(tmp_path) if f != "model.json" and not f.startswith(".model.json.crc")]
    assert not [f for f in leftovers if ".tmp" in f], leftovers
    assert hadoop_fs.exists(spark, path)


def test_missing_file(spark, tmp_path):
    path = str(tmp_path / "nope.txt")
    assert not hadoop_fs.exists(spark, path)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        hadoop_fs.read_bytes(spark, path)
    with pytest.raises(FileNotFoundError):
        hadoop_fs.read_text(spark, path)
