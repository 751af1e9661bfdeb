"""Every log line leaves the process with its card numbers masked, tracebacks included."""

from __future__ import annotations

import json
import logging
import sys

from retail_platform.observability import PanMaskingFormatter, logger


def record(message: str, exc_info=None, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("t", logging.ERROR, __file__, 1, message, None, exc_info)
    rec.__dict__.update(extra)
    return rec


def test_messages_extras_and_tracebacks_are_masked():
    try:
        raise ValueError("could not parse 4111111111111111")
    except ValueError:
        exc_info = sys.exc_info()
    line = PanMaskingFormatter().format(
        record("card 4111 1111 1111 1111 seen", exc_info, note="pay with 5500-0000-0000-0004")
    )
    assert "4111111111111111" not in line and "4111 1111 1111 1111" not in line and "5500-0000-0000-0004" not in line
    payload = json.loads(line)
    assert payload["message"] == "card 4111 11** **** 1111 seen"
    assert payload["note"] == "pay with 5500-00**-****-0004"
    assert "411111******1111" in payload["exception"]


def test_order_ids_and_phone_numbers_are_left_alone():
    line = PanMaskingFormatter().format(record("order 581475 for +44 20 7946 0958"))
    assert json.loads(line)["message"] == "order 581475 for +44 20 7946 0958"


def test_the_platform_logger_uses_it():
    assert any(isinstance(h.formatter, PanMaskingFormatter) for h in logger.handlers)
