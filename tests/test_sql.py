"""adanet_spark.sql: the query result as a fixed-width table or JSON lines."""
import json

from adanet_spark.sql import format_json, format_table


def test_format_table_and_json():
    rows = [{"split": "train", "n": 3}, {"split": "valid", "n": None}]
    text = format_table(["split", "n"], rows)
    assert "| train | 3    |" in text and "NULL" in text and text.endswith("(2 rows)")
    lines = format_json(["split", "n"], rows).splitlines()
    assert json.loads(lines[1]) == {"split": "valid", "n": None}
