"""The projector, split by idea: `projector` (catching up and following), `rebuild`,
`reads` (status and read models), `base` (connections, transactions, lease), `status`.
"""

from domain.fold_failure import ProjectionFailed
from store.projector.projector import Projector
from store.projector.status import ProjectorBusy, ProjectorStatus, ReadModels, default_owner_id

__all__ = [
    "ProjectionFailed",
    "Projector",
    "ProjectorBusy",
    "ProjectorStatus",
    "ReadModels",
    "default_owner_id",
]
