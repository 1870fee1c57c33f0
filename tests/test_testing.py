"""ililab.testing: the in-process CLI runner offered to plugin authors."""

from ililab.testing import CliResult, cli_runner


def test_cli_runner_returns_code_out_and_err(capsys):
    run = cli_runner(capsys)
    result = run("--version")
    assert isinstance(result, CliResult) and result.code == 0 and "ililab" in result.out
    result = run("no-such-command")
    assert result.code == 2 and result.out == "" and "no-such-command" in result.err


def test_cli_runner_discards_earlier_output(capsys):
    print("noise")
    result = cli_runner(capsys)("--version")
    assert "noise" not in result.out
