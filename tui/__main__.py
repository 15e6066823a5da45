"""`python -m tui`: the same as the `eventscope` command."""

from tui.cli import entry_point

entry_point()
