import pytest
from tests.core import test_authorization as ta

ROWS = {}
for line in open("/tmp/rows.md"):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    ROWS[(cells[0], cells[1])] = dict(zip(ta.ROLES, cells[2:]))
CASES = [(e, m, r) for (e, m) in ROWS for r in ta.ROLES]

@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_cell(app, client, make_member, login, endpoint, method, role, monkeypatch):
    monkeypatch.setitem(ta.MATRIX, (endpoint, method), ROWS[(endpoint, method)])
    ta.test_cell(app, client, make_member, login, endpoint, method, role)
