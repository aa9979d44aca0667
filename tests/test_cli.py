"""Meta-tests of the command line: help everywhere, exit codes, one error handler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

import steward.cli.check_cmd as check_cmd
from steward.cli.main import cli, run

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    found = [(name, cli.get_command(ctx, name)) for name in cli.list_commands(ctx)]
    return [(name, command) for name, command in found if command is not None]


def test_a_query_does_not_import_the_gate_dvc_or_github() -> None:
    code = (
        "import sys; from steward.cli.main import run; run(['which', '--help']);"
        "names = ('dvc', 'github', 'steward.gate.judge', 'steward.aftermerge.apply');"
        "heavy = [m for m in names if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert "HEAVY []" in out


def test_every_command_and_option_has_help() -> None:
    assert cli.help
    for name, command in _commands():
        assert command.help, f"steward {name} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"steward {name} {param.opts} has no help"
    for param in cli.params:
        if isinstance(param, click.Option) and param.name not in ("version",):
            assert param.help, f"steward {param.opts} has no help"


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_help_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([name, "--help"]) == 0
    assert f"Usage: steward {name}" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err
    assert run(["check", "--no-such-option"]) == 2


def test_unexpected_errors_exit_3_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(check_cmd, "check_registry", explode)
    assert run(["-C", str(tmp_path), "check"]) == 3
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: boom" in err
    assert "--traceback" in err
    assert run(["--traceback", "-C", str(tmp_path), "check"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(check_cmd, "check_registry", interrupt)
    assert run(["check"]) == 130


def test_console_script_runs_on_this_repository() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(REPO), "check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: 3 models, 7 versions, 3 datasets, 1 team extensions")


def test_version_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("steward, version ")
