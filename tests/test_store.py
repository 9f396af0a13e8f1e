"""The store on SQLite and on a real PostgreSQL server."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from connector.domain import Customer, Invoice, InvoiceKind, InvoiceState, PaymentState
from connector.ports import Cursor, Rejected, Scope, Stream
from connector.store.engine import SCHEMA_HEAD, _alembic_config, create_store_engine, shipped_head
from connector.store import FullRun, Store
from connector.store import tables as t
from connector.store.tables import metadata

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def invoice(erp_id: str, **changes) -> Invoice:
    base = Invoice(
        source="odoo", erp_id=erp_id, number=f"INV/2026/{int(erp_id):05d}", customer_id="10", credit_group_id="10",
        kind=InvoiceKind.INVOICE, state=InvoiceState.POSTED, payment_state=PaymentState.NOT_PAID,
        invoice_date=date(2026, 11, 1), due_date=date(2026, 12, 1), currency="JPY",
        amount_total=Decimal("125000"), amount_open=Decimal("125000"), company_id="1", company_currency="EUR",
        amount_total_company=Decimal("771.60"), amount_open_company=Decimal("771.60"),
        changed_at=T0 + timedelta(seconds=int(erp_id)),
    )
    return replace(base, **changes)


def test_migrations_match_the_table_definitions(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert store.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
    assert shipped_head() == SCHEMA_HEAD  # the constant that spares Alembic's import on every start


def test_upsert_is_idempotent_and_keeps_exact_money(store):
    page = [invoice("1"), invoice("2", kind=InvoiceKind.CREDIT_NOTE)]
    first = store.save_page("odoo", Stream.INVOICES, "account.move", page, [], Cursor(T0, 2))
    again = store.save_page("odoo", Stream.INVOICES, "account.move", page, [], Cursor(T0, 2))
    assert first.written_ids == {"1", "2"}
    assert again.written_ids == set()
    assert store.count(Stream.INVOICES, "odoo") == 2
    stored = {i.erp_id: i for i in store.iter_invoices("odoo")}
    assert stored["1"] == page[0]
    assert stored["1"].amount_open == Decimal("125000") and stored["1"].amount_open_company == Decimal("771.60")
    assert store.open_receivables("odoo") == {"JPY": 0}


def test_changed_record_is_written_once(store):
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [], None)
    paid = invoice("1", amount_open=Decimal("0"), payment_state=PaymentState.PAID)
    result = store.save_page("odoo", Stream.INVOICES, "account.move", [paid], [], None)
    assert result.written_ids == {"1"}
    assert next(store.iter_invoices("odoo")).payment_state is PaymentState.PAID
    assert list(store.iter_invoices("odoo", open_only=True)) == []


def test_same_erp_id_in_two_sources_does_not_collide(store):
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [], None)
    store.save_page("odoo-eu", Stream.INVOICES, "account.move", [invoice("1", source="odoo-eu")], [], None)
    assert store.count(Stream.INVOICES) == 2


def test_cursor_advances_with_the_page_and_never_moves_back(store):
    assert store.get_cursor("odoo", Stream.INVOICES) is None
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("5")], [], Cursor(T0, 5))
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("3")], [], Cursor(T0, 3))
    assert store.get_cursor("odoo", Stream.INVOICES) == Cursor(T0, 5)
    later = Cursor(T0 + timedelta(seconds=1), 1)
    store.save_page("odoo", Stream.INVOICES, "account.move", [], [], later)
    assert store.get_cursor("odoo", Stream.INVOICES) == later


def test_quarantine_keeps_the_payload_and_resolves_when_the_record_maps(store):
    bad = Rejected("account.move", "7", "field 'currency_id': unknown currency 'XXQ'",
                   {"id": 7, "currency_id": [9, "XXQ"], "amount_total": 12.5})
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [bad], None)
    store.save_page("odoo", Stream.INVOICES, "account.move", [], [bad], None)
    [entry] = store.quarantine("odoo")
    assert entry.erp_id == "7" and entry.occurrences == 2 and entry.payload["currency_id"] == [9, "XXQ"]
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("7")], [], None)
    assert store.quarantine("odoo") == []
    assert len(store.quarantine("odoo", include_resolved=True)) == 1


def test_full_run_sweeps_records_the_erp_no_longer_has(store):
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1"), invoice("2"), invoice("3")], [], None)
    run = FullRun(store.start_run("odoo", Stream.INVOICES, True), "odoo", Stream.INVOICES)
    bad = Rejected("account.move", "3", "bad", {"id": 3})
    store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [bad], None, run)
    assert store.sweep_unseen(run, "account.move") == 1  # "2" is gone; "3" exists but is quarantined
    assert {i.erp_id for i in store.iter_invoices("odoo")} == {"1", "3"}
    # seen again later: it comes back
    result = store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("2")], [], None)
    assert result.written_ids == {"2"}
    assert store.count(Stream.INVOICES, "odoo") == 3


def test_unchanged_scopes_of_a_full_run_keep_their_records_and_fingerprints_are_kept(store):
    """A snapshot source may skip an unchanged customer: its stored records survive the sweep."""
    later = T0 + timedelta(hours=24)
    store.save_page("sap", Stream.INVOICES, "BSID",
                    [invoice("1", source="sap"), invoice("2", source="sap", customer_id="20")], [], None,
                    scopes=[Scope("10", "fp-10", later), Scope("20", "fp-20", later)])
    assert store.load_scopes("sap", Stream.INVOICES) == {"10": Scope("10", "fp-10", later),
                                                         "20": Scope("20", "fp-20", later)}
    run = FullRun(store.start_run("sap", Stream.INVOICES, True), "sap", Stream.INVOICES)
    # customer 10 unchanged (not read), customer 20 re-read and its invoice is gone
    store.save_page("sap", Stream.INVOICES, "BSID", [], [], None, run,
                    scopes=[Scope("10", "fp-10", later, unchanged=True), Scope("20", "fp-20b", later)])
    assert store.sweep_unseen(run, "BSID") == 1
    assert [i.erp_id for i in store.iter_invoices("sap")] == ["1"]
    assert store.load_scopes("sap", Stream.INVOICES)["20"].fingerprint == "fp-20b"
    assert store.load_scopes("sap", Stream.ORDERS) == {} and store.load_scopes("odoo", Stream.INVOICES) == {}
    assert store.prune_scopes("sap", Stream.INVOICES, keep={"20"}) == 1
    assert set(store.load_scopes("sap", Stream.INVOICES)) == {"20"}


def test_customers_round_trip(store):
    c = Customer(source="odoo", erp_id="14", ref="C00014", name="Azure Interior", credit_group_id="14",
                 company_id=None, country="US", vat="US1234", is_company=True, parent_id=None,
                 credit_limit=Decimal("25000.00"), credit_limit_currency="USD", active=True, changed_at=T0)
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [c], [], None)
    assert list(store.iter_customers("odoo")) == [c]
    graded = replace(c, risk_category="C03", credit_blocked=True)
    assert store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [graded], [], None).written_ids == {"14"}
    assert list(store.iter_customers("odoo")) == [graded]
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [c], [], None)
    archived = replace(c, active=False)
    store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [archived], [], None)
    assert list(store.iter_customers("odoo", include_inactive=False)) == []


def test_sqlite_store_uses_wal_and_creates_its_directory(tmp_path):
    from connector.store import Store

    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'cg.db'}"
    with Store.open(url) as s:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (tmp_path / "deep" / "dir" / "cg.db").exists()


def test_a_page_is_written_whole_where_sqlite_takes_few_parameters_per_statement(tmp_path):
    """SQLite builds before 3.32 take 999 parameters per statement (a build can set fewer): a page of new records
    goes in as several statements then, every record of it, read back as written."""
    import sqlite3

    from sqlalchemy import event

    with Store.open(f"sqlite:///{tmp_path / 'cg.db'}") as s:
        event.listen(s.engine, "connect",
                     lambda dbapi_connection, _record: dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100))
        s.engine.dispose()
        page = [invoice(str(n)) for n in range(1, 31)]  # 24 columns a row: four rows per statement
        assert s.save_page("odoo", Stream.INVOICES, "account.move", page, [], None, fresh=True).written_ids == \
            {str(n) for n in range(1, 31)}
        assert {i.erp_id: i for i in s.iter_invoices("odoo")} == {i.erp_id: i for i in page}
        assert s.open_receivables("odoo") == {"JPY": 30 * 125000}


def test_a_page_is_written_under_the_write_lock_from_its_first_read(tmp_path, monkeypatch):
    """The running totals of a page's new records count the rows above the table's highest id read before the
    insert: no other process (another source's sync, a `sync --once` beside the daemon) may insert in between."""
    import sqlite3

    from connector.store.record_writes import SqliteRecordWriter

    path = tmp_path / "cg.db"
    probes = []
    highest_id = SqliteRecordWriter._highest_id

    def probe(self, cursor):
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            probes.append("another process could write")
        except sqlite3.OperationalError:
            probes.append("locked")
        finally:
            other.close()
        return highest_id(self, cursor)

    with Store.open(f"sqlite:///{path}") as s:
        monkeypatch.setattr(SqliteRecordWriter, "_highest_id", probe)
        s.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [], None, fresh=True)
        s.save_page("odoo", Stream.INVOICES, "account.move", [invoice("2")], [], None)
        assert probes == ["locked", "locked"]
        assert s.open_receivables("odoo") == {"JPY": 2 * 125000}


