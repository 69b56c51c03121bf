"""The sections file's records (kb/search/sections.py) depend on the documents alone.

`marshal` marks a string it writes as interned or not, and a one-character string is one
object per process, interned or not by whatever ran before (an import, a `getattr`): two
builds of the same documents could write different bytes. The records must come out the
same whatever the process did before and wherever the strings came from, and decode to the
values the format has always held.
"""

from __future__ import annotations

import hashlib
import marshal
import struct
import sys
from array import array

import pytest
from test_search_bulk_records import RECORDED

from kb.search.sections import section_record

_PREFIX = struct.Struct("<IIII")


def decoded(record: bytes) -> tuple:
    """What a record holds, whatever marshal's flags: header, CRC-32s, entries, texts."""
    header, words, entries, _ = _PREFIX.unpack_from(record)
    at = _PREFIX.size
    values = marshal.loads(record[at : at + header])
    at += header
    hashes = array("I", record[at : at + 4 * words]).tolist()
    ends = array("I", record[at + 4 * words : at + 8 * words]).tolist()
    at += 8 * words
    data = record[at : at + entries]
    bounds = zip((0, *ends[:-1]), ends, strict=True)
    found = [marshal.loads(data[begin:end]) for begin, end in bounds]
    return values, hashes, found, record[at + entries :]


def _not_interned_character() -> str:
    """A one-character string this process has not interned yet (marshal tells)."""
    for code in range(0xA1, 0x100):
        character = chr(code)
        if marshal.dumps(character)[0] & 0x7F == ord("u"):  # TYPE_UNICODE, not TYPE_INTERNED
            return character
    pytest.skip("every candidate character is interned already")
    raise AssertionError  # not reached


def test_a_character_interned_between_two_builds_changes_nothing():
    character = _not_interned_character()
    sections = [
        ("", character, f"Before {character} and after"),
        (character, "Title", "text of the second section"),
        ("third", character, "the same title again"),
    ]
    before = section_record(sections)
    sys.intern(character)  # what an import or an attribute name may do in a worker
    assert section_record(sections) == before


def test_strings_built_at_run_time_give_the_bytes_of_literals():
    literal = [("usage", "Usage", "words"), ("notes", "Usage", "more words")]
    built = [
        ("".join(["us", "age"]), "".join(["Us", "age"]), "words"),
        ("".join(["no", "tes"]), "".join(["Us", "age"]), "more words"),
    ]
    assert section_record(built) == section_record(literal)


def test_records_decode_to_the_values_of_the_format():
    # Digests of the decoded records of the code before the records were made deterministic
    # (and faster): the values are the same, only marshal's flags may differ. Schema 7 keys
    # CJK words with Traditional Chinese folded (kb/hanzi.py): the cjk section's "設定" is
    # keyed "设定" since, which changed these digests and nothing else.
    forward = hashlib.sha256(repr(decoded(section_record(RECORDED))).encode()).hexdigest()
    backward = hashlib.sha256(repr(decoded(section_record(RECORDED[::-1]))).encode()).hexdigest()
    assert forward == "28302ac7c58ee152c5a93c2a566718de19db381a4736c3149ba052b6b4b9876e"
    assert backward == "a4e039b265d578d1c1cc9f464b456fa3682b11a70bdd1e984d2a160e8a1167be"
