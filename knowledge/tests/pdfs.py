"""Hand-made PDF files for the parsing and upload tests."""

from __future__ import annotations


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF 1.4 file of ``objects`` (numbered from 1, the first the catalog) with its cross-reference
    table and trailer, as pypdf expects to find them."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
