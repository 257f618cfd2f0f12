"""The shared section base: strict types, forbidden extras, keyed errors."""
import pytest
from pydantic import ValidationError

from adanet_spark.config.base import ConfigValueError, Section, Text, one_of, require


class Probe(Section):
    flag: bool = False
    count: int = 0
    ratio: float = 0.0
    name: Text = ""


def test_strict_types_but_numbers_as_strings():
    p = Probe(flag=True, count=3, ratio=1, name=7)
    assert (p.flag, p.count, p.ratio, p.name) == (True, 3, 1.0, "7")
    for bad in ({"flag": "yes"}, {"flag": 1}, {"count": "3"}, {"count": 3.0}, {"ratio": "0.5"},
                {"name": True}, {"other": 1}):
        with pytest.raises(ValidationError):
            Probe(**bad)


def test_require_raises_a_keyed_error():
    require(True, "x", "never")
    with pytest.raises(ConfigValueError) as info:
        require(False, "grid.depth", "must not repeat a value")
    assert (info.value.key, info.value.message) == ("grid.depth", "must not repeat a value")
    assert str(info.value) == "'grid.depth' must not repeat a value"
    assert isinstance(info.value, ValueError)


def test_one_of():
    assert one_of("a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="must be one of a, b, got 'c'"):
        one_of("c", ("a", "b"))
