"""Outgoing mail, written to an outbox folder: one ``.eml`` file per message.

In development and in tests nothing leaves the machine, and anyone can open the messages.
A real app hands them to an SMTP server or a mail API instead. A folder that does not
exist stands for a mail server that does not answer.
"""

import os
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


class MailError(Exception):
    """The message was not sent; the text says why, in words a client may read."""


@dataclass(frozen=True)
class Mailer:
    outbox: Path
    sender: str = "reports@example.com"

    def send(self, name: str, to: str, subject: str, body: str, attachment: tuple[str, str]) -> None:
        """Send a message with one CSV attachment, given as (file name, text)."""
        if not self.outbox.is_dir():
            raise MailError("The mail server is not reachable")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        filename, text = attachment
        message.add_attachment(text, subtype="csv", filename=filename)
        # Written under another name, then renamed: a reader never sees half a message.
        draft = self.outbox / f".{name}.part"
        draft.write_bytes(message.as_bytes())
        os.replace(draft, self.outbox / name)
