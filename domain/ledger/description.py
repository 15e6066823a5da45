"""The ledger as eventscope's app and CLI see it."""

from __future__ import annotations

from domain.description import DomainDescription
from domain.ledger import LEDGER
from domain.ledger.demo import generate_demo
from domain.ledger.fields import LEDGER_FIELDS
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.ledger.replay import command_fields
from domain.ledger.simulate import run_simulation
from domain.ledger.summary import summarize

LEDGER_DOMAIN = DomainDescription(
    name="ledger",
    title="Ledger",
    model=LEDGER,
    projections=LEDGER_PROJECTIONS,
    summarize=summarize,
    demo=generate_demo,
    simulate=run_simulation,
    fields=LEDGER_FIELDS,
    command_fields=command_fields,
)
