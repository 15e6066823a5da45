"""The hash chain: canonical row text, hashing, extending the chain, verifying it.

Every event's hash is `SHA-256(prev_hash_hex ‖ canonical)` (or HMAC-SHA-256 with a
key) over the canonical row (`rows`). Both stores extend the chain through
`ChainExtender` (`extender`), so the rules for appends, bulk loads and imports live in
one place; `verify` walks it, `keys` reads the HMAC key.
"""

from domain.envelope import GENESIS_HASH
from store.hashchain.extender import (
    ChainExtender,
    EventRejected,
    check_append,
    importing,
    recording,
)
from store.hashchain.keys import (
    load_key,
)
from store.hashchain.rows import (
    HASH_HMAC,
    HASH_SHA256,
    KEY_ENV,
    KEY_FILE_ENV,
    STORED_TIME,
    ChainRow,
    CommandRow,
    canonical_json,
    canonical_row,
    canonical_tail,
    chain_hash,
    chain_row,
    digest_function,
    event_from_row,
    hash_mode,
    is_hash,
    is_stored_time,
    key_check_value,
    stored_time,
)
from store.hashchain.verify import (
    AnchorReport,
    check_anchor,
    parse_anchor,
    row_verifies,
    verify,
    verify_events,
)

__all__ = [
    "GENESIS_HASH",
    "HASH_HMAC",
    "HASH_SHA256",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "STORED_TIME",
    "AnchorReport",
    "ChainExtender",
    "ChainRow",
    "CommandRow",
    "EventRejected",
    "canonical_json",
    "canonical_row",
    "canonical_tail",
    "chain_hash",
    "chain_row",
    "check_anchor",
    "check_append",
    "digest_function",
    "event_from_row",
    "hash_mode",
    "importing",
    "is_hash",
    "is_stored_time",
    "key_check_value",
    "load_key",
    "parse_anchor",
    "recording",
    "row_verifies",
    "stored_time",
    "verify",
    "verify_events",
]
