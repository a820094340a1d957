"""docs/cli.md is the generated reference of the current option definitions."""

from experiments import cli_reference


def test_cli_reference_matches_the_code():
    assert cli_reference.PATH.read_text() == cli_reference.render(), (
        "docs/cli.md is out of date: run python -m experiments.cli_reference"
    )
