"""The ledger as eventscope's app and CLI see it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from domain.deferred import DeferredSequence
from domain.description import DomainDescription
from domain.envelope import Refusal
from domain.ledger import LEDGER
from domain.ledger.account import ACCOUNT
from domain.ledger.fields import CONTEXT_FIELDS, LEDGER_FIELDS, value_text
from domain.ledger.fold_reads import LEDGER_EVENT_READS
from domain.ledger.replay import command_fields
from domain.ledger.summary import summarize
from domain.projection import Projection

if TYPE_CHECKING:
    from domain.store_records import PendingEvent

# The projections, the demo generator and the traffic simulator are imported when first
# used: every command (`exec`, `state`, ...) loads this description, and they are a
# noticeable part of its start-up.


def _projections() -> Sequence[Projection]:
    """`domain.ledger.projections.LEDGER_PROJECTIONS`, imported when first read (`exec`
    reads none)."""
    from domain.ledger.projections import LEDGER_PROJECTIONS

    return LEDGER_PROJECTIONS


def generate_demo(events: int, seed: int) -> Iterator[PendingEvent | Refusal]:
    """`domain.ledger.demo.generate_demo`, imported on first use."""
    from domain.ledger.demo import generate_demo as generate

    return generate(events, seed)


def run_simulation(*args: Any, **kwargs: Any) -> Any:
    """`domain.ledger.simulate.run_simulation`, imported on first use."""
    from domain.ledger.simulate import run_simulation as simulate

    return simulate(*args, **kwargs)


LEDGER_DOMAIN = DomainDescription(
    name="ledger",
    title="Ledger",
    model=LEDGER,
    projections=DeferredSequence(_projections),
    summarize=summarize,
    demo=generate_demo,
    simulate=run_simulation,
    fields=LEDGER_FIELDS,
    event_reads=LEDGER_EVENT_READS,
    context_fields=CONTEXT_FIELDS,
    value_text=value_text,
    command_context={
        "account_id": (ACCOUNT, ("currency",)),
        "from_account": (ACCOUNT, ("currency",)),
    },
    command_fields=command_fields,
)
