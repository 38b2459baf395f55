"""API keys of the HTTP service: made, checked and revoked here, stored hashed.

A key reads `fgk_<id>_<secret>`. The id is looked up; the secret is compared by its
SHA-256. The secret is 256 random bits, so a plain hash is enough: a slow password hash
(argon2, bcrypt) guards low-entropy human passwords, which these are not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from flowgen.db.models import ApiKeyRow, Installation

PREFIX = "fgk"


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    installation: str | None  # None: an admin key

    @property
    def admin(self) -> bool:
        return self.installation is None

    def reaches(self, installation: str) -> bool:
        return self.admin or self.installation == installation


@dataclass(frozen=True)
class KeyInfo:
    id: str
    installation: str | None
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, installation: str | None, label: str | None = None) -> str:
        """A new key (returned once, never stored): for one installation, or admin."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with Session(self.engine) as s, s.begin():
            if installation is not None:
                # A key may come before the first catalog sync of its installation.
                s.execute(
                    pg_insert(Installation)
                    .values(id=installation)
                    .on_conflict_do_nothing(index_elements=["id"])
                )
            s.add(
                ApiKeyRow(
                    id=key_id,
                    secret_sha256=_digest(secret),
                    installation_id=installation,
                    label=label,
                )
            )
        return f"{PREFIX}_{key_id}_{secret}"

    def verify(self, key: str) -> KeyOwner | None:
        prefix, _, rest = key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != PREFIX or not key_id or not secret:
            return None
        with Session(self.engine) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
                return None
            return KeyOwner(row.id, row.installation_id)

    def revoke(self, key_id: str) -> bool:
        with Session(self.engine) as s, s.begin():
            # An UPDATE's result is a CursorResult (with rowcount); Session.execute is
            # typed for every statement, so it says only Result.
            done = cast(
                CursorResult[Any],
                s.execute(
                    update(ApiKeyRow)
                    .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC))
                ),
            )
            return done.rowcount > 0

    def list(self, installation: str | None = None) -> list[KeyInfo]:
        with Session(self.engine) as s:
            query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
            if installation is not None:
                query = query.where(ApiKeyRow.installation_id == installation)
            return [
                KeyInfo(r.id, r.installation_id, r.label, r.created_at, r.revoked_at)
                for r in s.scalars(query)
            ]
