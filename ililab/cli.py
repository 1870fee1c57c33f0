"""The ``ililab`` command: a thin layer over the Python API.

Subcommands live in ``ililab/commands/`` and are loaded lazily, so
``ililab --help`` stays fast; plugins add commands through the entry-point
group ``ililab.commands`` (each entry point names a ``click.Command``).

Errors: an :class:`~ililab.errors.IlilabError` prints one line on stderr and
exits with its code (2 usage, 1 data); anything else is a bug and still
prints one line unless ``--debug`` asks for the traceback.
"""

from __future__ import annotations

import logging
import sys
import warnings
from importlib import import_module
from importlib.metadata import entry_points

import click

from ililab._version import __version__
from ililab.errors import IlilabError, clip_lines

__all__ = ["main", "cli"]

COMMAND_GROUP = "ililab.commands"
COMPILE_LOGGER = "ililab.compile"  # ililab.search._growshrink.announce_compile logs there

# name -> "module:attribute" of a click command
_BUILTIN_COMMANDS: dict[str, str] = {
    "infer-graph": "ililab.commands.infer:infer_graph_command",
    "learners": "ililab.commands.learners:learners_command",
    "simulate": "ililab.commands.simulate:simulate_command",
    "show": "ililab.commands.show:show_command",
    "plot": "ililab.commands.plot:plot_command",
    "convert": "ililab.commands.convert:convert_command",
    "compare": "ililab.commands.compare:compare_command",
    "report": "ililab.commands.report:report_command",
}


def _plugin_entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP) if ep.name not in _BUILTIN_COMMANDS}


class LazyGroup(click.Group):
    """A group whose commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_BUILTIN_COMMANDS, *_plugin_entry_points(), *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in _BUILTIN_COMMANDS:
            module, _, attr = _BUILTIN_COMMANDS[name].partition(":")
            return getattr(import_module(module), attr)
        ep = _plugin_entry_points().get(name)
        if ep is None:
            return None
        try:
            command = ep.load()
        except Exception as error:  # a broken plugin must not break ililab
            click.echo(f"warning: cannot load plugin command {name!r} ({ep.value}): {error}", err=True)
            return None
        if not isinstance(command, click.Command):
            click.echo(f"warning: plugin command {name!r} ({ep.value}) is not a click command", err=True)
            return None
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ililab")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors on stderr: no warnings, summaries or progress.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Class dependency graphs from soft labels.

    \b
    Typical use:
      ililab infer-graph soft_labels.npy --names names.txt -o graph.json
      ililab learners
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["quiet"] = quiet
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="ililab: %(message)s",
        stream=sys.stderr,
    )
    # Libraries that set their own loggers' levels (distributed logs INFO about every worker
    # and cancelled key) must not reach the user: only their warnings, or errors with -q.
    floor = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _LibraryLogFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_LibraryLogFilter(floor, quiet))
    # The first run on a machine compiles the Numba kernels (tens of seconds): say so, unless --quiet.
    logging.getLogger(COMPILE_LOGGER).setLevel(logging.WARNING if quiet else logging.DEBUG if debug else logging.INFO)


class _LibraryLogFilter(logging.Filter):
    """ililab's records pass at their loggers' levels (errors only with -q); others from ``floor`` up."""

    def __init__(self, floor: int, quiet: bool) -> None:
        super().__init__()
        self.floor = floor
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "ililab" or record.name.startswith("ililab."):
            return record.levelno >= logging.ERROR if self.quiet else True
        return record.levelno >= self.floor


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if not _quiet:
        click.echo(f"warning: {message}", err=True)


_quiet = False


def _usage_message(error: click.UsageError, args: list[str]) -> str:
    """click's usage error on one line, with a hint where the usual cause is known."""
    message = error.format_message()
    command = error.ctx.command_path if error.ctx is not None else "ililab"
    after = args[args.index("infer-graph") + 1:] if "infer-graph" in args else []
    if "unexpected extra argument" in message and any(a.lower().endswith((".npy", ".npz", ".csv")) for a in after):
        # `ililab infer-graph shards/*.npy`: the shell expanded the glob into many arguments
        message += "; quote a glob of shards so the shell does not expand it: 'shards/*.npy'"
    return f"{message} (see '{command} --help')"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    global _quiet
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _quiet = "--quiet" in args or "-q" in args[:1]
    warnings.showwarning = _show_warning
    warnings.simplefilter("default" if not debug else "always")
    try:
        cli.main(args=args, prog_name="ililab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.UsageError as error:  # one line, like every ililab error
        click.echo(f"error: {_usage_message(error, args)}", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as error:
        sys.exit(error.exit_code)
    except IlilabError as error:
        if debug:
            raise
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as error:  # a bug: say so in one line, unless --debug
        if debug:
            raise
        click.echo(
            clip_lines(
                f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback "
                "and please report it)"
            ),
            err=True,
        )
        sys.exit(3)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
