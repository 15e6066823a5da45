"""The reliability suites at large sizes: one line per guarantee, with its figures.

    .venv/bin/python bench/reliability/run.py                  # the sizes docs/guarantees.md quotes
    .venv/bin/python bench/reliability/run.py --kills 100 --writers 4 --commands 300 --fuzz 1000

Runs the very code the quick suites run (tests/integration/kill_support.py,
contention_support.py, tamper_support.py, bad_input_support.py, fuzz_support.py, and
their common reliability_support.py), only more of it:

- kill -9: `--kills` writer processes killed at random moments (20-150 ms) on one file,
  audited after every kill (the full `verify` every `--full-verify-every` kills and at
  the end; the audit's own chain check after every kill);
- concurrency: `--writers` processes x `--commands` commands on six shared accounts,
  with a projector daemon and a reader running;
- tamper: every case, on a plain and on an HMAC-keyed chain;
- bad input: every case of the table;
- fuzz: `--fuzz` random import files and `--fuzz` random command payloads.

Any broken guarantee stops the run with the AssertionError that names it. Work files
go to a temporary folder (`--dir` to choose), removed afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT)]

from bad_input_support import (  # noqa: E402
    BAD_INPUTS,
    Lab,
    build_lab_template,
    permissions_can_be_honoured,
    run_bad_input,
)
from contention_support import run_contention  # noqa: E402
from fuzz_support import run_command_fuzz, run_import_fuzz  # noqa: E402
from kill_support import kill_cycles  # noqa: E402
from tamper_support import KEYED, MODES, PLAIN, TAMPERS, build_template, run_tamper  # noqa: E402


def _progress(label: str, every: int) -> Callable[[int, int], None]:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            elapsed = time.monotonic() - started
            print(f"  {label}: {done}/{total} ({elapsed:.0f} s)", file=sys.stderr, flush=True)

    return show


def kills(work: Path, count: int, full_every: int, seed: int) -> str:
    folder = work / "kill"
    folder.mkdir()
    figures = kill_cycles(
        folder / "ledger.db",
        folder,
        count,
        seed=seed,
        full_verify_every=full_every,
        progress=_progress("kill -9", 50),
    )
    return figures.line()


def contention(work: Path, writers: int, commands: int, seed: int) -> str:
    folder = work / "concurrency"
    folder.mkdir()
    return run_contention(folder / "ledger.db", writers, commands, seed=seed).line()


def tamper(work: Path) -> str:
    folder = work / "tamper"
    folder.mkdir()
    templates = {mode: build_template(folder / f"{mode}.db", mode) for mode in MODES}
    by_verify = {PLAIN: 0, KEYED: 0}
    by_anchor = {PLAIN: 0, KEYED: 0}
    unseen = {PLAIN: 0, KEYED: 0}
    for n, case in enumerate(TAMPERS):
        for mode in MODES:
            outcome = run_tamper(case, mode, templates[mode], folder / f"{n}-{mode}")
            if outcome.code == 1:
                by_verify[mode] += 1
            elif outcome.anchor_code == 1:
                by_anchor[mode] += 1
            else:
                unseen[mode] += 1
    return (
        f"tamper: {len(TAMPERS)} kinds of edit x 2 chains, each at the expected position: "
        f"plain SHA-256 chain {by_verify[PLAIN]} caught by verify, {by_anchor[PLAIN]} more by "
        f"verify --anchor, {unseen[PLAIN]} invisible without a key (forged append); "
        f"HMAC chain {by_verify[KEYED]} caught by verify, {by_anchor[KEYED]} by --anchor "
        f"(truncation), {unseen[KEYED]} unseen"
    )


def bad_inputs(work: Path) -> str:
    template = build_lab_template(work / "bad-input-template")
    honoured = permissions_can_be_honoured()
    tried = skipped = 0
    kinds: dict[str, int] = {}
    for n, case in enumerate(BAD_INPUTS):
        if case.unprivileged and not honoured:
            skipped += 1
            continue
        lab = Lab.copy(template, work / "bad-input" / str(n))
        try:
            run_bad_input(case, lab)
        finally:
            lab.close()
        tried += 1
        kinds[case.kind] = kinds.get(case.kind, 0) + 1
    parts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    note = f" ({skipped} read-only file system cases skipped: cannot drop CAP_DAC_OVERRIDE)"
    return (
        f"bad input: {tried} inputs ({parts}) plus the 23 of test_cli.py: one line on stderr "
        "each, the expected exit code, 0 tracebacks, 0 databases changed"
        + (note if skipped else "")
    )


def fuzz(work: Path, examples: int) -> str:
    template = build_lab_template(work / "fuzz-template")
    imports = run_import_fuzz(template, work / "fuzz-import", examples)
    commands = run_command_fuzz(template, work / "fuzz-commands", examples)
    return (
        f"fuzz: {sum(imports.values())} import files ({imports['refused']} refused, "
        f"{imports['imported']} imported, each exactly the export's own events) and "
        f"{sum(commands.values())} command inputs ({commands['ok']} ok, "
        f"{commands['refused']} refused by rules, {commands['invalid']} invalid): 0 crashes, "
        "0 changes by a refused input, chain verified, invariants holding"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=1000, help="kill -9 cycles (1000)")
    parser.add_argument("--full-verify-every", type=int, default=25, help="kills (25)")
    parser.add_argument("--writers", type=int, default=8, help="writer processes (8)")
    parser.add_argument("--commands", type=int, default=1000, help="commands per writer (1000)")
    parser.add_argument("--fuzz", type=int, default=5000, help="examples per fuzzer (5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="eventscope-reliability-", dir=args.dir))
    started = time.monotonic()
    try:
        steps: list[tuple[str, Callable[[], str]]] = [
            ("kill -9", lambda: kills(work, args.kills, args.full_verify_every, args.seed)),
            ("concurrency", lambda: contention(work, args.writers, args.commands, args.seed)),
            ("tamper", lambda: tamper(work)),
            ("bad input", lambda: bad_inputs(work)),
            ("fuzz", lambda: fuzz(work, args.fuzz)),
        ]
        for label, step in steps:
            began = time.monotonic()
            print(f"running {label}...", file=sys.stderr, flush=True)
            line = step()
            print(f"{line} [{time.monotonic() - began:.0f} s]", flush=True)
    finally:
        if args.keep:
            print(f"work files kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"all guarantees held; {time.monotonic() - started:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
