from tests import helpers


async def test_actor_roundtrip(client):
    a = await helpers.actor(client, names=[{"value": "خلوصي آكار", "lang": "AR"}])
    r = await client.get(f"/v1/actors/{a['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["names"][0]["lang"] == "ar"
