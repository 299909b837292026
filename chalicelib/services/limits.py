"""Limits that keep Roster from becoming a mail cannon (docs/api.md "Limits"):
a per-tenant request rate on the routes that cause mail, a daily cap of invitation mails per
recipient address, and a cooldown between resends of one invitation."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from chalicelib.domain.errors import Problem, RateLimited


class MailLimits:
    def __init__(self, repository, clock, requests_per_minute: int, invitation_mails_per_day: int,
                 resend_cooldown_seconds: int):
        self._repo = repository
        self._clock = clock
        self._per_minute = requests_per_minute
        self._per_day = invitation_mails_per_day
        self._cooldown = resend_cooldown_seconds

    def take_request(self, tenant_id: str) -> None:
        """One request of the tenant's on a route that causes mail."""
        now = self._clock.now()
        if not self._repo.take(tenant_id, "mail-requests", now.strftime("%Y-%m-%dT%H:%M"), self._per_minute):
            raise RateLimited(f"At most {self._per_minute} requests a minute may cause mail; try again shortly.",
                              60 - now.second)

    def count_invitation_mail(self, tx, tenant_id: str, email: str) -> None:
        """One invitation mail to `email` today, in the transaction that writes it."""
        now = self._clock.now()
        midnight = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) + timedelta(days=1)
        error = RateLimited(f"At most {self._per_day} invitation mails a day may go to one address.",
                            math.ceil((midnight - now).total_seconds()),
                            [Problem("email", f"has had {self._per_day} invitation mails today")])
        self._repo.count(tx, tenant_id, f"invitation-mail#{email}", now.strftime("%Y-%m-%d"), self._per_day, error)

    def check_resend(self, sent_at: datetime) -> None:
        """A resend waits until the cooldown after the invitation's last mail has passed."""
        wait = (sent_at + timedelta(seconds=self._cooldown) - self._clock.now()).total_seconds()
        if wait > 0:
            raise RateLimited(f"This invitation was sent less than {self._cooldown} seconds ago.", math.ceil(wait))
