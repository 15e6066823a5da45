"""The inventory demo's world: warehouses, the people in them, suppliers and product families.

Every name is made up. Product families multiply out into about 500 distinct SKUs, of
which a demo uses as many as its size asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.inventory.events import Unit


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A warehouse and the clerk who books its goods in and counts its shelves."""

    id: str
    clerk: str
    central: bool
    """Central warehouses receive from suppliers and replenish the regional ones."""


WAREHOUSES: Final = (
    Warehouse("ams-central", "sanne", True),
    Warehouse("rtm-port", "daan", True),
    Warehouse("ber-east", "jonas", False),
    Warehouse("muc-south", "lena", False),
    Warehouse("lyon-hub", "chloe", False),
    Warehouse("mad-west", "pablo", False),
)


@dataclass(frozen=True, slots=True)
class Supplier:
    """A supplier, and how its delivery notes are numbered (`<code>-DN-000123`)."""

    name: str
    code: str


SUPPLIERS: Final = {
    "fasteners": (Supplier("Baltic Fasteners BV", "BFB"), Supplier("Hanse Schrauben GmbH", "HSG")),
    "tools": (Supplier("Iberia Tools SL", "ITS"), Supplier("Nordic Powertools AB", "NPA")),
    "cable": (Supplier("Nordkabel GmbH", "NKG"),),
    "lighting": (Supplier("Lumen Lighting Co", "LLC"), Supplier("Eastbright Ltd", "EBL")),
    "coatings": (Supplier("Alpine Coatings AG", "ACA"),),
    "building": (Supplier("Tejo Materiais SA", "TMS"), Supplier("Rhône Bâtiment SARL", "RBS")),
    "packaging": (Supplier("Delta Packaging Ltd", "DPL"),),
    "safety": (Supplier("Safeguard PPE Oy", "SPO"), Supplier("Helvetic Safety AG", "HSA")),
    "plumbing": (Supplier("Adriatic Plumbing doo", "APD"),),
}
"""Suppliers by product group."""


@dataclass(frozen=True, slots=True)
class Family:
    """A family of products: SKU and name patterns over its variants, and how it moves.

    `variants` are tuples of (SKU part, name part) lists; every combination is one
    product. Quantities are in `unit`: an order takes `order` units (min, max), a
    supplier delivers `lot` units (min, max).
    """

    group: str
    sku: str
    name: str
    unit: Unit
    variants: tuple[tuple[tuple[str, str], ...], ...]
    order: tuple[int, int]
    lot: tuple[int, int]
    popularity: float = 1.0


_COLOURS = (("BK", "black"), ("WH", "white"), ("GY", "grey"), ("RD", "red"), ("BL", "blue"))
_SIZES = (("S", "size S"), ("M", "size M"), ("L", "size L"), ("XL", "size XL"))

