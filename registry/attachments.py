"""Uploaded files: type checked by content, stored by SHA-256 outside the database.

The original file name is kept only as display text; the stored path is derived from the
content hash, so a name can never choose where a file goes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path

KINDS = {
    "report": "报告（补录/升级/勘误报告）", "commitment": "企业承诺书",
    "application_form": "企业申请表", "evidence": "佐证材料",
    "authenticity_letter": "项目信息真实性确认函", "formal_document": "正式公文",
    "ministry_request": "勘误申请函", "ministry_reply": "住房城乡建设部复函",
}
"""Attachment kinds and how people call them."""

PREVIEWABLE = frozenset({"application/pdf", "image/jpeg", "image/png"})
"""Media types a browser shows in the page (OFD files are downloaded)."""

MAX_BYTES = 20 * 1024 * 1024
"""Default upload limit (``CQPI_MAX_UPLOAD_BYTES``)."""


class FileRefused(ValueError):
    """An upload that is empty, too large, of an unknown kind or not PDF, OFD, JPEG or PNG."""


def sniff(content: bytes) -> str | None:
    """The media type by content (never by name): PDF, OFD, JPEG or PNG, else None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"PK\x03\x04") and _is_ofd(content):
        return "application/ofd"
    return None


def _is_ofd(content: bytes) -> bool:
    """OFD (GB/T 33190) is a ZIP package whose root holds OFD.xml; only the directory is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            return "OFD.xml" in package.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def display_name(name: str | None) -> str:
    """A safe display text for an uploaded file's name (no path, no control characters)."""
    base = re.split(r"[\\/]", name or "")[-1]
    clean = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return clean[:200] or "未命名文件"


def check(kind: str, content: bytes, limit: int = MAX_BYTES) -> str:
    """Refuse what may not be stored; return the media type of what may."""
    if kind not in KINDS:
        raise FileRefused(f"未知的材料类型: {kind}")
    if not content:
        raise FileRefused("文件为空")
    if len(content) > limit:
        raise FileRefused(f"文件超过 {limit // (1024 * 1024)} MB 上限")
    media = sniff(content)
    if media is None:
        raise FileRefused("只接受 PDF、OFD、JPEG、PNG 文件（按文件内容判断）")
    return media


def path_for(root: Path, digest: str) -> Path:
    return root / "files" / digest[:2] / digest[2:4] / digest


def store(root: Path, content: bytes) -> str:
    """Write ``content`` under ``root`` by its SHA-256 (once; atomically); return the digest."""
    digest = hashlib.sha256(content).hexdigest()
    target = path_for(root, digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest
