"""What the payment provider told us, kept so that each event is applied once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

PROVIDER_EVENT_ID_MAX = 255
EVENT_TYPE_MAX = 100


class ProviderEvent(db.Model):
    """A provider's webhook event, recorded once: a redelivery finds its id here and
    changes nothing."""

    __tablename__ = "provider_events"
    __table_args__ = (
        Index("uq_provider_events_provider_event", "provider", "event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(PROVIDER_EVENT_ID_MAX))
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_MAX))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    def __repr__(self) -> str:
        return f"<ProviderEvent {self.provider} {self.event_id} {self.event_type}>"