FAMILIES: Final = (
    Family(
        "fasteners", "BOLT", "Hex bolt {0} x {1}, {2}", "box",
        (tuple((f"M{d}", f"M{d}") for d in (6, 8, 10, 12, 16)),
         tuple((str(n), f"{n} mm") for n in (20, 30, 40, 50, 60, 80, 100)),
         (("ZN", "zinc plated"), ("SS", "stainless"))),
        (1, 12), (60, 400), 2.0,
    ),
    Family(
        "fasteners", "WASH", "Flat washer {0}, {1}", "box",
        (tuple((f"M{d}", f"M{d}") for d in (4, 5, 6, 8, 10, 12, 16, 20)),
         (("ZN", "zinc plated"), ("SS", "stainless"), ("NY", "nylon"))),
        (1, 20), (100, 600), 1.2,
    ),
    Family(
        "fasteners", "ANCH", "Wall anchor {0} mm, {1}", "pack",
        (tuple((str(d), str(d)) for d in (5, 6, 8, 10, 12, 14)),
         (("NYL", "nylon"), ("MTL", "metal"), ("PLB", "plasterboard"), ("CHEM", "chemical"))),
        (1, 10), (50, 300), 1.0,
    ),
    Family(
        "fasteners", "NUT", "Hex nut {0}, {1}", "box",
        (tuple((f"M{d}", f"M{d}") for d in (4, 5, 6, 8, 10, 12, 16, 20)),
         (("ZN", "zinc plated"), ("SS", "stainless"), ("GV", "galvanised"))),
        (1, 15), (80, 500), 1.6,
    ),
    Family(
        "fasteners", "SCRW", "Wood screw {0} x {1}, {2}", "box",
        ((("35", "3.5"), ("40", "4.0"), ("45", "4.5"), ("50", "5.0"), ("60", "6.0")),
         tuple((str(n), f"{n} mm") for n in (16, 25, 30, 40, 50, 60, 70, 80, 100, 120)),
         (("PZ", "Pozidriv"), ("TX", "Torx"))),
        (1, 10), (50, 300), 1.8,
    ),
    Family(
        "tools", "DRL", "Cordless drill {0}, {1}", "each",
        ((("12V", "12 V"), ("18V", "18 V"), ("36V", "36 V")),
         (("BARE", "body only"), ("2AH", "2 Ah kit"), ("4AH", "4 Ah kit"), ("5AH", "5 Ah kit"))),
        (1, 3), (10, 60), 0.7,
    ),
    Family(
        "tools", "SAW", "Hand saw {0}, {1}", "each",
        ((("350", "350 mm"), ("450", "450 mm"), ("550", "550 mm")),
         (("FINE", "fine cut"), ("UNI", "universal"), ("COARSE", "coarse cut"))),
        (1, 4), (20, 100), 0.6,
    ),
    Family(
        "tools", "BIT", "Drill bit {0} mm, {1}", "each",
        (tuple((str(d), str(d)) for d in (3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20)),
         (("HSS", "HSS metal"), ("SDS", "SDS masonry"), ("WOOD", "wood spiral"))),
        (1, 25), (100, 800), 1.1,
    ),
    Family(
        "cable", "CBL", "Copper cable {0}, {1}", "m",
        (tuple((s.replace(".", "").upper(), f"{s} mm²") for s in ("1.5", "2.5", "4", "6", "10")),
         (("BN", "brown"), ("BU", "blue"), ("GNYE", "green/yellow"), ("BK", "black"))),
        (10, 250), (1000, 5000), 1.4,
    ),
    Family(
        "lighting", "LED", "LED bulb {0} {1}, {2}", "each",
        ((("E14", "E14"), ("E27", "E27"), ("GU10", "GU10")),
         (("4W", "4 W"), ("6W", "6 W"), ("9W", "9 W"), ("12W", "12 W")),
         (("WW", "warm white"), ("NW", "neutral white"), ("CW", "cool white"))),
        (2, 40), (200, 1200), 1.5,
    ),
    Family(
        "coatings", "PNT", "Wall paint {0}, {1}", "each",
        ((("WH", "white"), ("OW", "off-white"), ("GY", "light grey"), ("SND", "sand"),
          ("SAGE", "sage"), ("NAVY", "navy")),
         (("1L", "1 l"), ("25L", "2.5 l"), ("5L", "5 l"), ("10L", "10 l"))),
        (1, 12), (40, 240), 1.0,
    ),
    Family(
        "coatings", "BRSH", "Paint brush {0}, {1}", "each",
        (tuple((str(w), f"{w} mm") for w in (25, 38, 50, 63, 75, 100)),
         (("FLAT", "flat"), ("ANG", "angled"), ("RAD", "radiator"))),
        (1, 24), (100, 600), 0.8,
    ),
    Family(
        "building", "CMT", "Cement {0}, {1}", "kg",
        ((("CEM1", "CEM I 52.5"), ("CEM2", "CEM II 42.5"), ("CEM3", "CEM III 32.5")),
         (("GR", "grey"), ("WH", "white"))),
        (25, 1000), (5000, 24000), 0.8,
    ),
    Family(
        "packaging", "BOX", "Shipping carton {0}, {1}", "pack",
        (tuple((f"{w}X{h}", f"{w} x {h} cm") for w, h in
               ((20, 15), (30, 20), (40, 30), (50, 40), (60, 40), (80, 60))),
         (("1W", "single wall"), ("2W", "double wall"))),
        (1, 20), (100, 600), 1.3,
    ),
    Family(
        "packaging", "TAPE", "Packing tape {0}, {1}", "roll",
        ((("48", "48 mm"), ("50", "50 mm"), ("75", "75 mm")), (*_COLOURS[:3], ("CL", "clear"))),
        (6, 72), (500, 3000), 1.2,
    ),
    Family(
        "safety", "GLV", "Work gloves {0}, {1}", "pair",
        ((("NIT", "nitrile"), ("LTH", "leather"), ("CUT5", "cut level 5"), ("THRM", "thermal")),
         _SIZES),
        (2, 60), (200, 1500), 1.4,
    ),
    Family(
        "safety", "HLM", "Safety helmet {0}, {1}", "each",
        ((*_COLOURS, ("YE", "yellow"), ("OR", "orange")),
         (("STD", "standard"), ("VENT", "vented"), ("VIS", "with visor"))),
        (1, 10), (40, 200), 0.6,
    ),
    Family(
        "plumbing", "PIPE", "PVC pipe {0}, {1}", "m",
        (tuple((f"D{d}", f"Ø {d} mm") for d in (16, 20, 25, 32, 40, 50, 75, 110)),
         (("PN10", "PN 10"), ("PN16", "PN 16"))),
        (6, 120), (500, 3000), 0.9,
    ),
    Family(
        "plumbing", "FITT", "PVC fitting {0}, {1}", "each",
        ((("ELB", "elbow 90°"), ("TEE", "tee"), ("CPL", "coupling")),
         tuple((f"D{d}", f"Ø {d} mm") for d in (16, 20, 25, 32, 40, 50, 75, 110))),
        (2, 50), (200, 1500), 1.0,
    ),
    Family(
        "plumbing", "SEAL", "Silicone sealant {0}, {1}", "case",
        ((("SAN", "sanitary"), ("ACR", "acrylic"), ("HT", "high temperature"), ("GLS", "glazing")),
         (*_COLOURS[:3], ("CL", "clear"))),
        (1, 8), (30, 160), 0.8,
    ),
)  # fmt: skip
"""Product families; their combinations give about 500 distinct products."""

CUSTOMERS: Final = (
    "BAUHOF", "KLEINBAU", "TECHNIMONT", "VANDERBERG", "ELEKTRO-ZANDER", "CASA-NOVA",
    "RENOV-LYON", "HAUSTECHNIK", "IBERCONSTRUC", "POLDER-INSTALL",
)  # fmt: skip
"""Trade customers ordering by EDI (`B2B-<customer>-000123`)."""

COUNT_REASONS: Final = (
    "cycle count", "cycle count", "cycle count", "spot check", "quarterly count",
)  # fmt: skip
LOSS_REASONS: Final = (
    "damaged in handling", "cycle count: units missing", "broken packaging, disposed",
    "suspected theft", "water damage", "picking error found at count",
)  # fmt: skip
FOUND_REASONS: Final = (
    "found in wrong bin", "cycle count: surplus", "return booked late", "supplier over-delivery",
)  # fmt: skip
DISCONTINUE_REASONS: Final = (
    "replaced by newer model", "supplier stopped production", "slow mover, delisted",
    "range review", "safety standard superseded",
)  # fmt: skip
