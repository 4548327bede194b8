"""Each board page runs a fixed number of SQL statements, whatever the number of gigs
on it: the page's rows (posters joined) and their skills, besides what the layout
reads about the member (counted apart, as another part of the code owns it)."""

from __future__ import annotations

import re

import pytest

BOARD_STATEMENTS = 2  # the rows, their skills


def statements_for(client, count_queries, url: str) -> list[str]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return [s for s in statements if s.strip().upper() != "BEGIN"]


def board_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\bgig", s)]


@pytest.mark.parametrize("query", ["", "?q=client", "?q=cobol", "?skills=python",
                                   "?sort=budget&kind=task"])
def test_a_board_page_runs_a_fixed_number_of_statements(client, login, make_member,
                                                       make_gig, count_queries, query):
    posters = [make_member() for _ in range(3)]
    login(make_member())
    made, counts = 0, []
    for total in (10, 60):
        for i in range(made, total):
            words = "client work" if i % 2 else "cobol client"
            make_gig(posters[i % 3], title=f"Gig {i} for a {words}", kind="task",
                     skill_names=["Python", f"Skill {i % 4}"])
        made = total
        page = client.get("/gigs" + query).get_data(as_text=True)
        older = re.search(r'href="([^"]*before=[^"]*)"', page)
        urls = ["/gigs" + query] + ([older.group(1).replace("&amp;", "&")] if older else [])
        for url in urls:  # the first page, and the next one when there is one
            statements = statements_for(client, count_queries, url)
            assert len(board_statements(statements)) == BOARD_STATEMENTS, statements
            counts.append(len(statements))
    assert len(counts) >= 3 and len(set(counts)) == 1, counts
