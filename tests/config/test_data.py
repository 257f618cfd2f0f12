"""The input, features, output and run sections."""
import typing

import pytest

from adanet_spark.config import FeaturesConfig, InputConfig, InputFormat, RunConfig, load_config


def test_numbers_become_strings_for_string_keys(yaml_file):
    cfg = load_config(yaml_file("input:\n  positive: 1\n  label: 2024\n  options: {header: 1, sep: ';'}\n"))
    assert cfg.input.positive == "1" and cfg.input.label == "2024"
    assert cfg.input.options == {"header": "1", "sep": ";"}
    assert load_config(overrides=["input.positive=1"]).input.positive == "1"
    assert load_config(overrides=["input.positive=0.5"]).input.positive == "0.5"
    assert load_config(overrides=["features.numeric=[1, b]"]).features.numeric == ["1", "b"]


def test_yes_stays_a_label_value(yaml_file):
    assert load_config(yaml_file("input:\n  positive: yes\n")).input.positive == "yes"
    assert load_config(overrides=["input.positive=no"]).input.positive == "no"


def test_fractions_must_sum_to_one(names_key):
    with names_key("features.train_fraction") as info:
        load_config(overrides=["features.valid_fraction=0.3"])
    assert "+ valid_fraction + test_fraction must sum to 1, got 1.2" in str(info.value)
    f = load_config(overrides=["features={train_fraction: 0.6, valid_fraction: 0.2, test_fraction: 0.2}"]).features
    assert (f.train_fraction, f.valid_fraction, f.test_fraction) == (0.6, 0.2, 0.2)


def test_optional_lists_may_be_null():
    f = load_config(overrides=["features.numeric=[a]", "features.categorical="]).features
    assert f.numeric == ["a"] and f.categorical is None


@pytest.mark.parametrize("fmt", typing.get_args(InputFormat))
def test_every_input_format_is_accepted(fmt):
    assert InputConfig(format=fmt).format == fmt


def test_defaults():
    assert InputConfig().format == "csv" and InputConfig().max_null_label_fraction == 0.01
    assert FeaturesConfig().top_k == 1000 and FeaturesConfig().exclude == []
    assert RunConfig().seed == 42 and RunConfig().id is None
