"""The `eventscope` command line: the contract used by scripts and tests (BRIEF §8).

Exit codes: 0 ok; 1 refused by a rule, or verification failed; 2 bad usage or
invalid input; 3 an unexpected error (a bug: the line names a crash log with the
traceback). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from domain.errors import DomainError
from tui.cli import start_up
from tui.cli.output import say
from tui.cli.parser import CliUsageError, parse_arguments
from tui.pydantic_plugins import use_lean_plugin_scan


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    use_lean_plugin_scan()  # before the first validator is built (start-up, issue 14)
    try:
        args = parse_arguments(sys.argv[1:] if argv is None else argv)
        if not getattr(args, "own_start_up", False):  # else the handler says when (exec)
            start_up.start_up_done()
        code: int = args.handler(args)
    except CliUsageError as exc:
        say(f"eventscope: error: {exc}", sys.stderr)
        return 2
    except DomainError as exc:
        label = "refused" if exc.exit_code == 1 and exc.code != "integrity" else "error"
        # DomainError messages are escaped already (`one_line`): print them as they are.
        print(f"eventscope: {label}: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("eventscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `eventscope log | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug: one line naming the crash log, never a traceback
        from tui.crash import CRASH_EXIT_CODE, report_crash

        print(report_crash(exc), file=sys.stderr)
        return CRASH_EXIT_CODE
    finally:
        start_up.start_up_done()
    return code


def entry_point() -> None:
    """The `eventscope` console script."""
    start_up.pause_collector()
    code = main()
    start_up.before_exit()
    start_up.end_one_shot(code)
    sys.exit(code)
