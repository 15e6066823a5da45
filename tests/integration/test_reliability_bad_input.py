"""Bad input across the CLI, command payloads, import files and database files (BRIEF §10).

Each case of `bad_input_support.BAD_INPUTS` (in addition to the 23 of `test_cli.py`)
must give one line on stderr, the expected non-zero exit code, no traceback, and
leave every database as it was. Then hypothesis fuzzes the import parser and the
command path (see `fuzz_support`): no input may crash, or change the store unless
it was valid. The command form's inline messages are in tests/tui/test_reliability_forms.py.
"""

from __future__ import annotations

import functools
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_input_support import (
    BAD_INPUTS,
    BadInput,
    Lab,
    build_lab_template,
    permissions_can_be_honoured,
    run_bad_input,
    run_in_child,
)
from cli_support import head_of
from fuzz_support import run_command_fuzz, run_import_fuzz
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import run_cli

FUZZ_EXAMPLES = 300


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lab_template(tmp_path_factory.mktemp("bad-input-template"))


@pytest.fixture
def lab(template: Path, tmp_path: Path) -> Iterator[Lab]:
    lab = Lab.copy(template, tmp_path / "lab")
    yield lab
    lab.close()


def test_the_table_is_large_and_covers_every_kind() -> None:
    kinds = Counter(case.kind for case in BAD_INPUTS)
    assert len(BAD_INPUTS) >= 40, kinds
    assert set(kinds) == {"cli", "payload", "rule", "import", "database"}
    assert len({case.name for case in BAD_INPUTS}) == len(BAD_INPUTS)


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[f"{c.kind}: {c.name}" for c in BAD_INPUTS])
def test_bad_input_is_one_clear_line_and_changes_nothing(case: BadInput, lab: Lab) -> None:
    if case.unprivileged and not can_honour_permissions():
        pytest.skip(
            "root may not drop CAP_DAC_OVERRIDE here: no read-only file system without mount"
        )
    run_bad_input(case, lab)


@functools.cache
def can_honour_permissions() -> bool:
    return permissions_can_be_honoured()


def test_fuzzed_imports_never_crash_and_change_nothing_unless_valid(
    template: Path, tmp_path: Path
) -> None:
    outcomes = run_import_fuzz(template, tmp_path, FUZZ_EXAMPLES, derandomize=True)
    assert sum(outcomes.values()) == FUZZ_EXAMPLES and outcomes["refused"] > 0, outcomes


def test_fuzzed_commands_never_crash_and_change_nothing_unless_valid(
    template: Path, tmp_path: Path
) -> None:
    outcomes = run_command_fuzz(template, tmp_path, FUZZ_EXAMPLES, derandomize=True)
    assert sum(outcomes.values()) == FUZZ_EXAMPLES and outcomes["invalid"] > 0, outcomes


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_key_file_readable_by_others_is_warned_about_and_still_works(
    tmp_path: Path, mode: int, warned: bool
) -> None:
    """As ssh does: one warning line naming the file, its mode and the fix; then it works."""
    key = tmp_path / "chain.key"
    key.write_bytes(b"s3cret\n")
    key.chmod(mode)
    db = tmp_path / "keyed.db"
    assert run_cli("--db", str(db), "--key-file", str(key), "init").code == 0
    r = run_cli("--db", str(db), "--key-file", str(key), "verify")
    assert r.code == 0, r.err
    warning = f"eventscope: warning: key file {key} is readable by others (mode {mode:04o}): "
    expected = f"{warning}chmod 600 {key}\n" if warned else ""
    assert r.err == expected


def test_simulate_at_an_impossible_rate_still_ends_at_its_duration(
    template: Path, tmp_path: Path
) -> None:
    """A million commands a second for half a second: the store is slower than that, and
    the run must end when the half second is up, not when the millionth command is sent
    (the child's timeout fails the test if it does not end)."""
    db = tmp_path / "bank.db"
    shutil.copyfile(template / "bank.db", db)
    before = head_of(db)[0]
    r = run_in_child(["--db", str(db), "simulate", "--rate", "1e6", "--duration", "0.5", "--quiet"])
    assert r.code == 0, r.err
    assert r.err.startswith("simulated ")
    assert 0 < head_of(db)[0] - before < 500_000


def test_integer_options_at_the_edge_of_64_bits_are_accepted(lab: Lab) -> None:
    """The largest value SQLite stores is a valid option, and means "no bound"."""
    top = str(2**63 - 1)
    everything = run_cli("--db", str(lab.bank), "log", "--json")
    for args in (["--to", top], ["--limit", top], ["--from", "1", "--to", top]):
        r = run_cli("--db", str(lab.bank), "log", "--json", *args)
        assert (r.code, r.out) == (0, everything.out), (args, r.err)
    r = run_cli("--db", str(lab.bank), "log", "--from", top)
    assert (r.code, r.out) == (0, ""), r.err


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    flag=st.sampled_from(["--from", "--to", "--limit"]),
    value=st.one_of(
        st.integers(),
        st.integers(min_value=2**62, max_value=2**70),
        st.integers(min_value=-(2**70), max_value=-(2**62)),
    ),
)
def test_any_whole_number_option_is_answered_or_refused_in_one_line(
    template: Path, flag: str, value: int
) -> None:
    """Whatever integer is given, `log` answers (exit 0) or refuses it in one line (exit 2)."""
    r = run_cli("--db", str(template / "bank.db"), "--read-only", "log", flag, str(value))
    assert r.code in (0, 2), r.err
    if r.code == 2:
        assert len(r.err.strip().splitlines()) == 1 and r.err.startswith("eventscope: ")
        assert value < 0 or value > 2**63 - 1, r.err
