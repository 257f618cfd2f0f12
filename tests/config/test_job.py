"""JobConfig: sections, derived names, serialisation, mutability."""
import copy
import json
import pickle

from adanet_spark.config import AdaNetConfig, GridConfig, JobConfig, load_config


def test_feature_table_and_sections():
    cfg = JobConfig(dataset="adult")
    assert cfg.feature_table == "adanet.features_adult"
    cfg.output.database = "db"
    assert cfg.feature_table == "db.features_adult"
    assert cfg.baselines.search_space.width.low == 16 and cfg.training.backend == "horovod"


def test_to_dict_uses_yaml_names_and_loads_back():
    cfg = load_config(overrides=["adanet.lambda=0.5", "dataset=x"])
    tree = cfg.to_dict()
    assert tree["adanet"]["lambda"] == 0.5 and "lambda_" not in tree["adanet"]
    assert JobConfig.model_validate(tree) == cfg
    assert json.loads(cfg.to_json()) == json.loads(json.dumps(tree))
    assert cfg.to_json() == json.dumps(tree, sort_keys=True)


def test_sections_are_mutable():
    cfg = load_config()
    cfg.run.id = "r1"
    cfg.dataset = "other"
    cfg.training.backend = "local"
    cfg.baselines.grid = GridConfig(depth=[1], width=[16])
    assert (cfg.run.id, cfg.dataset, cfg.training.backend) == ("r1", "other", "local")
    assert cfg.baselines.grid.width == [16]


def test_model_copy_replaces_a_section_field():
    cfg = load_config()
    shorter = cfg.adanet.model_copy(update={"max_iterations": 2})
    assert shorter.max_iterations == 2 and cfg.adanet.max_iterations == 5
    assert isinstance(shorter, AdaNetConfig)


def test_pickles_and_deep_copies():
    cfg = load_config(overrides=["adanet.lambda=0.5"])
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert copy.deepcopy(cfg) == cfg
