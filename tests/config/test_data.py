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


def test_replace_names_derived_columns_only(names_key):
    f = load_config(overrides=["features.derived={x: x * 2}", "features.replace=[x]"]).features
    assert f.replace == ["x"] and FeaturesConfig().replace == []
    with names_key("features.replace") as info:
        load_config(overrides=["features.derived={x: x * 2}", "features.replace=[x, y]"])
    assert "does not define: y" in str(info.value)


def test_invalid_fraction_is_a_fraction(names_key):
    assert InputConfig().max_invalid_fraction == 0.1
    assert load_config(overrides=["input.max_invalid_fraction=0"]).input.max_invalid_fraction == 0.0
    with names_key("input.max_invalid_fraction"):
        load_config(overrides=["input.max_invalid_fraction=1.5"])


def test_lease_outlives_two_heartbeats(names_key):
    run = load_config(overrides=["run.heartbeat_seconds=2", "run.lease_seconds=10"]).run
    assert (run.heartbeat_seconds, run.lease_seconds) == (2.0, 10.0)
    assert (RunConfig().heartbeat_seconds, RunConfig().lease_seconds) == (30.0, 180.0)
    with names_key("run.lease_seconds") as info:
        load_config(overrides=["run.heartbeat_seconds=5", "run.lease_seconds=6"])
    assert "at least twice run.heartbeat_seconds (5)" in str(info.value)
    with names_key("run.heartbeat_seconds"):
        load_config(overrides=["run.heartbeat_seconds=0"])


def test_split_by_and_split_key_are_exclusive(names_key):
    assert load_config(overrides=["features.split_by=day"]).features.split_by == "day"
    with names_key("features.split_by") as info:
        load_config(overrides=["features.split_by=day", "features.split_key=user"])
    assert "exclusive" in str(info.value)


def test_min_level_count_and_numeric_bins(names_key):
    assert (FeaturesConfig().min_level_count, FeaturesConfig().numeric_bins) == (10, 16)
    f = load_config(overrides=["features.min_level_count=1", "features.numeric_bins=0"]).features
    assert (f.min_level_count, f.numeric_bins) == (1, 0)  # every level kept; no bins
    for bad in ("min_level_count=0", "numeric_bins=-1", "numeric_bins=2.5"):
        with names_key(f"features.{bad.split('=')[0]}"):
            load_config(overrides=[f"features.{bad}"])