def _triggers(engine, prefix: str = "") -> set[str]:
    """The store's triggers whose names start with ``prefix``; without one, those of the running totals (0010)."""
    sql = ("SELECT name FROM sqlite_master WHERE type = 'trigger'" if engine.dialect.name == "sqlite"
           else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    with engine.connect() as conn:
        names = {row[0] for row in conn.exec_driver_sql(sql)}
    return {n for n in names if n.startswith(prefix) and (prefix or not n.startswith("book_generation_"))}


def _migrate(engine, revision: str, *, down: bool = False) -> None:
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_0011_keeps_an_existing_store(store_url):
    """A store at 0010 with an order released in the ERP and the hold that release ended: the upgrade keeps both
    (no tier or reason recorded), the running totals' triggers of 0010 stay, the new columns round-trip."""
    engine = create_store_engine(store_url)
    _migrate(engine, "0010")
    triggers = _triggers(engine)
    assert triggers  # those of migration 0010, on invoices and orders
    with engine.begin() as conn:
        conn.execute(insert(t.orders).values(
            source="odoo", erp_model="sale.order", erp_id="7", number="S00007", customer_id="10", state="draft",
            locked=False, order_date=T0, currency="USD", amount_total_minor=250000, amount_uninvoiced_minor=250000,
            company_id="1", erp_hold=False, erp_released_at=T0, erp_released_by="Carla Credit", changed_at=T0,
            synced_at=T0))
        conn.execute(insert(t.holds).values(
            source="odoo", order_erp_id="7", order_number="S00007", state="released", revision=1,
            reasons='[{"code": "over_limit", "message": "Over the limit."}]', release_tier="cfo", exposure="2500.00",
            since=T0, released_by="erp:Carla Credit", updated_at=T0))
        if engine.dialect.name == "sqlite":  # SQLite: the record writer adds what it inserts to the totals
            conn.execute(insert(t.order_balances).values(
                source="odoo", customer_id="10", state="draft", currency="USD", company_id="1", order_day=T0.date(),
                documents=1, uninvoiced_minor=250000, total_minor=250000))
    engine.dispose()

    with Store.open(store_url) as store:
        assert store.schema_status() == (SCHEMA_HEAD, SCHEMA_HEAD)
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert _triggers(store.engine) == triggers
        [order] = store.iter_orders("odoo")
        assert order.erp_released_by == "Carla Credit" and order.erp_released_at == T0
        assert (order.erp_released_tier, order.erp_release_reason) == (None, None)
        hold = store.hold("odoo", "7")
        assert (hold.released_by, hold.release_tier, hold.released_tier, hold.release_reason) == (
            "erp:Carla Credit", "cfo", None, None)
        # the addon is updated: the next read brings the tier and the reason; the running totals follow the order
        released = replace(order, amount_total=Decimal("3000.00"), amount_uninvoiced=Decimal("3000.00"),
                           erp_released_tier="cfo", erp_release_reason="Guaranteed by the parent company.",
                           changed_at=T0 + timedelta(minutes=1))
        assert store.save_page("odoo", Stream.ORDERS, "sale.order", [released], [], None).written_ids == {"7"}
        assert list(store.iter_orders("odoo")) == [released]
        assert store.save_page("odoo", Stream.ORDERS, "sale.order", [released], [], None).written_ids == set()
        with store.engine.connect() as conn:
            totals = conn.execute(select(t.order_balances.c.total_minor).where(
                t.order_balances.c.source == "odoo", t.order_balances.c.customer_id == "10")).scalars().all()
        assert totals == [300000]
        noted = replace(hold, released_tier="cfo", release_reason="Guaranteed by the parent company.")
        store.save_hold(noted)
        assert store.hold("odoo", "7") == noted and store.holds(order="S00007") == [noted]
        # down to 0010 and up again, in place: the triggers stay
        _migrate(store.engine, "0010", down=True)
        assert _triggers(store.engine) == triggers
        _migrate(store.engine, "head")
        assert _triggers(store.engine) == triggers
        assert store.hold("odoo", "7") == hold


@pytest.mark.postgres
def test_a_pooled_connection_the_server_dropped_is_replaced(postgres_server, monkeypatch):
    """A connection that waited in the pool is pinged before use: one the server closed meanwhile (a restart, an
    idle timeout) is replaced instead of failing the next read."""
    from connector.store import engine as engine_module

    url = postgres_server.create_database()
    store = Store.open(url)
    try:
        assert store.count(Stream.INVOICES) == 0  # leaves a connection in the pool
        with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                             autocommit=True) as admin:
            dropped = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
        assert dropped == [(True,)]
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has waited long enough
        assert store.count(Stream.INVOICES) == 0
    finally:
        store.close()


