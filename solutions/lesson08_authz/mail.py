"""Outgoing mail, written to an outbox directory: one ``.eml`` file per message.

Like Django's file e-mail backend: in development and in tests nothing leaves the machine, and
anyone can open the messages. A real app hands them to an SMTP server or a mail API instead.
"""

import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


@dataclass(frozen=True)
class Outbox:
    directory: Path
    sender: str

    def send(self, to: str, subject: str, body: str) -> Path:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        # Written under another name, then renamed: a reader never sees half a message.
        draft = self.directory / f".{name}.part"
        draft.write_bytes(message.as_bytes())
        return draft.rename(self.directory / name)
