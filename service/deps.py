"""The routes' dependencies: the shared services and the API key's owner, and the
check that a key reaches an installation (404 otherwise, as if it did not exist)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from flowgen.db.keys import KeyOwner
from flowgen.service.errors import ApiError, not_found
from flowgen.service.schemas import INSTALLATION_ID, RECORD_ID
from flowgen.service.services import Services

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer fgk_...`")


def services(request: Request) -> Services:
    return request.app.state.services


def key_owner(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    svc: Annotated[Services, Depends(services)],
) -> KeyOwner:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "an API key is required (Authorization: Bearer <key>)",
            headers=unauthorized,
        )
    owner = svc.keys.verify(credentials.credentials)
    if owner is None:
        raise ApiError(401, "unauthorized", "unknown or revoked API key", headers=unauthorized)
    return owner


InstallationId = Annotated[str, Path(pattern=INSTALLATION_ID, max_length=100)]
RecordId = Annotated[str, Path(pattern=RECORD_ID, max_length=64)]


def reachable(
    installation_id: InstallationId, owner: Annotated[KeyOwner, Depends(key_owner)]
) -> str:
    if not owner.reaches(installation_id):
        raise not_found(f"installation {installation_id!r}")
    return installation_id


Reachable = Annotated[str, Depends(reachable)]
Svc = Annotated[Services, Depends(services)]
Owner = Annotated[KeyOwner, Depends(key_owner)]
