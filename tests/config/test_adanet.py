"""The adanet section: its checks, the lambda alias, and the mapping onto AdaNetSearch."""
import ast
import json
import os
from dataclasses import fields

import pytest
from pydantic import ValidationError

from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.generator import Generator, SearchSpace, register_generator
from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES
from adanet_spark.config import AdaNetConfig, load_config
from adanet_spark.errors import BadInputError

# The keyword-only parameters of AdaNetSearch(spec, *, ...) that the caller supplies at run time
# rather than the YAML config.
RUNTIME_KEYWORDS = {"executor", "sink", "seed", "warm_start", "start_iteration", "on_iteration_end",
                    "prior_reports"}


def _search_keyword_defaults() -> dict:
    """AdaNetSearch.__init__'s keyword-only parameters and their defaults, read with
    ast so that this test does not import torch."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "adanet_spark", "adanet", "search.py")) as fh:
        tree = ast.parse(fh.read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AdaNetSearch")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    args = init.args
    return {a.arg: ast.literal_eval(d) if d is not None else None for a, d in zip(args.kwonlyargs, args.kw_defaults)}


def test_search_params_are_the_search_keywords_from_config():
    params = AdaNetConfig().search_params()
    assert set(params) == set(_search_keyword_defaults()) - RUNTIME_KEYWORDS


def test_every_adanet_key_reaches_exactly_one_parameter():
    """Each YAML key lands in the search space, the training budget or the search itself."""
    space = {f.name for f in fields(SearchSpace)}
    budget = {f.name for f in fields(TrainBudget)}
    top = set(_search_keyword_defaults()) - RUNTIME_KEYWORDS - {"space", "budget"}
    assert not (space & budget) and not (space & top) and not (budget & top)
    assert set(AdaNetConfig.model_fields) - {"warm_start"} == space | budget | top


def test_config_defaults_are_the_algorithm_defaults():
    """No hidden second set of defaults: the YAML-free config builds exactly what
    AdaNetSearch() uses when given nothing."""
    params = AdaNetConfig().search_params()
    assert params["space"] == SearchSpace() and params["budget"] == TrainBudget()
    defaults = _search_keyword_defaults()
    assert all(params[k] == defaults[k] for k in params if k not in ("space", "budget"))
    assert params["generator"] == "adaptive" and params["search_patience"] == 1


def test_search_params_reflect_the_yaml():
    cfg = load_config(overrides=["adanet.lambda=0.25", "adanet.widths=[8, 16]", "adanet.warm_start=latest",
                                 "adanet.batch_size=64", "adanet.encodings=[plain]"])
    params = cfg.adanet.search_params()
    assert params["budget"].lambda_ == 0.25 and params["space"].widths == (8, 16)
    assert params["budget"].batch_size == 64 and params["space"].encodings == ("plain",)
    assert "warm_start" not in params and "lambda" not in params


def test_min_steps_may_not_exceed_max_steps(names_key):
    with names_key("adanet.min_steps"):
        load_config(overrides=["adanet.min_steps=500", "adanet.max_steps=100"])


def test_lambda_alias_round_trip():
    by_alias = AdaNetConfig.model_validate({"lambda": 0.5})
    by_name = AdaNetConfig(lambda_=0.5)
    assert by_alias.lambda_ == by_name.lambda_ == 0.5
    dumped = by_alias.model_dump(by_alias=True)
    assert dumped["lambda"] == 0.5 and "lambda_" not in dumped
    assert AdaNetConfig.model_validate(dumped) == by_alias
    cfg = load_config(overrides=["adanet.lambda=0.125"])
    assert cfg.to_dict()["adanet"]["lambda"] == 0.125
    assert load_config(overrides=[f"adanet={json.dumps(cfg.to_dict()['adanet'])}"]).adanet == cfg.adanet


def test_lambda_accepts_an_int_as_a_float():
    cfg = AdaNetConfig.model_validate({"lambda": 1})
    assert cfg.lambda_ == 1.0 and isinstance(cfg.lambda_, float)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_every_activation_is_accepted(name):
    assert AdaNetConfig(activation=name).activation == name


@pytest.mark.parametrize("name", COMPLEXITY_NAMES)
def test_every_complexity_is_accepted(name):
    assert AdaNetConfig(complexity=name).complexity == name


def test_unknown_generator_lists_the_registered_ones():
    with pytest.raises(BadInputError, match=r"'adanet.generator' must be one of .*adaptive.*got 'nope'"):
        load_config(overrides=["adanet.generator=nope"])


def test_generator_registered_after_import_is_accepted():
    @register_generator("config-test-generator")
    class OnlyShallow(Generator):
        def generate(self, previous, reports, iteration):
            return []

    assert AdaNetConfig(generator="config-test-generator").generator == "config-test-generator"


@pytest.mark.parametrize("uri", ["latest", "/models/x", "dbfs:/models/x", "runs:abc", None])
def test_warm_start_is_latest_or_a_uri(uri):
    assert AdaNetConfig(warm_start=uri).warm_start == uri


def test_direct_construction_validates_too():
    with pytest.raises(ValidationError, match="max_depth"):
        AdaNetConfig(max_depth=0)
    with pytest.raises(ValidationError, match="widths"):
        AdaNetConfig(widths=["a"])
