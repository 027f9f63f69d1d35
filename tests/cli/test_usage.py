"""Every command's --help, walked as a newcomer reads it: each option and argument described, the
help in sentences (no line broken where its source wrapped), no `{path}`-style placeholders."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from journeyline.cli import app
from journeyline.cli.usage import as_sentences

# Wide enough that no help line is wrapped for the terminal: a break left is one the text made.
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}
# Typer's own, described by Typer.
TYPER_OPTIONS = {"help", "install_completion", "show_completion"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    # A group (Typer's vendored click, which it does not export) holds its commands.
    if hasattr(command, "commands"):
        for name, child in sorted(command.commands.items()):
            found.extend(_commands(child, (*path, name)))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _paragraphs(text: str | None) -> list[str]:
    return [" ".join(p.split()) for p in inspect.cleandoc(text or "").split("\n\n") if p.strip()]


def _rendered_lines(output: str) -> list[str]:
    """The output's lines with the panels' borders taken off and spaces collapsed."""
    return [" ".join(line.strip(" │╭╮╰╯─").split()) for line in output.splitlines()]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "journeyline" for p, _ in COMMANDS]
)
def test_every_option_and_argument_is_described(path: tuple[str, ...], command: Any) -> None:
    undescribed = [
        param.name
        for param in command.params
        if param.name not in TYPER_OPTIONS and not (getattr(param, "help", None) or "").strip()
    ]
    assert undescribed == [], f"journeyline {' '.join(path)}: {undescribed} have no help"
    assert (command.help or "").strip(), f"journeyline {' '.join(path)} has no help"


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "journeyline" for p, _ in COMMANDS]
)
def test_help_reads_as_sentences_without_placeholders(path: tuple[str, ...], command: Any) -> None:
    output = _help(path)
    assert "{" not in output, output
    lines = _rendered_lines(output)
    # The command's own help: every paragraph whole on one line.
    for paragraph in _paragraphs(command.help):
        assert any(paragraph in line for line in lines), f"{paragraph!r} is broken:\n{output}"
    # A group's list of commands: each one's first paragraph whole on one line.
    if hasattr(command, "commands"):
        for name, child in command.commands.items():
            summary = _paragraphs(child.short_help or child.help)[0]
            assert any(line.startswith(name) and summary in line for line in lines), (
                f"{name}: {summary!r} is broken:\n{output}"
            )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("One line.", "One line."),
        ("A sentence that\n    wraps in source.", "A sentence that wraps in source."),
        ("First.\n\nSecond that\nwraps.", "First.\n\nSecond that wraps."),
    ],
)
def test_as_sentences_joins_each_paragraphs_lines(text: str | None, expected: str | None) -> None:
    assert as_sentences(text) == expected
