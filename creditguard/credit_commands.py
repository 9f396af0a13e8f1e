"""Credit commands: check, exposure, decisions, policy validate / explain / simulate."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from connector.errors import ConfigError

from .render import cell, escape, print_json
from .render import console as rich_console

# what a command needs is imported when it runs: `creditguard --help` and a scripted `check` start quickly
if TYPE_CHECKING:
    from rich.console import Console

    from connector.checks import CreditChecker
    from policy.model import Policy


def today(config: Any):
    """The evaluation day: today in the company's time zone (computed once per command)."""
    return datetime.now(config.sync.tzinfo).date()


def active_policy(config: Any) -> "Policy":
    from policy.loader import load_policy

    if config.policy is None:
        raise ConfigError(f"{config.path}: no [policy] table: set [policy] path = \"...\" to the active policy file")
    return load_policy(config.policy.path)


def register(main: click.Group, guarded, App) -> None:
    @main.command()
    @click.argument("order_ref")
    @click.option("--source", "source_name", help="The source, when the order number exists in several.")
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--no-log", is_flag=True, help="Do not record the decision in the decision log.")
    @click.option("--order-id", help="The order's facts as the ERP has it now (synced or not): its ERP id …")
    @click.option("--state", default="draft", show_default=True, help="… state (draft, sent, sale, done) …")
    @click.option("--amount", help="… total …")
    @click.option("--uninvoiced", help="… part not invoiced yet (default: the total) …")
    @click.option("--currency", help="… currency …")
    @click.option("--company", "company_id", help="… company (ERP id) …")
    @click.option("--date", "order_date", help="… date (YYYY-MM-DD) …")
    @click.option("--type", "order_type", help="… type …")
    @click.option("--customer-id", help="… customer (ERP id) …")
    @click.option("--customer-name", help="… customer name …")
    @click.option("--commercial-id", help="… commercial entity (ERP id; default: the customer) …")
    @click.option("--commercial-name", help="… its name …")
    @click.option("--commercial-ref", help="… its reference …")
    @click.option("--credit-limit", help="… the ERP's credit limit of a customer not synced yet …")
    @click.option("--credit-limit-currency", help="… its currency.")
    @click.option("--confirm", is_flag=True, help="The order is being confirmed: an approval reserves its amount, "
                                                  "a hold is registered (as the Odoo addon's check).")
    @click.pass_obj
    @guarded
    def check(app: App, order_ref: str, source_name: str | None, as_json: bool, no_log: bool, order_id: str | None,
              confirm: bool, **facts: str | None) -> None:
        """The credit decision for one sales order (ORDER_REF: its reference), with its reasons.

        With --order-id and the facts after it, the order as the ERP has it now is decided, whether or not
        it has been synced (as POST /v1/check does for the ERP)."""

        from connector.checks import CreditChecker, outcome_json

        checker = CreditChecker(app.store, active_policy(app.config), today(app.config))
        if order_id is not None:
            outcome = _check_facts(app, checker, order_ref, order_id, source_name, confirm, not no_log, facts)
        elif confirm or any(value is not None for key, value in facts.items() if key != "state"):
            raise click.UsageError("the order's facts need --order-id (its ERP id)")
        else:
            outcome = checker.check(order_ref, source_name, record=not no_log)
        document = outcome_json(outcome)
        if as_json:
            print_json(document, sys.stdout)
            return
        _print_check(document, rich_console())

    @main.command()
    @click.argument("customer_ref", required=False)
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--limit", "max_rows", type=int, default=50, show_default=True, help="Rows shown in the table.")
    @click.pass_obj
    @guarded
    def exposure(app: App, customer_ref: str | None, source_name: str | None, as_json: bool, max_rows: int) -> None:
        """Exposure, limit and headroom per credit group, or one group's breakdown."""
        from rich.table import Table

        from connector.checks import CreditChecker

        policy = active_policy(app.config)
        checker = CreditChecker(app.store, policy, today(app.config))
        rows = list(exposure_rows(app.store, checker, customer_ref, source_name))
        if as_json:
            with_figures(app.store, policy, rows, checker.as_of, app.config.figures.dso_months,
                         payment_months=app.config.figures.payment_months,
                         single=customer_ref is not None)
            print_json({"as_of": checker.as_of, "currency": policy.base_currency, "groups": rows}, sys.stdout)
            return
        console = rich_console()
        if customer_ref and rows:
            _print_breakdown(rows[0], policy.base_currency, console)
            return
        table = Table(title=f"Exposure per credit group ({policy.base_currency}, as of {checker.as_of})")
        for header in ("Customer", "Name", ">Exposure", ">Limit", "Source", ">Headroom", ">Overdue"):
            table.add_column(header.lstrip(">"), justify="right" if header.startswith(">") else "left")
        rows.sort(key=lambda r: Decimal(r["headroom"]) if r["headroom"] is not None else Decimal("-1e30"))
        for r in rows[:max_rows]:
            table.add_row(cell(r["customer"]), cell(r["name"]), r["exposure"]["total"], r["limit"]["amount"] or "-",
                          r["limit"]["source"] or "-", r["headroom"] or "-", r["overdue"]["amount"])
        if len(rows) > max_rows:
            table.caption = f"{max_rows} of {len(rows)} groups, least headroom first (--json for all)"
        console.print(table)

    @main.command()
    @click.option("--customer", help="Only decisions about this customer (ref).")
    @click.option("--order", "order_ref", help="Only decisions about this order (number).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def decisions(app: App, customer: str | None, order_ref: str | None, as_json: bool) -> None:
        """The decision log: every decision taken, with its inputs and the policy used."""
        from rich.table import Table

        entries = app.store.decisions(customer=customer, order=order_ref)
        if as_json:
            print_json({"decisions": entries}, sys.stdout)
            return
        table = Table(title="Decisions")
        for header in ("When", "Trigger", "Order", "Customer", "Result", "Reasons", "Policy"):
            table.add_column(header)
        for e in entries:
            reasons = ", ".join(r["code"] for r in e["record"]["reasons"]) or "-"
            table.add_row(e["taken_at"].isoformat(timespec="seconds"), e["trigger"], cell(e["order_number"]),
                          cell(e["customer"]), e["result"], cell(reasons), cell(f"{e['policy_name']} "
                          f"v{e['policy_version']} {e['policy_hash'][:10]}"))
        rich_console().print(table)

    @main.command()
    @click.option("--source", "source_name", help="Only this source.")
    @click.option("--all", "everything", is_flag=True, help="Also the reservations replaced by their synced order.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def reservations(app: App, source_name: str | None, everything: bool, as_json: bool) -> None:
        """Exposure reserved by approvals at confirmation, until the sync brings the order in (or it expires)."""
        from datetime import UTC

        from rich.table import Table

        rows = [r for r in app.store.reservations(datetime.now(UTC), source_name)
                if everything or r.status != "replaced"]
        if as_json:
            print_json({"reservations": rows}, sys.stdout)
            return
        table = Table(title="Reservations (approved at confirmation, order not synced yet)")
        for header in ("Source", "Order", "Credit group", ">Amount", "Cur", ">Reserved", "Approved", "Expires",
                       "Status"):
            table.add_column(header.lstrip(">"), justify="right" if header.startswith(">") else "left")
        for r in rows:
            table.add_row(cell(r.source), cell(r.order_number), cell(r.credit_group_id), str(r.amount), cell(r.currency),
                          f"{r.base_amount} {r.base_currency}", r.created_at.isoformat(timespec="seconds"),
                          r.expires_at.isoformat(timespec="seconds"), r.status)
        rich_console().print(table if rows else "No reservation.")

    @main.group()
    def policy() -> None:
        """Credit policy files: validate, explain, simulate."""

    @policy.command("validate")
    @click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
    def policy_validate(files: tuple[str, ...]) -> None:
        """Validate policy files and run their [[tests]]; print every error as FILE:LINE:COLUMN: key.path: message.

        Exits 2 when a file cannot be used (every error is printed), 1 when a valid file's own test cases fail.
        """
        from policy.cases import run_cases
        from policy.loader import PolicyError, load_policy

        failed = invalid = False
        for file in files:
            try:
                loaded = load_policy(file)
            except PolicyError as exc:
                invalid = True
                click.echo(str(exc), err=True)
                continue
            count, failures = run_cases(loaded)
            for failure in failures:
                click.echo(failure, err=True)
            if failures:
                failed = True
                click.echo(f"{file}: {len(failures)} of {count} test case(s) failed", err=True)
            else:
                click.echo(f"{file}: ok ({loaded.name!r}, version {loaded.version}, {loaded.content_hash[:12]}; "
                           f"{count} test case(s) passed)")
        sys.exit(2 if invalid else 1 if failed else 0)

    @policy.command("explain")
    @click.argument("customer_ref")
    @click.option("--source", "source_name")
    @click.pass_obj
    @guarded
    def policy_explain(app: App, customer_ref: str, source_name: str | None) -> None:
        """Which limits and rules apply to a customer, and why."""

        from connector.checks import CreditChecker
        from connector.decisions import effective_limit

        from .insurer_commands import print_insurer_history
        from .payment_explain import print_payment_behaviour

        file_policy = active_policy(app.config)
        checker = CreditChecker(app.store, file_policy, today(app.config))
        pol = checker.policy  # with the insurer decisions imported from their exports (docs/insurer-feed.md)
        head = group_head(app.store, customer_ref, source_name)
        facts, _groups = checker.facts(head)
        convert = lambda amount, currency: checker.convert(head.source, amount, currency)  # noqa: E731
        console = rich_console()
        console.print(f"[bold]{escape(facts.name)}[/] ({escape(facts.key)}, {escape(head.source)}:"
                      f"{escape(head.erp_id)}) under policy {escape(repr(pol.name))} v{pol.version} "
                      f"({pol.content_hash[:12]}), as of {checker.as_of}")
        graded = f"{facts.grade} ({facts.grade_source})" if facts.grade is not None else "not graded"
        if facts.grade is None and facts.risk_category:
            graded += f" (ERP risk category {facts.risk_category} is not in [risk_categories])"
        console.print(cell(f"Grade: {graded}; segment: {facts.segment or 'none'}"))
        print_payment_behaviour(app, checker, head, facts, _groups, console)
        if facts.erp_blocked:
            console.print("Blocked by the ERP's credit management: every order is held"
                          + ("." if pol.rules.erp_blocked.enabled else " — but rules.erp_blocked is off."))
        chosen = effective_limit(pol, facts, checker.as_of, convert)
        console.print("Limit sources in order of precedence:")
        for source in pol.limits.precedence:
            only = replace(pol, limits=replace(pol.limits, precedence=(source,)))
            candidate = effective_limit(only, facts, checker.as_of, convert)
            mark = "→" if chosen.source is source else " "
            value = f"{candidate.amount:,} {pol.base_currency} — {candidate.detail}" if candidate.amount is not None \
                else "none"
            console.print(cell(f"  {mark} {source.value:9} {value}"))
        if chosen.amount is None:
            console.print("  No limit applies: the no_limit rule decides." if pol.rules.no_limit.enabled
                          else "  No limit applies and the no_limit rule is off.")
        rules = pol.rules
        console.print("Rules:")
        console.print(f"  over_limit: {'on' if rules.over_limit.enabled else 'off'}, tolerance "
                      f"{rules.over_limit.tolerance_percent}% or {rules.over_limit.tolerance_amount:,}")
        days = checker.overdue_days(facts)
        console.print(f"  overdue: {'on' if rules.overdue.enabled else 'off'}, more than {days} days")
        console.print(f"  grade: {'on' if rules.grade.enabled else 'off'}, hold at grade "
                      f"{rules.grade.hold_at_or_worse} or worse")
        console.print(f"  erp_blocked: {'on' if rules.erp_blocked.enabled else 'off'}")
        console.print(f"  insurer_cover: {'on' if rules.insurer_cover.enabled else 'off'}")
        print_insurer_history(app.store, file_policy, pol, head, facts.key, checker.as_of, console)
        _print_insurer_terms(pol, facts.key, checker.as_of, console)
        if facts.key in pol.exemptions.customers:
            console.print(cell("Exempt: listed in [exemptions].customers — every order is approved."))
        if pol.approval_tiers:
            console.print(cell("Release tiers: " + ", ".join(
                f"{t.role} up to {t.up_to:,}" if t.up_to is not None else f"{t.role} above"
                for t in pol.approval_tiers)))

    @policy.command("simulate")
    @click.argument("new_policy", type=click.Path(dir_okay=False))
    @click.option("--source", "source_name")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    @guarded
    def policy_simulate(app: App, new_policy: str, source_name: str | None, as_json: bool) -> None:
        """What-if: open orders whose decision would change if NEW_POLICY replaced the active one."""
        from rich.table import Table

        from policy.loader import load_policy

        current, candidate = active_policy(app.config), load_policy(new_policy)
        as_of = today(app.config)
        changes = _simulate(app, current, candidate, as_of, source_name)
        if as_json:
            print_json(changes, sys.stdout)
            return
        console = rich_console()
        totals = changes["totals"]
        console.print(f"{totals['orders_checked']} open orders checked; {totals['newly_held']} newly held, "
                      f"{totals['newly_approved']} newly approved; {totals['limits_changed']} limits changed; "
                      f"{totals['groups_newly_over_limit']} credit groups newly over their limit.")
        table = Table(title="Orders whose decision changes")
        for header in ("Order", "Customer", "Now", "New", "New reasons"):
            table.add_column(header)
        for c in changes["orders"]:
            table.add_row(cell(c["order"]), cell(c["customer"]), c["current"], c["new"],
                          cell(", ".join(c["new_reasons"]) or "-"))
        console.print(table)


def _check_facts(app: Any, checker: CreditChecker, reference: str, order_id: str, source: str | None, confirm: bool,
                 record: bool, facts: dict[str, str | None]):
    """``creditguard check REF --order-id ...``: the facts as options, read as POST /v1/check reads them."""
    from .check_request import RequestError, parse_check_request
    from .enforce_commands import make_outbox

    names = {s.name for s in app.config.enabled_sources}
    customer = {"erp_id": facts["customer_id"], "name": facts["customer_name"],
                "commercial_erp_id": facts["commercial_id"], "commercial_name": facts["commercial_name"],
                "commercial_ref": facts["commercial_ref"], "credit_limit": facts["credit_limit"],
                "credit_limit_currency": facts["credit_limit_currency"]}
    body = {"source": source or (next(iter(names)) if len(names) == 1 else None),
            "event": "confirm" if confirm else "check",
            "order": {"erp_id": order_id, "reference": reference, "state": facts["state"],
                      "date": facts["order_date"], "type": facts["order_type"], "company_id": facts["company_id"],
                      "currency": facts["currency"], "amount_total": facts["amount"],
                      "amount_uninvoiced": facts["uninvoiced"] or facts["amount"]},
            "customer": {k: v for k, v in customer.items() if v is not None}}
    options = {"source": "--source", "order.erp_id": "--order-id", "order.state": "--state",
               "order.currency": "--currency", "order.amount_total": "--amount", "order.amount_uninvoiced":
               "--uninvoiced", "order.date": "--date", "customer.erp_id": "--customer-id",
               "customer.name": "--customer-name", "customer.credit_limit": "--credit-limit",
               "customer.credit_limit_currency": "--credit-limit-currency"}
    try:
        request = parse_check_request(body, names)
    except RequestError as exc:
        raise click.BadParameter(exc.message, param_hint=options.get(exc.field, exc.field)) from None
    return checker.check_live(request.order, request.customer, confirm=request.confirm, record=record,
                              outbox=make_outbox(app.config, app.store),
                              reservation_ttl=app.config.checks.reservation_ttl)


def _print_insurer_terms(policy: Policy, key: str, as_of, console: Console) -> None:
    """The deadlines the customer's insurer sets once it pays late ([insurers."NAME"])."""
    from connector.decisions import insurer_decision

    cover = insurer_decision(policy, key, as_of)
    terms = policy.insurers.get(cover.insurer) if cover is not None else None
    if terms is None:
        return
    periods = [f"notify an overdue account within {terms.overdue_notification_days} days of the due date"]
    if terms.max_extension_days is not None:
        periods.append(f"cover for new deliveries stops {terms.max_extension_days} days after it")
    if terms.collection_days is not None:
        periods.append(f"collection transferred within {terms.collection_days} days after that")
    console.print(f"Insurer deadlines ({escape(cover.insurer)}, from the oldest unpaid invoice): "
                  f"{'; '.join(periods)}; alert {terms.warn_days} days before.")


def group_head(store: Any, ref: str, source: str | None):
    from connector.checks import CheckError

    customers = store.find_customers(ref, source)
    if not customers:
        raise CheckError(f"no customer {ref!r} in the store")
    if len({c.source for c in customers}) > 1:
        raise CheckError(f"customer {ref!r} exists in several sources: choose one with --source")
    customer = customers[0]
    return store.get_customer(customer.source, customer.credit_group_id) or customer


def exposure_rows(store: Any, checker: CreditChecker, ref: str | None, source: str | None):
    """Exposure, overdue, limit and headroom of one credit group (``ref``) or of all of them."""
    from connector.checks import overdue_json
    from connector.decisions import effective_limit

    heads = [group_head(store, ref, source)] if ref else [
        c for c in store.iter_customers(source) if c.erp_id == c.credit_group_id]
    by_source: dict[str, list] = {}
    for head in heads:
        by_source.setdefault(head.source, []).append(head)
    for src, group_heads in by_source.items():
        groups = [h.erp_id for h in group_heads] if ref else None
        figures = checker.exposures.compute(src, groups, overdue_days=checker.policy.rules.overdue.days)
        for head in group_heads:
            if ref is None and head.erp_id not in figures and not head.active:
                continue
            facts, _ = checker.facts(head)
            exposure, overdue = figures.get(head.erp_id) or checker.exposures.compute(
                src, [head.erp_id])[head.erp_id]
            limit = effective_limit(checker.policy, facts, checker.as_of,
                                    lambda a, c, s=src: checker.convert(s, a, c))
            headroom = limit.amount - exposure.total if limit.amount is not None else None
            yield {
                "source": src, "customer": facts.key, "name": facts.name, "credit_group": head.erp_id,
                "exposure": {"total": str(exposure.total),
                             "components": {k: str(v) for k, v in exposure.components.items()},
                             "by_currency": {k: str(v) for k, v in sorted(exposure.by_currency.items())}},
                "overdue": overdue_json(overdue),
                "limit": {"amount": str(limit.amount) if limit.amount is not None else None,
                          "source": limit.source.value if limit.source else None, "detail": limit.detail},
                "headroom": str(headroom) if headroom is not None else None,
                "grade": facts.grade, "grade_source": facts.grade_source,
                "erp_risk_category": facts.risk_category, "erp_blocked": facts.erp_blocked,
                "segment": facts.segment,
            }


def with_figures(store: Any, policy: Any, rows: list[dict[str, Any]], as_of, months: int,
                 single: bool = False, payment_months: int = 12) -> list[dict[str, Any]]:
    """``rows`` of :func:`exposure_rows` with each group's payment figures (``figures``: countback DSO, overdue
    ratio, days late and share paid late, in the base currency and per company; :mod:`connector.figures`)."""
    from connector.ageing import store_converter
    from connector.figures import empty, figures

    convert = store_converter(store)
    found: dict[tuple[str, str], Any] = {}
    for source in sorted({r["source"] for r in rows}):
        group = rows[0]["credit_group"] if single and rows else None
        per_group, _ = figures(store, [source], as_of, months=months, base_currency=policy.base_currency,
                               conversion=policy.exposure.conversion, convert=convert, group=group,
                               payment_months=payment_months)
        found.update(per_group)
    for r in rows:
        entry = found.get((r["source"], r["credit_group"])) or empty(policy.base_currency, months, as_of,
                                                                     payment_months)
        r["figures"] = entry.as_json()
    return rows


def _simulate(app: Any, current: Policy, candidate: Policy, as_of, source: str | None) -> dict[str, Any]:
    from connector.checks import CheckError, CreditChecker
    from connector.decisions import Result
    from connector.domain import OrderState

    now_checker = CreditChecker(app.store, current, as_of)
    new_checker = CreditChecker(app.store, candidate, as_of)
    changed_orders, checked = [], 0
    newly_held = newly_approved = 0
    limits_changed, newly_over = set(), set()
    for order in app.store.iter_orders(source):
        if order.state not in (OrderState.DRAFT, OrderState.SENT, OrderState.CONFIRMED):
            continue
        if order.state is OrderState.CONFIRMED and order.amount_uninvoiced == 0:
            continue
        checked += 1
        try:
            before = now_checker.check(order.number, order.source, record=False)
            after = new_checker.check(order.number, order.source, record=False)
        except CheckError:
            continue
        b, a = before.decision, after.decision
        if b.limit.amount != a.limit.amount:
            limits_changed.add(after.facts.key)
        over_before = b.limit.amount is not None and before.exposure.total > b.limit.amount
        over_after = a.limit.amount is not None and after.exposure.total > a.limit.amount
        if over_after and not over_before:
            newly_over.add(after.facts.key)
        if b.result is not a.result:
            newly_held += a.result is Result.HOLD
            newly_approved += a.result is Result.APPROVE
            changed_orders.append({
                "order": order.number, "source": order.source, "customer": after.facts.key,
                "current": b.result.value, "new": a.result.value,
                "current_reasons": [r.code for r in b.reasons], "new_reasons": [r.code for r in a.reasons],
                "current_limit": str(b.limit.amount) if b.limit.amount is not None else None,
                "new_limit": str(a.limit.amount) if a.limit.amount is not None else None,
            })
    return {
        "as_of": as_of.isoformat(),
        "current_policy": {"name": current.name, "hash": current.content_hash},
        "new_policy": {"name": candidate.name, "hash": candidate.content_hash},
        "orders": changed_orders,
        "totals": {"orders_checked": checked, "newly_held": newly_held, "newly_approved": newly_approved,
                   "limits_changed": len(limits_changed), "groups_newly_over_limit": len(newly_over)},
    }


def _print_check(d: dict[str, Any], console: Console) -> None:
    colour = "red" if d["decision"] == "hold" else "green"
    console.print(f"Order [bold]{escape(d['order'])}[/] ({escape(d['source'])}) for {escape(d['customer_name'])} "
                  f"({escape(d['customer'])}): [bold {colour}]{d['decision'].upper()}[/]")
    for reason in d["reasons"]:
        console.print(f"  • {escape('[' + reason['code'] + ']')} {escape(reason['message'])}")
    limit = d["limit"]
    console.print(cell(f"Exposure {d['exposure']['total']} {d['currency']}; limit "
                       f"{limit['amount'] or 'none'} ({limit['source'] or '-'}: {limit['detail']}); "
                       f"headroom {d['headroom'] or '-'}"))
    if d["grade"] is not None:
        console.print(cell(f"Grade {d['grade']} ({d['grade_source']})"))
    if d["erp_blocked"]:
        console.print("[red]Blocked by the ERP's credit management[/]")
    if d["release_tier"]:
        console.print(cell(f"Release needs: {d['release_tier']}"))
    _print_breakdown(d, d["currency"], console, title=False)
    console.print(cell(f"Policy {d['policy']['name']!r} v{d['policy']['version']} ({d['policy']['hash'][:12]}), "
                       f"as of {d['as_of']}"))


def _print_breakdown(row: dict[str, Any], currency: str, console: Console, title: bool = True) -> None:
    from rich.table import Table

    table = Table(title=cell(f"Exposure of {row.get('name') or row.get('customer_name')} ({currency})") if title else None)
    table.add_column("Component")
    table.add_column("Amount", justify="right")
    for key, value in row["exposure"]["components"].items():
        table.add_row(cell(key), cell(value))
    table.add_row("[bold]total[/]", f"[bold]{escape(row['exposure']['total'])}[/]")
    for cur, value in row["exposure"]["by_currency"].items():
        table.add_row(cell(f"  in {cur}"), cell(value))
    console.print(table)
    if title:
        limit = row["limit"]
        console.print(cell(f"Limit {limit['amount'] or 'none'} ({limit['source'] or '-'}: {limit['detail']}); "
                           f"headroom {row['headroom'] or '-'}; overdue {row['overdue']['amount']}"))


__all__ = ["register"]