@pytest.mark.postgres
def test_a_pipeline_begins_its_transaction_without_a_round_trip_of_its_own(postgres_server, tmp_path):
    """The store's pipelines send BEGIN with their statements (psycopg alone would wait for the answer to BEGIN
    first): the statements still run in one transaction, which goes on after the pipeline, and the connection is
    left as psycopg leaves one it began a transaction on, a failed statement included."""
    from psycopg.pq import Trace, TransactionStatus

    from connector.store.pipelines import pipeline

    dsn = make_url(postgres_server.create_database()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as raw:
        raw.execute("CREATE TABLE counted (n int)")
        raw.commit()
        trace = tmp_path / "protocol.txt"
        with trace.open("w") as out:  # what libpq sends and receives
            raw.pgconn.trace(out.fileno())
            raw.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
            with pipeline(raw):
                raw.execute("INSERT INTO counted VALUES (1)")
                raw.execute("INSERT INTO counted VALUES (2)")
            raw.pgconn.untrace()
        sent = [line.split("\t")[2] for line in trace.read_text().splitlines() if line.split("\t")[0] == "F"]
        assert sent.count("Sync") == 1  # one round trip: BEGIN went with the statements
        assert raw.info.transaction_status == TransactionStatus.INTRANS
        assert raw.autocommit is False
        raw.execute("INSERT INTO counted VALUES (3)")  # the same transaction
        raw.rollback()
        assert raw.execute("SELECT count(*) FROM counted").fetchone()[0] == 0
        raw.rollback()

        with pytest.raises(psycopg.errors.UndefinedTable), pipeline(raw):
            raw.execute("INSERT INTO counted VALUES (3)")
            raw.execute("INSERT INTO missing VALUES (3)")
        assert raw.autocommit is False
        assert raw.info.transaction_status == TransactionStatus.INERROR
        raw.rollback()
        with pipeline(raw):
            raw.execute("INSERT INTO counted VALUES (4)")
        raw.commit()
        assert raw.execute("SELECT n FROM counted").fetchall() == [(4,)]
        raw.rollback()

        raw.autocommit = True  # a connection in autocommit gets a plain pipeline: each statement on its own
        with pipeline(raw):
            raw.execute("INSERT INTO counted VALUES (5)")
        assert raw.info.transaction_status == TransactionStatus.IDLE
        assert raw.execute("SELECT count(*) FROM counted").fetchone()[0] == 2


@pytest.mark.postgres
def test_kept_cursors_serve_the_next_pipeline_and_outlive_a_failed_one(postgres_server):
    """The cursors kept with a driver connection answer each statement of a pipeline, are the same ones for the next
    pipeline on that connection, and answer rightly again after a pipeline that failed; a connection the pool made
    anew gets cursors of its own."""
    from connector.store.pipelines import kept_cursors, pipeline

    store = Store.open(postgres_server.create_database())
    try:
        def run(conn, *statements):
            conn.begin()
            cursors = kept_cursors(conn)
            with pipeline(conn.connection.driver_connection, cursors):
                sent = [cursors.execute(sql, params) for sql, params in statements]
            answers = [cursor.fetchall() for cursor in sent]
            conn.rollback()
            return sent, answers

        with store.engine.connect() as conn:
            first, answers = run(conn, ("SELECT 1", None), ("SELECT %s::int * 2", (21,)))
            assert answers == [[(1,)], [(42,)]]
            again, answers = run(conn, ("SELECT %s::text", ("a",)), ("SELECT 2", None), ("SELECT 3", None))
            assert again[:2] == first and answers == [[("a",)], [(2,)], [(3,)]]
            conn.begin()
            cursors = kept_cursors(conn)
            with pytest.raises(psycopg.errors.DivisionByZero), pipeline(conn.connection.driver_connection, cursors):
                cursors.execute("SELECT 1")
                cursors.execute("SELECT 1 / 0")
                cursors.execute("SELECT 2")
            conn.rollback()
            after, answers = run(conn, ("SELECT 4", None), ("SELECT 5", None), ("SELECT 6", None))
            assert after == again and answers == [[(4,)], [(5,)], [(6,)]]
        store.engine.dispose()
        with store.engine.connect() as conn:
            fresh, answers = run(conn, ("SELECT 7", None))
            assert fresh[0] not in first and answers == [[(7,)]]
    finally:
        store.close()


@pytest.mark.postgres
def test_a_credit_checks_reads_make_no_new_cursor_once_a_check_ran_on_the_connection(postgres_server, monkeypatch):
    """psycopg makes a cursor for every statement it is asked to run on a connection, at a cost close to sending the
    statement: a check's reads (and its decision's commit) use the cursors kept with the connection instead."""
    from connector.store.check_reads import CheckReads

    store = Store.open(postgres_server.create_database())
    try:
        ten = Customer(source="odoo", erp_id="10", ref="C10", name="Ten", credit_group_id="10", company_id=None,
                       country="US", vat=None, is_company=True, parent_id=None, credit_limit=Decimal("1000.00"),
                       credit_limit_currency="USD", active=True, changed_at=T0)
        store.save_page("odoo", Stream.CUSTOMERS, "res.partner", [ten], [], None)
        store.save_page("odoo", Stream.INVOICES, "account.move", [invoice("1")], [], None)
        reads = CheckReads("odoo", ("10",), "10", T0, "S1", date(2026, 10, 1), False, "USD", reservations=True,
                           disputed=True, lock=True)
        made: list[object] = []
        cursor = psycopg.Connection.cursor
        monkeypatch.setattr(psycopg.Connection, "cursor", lambda self, *a, **k: made.append(1) or cursor(self, *a, **k))

        def check() -> None:
            with store.reading():
                store.read_ahead(reads)
                assert store.get_customer("odoo", "10").name == "Ten"  # the answer read ahead
                with store.decision_lock("odoo", "10", "S1") as (conn, _), store.commit_together(conn):
                    pass

        check()
        assert made  # the first check on the connection makes the cursors it keeps
        made.clear()
        check()
        assert made == []
    finally:
        store.close()


@pytest.mark.postgres
def test_the_writes_of_a_decision_at_confirmation_go_as_one_statement(postgres_server, tmp_path):
    """PostgreSQL: the writes made under commit_together are gathered into one statement; a read in between (the
    driver's or SQLAlchemy's) first sends what was gathered, so it sees it; an outbox entry's answer comes with the
    commit; nothing is written when the block fails."""
    from psycopg.pq import Trace

    from connector.store.outbox import HoldRecord

    store = Store.open(postgres_server.create_database())
    hold = HoldRecord("odoo", "77", "S77", "held", 1, [{"code": "over_limit", "message": "over"}], None, "10.00",
                      T0, None, T0)
    other = replace(hold, order_erp_id="76", order_number="S76")
    entry = dict(source="odoo", kind="place_hold", target_model="sale.order", target_id="77", key="odoo:hold:77:r1",
                 payload={"held": True}, now=T0)
    queued: list[str] = []
    trace = tmp_path / "protocol.txt"
    try:
        with store.reading(), store.decision_lock("odoo", "10", "77") as (conn, _), trace.open("w") as out:
            raw = conn.connection.driver_connection
            raw.pgconn.trace(out.fileno())
            raw.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
            with store.commit_together(conn):
                store.save_hold(hold, conn)
                store.save_hold(other, conn)
                assert store.outbox_enqueue(**entry, conn=conn, on_queued=lambda: queued.append("first")) is None
                seen = store.hold("odoo", "76")  # a read: after the three writes
                store.outbox_enqueue(**entry, conn=conn, on_queued=lambda: queued.append("again"))  # the same key
            raw.pgconn.untrace()
        assert seen == other
        sent = [line.split("\t")[2] for line in trace.read_text().splitlines() if line.split("\t")[0] == "F"]
        assert sent.count("Execute") == 4  # the three writes as one, the read, the second entry, COMMIT
        assert queued == ["first"]  # logged once committed; the second found its key taken
        assert store.hold("odoo", "77") == hold and store.hold("odoo", "76") == other
        assert [e.key for e in store.outbox_entries(source="odoo")] == ["odoo:hold:77:r1"]

        with pytest.raises(RuntimeError), store.reading(), store.decision_lock("odoo", "10", "78") as (conn, _):
            with store.commit_together(conn):
                store.save_hold(replace(hold, order_erp_id="78"), conn)
                raise RuntimeError("the decision failed")
        assert store.hold("odoo", "78") is None
    finally:
        store.close()


@pytest.mark.postgres
def test_a_write_batch_answers_each_write_and_runs_when_an_answer_is_asked_first(postgres_server):
    from connector.store.write_batches import WriteBatch, is_write

    assert is_write("INSERT INTO t (n) VALUES (%(n)s) RETURNING id") and is_write("DELETE FROM t WHERE n = %(n)s")
    assert not is_write("INSERT INTO t (n) VALUES (1) RETURNING id, n") and not is_write("SELECT 1")
    dsn = make_url(postgres_server.create_database()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as raw:
        raw.execute("CREATE TABLE numbers (id serial PRIMARY KEY, n int UNIQUE)")
        raw.commit()
        batch = WriteBatch(raw)
        first = batch.add("INSERT INTO numbers (n) VALUES (%(n)s) RETURNING id", {"n": 7})
        taken = batch.add("INSERT INTO numbers (n) VALUES (%(n)s) ON CONFLICT (n) DO NOTHING RETURNING id", {"n": 8})
        batch.add("DELETE FROM numbers WHERE n = %(n)s", {"n": 9})
        assert taken.fetchone() is not None and first.fetchone() is not None  # asked first: the batch runs
        again = batch.add("INSERT INTO numbers (n) VALUES (%(n)s) ON CONFLICT (n) DO NOTHING RETURNING id", {"n": 8})
        batch.run()
        assert again.fetchone() is None  # the key was taken
        raw.commit()
        assert raw.execute("SELECT n FROM numbers ORDER BY n").fetchall() == [(7,), (8,)]
