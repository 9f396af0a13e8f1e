"""SAP: a dunning step is an HTML letter file in the source's letters_dir, written once per key."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from adapters.sap_soap.letters import file_name
from adapters.sap_soap.writer import SapWriter
from connector.errors import FatalError


def entry(key="sap:dunning:0000100001:c3:d30"):
    payload = {"subject": "Formal demand for payment: Müller & Co", "lang": "en", "channel": "letter",
               "level_name": "Demand", "body": "<p>Dear Müller &amp; Co,</p><table><tr><td>90001</td></tr></table>"}
    return SimpleNamespace(kind="send_dunning", key=key, target_id="0000100001", payload=payload)


def test_the_letter_is_written_once(tmp_path):
    writer = SapWriter(SimpleNamespace(source="sap"), letters_dir=str(tmp_path / "letters"))
    assert writer.apply(entry()).startswith("letter written to")
    path = tmp_path / "letters" / "sap_dunning_0000100001_c3_d30.html"
    text = path.read_text(encoding="utf-8")
    assert "<title>Formal demand for payment: Müller &amp; Co</title>" in text and "90001" in text
    assert 'name="creditguard-key" content="sap:dunning:0000100001:c3:d30"' in text
    assert writer.apply(entry()) == "already applied"
    assert [p.name for p in (tmp_path / "letters").iterdir()] == [path.name]  # no temporary file left


def test_without_a_letters_dir_the_step_is_refused_visibly():
    with pytest.raises(FatalError, match="letters_dir"):
        SapWriter(SimpleNamespace(source="sap")).apply(entry())


def test_file_names_stay_inside_the_folder():
    assert "/" not in file_name("sap:dunning:../../etc:c1:d7") and not file_name("../x").startswith(".")
