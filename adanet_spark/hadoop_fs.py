"""Small files through Hadoop's FileSystem API, so the same code writes to a local
folder, HDFS, S3 or DBFS: whatever scheme the path names and the cluster supports."""
from __future__ import annotations

from pyspark.sql import SparkSession


def _fs_and_path(spark: SparkSession, path: str):
    jvm = spark._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark._jsc.hadoopConfiguration()), jpath


def exists(spark: SparkSession, path: str) -> bool:
    fs, jpath = _fs_and_path(spark, path)
    return bool(fs.exists(jpath))


def write_bytes(spark: SparkSession, path: str, data: bytes) -> None:
    """Write to a temporary name, then rename: readers never see half a file."""
    fs, jpath = _fs_and_path(spark, path)
    tmp = spark._jvm.org.apache.hadoop.fs.Path(path + ".tmp")
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(data))
    finally:
        out.close()
    if fs.exists(jpath):
        fs.delete(jpath, False)
    if not fs.rename(tmp, jpath):
        raise IOError(f"could not rename {path}.tmp to {path}")


def read_bytes(spark: SparkSession, path: str) -> bytes:
    fs, jpath = _fs_and_path(spark, path)
    if not fs.exists(jpath):
        raise FileNotFoundError(path)
    length = fs.getFileStatus(jpath).getLen()
    stream = fs.open(jpath)
    try:
        buf = spark._jvm.java.io.ByteArrayOutputStream()
        spark._jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, buf, 1 << 16, False)
        data = bytes(buf.toByteArray())
    finally:
        stream.close()
    if len(data) != length:
        raise IOError(f"short read of {path}: {len(data)} of {length} bytes")
    return data


def write_text(spark: SparkSession, path: str, text: str) -> None:
    write_bytes(spark, path, text.encode("utf-8"))


def read_text(spark: SparkSession, path: str) -> str:
    return read_bytes(spark, path).decode("utf-8")

