"""Import accepts only a history the domain could have produced (issue 9 §2).

Every file here has a valid hash chain: only the domain's rules, replayed through its
real handlers, can tell these histories are impossible. Each is refused with the line
and the rule, exit 2, and the database is left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Cli
from history_support import HistoryWriter, database_digest, write_file

from domain.inventory.description import INVENTORY_DOMAIN
from domain.ledger.description import LEDGER_DOMAIN

Build = Callable[[HistoryWriter], None]


def _bank(w: HistoryWriter) -> None:
    w.run("open_account", account_id="a1", owner="Ann", currency="EUR", overdraft_limit="0")
    w.run("open_account", account_id="a2", owner="Bob", currency="EUR", overdraft_limit="0")
    w.run("deposit", account_id="a1", amount="100.00")


def _deposit(account: str, amount: int, currency: str = "EUR") -> dict[str, object]:
    return {
        "account_id": account,
        "amount": amount,
        "currency": currency,
        "reference": "",
        "channel": "branch",
    }


LEDGER_CASES: dict[str, tuple[Build, str]] = {
    "withdrawal beyond the overdraft": (
        lambda w: w.forge(
            "account-a1",
            "MoneyWithdrawn",
            {"account_id": "a1", "amount": 100_000_000, "currency": "EUR", "reference": ""},
            "withdraw",
        ),
        "beyond its overdraft limit",
    ),
    "deposit after close": (
        lambda w: (
            w.run("close_account", account_id="a2", reason="moved away"),
            w.forge("account-a2", "MoneyDeposited", _deposit("a2", 500), "deposit"),
        ),
        "a2 is closed",
    ),
    "deposit in another currency": (
        lambda w: w.forge("account-a1", "MoneyDeposited", _deposit("a1", 500, "USD"), "deposit"),
        "currency is 'USD' but the rules give 'EUR'",
    ),
    "closed with a balance": (
        lambda w: w.forge(
            "account-a1", "AccountClosed", {"account_id": "a1", "reason": "x"}, "close_account"
        ),
        "still holds 100.00 EUR",
    ),
    "event on a stream never opened": (
        lambda w: w.forge("account-a9", "MoneyDeposited", _deposit("a9", 500), "deposit"),
        "a9 does not exist",
    ),
    "data disagrees with the stream id": (
        lambda w: w.forge("account-a2", "MoneyDeposited", _deposit("a1", 500), "deposit"),
        "where the rules give MoneyDeposited on account-a1",
    ),
    "half a transfer": (
        lambda w: w.forge(
            "account-a1",
            "TransferSent",
            {
                "transfer_id": "t1",
                "from_account": "a1",
                "to_account": "a2",
                "amount": 100,
                "currency": "EUR",
                "reference": "",
            },
            "transfer",
        ),
        "rules give 2 events",
    ),
    "account opened twice": (
        lambda w: w.forge(
            "account-a1",
            "AccountOpened",
            {"account_id": "a1", "owner": "Eve", "currency": "EUR", "overdraft_limit": 0},
            "open_account",
        ),
        "account a1 already exists",
    ),
    "metadata actor is a JSON list": (
        lambda w: w.forge(
            "account-a1",
            "MoneyDeposited",
            _deposit("a1", 500),
            "deposit",
            metadata={"actor": ["ann", "bob"]},
        ),
        "metadata.actor must be text, not a JSON list",
    ),
    "metadata with a control character": (
        lambda w: w.forge(
            "account-a1",
            "MoneyDeposited",
            _deposit("a1", 500),
            "deposit",
            metadata={"actor": "ann\x1b[2J"},
        ),
        "metadata.actor contains control",
    ),
    # Lax validation would turn these into the domain's own values: the ledger's events
    # validate strictly, and the replay compares the recorded JSON with what the handler
    # emits, type for type (whitespace a model strips included).
    "amount recorded as text": (
        lambda w: w.forge(
            "account-a1", "MoneyDeposited", {**_deposit("a1", 500), "amount": "500"}, "deposit"
        ),
        "amount: Input should be a valid integer",
    ),
    "amount recorded as a float": (
        lambda w: w.forge(
            "account-a1", "MoneyDeposited", {**_deposit("a1", 500), "amount": 500.0}, "deposit"
        ),
        "amount: Input should be a valid integer",
    ),
    "reference recorded with padding": (
        lambda w: w.forge(
            "account-a1", "MoneyDeposited", {**_deposit("a1", 500), "reference": " r1 "}, "deposit"
        ),
        "reference is ' r1 ' but the rules give 'r1'",
    ),
    "data that does not validate": (
        lambda w: w.forge(
            "account-a1", "MoneyDeposited", {**_deposit("a1", 500), "amount": "lots"}, "deposit"
        ),
        "invalid MoneyDeposited: amount",
    ),
}


def _shop(w: HistoryWriter) -> None:
    w.run("register_product", sku="BOLT-8", name="Hex bolt", unit="each")
    w.run("receive_stock", sku="BOLT-8", warehouse="ams", quantity=10, supplier_ref="DN-1")


INVENTORY_CASES: dict[str, tuple[Build, str]] = {
    "shipping more than on hand": (
        lambda w: w.forge(
            "stock-BOLT-8@ams",
            "StockShipped",
            {"sku": "BOLT-8", "warehouse": "ams", "quantity": 50, "order_ref": "SO-1"},
            "ship_stock",
        ),
        "ship_stock on stock-BOLT-8@ams refused by the rules",
    ),
    "product registered twice": (
        lambda w: w.forge(
            "product-BOLT-8",
            "ProductRegistered",
            {"sku": "BOLT-8", "name": "Other", "unit": "each"},
            "register_product",
        ),
        "already",
    ),
    "receiving an unregistered product": (
        lambda w: (
            w.forge(
                "product-NUT-1",
                "StockLocationOpened",
                {"sku": "NUT-1", "warehouse": "ams"},
                "receive_stock",
            ),
            w.forge(
                "stock-NUT-1@ams",
                "StockReceived",
                {"sku": "NUT-1", "warehouse": "ams", "quantity": 5, "supplier_ref": "DN-2"},
                "receive_stock",
                same_command=True,
            ),
        ),
        "NUT-1 is not registered",
    ),
    "half a move": (
        lambda w: (
            w.run("receive_stock", sku="BOLT-8", warehouse="rtm", quantity=1, supplier_ref="D"),
            w.forge(
                "stock-BOLT-8@ams",
                "StockMovedOut",
                {
                    "move_id": "m1",
                    "sku": "BOLT-8",
                    "from_warehouse": "ams",
                    "to_warehouse": "rtm",
                    "quantity": 2,
                },
                "move_stock",
            ),
        ),
        "rules give 2 events",
    ),
    "metadata actor is a JSON list": (
        lambda w: w.forge(
            "product-BOLT-8",
            "ProductDiscontinued",
            {"sku": "BOLT-8", "reason": "old"},
            "discontinue_product",
            metadata={"actor": [1]},
        ),
        "metadata.actor must be text, not a JSON list",
    ),
}


def _cases() -> list[object]:
    cases: list[object] = []
    for domain, setup, table in (
        (LEDGER_DOMAIN, _bank, LEDGER_CASES),
        (INVENTORY_DOMAIN, _shop, INVENTORY_CASES),
    ):
        for name, (build, rule) in table.items():
            cases.append(pytest.param(domain, setup, build, rule, id=f"{domain.name}: {name}"))
    return cases


@pytest.mark.parametrize(("domain", "setup", "build", "rule"), _cases())
def test_an_impossible_history_is_refused_with_line_and_rule(
    cli: Cli, tmp_path: Path, domain: object, setup: Build, build: Build, rule: str
) -> None:
    w = HistoryWriter(domain)  # type: ignore[arg-type]
    setup(w)
    build(w)
    path = write_file(tmp_path / "history.jsonl", list(w.events))
    target = tmp_path / "target.db"
    assert cli("--domain", domain.name, "init", db_path=target).code == 0  # type: ignore[attr-defined]
    before = database_digest(target)
    r = cli("import", str(path), db_path=target)
    assert r.code == 2, r.err
    bad_line = next(
        i + 1
        for i, e in enumerate(w.events)
        if str(e.metadata.get("command_id")).startswith("forged-")
    )
    assert f"line {bad_line}: " in r.err and rule in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert database_digest(target) == before


@pytest.mark.parametrize(
    ("domain", "setup"),
    [(LEDGER_DOMAIN, _bank), (INVENTORY_DOMAIN, _shop)],
    ids=["ledger", "inventory"],
)
def test_a_possible_history_imports_and_is_recorded(
    cli: Cli, tmp_path: Path, domain: object, setup: Build
) -> None:
    w = HistoryWriter(domain)  # type: ignore[arg-type]
    setup(w)
    path = write_file(tmp_path / "history.jsonl", list(w.events))
    target = tmp_path / "target.db"
    assert cli("--domain", domain.name, "init", db_path=target).code == 0  # type: ignore[attr-defined]
    r = cli("import", str(path), db_path=target)
    assert r.code == 0, r.err
    verified = cli("verify", db_path=target)
    assert verified.code == 0
    assert f"1 import: #1-#{len(w.events)} from sha256 " in verified.out
    assert "by tester at " in verified.out


def test_an_import_continues_the_chain_or_is_refused(cli: Cli, tmp_path: Path) -> None:
    """The first imported event must follow the database's head exactly."""
    w = HistoryWriter(LEDGER_DOMAIN)
    _bank(w)
    first = write_file(tmp_path / "first.jsonl", list(w.events))
    target = tmp_path / "target.db"
    assert cli("import", str(first), db_path=target).code == 0
    before = database_digest(target)
    # The same file again starts at position 1, not at the head + 1.
    again = cli("import", str(first), db_path=target)
    assert again.code == 2 and "line 1: " in again.err
    assert "must start at position 4" in again.err
    assert database_digest(target) == before
    # A continuation whose prev_hash is not the head's hash is refused too.
    w.run("withdraw", account_id="a1", amount="10.00")
    whole = write_file(tmp_path / "whole.jsonl", list(w.events))
    tail = whole.read_bytes().splitlines()[3:]
    (tmp_path / "bad.jsonl").write_bytes(_bad_prev(tail[0]) + b"\n")
    r = cli("import", str(tmp_path / "bad.jsonl"), db_path=target)
    assert r.code == 2 and "prev_hash does not match the database head hash" in r.err
    assert database_digest(target) == before
    (tmp_path / "tail.jsonl").write_bytes(b"\n".join(tail) + b"\n")
    ok = cli("import", str(tmp_path / "tail.jsonl"), db_path=target)
    assert ok.code == 0, ok.err
    verified = cli("verify", db_path=target)
    assert "2 imports: #1-#3 " in verified.out and "; #4-#4 " in verified.out


