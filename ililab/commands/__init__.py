"""The built-in ``ililab`` subcommands, one module each, loaded lazily by :mod:`ililab.cli`.

What a plugin's command may use from here is exported by name: :func:`is_quiet`.
"""

from __future__ import annotations

from ililab.commands._common import is_quiet

__all__ = ["is_quiet"]
