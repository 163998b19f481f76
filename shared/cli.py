"""The `nqsync` command: `server ...` for the provincial hub, `node ...` for a district or base node, `demo`.

Subcommands are imported only when used, so `nqsync node --help` never loads the hub's dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose subcommands live in other modules, given as "module:attribute"."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, _, attr = self._lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy={"server": "server.cli:server", "node": "node.cli:node", "demo": "server.demo:demo"},
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(package_name="nqsync")
def main() -> None:
    """nqsync: học tập, quán triệt, sơ kết, tổng kết nghị quyết — from the provincial hub down to every Party cell."""


data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    envvar="NQSYNC_DATA_DIR",
    default="nqsync-data",
    show_default=True,
    help="Folder holding this instance's database (SQLite), exports and logs.",
)
