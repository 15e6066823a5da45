"""Tampering is detected at the right position (BRIEF §4, §10), with and without a key.

Every case edits a copy of a small ledger (and of a small inventory) with the `sqlite3`
shell after dropping the append-only triggers (see `tamper_support`), then asks the CLI:
`verify --json` must exit 1 and name the first bad position, and `verify --anchor` must
exit 1 too.

What a plain SHA-256 chain cannot catch, and why a key or an anchor is needed:

- An attacker who edits an event and then *re-hashes the chain* (from the edit, or
  the whole chain) with plain SHA-256 leaves a chain that verifies: SHA-256 has no
  secret, so anyone can recompute it. With an HMAC key the re-hashed rows no longer
  match (the attacker lacks the key), and verify names the first re-hashed position.
  Without a key, only a head kept elsewhere (`verify --anchor`) reveals the rewrite.
- A *forged event appended* at the tail and hashed with SHA-256 is caught only with
  the key: an anchor proves the history up to it, not that nothing was added after.
- A *truncated tail* leaves a shorter chain that verifies with or without a key;
  `verify --anchor` with a kept head catches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tamper_support import DOMAINS, MODES, TAMPERS, Tamper, build_template, run_tamper

Templates = dict[tuple[str, str], Path]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """One small history per domain and chain kind, built once; every case edits a copy."""
    folder = tmp_path_factory.mktemp("tamper-templates")
    return {
        (domain, mode): build_template(folder / f"{domain}-{mode}.db", mode, domain)
        for domain in DOMAINS
        for mode in MODES
    }


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
def test_tampering_is_detected_at_the_right_position(
    tamper: Tamper, mode: str, domain: str, templates: Templates, tmp_path: Path
) -> None:
    run_tamper(tamper, mode, templates[domain, mode], tmp_path, domain)


@pytest.mark.parametrize("domain", DOMAINS)
def test_only_a_key_catches_a_rehashed_chain(
    domain: str, templates: Templates, tmp_path: Path
) -> None:
    """Said once more, plainly: the same re-hash passes plain SHA-256 and fails HMAC."""
    rehash = next(t for t in TAMPERS if t.name == "edit, then re-hash the whole chain")
    plain = run_tamper(rehash, "sha256", templates[domain, "sha256"], tmp_path / "plain", domain)
    keyed = run_tamper(
        rehash, "hmac-sha256", templates[domain, "hmac-sha256"], tmp_path / "keyed", domain
    )
    assert plain.code == 0 and plain.report["ok"] is True
    assert keyed.code == 1 and keyed.report["first_bad_position"] == 1
