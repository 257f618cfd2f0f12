"""Fixtures of the config tests: a YAML file, an error expected to name a key."""
import re

import pytest

from adanet_spark.errors import BadInputError


@pytest.fixture
def yaml_file(tmp_path):
    """``yaml_file(text)`` writes ``<tmp>/mydata.yaml`` and returns its path."""
    def write_text(text, name="mydata.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write_text


@pytest.fixture
def names_key():
    """``with names_key('adanet.widths[0]'):`` expects a BadInputError quoting that key."""
    def raises(key):
        return pytest.raises(BadInputError, match=re.escape(f"'{key}'"))
    return raises
