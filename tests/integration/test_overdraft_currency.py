"""An overdraft change names no currency; it is printed in its account's (CLI `log`)."""

from __future__ import annotations

from cli_support import Cli


def test_log_prints_an_overdraft_change_in_the_account_s_currency(cli: Cli) -> None:
    assert cli("init").code == 0
    for account, currency in (("y1", "JPY"), ("u1", "USD")):
        opened = cli(
            "exec", "open_account", f"account_id={account}", "owner=Ada", f"currency={currency}"
        )
        assert opened.code == 0, opened.err
    assert cli("exec", "set_overdraft_limit", "account_id=y1", "limit=160000").code == 0
    assert cli("exec", "set_overdraft_limit", "account_id=u1", "limit=1080.00").code == 0
    log = cli("log", "--type", "OverdraftLimitChanged")
    assert log.code == 0, log.err
    lines = log.out.splitlines()
    assert "overdraft of y1: 0 JPY → 160,000 JPY" in lines[0]
    assert "overdraft of u1: 0.00 USD → 1,080.00 USD" in lines[1]
    assert "minor units" not in log.out
