"""Which domain a workspace opens: the bundled ones, plug-ins installed under the
`eventscope.domains` entry-point group (scanned only when a name is not bundled), or a
`module:attr` naming a `DomainDescription`."""

from __future__ import annotations

import importlib
from pathlib import Path

from domain.description import DomainDescription
from domain.errors import InvalidInput

DEFAULT_DOMAIN = "ledger"
BUNDLED_DOMAINS = {
    "ledger": "domain.ledger.description:LEDGER_DOMAIN",
    "inventory": "domain.inventory.description:INVENTORY_DOMAIN",
}
ENTRY_POINT_GROUP = "eventscope.domains"


def _installed_domains() -> dict[str, str]:
    """Domains installed by packages, under the `eventscope.domains` entry-point group."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_domains() -> dict[str, str]:
    """Every domain name this installation can open, with its `module:attr`."""
    return {**BUNDLED_DOMAINS, **_installed_domains()}


def load_domain(spec: str) -> DomainDescription:
    """The domain named `spec` (bundled or installed), or at `module:attr`.

    The attribute must be a `DomainDescription` itself: it is never called, so
    `--domain os:system` is refused rather than run.
    """
    target = spec if ":" in spec else BUNDLED_DOMAINS.get(spec)  # no entry-point scan
    known = BUNDLED_DOMAINS if target is not None else known_domains()
    target = target or known.get(spec)
    if target is None:
        raise InvalidInput(
            f"unknown domain {spec!r}; known domains: {', '.join(sorted(known))} "
            "(or give --domain module:attr)"
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"cannot import domain module {module_name!r}: {exc}") from None
    found = getattr(module, attr, None)
    if not isinstance(found, DomainDescription):
        raise InvalidInput(
            f"{target} is not an eventscope DomainDescription (it is {type(found).__name__}); "
            "give --domain module:attr naming one"
        )
    return found


def recorded_domain(path: Path, name: str) -> DomainDescription:
    if name not in BUNDLED_DOMAINS and name not in known_domains():
        raise InvalidInput(
            f"{path} was written by the {name!r} domain, which is not installed here; "
            "install its package, or give --domain module:attr"
        )
    return load_domain(name)
