"""Card-data scan of free text and records: findings by position (never the digits) and the masked text."""

from __future__ import annotations

from typing import Any

from compliance_guardian.exceptions import BadRequestError
from retail_platform.pii import sensitive

POLICIES = ("bin_last4", "last4")


def _finding(f: sensitive.Finding, **where: Any) -> dict[str, Any]:
    return {**where, "kind": f.kind, "start": f.start, "end": f.end, "brand": f.brand, "confidence": f.confidence}


def scan_text(text: str, policy: str = "bin_last4") -> dict[str, Any]:
    if policy not in POLICIES:
        raise BadRequestError(f"policy must be one of {', '.join(POLICIES)}")
    masked, findings = sensitive.mask_card_data(text, policy)
    return {"findings": [_finding(f) for f in findings], "masked_text": masked}


def scan_records(records: list[dict[str, Any]], policy: str = "bin_last4") -> dict[str, Any]:
    """Every string field of every record; returns findings with row and column, and the masked records."""
    if policy not in POLICIES:
        raise BadRequestError(f"policy must be one of {', '.join(POLICIES)}")
    findings: list[dict[str, Any]] = []
    masked_records: list[dict[str, Any]] = []
    for row, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequestError(f"records[{row}] must be a JSON object")
        out: dict[str, Any] = {}
        for column, value in record.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value) if isinstance(value, int) and len(str(abs(value))) >= 12 else value
            if isinstance(value, str) and value:
                masked, found = sensitive.mask_card_data(value, policy)
                findings.extend(_finding(f, row=row, column=column) for f in found)
                out[column] = masked
            else:
                out[column] = value
        masked_records.append(out)
    return {"findings": findings, "masked_records": masked_records}
