"""Format detection is by content: JSON when it parses as a known shape, else a profile page."""

from __future__ import annotations

import pytest

from flows.formats import read_dump
from flows.formats.records import Quarantine


def test_a_page_whose_name_starts_with_a_bracket_is_still_a_profile_page():
    page = "[Lab] Ada Lovelace\n\nh-index3\n2papers\n\nLGMar 3, 2021\nA Title\n\nAda Lovelace\n"
    parsed = read_dump(page.encode())
    assert parsed.format == "scholarfeed_profile"
    assert parsed.profiles[0].display_name == "[Lab] Ada Lovelace"
    assert [paper.title for paper in parsed.papers] == ["A Title"]


def test_broken_json_is_quarantined_with_the_json_reason():
    with pytest.raises(Quarantine, match="json"):
        read_dump(b'{"results": [1, 2')
