"""What every job shares: arguments, exit codes for bad input and for failures."""
import pytest

from adanet_spark import cli


def test_base_parser_collects_overrides():
    args = cli.base_parser("x").parse_args(["--conf", "conf/adult.yaml", "--set", "a=1", "--set", "b.c=2"])
    assert args.conf == "conf/adult.yaml" and args.overrides == ["a=1", "b.c=2"]
    assert cli.base_parser("x").parse_args([]).overrides == []


def test_resumable_parser_has_fresh():
    parser = cli.resumable_parser("tune")
    assert parser.parse_args([]).fresh is False
    assert parser.parse_args(["--fresh", "--set", "run.id=r1"]).fresh is True
    assert parser.description == "tune"


def test_bad_config_exits_2_with_one_line_and_never_runs_main(capsys):
    called = []
    code = cli.run_job("t", lambda spark, cfg, args: called.append(1), argv=["--set", "adanet.no_such_key=1"])
    assert code == 2 and called == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "adanet.no_such_key" in err[0]


def test_failure_in_main_exits_1(spark, job_args):
    def main(spark, cfg, args):
        raise RuntimeError("boom")
    assert cli.run_job("t", main, argv=job_args) == 1
    assert cli.run_job("t", lambda spark, cfg, args: None, argv=job_args) == 0


def test_exit_with_exits_with_the_code():
    with pytest.raises(SystemExit) as exc:
        cli.exit_with(3)
    assert exc.value.code == 3
