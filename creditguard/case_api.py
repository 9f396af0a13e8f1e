"""The collection cases in the HTTP API (routed by :mod:`creditguard.http_api`).

    GET  /v1/cases                     the cases (``?source=&state=&all=1``), as ``creditguard cases --json``
    GET  /v1/cases/<group>             one group's cases with their history and dunning steps (group: a customer
                                       reference or ``source:erp_id``)
    POST /v1/cases/<group>/<action>    contact | promise | dispute | resolve | note | handover | claim | close |
                                       approve (the proposed dunning step); body: ``{"amount": "1250.00",
                                       "date": "2026-12-31", "text": "...", "by": "carla", "source": "odoo",
                                       "level": 30}`` as the action needs

Bad input is a 400 naming the field; an action the case cannot take (its state) or a date in the past a 422
naming the field; an unknown group or action a 404.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from connector.cases import ACTIONS, STATES, CaseError, Cases, case_json
from connector.money import currency_precision

from .check_request import RequestError, parse_amount

MAX_TEXT = 2000
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[\w .@-]{1,64}")


def _api_error(status: int, code: str, message: str) -> Exception:
    from .http_api import ApiError

    return ApiError(status, code, message)


def _today(daemon: Any) -> date:
    return datetime.now(daemon.config.sync.tzinfo).date()


def _policy(daemon: Any) -> Any:
    if daemon.policy is None:
        raise _api_error(503, "no_policy", "no [policy] configured")
    return daemon.policy


def _source(daemon: Any, value: Any) -> str | None:
    if value is None:
        return None
    names = {s.name for s in daemon.config.enabled_sources}
    if not isinstance(value, str) or value not in names:
        raise _api_error(400, "bad_request", f"source: expected one of {', '.join(sorted(names))}")
    return value


def list_cases(daemon: Any, args: Any) -> dict[str, Any]:
    state = args.get("state") or None
    if state is not None and state not in STATES:
        raise _api_error(400, "bad_request", f"state: expected one of {', '.join(STATES)}")
    source = _source(daemon, args.get("source"))
    include_closed = args.get("all") in ("1", "true") or state == "closed"
    store = daemon.store
    found = store.list_cases(source=source, state=state, active_only=not include_closed)
    return {"cases": [case_json(c, steps=store.dunning_steps(case_id=c.id)) for c in found]}


def _group(daemon: Any, ref: str, source: str | None) -> tuple[str, str, str]:
    if len(ref) > 200:
        raise _api_error(400, "bad_request", "group: at most 200 characters")
    try:
        return Cases(daemon.store, _policy(daemon), _today(daemon)).resolve_group(ref, source)
    except CaseError as exc:
        raise _api_error(404, "not_found", f"group: {exc}") from None


def case_detail(daemon: Any, ref: str, args: Any) -> dict[str, Any]:
    source, group, name = _group(daemon, ref, _source(daemon, args.get("source")))
    store = daemon.store
    found = store.list_cases(source=source, group=group)
    return {"source": source, "credit_group": group, "customer": name,
            "cases": [case_json(c, store.case_events(case_id=c.id), store.dunning_steps(case_id=c.id))
                      for c in found]}


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _api_error(400, "bad_request", f"{key}: expected a string of at most {MAX_TEXT} characters")
    return value


def _date(body: dict[str, Any]) -> date | None:
    value = body.get("date")
    if value is None:
        return None
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise _api_error(400, "bad_request", 'date: expected a date such as "2026-12-31"')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _api_error(400, "bad_request", f"date: {value!r} is not a calendar date") from None


def case_action(daemon: Any, ref: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    if action not in (*ACTIONS, "approve"):
        raise _api_error(404, "not_found", f"action: no such action {action!r}; one of: "
                                           f"{', '.join((*ACTIONS, 'approve'))}")
    unknown = sorted(set(body) - {"amount", "date", "text", "reason", "by", "source", "level"})
    if unknown:
        raise _api_error(400, "bad_request", f"{unknown[0]}: unknown field")
    policy = _policy(daemon)
    by = body.get("by", "api")
    if not isinstance(by, str) or not _NAME.fullmatch(by):
        raise _api_error(400, "bad_request", "by: expected a name of 1 to 64 letters, digits, spaces, . @ -")
    source, group, name = _group(daemon, ref, _source(daemon, body.get("source")))
    actor = f"api:{by}"
    if action == "approve":
        return _approve(daemon, policy, source, group, name, actor, body.get("level"))
    amount = None
    if body.get("amount") is not None:
        try:
            amount = parse_amount(body["amount"], "amount", currency_precision(policy.base_currency),
                                  currency=policy.base_currency, semantic_status=422)
        except RequestError as exc:
            raise _api_error(exc.status, "bad_request" if exc.status == 400 else "unprocessable", str(exc)) from None
    text = _text(body, "reason") if action == "dispute" else _text(body, "text")
    try:
        saved = Cases(daemon.store, policy, _today(daemon)).act(f"{source}:{group}", action, actor, amount=amount,
                                                                 day=_date(body), text=text)
    except CaseError as exc:
        field = "reason" if exc.field == "text" and action == "dispute" else exc.field
        raise _api_error(422, "unprocessable", f"{field}: {exc}") from None
    store = daemon.store
    return case_json(saved, store.case_events(case_id=saved.id), store.dunning_steps(case_id=saved.id))


def _approve(daemon: Any, policy: Any, source: str, group: str, name: str, actor: str, level: Any) -> dict[str, Any]:
    from connector.dunning import DunningRun

    from .enforce_commands import make_outbox

    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 100_000):
        raise _api_error(400, "bad_request", "level: expected the level's days past due (an integer)")
    approved = DunningRun(daemon.store, policy, _today(daemon), make_outbox(daemon.config, daemon.store)).approve(
        source, group, actor, level)
    if not approved:
        raise _api_error(422, "unprocessable", f"level: {name} has no proposed dunning step"
                                               + (f" at level {level}" if level is not None else ""))
    return {"approved": [{"level": s.level, "channel": s.channel, "key": s.key, "decided_by": s.decided_by}
                         for s in approved],
            "note": "the daemon's next dunning run sends the approved steps"}
