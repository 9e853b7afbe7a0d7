"""Generation's objects in the one access policy (`elements.teams.policy`).

A job is its submitter's, whatever library its elements came from: charged to them, seen and
cancelled by them only, and kept when they leave the team (the pins are snapshots). Its
outputs, inputs and pins follow the job. `generation.apps` registers these rules.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q

from elements.teams.policy import Action, register


def _own(user: AbstractBaseUser, obj: Any, action: Action) -> bool:
    return bool(obj.owner_id == user.pk)


def _own_job(user: AbstractBaseUser, obj: Any, action: Action) -> bool:
    return bool(obj.job.owner_id == user.pk)


def register_generation_access() -> None:
    from generation.models import GenerationJob, GenerationOutput, JobElement, JobInput

    register(GenerationJob, rule=_own, scope=lambda user, action: Q(owner_id=user.pk))
    register(GenerationOutput, rule=_own, scope=lambda user, action: Q(owner_id=user.pk))
    for model in (JobInput, JobElement):
        register(model, rule=_own_job, scope=lambda user, action: Q(job__owner_id=user.pk))