def _bad_prev(line: bytes) -> bytes:
    import orjson

    value = orjson.loads(line)
    value["prev_hash"] = "f" * 64
    return orjson.dumps(value)


def test_the_todo_plugin_checks_its_rules_too(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(
        str(Path(__file__).resolve().parents[2] / "examples" / "todo_domain")
    )
    from todo_domain import TODO_DOMAIN

    w = HistoryWriter(TODO_DOMAIN)
    w.run("add_todo", todo_id="milk", text="buy milk")
    w.forge("todo-milk", "TodoCompleted", {"todo_id": "milk"}, "complete_todo")
    w.forge("todo-milk", "TodoCompleted", {"todo_id": "milk"}, "complete_todo")
    path = write_file(tmp_path / "todo.jsonl", list(w.events))
    target = tmp_path / "todo.db"
    assert cli("--domain", "todo_domain:TODO_DOMAIN", "init", db_path=target).code == 0
    r = cli("--domain", "todo_domain:TODO_DOMAIN", "import", str(path), db_path=target)
    assert r.code == 2 and "line 3: " in r.err and "already done" in r.err, r.err


def test_a_plugin_value_its_lax_model_would_accept_is_refused(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The to-do plug-in's events validate laxly (padding stripped): the replay compares
    the recorded JSON with what the handler emits, so a padded text is refused."""
    monkeypatch.syspath_prepend(
        str(Path(__file__).resolve().parents[2] / "examples" / "todo_domain")
    )
    from todo_domain import TODO_DOMAIN

    w = HistoryWriter(TODO_DOMAIN)
    w.run("add_todo", todo_id="milk", text="buy milk")
    w.forge("todo-eggs", "TodoAdded", {"todo_id": "eggs", "text": " buy eggs "}, "add_todo")
    path = write_file(tmp_path / "todo.jsonl", list(w.events))
    target = tmp_path / "todo.db"
    assert cli("--domain", "todo_domain:TODO_DOMAIN", "init", db_path=target).code == 0
    before = database_digest(target)
    r = cli("--domain", "todo_domain:TODO_DOMAIN", "import", str(path), db_path=target)
    assert r.code == 2 and "line 2: " in r.err, r.err
    assert "text is ' buy eggs ' but the rules give 'buy eggs'" in r.err, r.err
    assert database_digest(target) == before


def test_a_transfer_naming_two_transfer_ids_is_refused_after_one_that_did_not(
    cli: Cli, tmp_path: Path
) -> None:
    # The first transfer shows the replay where the handler puts the id it draws; the
    # second is then decided with the id its first event recorded, and still refused.
    w = HistoryWriter(LEDGER_DOMAIN)
    _bank(w)
    w.run("transfer", from_account="a1", to_account="a2", amount="10.00")
    sent = {
        "transfer_id": "t1",
        "from_account": "a1",
        "to_account": "a2",
        "amount": 1000,
        "currency": "EUR",
        "reference": "",
    }
    w.forge("account-a1", "TransferSent", sent, "transfer")
    received = {**sent, "transfer_id": "t2"}
    w.forge("account-a2", "TransferReceived", received, "transfer", same_command=True)
    path = write_file(tmp_path / "history.jsonl", list(w.events))
    target = tmp_path / "target.db"
    assert cli("--domain", "ledger", "init", db_path=target).code == 0
    before = database_digest(target)
    r = cli("import", str(path), db_path=target)
    assert r.code == 2, r.err
    assert f"line {len(w.events)}: " in r.err, r.err
    assert "transfer_id is 't2' but the rules give 't1'" in r.err, r.err
    assert database_digest(target) == before
