"""Selected: selection hands over train/valid only, and the test split is scored afterwards."""
from adanet_spark.baselines.selection import Selected, selection_refs


def test_selection_refs_leave_the_test_split_out():
    refs = {"train": "a", "valid": "b", "test": "c"}
    assert selection_refs(refs) == {"train": "a", "valid": "b"}


def test_test_auc_scores_the_test_split_of_the_given_table():
    calls = []

    def scorer(spark, table, split):
        calls.append((spark, table, split))
        return 0.75, 42
    chosen = Selected("m", 1.0, 0.8, 3, "notes", scorer)
    auc, seconds, rows = chosen.test_auc("spark", "table")
    assert (auc, rows) == (0.75, 42) and seconds >= 0
    assert calls == [("spark", "table", "test")]
