"""The adanet section: its checks, the lambda alias, and the mapping onto AdaNetSearch."""
import ast
import json
import os

import pytest
from pydantic import ValidationError

from adanet_spark.adanet.generator import Generator, register_generator
from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES
from adanet_spark.config import AdaNetConfig, load_config
from adanet_spark.errors import BadInputError

# The keyword-only parameters of AdaNetSearch(spec, *, ...), as the refactor's target layout lists them ...
SEARCH_KEYWORDS = {
    "max_iterations", "generator", "widths", "max_depth", "connections", "candidates_per_iteration",
    "learning_rates", "lambda_", "beta", "complexity", "activation", "dropout", "batch_norm",
    "embedding_dim_cap", "epochs", "batch_size", "weight_decay", "patience", "refit_mixture_weights",
    "mixture_epochs", "mixture_learning_rate", "min_improvement", "executor", "sink", "seed",
    "warm_start", "start_iteration", "on_iteration_end", "prior_reports"}
# ... less those the caller supplies at run time rather than the YAML config.
RUNTIME_KEYWORDS = {"executor", "sink", "seed", "warm_start", "start_iteration", "on_iteration_end",
                    "prior_reports"}


def test_search_params_are_the_search_keywords_from_config():
    params = AdaNetConfig().search_params()
    assert set(params) == SEARCH_KEYWORDS - RUNTIME_KEYWORDS
    assert set(params) == set(AdaNetConfig.model_fields) - {"warm_start"}


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


def test_search_params_match_the_search_signature():
    expected = {k: v for k, v in _search_keyword_defaults().items() if k not in RUNTIME_KEYWORDS}
    assert AdaNetConfig().search_params() == expected


def test_search_params_defaults_match_the_search_defaults():
    params = AdaNetConfig().search_params()
    assert params["widths"] == (64, 128) and params["learning_rates"] == (3e-3, 1e-3)
    assert params["lambda_"] == 0.0 and params["generator"] == "default"
    assert params["complexity"] == "sqrt_depth" and params["activation"] == "relu"
    assert params["min_improvement"] == 1e-4 and params["refit_mixture_weights"] is True


def test_search_params_reflect_the_yaml():
    cfg = load_config(overrides=["adanet.lambda=0.25", "adanet.widths=[8, 16]", "adanet.warm_start=latest"])
    params = cfg.adanet.search_params()
    assert params["lambda_"] == 0.25 and params["widths"] == (8, 16)
    assert "warm_start" not in params and "lambda" not in params


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
    with pytest.raises(BadInputError, match=r"'adanet.generator' must be one of .*default.*got 'nope'"):
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
