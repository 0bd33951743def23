"""Reading e-mail: one message (.eml) or a mailbox (.mbox, a page per message).

Each message reads as its subject (a heading), "From:" and "Date:" lines, then its body
(the text/plain part, else the HTML part's visible text). Attachments whose type
Excerpta reads (a PDF, a spreadsheet, ...) follow, each under a heading naming the
file; attachments are never opened by any other program, and a mail attached to a
mail is not read further. Parsing is the standard library's ``email`` package.

Must not import textual, torch or click.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage, Message
from pathlib import PurePosixPath

from assistant.documents.loaders.paged import PageText, paged_document, split_lines
from assistant.errors import LoaderError
from assistant.records import Document

# What reads an attachment: its bytes and lower-case suffix -> a Document.
AttachmentReader = Callable[[bytes, str], Document]

_MBOX_SEPARATOR = re.compile(rb"^From .*\r?\n", re.MULTILINE)
MAX_MESSAGES = 100_000
_MAX_PARTS = 1_000


def load_eml(data: bytes, read_attachment: AttachmentReader) -> Document:
    """Read one message.

    Raises:
        LoaderError: the bytes hold no message headers.
    """
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not message.keys():
        raise LoaderError("not valid EML: no message headers")
    return paged_document([_message_page(message, read_attachment)], numbered=False)


def load_mbox(data: bytes, read_attachment: AttachmentReader) -> Document:
    """Read a Unix mailbox: a page per message, in the order stored.

    Raises:
        LoaderError: the file does not start like a mailbox.
    """
    if not data.startswith(b"From "):
        raise LoaderError("not valid MBOX: it does not start with a 'From ' line")
    pieces = _MBOX_SEPARATOR.split(data)[1 : MAX_MESSAGES + 1]
    pages = []
    for piece in pieces:
        # mboxrd quoting: ">From " at a line's start stands for "From ".
        body = re.sub(rb"(?m)^>(>*From )", rb"\1", piece)
        message = email.message_from_bytes(body, policy=email.policy.default)
        pages.append(_message_page(message, read_attachment))
    return paged_document(pages)


def _message_page(message: Message, read_attachment: AttachmentReader) -> PageText:
    page = PageText()
    subject = _header(message, "subject")
    page.add_heading(subject or "(no subject)")
    for name in ("from", "to", "date"):
        value = _header(message, name)
        if value:
            page.lines.append(f"{name.capitalize()}: {value}")
    page.lines.append("")
    page.lines.extend(_body(message))
    if isinstance(message, EmailMessage):
        for part in list(message.iter_attachments())[:_MAX_PARTS]:
            _attachment(part, page, read_attachment)
    return page


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, LookupError):
        return ""  # a header the parser can't decode: left out, not fatal
    return " ".join(str(value).split()) if value is not None else ""


def _body(message: Message) -> list[str]:
    if not isinstance(message, EmailMessage):
        return []
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, KeyError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return []
    if part.get_content_subtype() == "html":
        from assistant.documents.loaders.html import html_to_text

        content = html_to_text(content).text
    return split_lines(content.strip())


def _attachment(part: Message, page: PageText, read_attachment: AttachmentReader) -> None:
    filename = part.get_filename() or ""
    suffix = PurePosixPath(filename).suffix.lower()
    if not filename or suffix in {".eml", ".mbox"}:
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return
    try:
        document = read_attachment(payload, suffix)
    except LoaderError:
        return  # an unreadable or unsupported attachment doesn't cost the message
    page.lines.append("")
    page.add_heading(f"Attachment: {' '.join(filename.split())}", level=2)
    page.lines.extend(split_lines(document.text))
