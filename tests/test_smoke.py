def test_health_answers_ok_when_everything_is_up(anon_client, db):
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
