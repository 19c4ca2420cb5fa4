"""The ``edi-pipeline`` command line: a click group over the modules in ``edi_pipeline.commands``.

Each command module defines one click command named ``command``; the group picks them all up, so
a new command is a new module. Commands parse options, call the library, render, and choose the
exit code: 0 success, 1 some records or claims rejected or held, 2 usage or configuration error.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from edi_pipeline import __version__, commands
from edi_pipeline.errors import ConfigError, EdiPipelineError
from edi_pipeline.logs import configure

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Group(click.Group):
    """Turns known errors into a one-line message and the contract's exit code, no traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except EdiPipelineError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_PROBLEMS)
        return None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edi-pipeline")
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    default=None,
    help="Log format on stderr (default: console on a terminal, JSON otherwise).",
)
def cli(log_format: str | None) -> None:
    """Rheumatology encounters to clean X12 837P claims; 835 remittances back to answers.

    Example: edi-pipeline run
    """
    configure(log_format)  # type: ignore[arg-type]


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="edi-pipeline")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
