"""The nesting bound on ERP answers (adapters.limits.depth_exceeds): its quick look at shallow answers agrees
with the full walk on every shape, deep or not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters import limits

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=3))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=2), inner, max_size=4)),
                      max_leaves=40)


def depth(value) -> int:
    """Levels of lists and dicts, an empty one included (the reference the bound is judged by)."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@given(values, st.integers(min_value=1, max_value=8))
def test_the_bound_is_the_nesting_depth(value, limit):
    assert limits.depth_exceeds(value, limit) == (depth(value) > limit)


def nested(levels: int):
    value: list = [1]
    for _ in range(levels - 1):
        value = [value, 2]
    return value


def test_a_search_read_answer_is_within_the_bound():
    records = [{"id": n, "partner_id": [n, "Buyer"], "invoice_line_ids": [1, 2, 3], "name": "INV", "x": False}
               for n in range(1000)]
    assert not limits.depth_exceeds({"jsonrpc": "2.0", "id": 1, "result": records})
    assert limits.depth_exceeds({"result": [{"deep": nested(limits.MAX_DEPTH)}]})  # 2 + 200 levels
    assert not limits.depth_exceeds({"result": nested(limits.MAX_DEPTH - 1)})
