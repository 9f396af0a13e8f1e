"""``OdooSandbox``: a loopback Odoo 17.0 / 19.0 server for tests, benchmarks and the CLI."""

from __future__ import annotations

import os
import ssl
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from . import credit_guard, demo, large, receivables, schema, stock
from .accounting import currency_digits
from .convert import round_money
from .domain import Compiler
from .fixtures import ADMIN_UID, PORTAL_UID, Fixtures
from .server import SandboxHTTPServer, ServerThread
from .services import Services
from .store import Database


def _version(value: object) -> str:
    text = str(value).strip()
    major = text.split(".", 1)[0]
    if major not in ("17", "19"):
        raise ValueError(f"unsupported Odoo version {value!r}: expected 17 or 19")
    return major


def _addons(value: object) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value or ())  # type: ignore[arg-type]
    known = schema.addon_names()
    for name in names:
        if name not in known:
            raise ValueError(f"unknown addon {name!r}: expected one of {', '.join(known)}")
    return tuple(dict.fromkeys(names))


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class OdooSandbox:
    """A real HTTP server on loopback speaking Odoo's external API.

    ``data`` is ``"demo"``, ``"large:N"`` or ``"empty"`` (companies, currencies
    and users only).  ``clock`` returns aware UTC datetimes; it stamps
    ``write_date``/``create_date`` and defines "today" of the demo data.

    ``state`` names a state file: when it exists the sandbox works on the data it holds (``data`` is
    not generated); otherwise the data is generated and the file written.  Every committed transaction
    is on disk before its call is answered, so a restart (even after ``kill -9``) keeps every change,
    id sequence and change time.  :meth:`close` closes the file.

    ``credit_guard_tiers=False`` installs ``credit_guard`` as it was before its tiered release: ``sale.order``
    has no ``credit_released_tier`` and ``credit_release_reason`` (not with ``state``).
    """

    DEFAULT_API_KEY = "cgsandbox-0000-admin-api-key"
    PORTAL_API_KEY = "cgsandbox-0007-portal-api-key"
    ADMIN_UID = ADMIN_UID
    PORTAL_UID = PORTAL_UID

    def __init__(self, version: str = "17", data: str = "demo", host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], datetime] | None = None, database: str = "demo",
                 api_key: str = DEFAULT_API_KEY, tls: ssl.SSLContext | None = None,
                 addons: tuple[str, ...] | list[str] = (), commit_delay: float = 0.0,
                 state: str | os.PathLike[str] | None = None, credit_guard_tiers: bool = True) -> None:
        self.version = _version(version)
        self.addons = _addons(addons)
        if not credit_guard_tiers and state is not None:
            raise ValueError("credit_guard_tiers=False does not go with a state file")
        self.data = data
        self.host = host
        self.requested_port = port
        self.port = port
        self.database = database
        self.api_key = api_key
        self.clock = clock or _utc_now
        self.tls = tls  # a server-side SSLContext: serve HTTPS (xmlrpcs / jsonrpcs / json2 over https)
        self.db = Database(self.version, database, self.clock, self.addons, state, credit_guard_tiers)
        self.started_at = self.db.now()
        self.today = self.started_at.date()
        if not self.db.loaded:
            self._load(data)
            self.db.save_state()
        self.db.passwords.update({"admin": (ADMIN_UID, "admin"), "portal": (PORTAL_UID, "portal")})
        self.db.api_keys.update({api_key: ADMIN_UID, self.PORTAL_API_KEY: PORTAL_UID})
        if commit_delay < 0:
            raise ValueError(f"commit_delay must not be negative, not {commit_delay!r}")
        self.services = Services(self.db, commit_delay)
        self._calls = 0
        self._calls_lock = threading.Lock()
        self._thread: ServerThread | None = None

    def _load(self, data: str) -> None:
        with self.db.transaction():
            fixtures = Fixtures(self.db.conn, self.version, self.today, self.started_at, demo.make_rng(),
                                self.addons)
            fixtures.load()
            if data == "demo":
                demo.load(fixtures)
            elif data.startswith("large:"):
                large.load(fixtures, large.parse(data))
            elif data != "empty":
                raise ValueError(f"invalid data set {data!r}: expected 'demo', 'large:N' or 'empty'")
            if "credit_guard" in self.addons:
                credit_guard.install(self.db.conn)
            if stock.ADDON in self.addons:
                stock.install(fixtures)
        self.db.conn.execute("ANALYZE")

    # -- lifecycle ---------------------------------------------------------------
    def _count(self) -> None:
        with self._calls_lock:
            self._calls += 1

    def start(self) -> OdooSandbox:
        """Serve in a background thread; ``port`` is the bound port afterwards (kept across restarts)."""
        if self._thread is not None:
            return self
        server = SandboxHTTPServer((self.host, self.port or self.requested_port), self.services, self._count)
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._thread = ServerThread(server)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def close(self) -> None:
        """Stop serving and close the state file (if any: the sandbox cannot be used afterwards)."""
        self.stop()
        self.db.close()

    def __enter__(self) -> OdooSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def serve_forever(self, stop_event: threading.Event | None = None) -> None:
        """Serve until ``stop_event`` is set or KeyboardInterrupt (for the CLI)."""
        event = stop_event or threading.Event()
        self.start()
        try:
            while not event.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def calls(self) -> int:
        """RPC calls answered since start or the last :meth:`reset_calls` (all protocols)."""
        return self._calls

    def reset_calls(self) -> None:
        with self._calls_lock:
            self._calls = 0

    # -- server-side helpers -----------------------------------------------------
    def fail_next(self, model: str, error: Exception, times: int = 1) -> None:
        """The next ``times`` calls on ``model`` raise ``error`` (an Odoo exception from ``faults``, or a
        built-in one), answered on each protocol as Odoo answers it."""
        self.services.failures.setdefault(model, []).extend([error] * times)

    @contextmanager
    def late_transaction(self, started_at: datetime | None = None) -> Iterator[LateTransaction]:
        """A transaction that starts now (or at ``started_at``) and commits when the block ends.

        Calls made through it (``tx.call(model, method, *args, **kwargs)``) stay invisible to every
        other client until then, and the records they write carry the transaction's start as
        ``write_date``: earlier than records other clients wrote and read meanwhile, as on a real
        Odoo when a long mass action commits.  An exception in the block rolls it back."""
        if started_at is None:
            with self.db.lock:
                started_at = self.db.start_time()
        tx = LateTransaction(self, started_at)
        yield tx
        tx.commit()

    def register_payment(self, move_id: int, amount: float, *, day: str | None = None) -> int | None:
        """A payment registered in the UI on ``day`` (today in the company's time zone by default): lowers the
        residual, sets ``partial``/``paid``, and posts the payment entry reconciled with the instalments it settles
        (``account.partial.reconcile``).  Returns the payment entry's id."""
        with self.db.transaction():
            env = self.db.env(ADMIN_UID)
            rows = env.cr.execute(
                'SELECT "state", "move_type", "amount_total", "amount_residual", "amount_total_signed", '
                '"currency_id", "company_id" FROM "account_move" WHERE "id" = ?', [move_id]).fetchall()
            if not rows:
                raise KeyError(f"account.move {move_id} does not exist")
            state, _move_type, total, residual, total_signed, currency, company = rows[0]
            if state != "posted":
                raise ValueError(f"account.move {move_id} is not posted (state {state!r})")
            move = env["account.move"]
            digits = currency_digits(move, currency)
            if amount <= 0 or round_money(amount, digits) > round_money(residual or 0.0, digits):
                raise ValueError(f"payment {amount} must be positive and at most the residual {residual}")
            company_currency = env.cr.execute('SELECT "currency_id" FROM "res_company" WHERE "id" = ?',
                                              [company]).fetchone()[0]
            company_digits = currency_digits(move, company_currency)
            new_residual = round_money((residual or 0.0) - amount, digits)
            ratio = (total_signed / total) if total else 1.0
            move._browse([move_id])._write_columns({
                "amount_residual": new_residual,
                "amount_residual_signed": round_money(new_residual * ratio, company_digits),
                "payment_state": "paid" if new_residual == 0 else "partial",
            })
            # the payment is reconciled with the earliest instalments first
            before = receivables.instalment_residuals(env.cr, move_id)
            receivables.rebuild(env.cr, [move_id], env.cr_now_str(), ADMIN_UID)
            return receivables.reconcile_payment(env.cr, move_id, before, day=day or env.today_str(),
                                                 stamp=env.cr_now_str(), uid=ADMIN_UID)

    def register_payment_on_account(self, partner_id: int, amount: float, *, company_id: int = 1,
                                    currency_id: int | None = None, day: str | None = None) -> int:
        """A customer payment received and left unmatched (a payment on account): a posted entry whose
        receivable item is an open credit of ``amount``; the partner's ``credit`` drops by it.  Returns the
        entry's id."""
        with self.db.transaction():
            env = self.db.env(ADMIN_UID)
            if currency_id is None:
                currency_id = env.cr.execute('SELECT "currency_id" FROM "res_company" WHERE "id" = ?',
                                             [company_id]).fetchone()[0]
            return receivables.post_payment_on_account(
                env.cr, partner_id=partner_id, amount=amount, company_id=company_id, currency_id=currency_id,
                day=day or env.today_str(), stamp=env.cr_now_str(), uid=ADMIN_UID)

    def set_raw(self, model: str, record_id: int, **values: Any) -> None:
        """Write column values without any validation (stamps ``write_date`` unless given)."""
        with self.db.transaction():
            env = self.db.env(ADMIN_UID)
            records = env[model]
            table = records._table
            columns = {row[1] for row in env.cr.execute(f'PRAGMA table_info("{table}")')}
            unknown = sorted(set(values) - columns)
            if unknown:
                raise ValueError(f"{model} has no column {', '.join(unknown)}")
            values.setdefault("write_date", env.cr_now_str())
            names = list(values)
            env.cr.execute(f'UPDATE "{table}" SET {", ".join(f"{chr(34)}{n}{chr(34)} = ?" for n in names)} '
                           f'WHERE "id" = ?', [values[n] for n in names] + [record_id])

    def delete(self, model: str, record_id: int) -> None:
        """Delete a record as ``unlink`` would, without Odoo's refusals."""
        with self.db.transaction():
            self.db.env(ADMIN_UID)[model]._browse([record_id])._delete()

    def search_count(self, model: str, domain: list | None = None, context: dict | None = None) -> int:
        with self.db.transaction():
            return self.db.env(ADMIN_UID, context)[model].search_count(domain or [])

    def search_read(self, model: str, domain: list | None = None, fields: list[str] | None = None,
                    order: str | None = None, context: dict | None = None) -> list[dict[str, Any]]:
        with self.db.transaction():
            return self.db.env(ADMIN_UID, context)[model].search_read(domain or [], fields, order=order)

    def sum(self, model: str, field: str, domain: list | None = None, context: dict | None = None) -> float:
        """``SUM(field)`` over the records matching ``domain`` (as admin, all companies)."""
        with self.db.transaction():
            records = self.db.env(ADMIN_UID, context)[model]
            alias = records._table
            expr = records._value_sql(field, alias)
            if expr is None:
                raise ValueError(f"{model}.{field} cannot be summed")
            compiler = Compiler()
            where = records._where(domain or [], alias, compiler)
            row = records._sql(f'SELECT SUM({expr}) FROM "{records._table}" {alias} WHERE {where}',
                               compiler.params)
            return float(row[0][0] or 0.0)

    def call(self, model: str, method: str, *args: Any, uid: int = ADMIN_UID, **kwargs: Any) -> Any:
        """An ``execute_kw`` without the network (for test setup)."""
        return self.services.call(uid, model, method, list(args), kwargs)

    def __repr__(self) -> str:
        addons = f", addons={self.addons!r}" if self.addons else ""
        return f"OdooSandbox(version={self.version!r}, data={self.data!r}{addons}, url={self.url!r})"


class LateTransaction:
    """The calls of a transaction that commits late (see :meth:`OdooSandbox.late_transaction`)."""

    def __init__(self, sandbox: OdooSandbox, started_at: datetime) -> None:
        self.sandbox = sandbox
        self.started_at = started_at
        self._calls: list[tuple[int, str, str, tuple[Any, ...], dict[str, Any]]] = []

    def call(self, model: str, method: str, *args: Any, uid: int = ADMIN_UID, **kwargs: Any) -> None:
        """Stage an ``execute_kw``; it runs, with the others, at commit."""
        self._calls.append((uid, model, method, args, kwargs))

    def commit(self) -> list[Any]:
        """Run the staged calls in one transaction stamped with the start time; their answers."""
        db = self.sandbox.db
        with db.transaction(started_at=self.started_at):
            return [self.sandbox.services.call(uid, model, method, list(args), dict(kwargs))
                    for uid, model, method, args, kwargs in self._calls]
