"""Generated input for the property tests of the public surfaces (``test_*_properties.py``).

JSON of any shape and text with what breaks storage and encoders (NUL, half surrogate pairs, byte
order marks, bidi overrides), bodies that are no JSON, and the settings every such property shares.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROPERTY_SETTINGS = settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    # fixtures (tenants, their data, caplog) are made once per test; every example shares them
    suppress_health_check=list(HealthCheck),
)


# What breaks storage and encoders: NUL, half surrogate pairs, BOM, bidi overrides, non-BMP.
NASTY_CHARS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ufeff", "\u202e", "\U0001f600", "\\", '"', "\n"])
TEXT = st.text(st.one_of(st.characters(), NASTY_CHARS), max_size=40)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63),  # over every database integer column
    st.integers(max_value=-(2**63)),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
NOT_JSON_BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"[" * 100_000,  # deeper than the parser's recursion limit
            b'{"a":' * 50_000,
            b"1" * 5_000,  # an integer over Python's 4,300 digits
            b'{"key": "\\ud800"',
            b'{"text": NaN}',
            b"\xff\xfe{\x00}\x00",  # UTF-16
            b"",
        ]
    ),
)


def assert_no_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR with a traceback was logged (a view or consumer that caught a crash still logs it)."""
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR and record.exc_info]
    assert not logged, [record.getMessage() for record in logged]
