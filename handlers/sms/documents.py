"""A document on a phone. Neither an SMS nor a WhatsApp message sent through Twilio carries a
file's bytes (Twilio fetches a WhatsApp file from a public URL), so the person gets a link
to it, valid one hour, that our HTTP server answers with the file built afresh."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import Translator
from bot.messaging.message import Document
from bot.runtime import Renfort
from bot.services import documents, phones

FILES_PATH = "/files/"


@dataclass(frozen=True)
class Link:
    """Where the document can be downloaded, and the words of its owner's language."""

    url: str
    t: Translator

    def sms_text(self) -> str:
        """The link as one SMS says it."""
        return self.t._("Your data: {url} (valid 1 hour)").format(url=self.url)


async def document_link(renfort: Renfort, phone: str, document: Document) -> Link | None:
    """A fresh link to the document of the person writing from `phone`; None when no link
    can give it (no public address, no person on this number, a document no link rebuilds)."""
    public_url = renfort.settings.public_url
    contact = await phones.find_by_phone(renfort.db, phone)
    if not public_url or contact is None:
        return None
    token = await documents.link(
        renfort.db, person_id=contact.person.id, document=document, now=renfort.now()
    )
    if token is None:
        return None
    return Link(public_url + FILES_PATH + token, renfort.translator(contact.person.locale))
