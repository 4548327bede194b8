"""The OpenAPI document lists the operations on projects, milestones, conversations,
members and reviews, each with its scope, its Idempotency-Key and its answers."""

from __future__ import annotations

# the operations of projects, milestones, conversations, members and reviews: the scope
# each needs, whether it takes an Idempotency-Key, and its answer (201: it made something)
OPERATIONS = {
    ("get", "/projects"): ("read", False, "200"),
    ("get", "/projects/{project_id}"): ("read", False, "200"),
    ("get", "/projects/{project_id}/timeline"): ("read", False, "200"),
    ("post", "/projects/{project_id}/events"): ("projects", False, "201"),
    ("post", "/projects/{project_id}/complete"): ("wallet", True, "201"),
    ("post", "/commissions/{commission_id}/pay"): ("wallet", True, "200"),
    ("post", "/commissions/{commission_id}/accept-invoice"): ("projects", False, "200"),
    ("post", "/commissions/{commission_id}/contest-invoice"): ("projects", False, "200"),
    ("post", "/projects/{project_id}/milestones"): ("projects", False, "201"),
    ("get", "/milestones/{milestone_id}"): ("read", False, "200"),
    ("post", "/milestones/{milestone_id}/fund"): ("wallet", True, "200"),
    ("post", "/milestones/{milestone_id}/deliver"): ("projects", False, "200"),
    ("post", "/milestones/{milestone_id}/revision"): ("projects", False, "200"),
    ("post", "/milestones/{milestone_id}/release"): ("wallet", True, "200"),
    ("get", "/conversations"): ("read", False, "200"),
    ("get", "/conversations/{conversation_id}/messages"): ("read", False, "200"),
    ("post", "/conversations/{conversation_id}/messages"): ("projects", False, "201"),
    ("get", "/members"): ("read", False, "200"),
    ("get", "/members/{username}"): ("read", False, "200"),
    ("get", "/members/{username}/reviews"): ("read", False, "200"),
    ("post", "/projects/{project_id}/reviews"): ("projects", False, "201"),
}


def test_the_document_lists_the_operations_with_their_scopes_and_keys(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for (method, path), (scope, keyed, status) in OPERATIONS.items():
        operation = paths[f"/api/v1{path}"][method]
        assert f"`{scope}` scope" in operation["description"], (method, path)
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) is keyed, (method, path)
        expected = {status, "401", "403"} | ({"404"} if "{" in path else set())
        assert expected <= set(operation["responses"]), (method, path)
        if status == "201":
            assert "Location" in operation["responses"]["201"]["headers"], path
