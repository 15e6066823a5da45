"""The inventory as eventscope's app and CLI see it (`--domain inventory`)."""

from __future__ import annotations

from domain.description import DomainDescription
from domain.history_check import same_named_fields
from domain.inventory import INVENTORY
from domain.inventory.demo import generate_demo
from domain.inventory.fields import INVENTORY_FIELDS
from domain.inventory.fold_reads import INVENTORY_EVENT_READS
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.inventory.simulate import run_simulation
from domain.inventory.summary import summarize

INVENTORY_DOMAIN = DomainDescription(
    name="inventory",
    title="Inventory",
    model=INVENTORY,
    projections=INVENTORY_PROJECTIONS,
    summarize=summarize,
    demo=generate_demo,
    simulate=run_simulation,
    fields=INVENTORY_FIELDS,
    event_reads=INVENTORY_EVENT_READS,
    command_fields=same_named_fields,
)
