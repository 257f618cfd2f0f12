"""The one bad-input error: a ValueError that jobs turn into exit code 2."""
import pytest

from adanet_spark.errors import BadInputError


def test_bad_input_is_a_value_error_with_exit_code_2():
    with pytest.raises(ValueError, match="config key 'a.b'"):
        raise BadInputError("config key 'a.b': bad")
    assert BadInputError.exit_code == 2 and BadInputError("x").exit_code == 2
