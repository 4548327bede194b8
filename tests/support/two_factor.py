"""Two-factor log-in in tests: turning it on through the services, the codes an
authenticator app would show, and a clock the TOTP checks read (``totp_clock``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
import pytest

from offload.accounts import two_factor


@dataclass(frozen=True)
class SetUp:
    secret: str
    backup_codes: list[str]


def code_for(secret: str, at: float | None = None, steps: int = 0) -> str:
    """What the app shows at ``at`` (now), ``steps`` 30-second steps later."""
    return pyotp.TOTP(secret).at((time.time() if at is None else at) + 30 * steps)


def turn_on_two_factor(member, at: float | None = None) -> SetUp:
    """Set up and turn on 2FA as the member would, with the code of ``at`` (now)."""
    two_factor.begin_two_factor(actor=member)
    secret = two_factor.pending_set_up(member).secret
    return SetUp(secret, two_factor.enable_two_factor(actor=member,
                                                      code=code_for(secret, at)))


class Clock:
    """The time the TOTP checks see; ``tick(steps)`` moves it on by 30-second steps."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30 + 10)  # 10 s into a step

    def __call__(self) -> float:
        return self.now

    def tick(self, steps: int = 1) -> None:
        self.now += 30 * steps


@pytest.fixture
def totp_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(two_factor, "_now", clock)
    return clock
