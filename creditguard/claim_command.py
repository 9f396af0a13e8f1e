"""``creditguard claim GROUP --out DIR``: the claim file of an insured buyer (see docs/claims.md)."""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .credit_commands import active_policy, today
from .render import print_json

EXIT_REFUSED = 2
FILES = ("claim.html", "invoices.csv", "history.csv", "claim.json")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a larger attachment is left out, with a note in the summary


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _refuse(message: str) -> None:
    click.echo(f"creditguard: error: {message}", err=True)
    sys.exit(EXIT_REFUSED)


def file_name(number: str) -> str:
    """A document's file name from its invoice number (``INV/2026/00007`` → ``INV_2026_00007.pdf``)."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "_", number).strip("._") or "invoice") + ".pdf"


def _write(path: Path, data: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def _fetch_documents(app: Any, source_name: str, ids: list[str]) -> tuple[dict[str, bytes], str | None]:
    """The invoice PDFs the ERP keeps, through the source's document reader; ``(found, why none)``."""
    from connector.errors import CreditGuardError

    source = app.config.source(source_name)
    if source.kind != "odoo":
        return {}, f"the {source.kind} adapter does not give invoice documents"
    from adapters.odoo import OdooSource
    from adapters.odoo.documents import OdooDocuments

    try:
        return OdooDocuments(OdooSource.from_config(source).client).invoice_pdfs(ids, MAX_DOCUMENT_BYTES), None
    except CreditGuardError as exc:
        return {}, f"the ERP did not give the documents: {exc}"


def write_claim(app: Any, group: str, source_name: str | None, out: Path | None, as_of: Any, force: bool,
                documents: bool) -> dict[str, Any]:
    from connector.cases import CaseError, Cases
    from connector.claim_render import claim_html, claim_json, history_csv, invoices_csv
    from connector.claims import ClaimError, assemble, record_assembly

    policy = active_policy(app.config)
    day = as_of.date() if as_of else today(app.config)
    cases = Cases(app.store, policy, day)
    try:
        source, group_id, name = cases.resolve_group(group, source_name)
        claim = assemble(app.store, policy, source, group_id, name, day)
    except (CaseError, ClaimError) as exc:
        _refuse(f"claim {group}: {exc}")
    target = out or Path(f"claim-{file_name(group)[:-4]}-{day}")
    if target.exists() and not target.is_dir():
        _refuse(f"claim {group}: {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        _refuse(f"claim {group}: {target} is not empty (give --force to write over the claim file in it)")
    target.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    note: str | None = None
    if documents:
        wanted = sorted({ln.document_id for ln in claim.lines if ln.document_id})
        pdfs, note = _fetch_documents(app, source, wanted)
        if pdfs:
            (target / "documents").mkdir(exist_ok=True)
        numbers = {ln.document_id: ln.number for ln in claim.lines}
        for doc_id, data in pdfs.items():
            name_on_disk = f"documents/{file_name(numbers.get(doc_id, doc_id))}"
            _write(target / name_on_disk, data)
            written[doc_id] = name_on_disk
    doc = claim_json(claim, written)
    if note:
        doc["documents_note"] = note
    _write(target / "claim.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    _write(target / "invoices.csv", invoices_csv(claim, written))
    _write(target / "history.csv", history_csv(claim))
    _write(target / "claim.html", claim_html(claim, written, missing_documents=documents))
    case = record_assembly(cases, claim, f"cli:{_user()}", str(target))
    return {"out": str(target), "files": list(FILES) + sorted(written.values()), "case": case.id,
            "case_state": case.state, "totals": doc["totals"], "documents_note": note}


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.argument("group")
    @click.option("--source", "source_name", help="The source, when the customer exists in several.")
    @click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
                  help="The directory to write (default: claim-GROUP-DATE here).")
    @click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="The day of the claim (default: today in the company's time zone).")
    @click.option("--force", is_flag=True, help="Write over the files of a claim already in --out.")
    @click.option("--documents/--no-documents", default=False, show_default=True,
                  help="Also fetch the invoice PDFs the ERP keeps (Odoo: the attachments of the posted invoices).")
    @click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
    @click.pass_obj
    @guarded
    def claim(app: App, group: str, source_name: str | None, out: Path | None, as_of: datetime | None,
              force: bool, documents: bool, as_json: bool) -> None:
        """Assemble the claim file of insured buyer GROUP (a customer reference or SOURCE:ERP_ID): the buyer,
        its unpaid invoices with the insurer's limit in force on each invoice's date, the collection case's
        history and the insurer's deadlines, as claim.html, invoices.csv, history.csv and claim.json.

        Records in the case that the file was assembled; filing the claim is `creditguard case GROUP claim`.
        Exits 2 for a buyer that is unknown, not insured or owes nothing, or a non-empty DIR without --force."""
        try:
            result = write_claim(app, group, source_name, out, as_of, force, documents)
        except OSError as exc:
            click.echo(f"creditguard: error: claim {group}: cannot write {exc.filename or out}: "
                       f"{exc.strerror or exc}", err=True)
            sys.exit(1)
        if as_json:
            print_json(result, sys.stdout)
            return
        totals = result["totals"]
        by_currency = ", ".join(f"{v} {c}" for c, v in totals["by_currency"].items())
        click.echo(f"claim file written to {result['out']}: {totals['invoices']} unpaid invoices, {by_currency}")
        if result["documents_note"]:
            click.echo(f"documents: {result['documents_note']}")


__all__ = ["register"]
