"""A Bitext CSV saved with a UTF-8 byte order mark (as Excel saves "CSV UTF-8") reads as without."""

from __future__ import annotations

from pathlib import Path

from knowledge.bitext_intents import bitext_intent_dataset

CSV = (
    "instruction,intent,category,response\r\n"
    "how can I cancel order 1234,cancel_order,ORDER,Cancel it under Order details.\r\n"
    "where is my invoice,check_invoice,INVOICE,Invoices are under Order history.\r\n"
)


def test_a_csv_starting_with_a_byte_order_mark_is_read_as_without(tmp_path: Path) -> None:
    # given the same CSV saved without and with a byte order mark
    plain, marked = tmp_path / "plain.csv", tmp_path / "marked.csv"
    plain.write_bytes(CSV.encode())
    marked.write_bytes(b"\xef\xbb\xbf" + CSV.encode())

    # when
    expected = bitext_intent_dataset(plain, split="all")
    dataset = bitext_intent_dataset(marked, split="all")

    # then the first column is "instruction", and the utterances are the queries
    assert sorted(dataset.queries.values()) == ["how can I cancel order 1234", "where is my invoice"]
    assert (dataset.corpus, dataset.queries, dataset.qrels) == (expected.corpus, expected.queries, expected.qrels)
