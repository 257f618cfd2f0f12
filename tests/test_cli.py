"""What every job shares: arguments, exit codes for bad input and for failures, the streams."""
import os
import subprocess
import sys

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


def test_a_command_line_mistake_is_bad_input_too(capsys):
    assert cli.run_job("t", lambda spark, cfg, args: None, argv=["--no-such-flag"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: unrecognized arguments: --no-such-flag, command line of ")


def test_failure_in_main_exits_1_with_its_traceback_on_stderr(spark, job_args, capsys, caplog):
    def main(spark, cfg, args):
        raise RuntimeError("boom")
    assert cli.run_job("t", main, argv=job_args) == 1
    captured = capsys.readouterr()
    assert "Traceback (most recent call last)" in captured.err and captured.err.endswith("RuntimeError: boom\n")
    assert "t failed: RuntimeError: boom (traceback on stderr)" in caplog.messages
    assert cli.run_job("t", lambda spark, cfg, args: None, argv=job_args) == 0


def test_a_job_process_keeps_stderr_for_its_failures_alone():
    """After take_stderr, what this process and its children write to stderr goes to stdout;
    only the stream it returns reaches the real stderr."""
    code = ("import os, sys\n"
            "from adanet_spark.cli import take_stderr\n"
            "errors = take_stderr()\n"
            "print('to stdout'); sys.stderr.write('stderr, now stdout\\n'); sys.stderr.flush()\n"
            "os.system('echo a child >&2')\n"
            "errors.write('error: the one line\\n')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stderr == "error: the one line\n"
    assert out.stdout.splitlines() == ["to stdout", "stderr, now stdout", "a child"]


def test_sigterm_waits_outside_py4j_calls():
    def frame_in(module):
        namespace = {"__name__": module}
        exec("import sys\ndef f():\n    return sys._getframe()", namespace)
        return namespace["f"]()
    assert cli.inside_py4j(frame_in("py4j.clientserver"))
    assert not cli.inside_py4j(frame_in("adanet_spark.pipeline.tune"))


def test_exit_with_exits_with_the_code():
    with pytest.raises(SystemExit) as exc:
        cli.exit_with(3)
    assert exc.value.code == 3
