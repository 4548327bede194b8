"""A member's request for an export of their data, and its lifecycle.

requested → building (a worker claimed it; ``started_at`` is its lease's start) →
ready (the zip ``file_name`` is in ``UPLOAD_FOLDER/exports``, the link's token hashed
in ``token_hash``, good until ``expires_at``) → expired (the zip deleted: its time is
up, or a newer export of the member became ready; one zip per member). A build that
raises ends in failed; one that went over EXPORT_MAX_BYTES ends in failed with
``size_bytes`` set (the size it stopped at), which the page names as the reason. At most
one export per member is requested or building (a partial unique index).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow


class ExportState(StrEnum):
    REQUESTED = "requested"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {"requested": "Waiting to be built", "building": "Being built",
                "ready": "Ready to download", "failed": "Could not be built",
                "expired": "Expired"}[self.value]


EXPORT_TRANSITIONS: dict[ExportState, frozenset[ExportState]] = {
    ExportState.REQUESTED: frozenset({ExportState.BUILDING}),
    ExportState.BUILDING: frozenset({ExportState.READY, ExportState.FAILED}),
    ExportState.READY: frozenset({ExportState.EXPIRED}),
    ExportState.FAILED: frozenset(),
    ExportState.EXPIRED: frozenset(),
}

RUNNING_STATES = (ExportState.REQUESTED, ExportState.BUILDING)
_RUNNING = text("state IN ('requested', 'building')")


class DataExport(db.Model):
    __tablename__ = "data_exports"
    __table_args__ = (
        CheckConstraint("state IN ('requested', 'building', 'ready', 'failed', 'expired')",
                        name="state"),
        CheckConstraint("state <> 'ready' OR (file_name IS NOT NULL AND token_hash IS NOT NULL "
                        "AND expires_at IS NOT NULL)", name="ready_has_file"),
        # one request running at a time per member: the database settles a double submit
        Index("uq_data_exports_running_user", "user_id", unique=True,
              sqlite_where=_RUNNING, postgresql_where=_RUNNING),
        # a member's exports, newest first (the page, the hourly limit)
        Index("ix_data_exports_user_requested", "user_id", "requested_at", "id"),
        # the jobs: exports waiting to be built, and ready ones by expiry
        Index("ix_data_exports_state_requested", "state", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default=ExportState.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # when a worker claimed it to build (its lease starts then)
    started_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None]
    # the mailed link works until then; the expiry job deletes the zip after
    expires_at: Mapped[datetime | None]
    # the zip's generated name in UPLOAD_FOLDER/exports, and its size (on a failed
    # export: the size it stopped at, over EXPORT_MAX_BYTES)
    file_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int | None]
    # sha256 of the mailed link's token (the token itself is only in the e-mail)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                       server_default=func.now())

    def __repr__(self) -> str:
        return f"<DataExport {self.id} user={self.user_id} {self.state}>"
