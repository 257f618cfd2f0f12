"""Bad input to jobs/prepare_features.py, run as a real process (./spark-submit.sh): exit 2,
exactly one line on stderr naming what is wrong, where and the config key, and nothing
written. One input shape per case of the issue that found them; the jobs run two at a time."""
import os

import pytest

from tests.jobs.submitted import files_under, run_all, sets

ROWS = 120


def write_csv(folder, name, header, row):
    """A tiny CSV: ``header``, then ``row(i)`` for i < ROWS (both lists of cells)."""
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for i in range(ROWS):
            f.write(",".join(str(v) for v in row(i)) + "\n")
    return path


def label(i):
    return (i * 7) % 3 % 2


def inputs(folder):
    """name -> (csv path, extra --set overrides): the shapes of the issue's cases."""
    empty = os.path.join(folder, "empty-folder")
    os.makedirs(empty)
    header_only = os.path.join(folder, "header-only.csv")
    with open(header_only, "w") as f:
        f.write("x,color,y\n")
    return {
        "weird_names": (write_csv(folder, "weird.csv", ["x.dot", "x-dash", "größe", "all null", "y"],
                                  lambda i: [i / 7, "abc"[i % 3], i % 11, "", label(i)]), {}),
        "space": (write_csv(folder, "space.csv", ["x", "with space", "y"],
                            lambda i: [i / 7, "abc"[i % 3], label(i)]), {}),
        "not_numbers": (write_csv(folder, "numstr.csv", ["x", "numstr", "y"],
                                  lambda i: [i / 7, "N/A" if i % 10 == 0 else i * 1.5, label(i)]),
                        {"features.numeric": "[x, numstr]", "input.max_invalid_fraction": "0.05"}),
        "duplicate_header": (write_csv(folder, "dup.csv", ["x1", "x2", "x1", "y"],
                                       lambda i: [i, i / 3, i % 5, label(i)]), {}),
        "empty_folder": (empty, {}),
        "header_only": (header_only, {}),
        "shadowing": (write_csv(folder, "shadow.csv", ["x", "color", "y"],
                                lambda i: [i / 7, "abc"[i % 3], label(i)]), {"features.derived": "{x: x * 2}"}),
    }


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every case's job, run once: name -> (Finished, its warehouse's files after the run)."""
    folder = str(tmp_path_factory.mktemp("bad-input"))
    commands, warehouses = {}, {}
    for name, (path, extra) in inputs(folder).items():
        warehouses[name] = os.path.join(folder, f"warehouse-{name}")
        args = ["--conf", "conf/default.yaml",
                *sets(dataset="bad", input__path=path, input__label="y", output__warehouse=warehouses[name]),
                *[a for k, v in extra.items() for a in ("--set", f"{k}={v}")]]
        commands[name] = ("prepare_features", args)
    done = run_all(commands)
    return {name: (done[name], files_under(warehouses[name])) for name in commands}


def refused(ran, name, *phrases):
    """Exit 2, one stderr line holding ``phrases``, no file written, no traceback in the log."""
    job, written = ran[name]
    assert job.code == 2, job
    assert len(job.err_lines) == 1 and job.err_lines[0].startswith("error: "), job
    for phrase in phrases:
        assert phrase in job.err_lines[0], job
    assert written == set(), written
    assert "Traceback" not in job.out and " ERROR " not in job.out, job
    return job.err_lines[0]


def test_names_delta_refuses_are_refused_naming_the_column(ran):
    line = refused(ran, "space", "column name 'with space' holds a space", "Delta does not allow",
                   "space.csv", "(features.exclude, or a features.derived copy under another name)")
    assert len(line) < 300


def test_dots_dashes_and_other_letters_pass_and_an_all_null_column_is_dropped(ran):
    job, written = ran["weird_names"]
    assert job.code == 0 and job.err == "", job
    assert "column 'all null' is null in every row: dropped from the features" in job.out
    assert "x.dot" in job.out and "größe" in job.out and "x-dash:4" in job.out  # the features line
    assert any(f.startswith("adanet.db/features_bad/") for f in written)


def test_text_in_a_numeric_column_beyond_the_limit_is_refused(ran):
    refused(ran, "not_numbers", "numeric column 'numstr' holds 12 values of 120 that are not numbers",
            "(e.g. 'N/A')", "10.0%, more than input.max_invalid_fraction 5.0%", "(input.max_invalid_fraction)")


def test_duplicate_csv_headers_are_named_not_renamed(ran):
    line = refused(ran, "duplicate_header", "duplicate column names 'x1' and 'x1'", "in the header of input",
                   "dup.csv", "(input.path)")
    assert "x10" not in line and "x12" not in line


def test_an_empty_folder_says_so(ran):
    line = refused(ran, "empty_folder", "no csv data files to read (an empty folder?)", "empty-folder",
                   "(input.path)")
    assert "UNABLE_TO_INFER_SCHEMA" not in line and "manually" not in line


def test_a_header_only_csv_has_no_rows_and_no_filter_is_blamed(ran):
    line = refused(ran, "header_only", "error: no rows, input", "header-only.csv", "(input.path)")
    assert "filter" not in line


def test_a_derived_column_may_not_shadow_an_input_column_unless_replace_says_so(ran):
    refused(ran, "shadowing", "derived column 'x' would replace input column 'x'", "features.derived.x",
            "(features.replace, to mean it)")
