import io
import json

import structlog

from connector.logs import configure_logging


class NotATerminal(io.StringIO):
    def isatty(self):
        return False


def test_json_lines_with_bound_context_and_no_secrets():
    out = NotATerminal()
    configure_logging("info", "auto", stream=out)
    log = structlog.get_logger("t").bind(source="odoo", stream="invoices")
    log.info("sync.batch_committed", written=3, password="hunter2", api_key="k-123")
    log.debug("sync.hidden")
    [line] = out.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "sync.batch_committed"
    assert event["source"] == "odoo" and event["stream"] == "invoices" and event["level"] == "info"
    assert event["ts"].endswith("Z")
    assert "hunter2" not in line and "k-123" not in line
