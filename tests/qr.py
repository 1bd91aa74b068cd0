"""Reading a QR code back from an image, with a real decoder: a wrong or unreadable code
fails the test."""

from __future__ import annotations

from io import BytesIO

import zxingcpp
from PIL import Image


def qr_text(png: bytes) -> str:
    """The text of the only QR code in a PNG image."""
    with Image.open(BytesIO(png)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    assert len(found) == 1, f"expected one code, found {len(found)}"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text
