"""The knowledge base through the console: codes and articles suggested while capturing, search for
agents, and the review of articles, which only supervisors and admins may do."""

from __future__ import annotations

import aiohttp


async def _as(console, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await console.token(who)}"}


async def test_the_capture_form_is_offered_foreign_object_plastic_for_a_french_verbatim(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.post(
            f"{console.base}/api/assist", json={"verbatim": "il y avait du plastique dans ma boîte"}
        ) as reply:
            assert reply.status == 200
            body = await reply.json()
    codes = [c["code"] for c in body["codes"]]
    assert "complaint.quality.foreign_object.plastic" in codes[:3]
    plastic = next(c for c in body["codes"] if c["code"] == "complaint.quality.foreign_object.plastic")
    assert plastic["path"] == "Complaint\u203a Quality\u203a Foreign object\u203a Plastic"
    assert body["model_version"] == 1
    assert body["language"] == "fr"


async def test_assist_without_words_is_a_clear_400(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.post(f"{console.base}/api/assist", json={"verbatim": "   "}) as reply:
            assert reply.status == 400
            assert "verbatim" in (await reply.json())["error"]
        async with http.post(f"{console.base}/api/assist", json={"verbatim": 12}) as reply:
            assert reply.status == 400


async def test_an_agent_searches_the_knowledge_base_in_french(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.get(
            f"{console.base}/api/knowledge/search",
            params={"q": "dans quel magasin trouver l'avoine golden", "language": "fr"},
        ) as reply:
            assert reply.status == 200
            body = await reply.json()
    first = body["articles"][0]
    assert (first["id"], first["language"], first["other_language"]) == ("oats-where-to-buy", "fr", False)


async def test_agents_may_not_review_a_supervisor_reviews_and_publishes_a_draft(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.get(f"{console.base}/api/knowledge/articles") as reply:
            assert reply.status == 403
        async with http.post(f"{console.base}/api/knowledge/articles/gift-boxes/en/review") as reply:
            assert reply.status == 403
    async with aiohttp.ClientSession(headers=await _as(console, "supervisor")) as http:
        async with http.get(f"{console.base}/api/knowledge/articles") as reply:
            states = {(a["id"], a["language"]): a["state"] for a in (await reply.json())["articles"]}
        assert states[("gift-boxes", "en")] == "draft"
        async with http.post(f"{console.base}/api/knowledge/articles/gift-boxes/en/publish") as reply:
            assert reply.status == 400
            assert "review it first" in (await reply.json())["error"]
        async with http.post(f"{console.base}/api/knowledge/articles/gift-boxes/en/review") as reply:
            assert reply.status == 200
            assert (await reply.json())["state"] == "reviewed"
            assert (await reply.json())["reviewer"] == "sam"
        async with http.post(f"{console.base}/api/knowledge/articles/gift-boxes/en/publish") as reply:
            assert (await reply.json())["state"] == "published"
        # Sam wrote this one: someone else reviews it.
        async with http.post(f"{console.base}/api/knowledge/articles/coffee-descaling/en/review") as reply:
            assert reply.status == 403
            assert "someone other than its author" in (await reply.json())["error"]
        async with http.post(f"{console.base}/api/knowledge/articles/no-such/en/review") as reply:
            assert reply.status == 404


async def test_the_knowledge_pages_open_for_those_who_may_use_them(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.get(f"{console.base}/knowledge/") as reply:
            assert reply.status == 200
            assert 'id="kb-form"' in await reply.text()
        async with http.get(f"{console.base}/knowledge/review") as reply:
            assert reply.status == 403
    async with aiohttp.ClientSession(headers=await _as(console, "supervisor")) as http:
        async with http.get(f"{console.base}/knowledge/review") as reply:
            assert reply.status == 200
            assert 'id="kb-articles"' in await reply.text()


async def test_a_supervisor_sees_how_automated_answers_ended_and_only_an_admin_sets_the_threshold(console):
    async with aiohttp.ClientSession(headers=await _as(console, "1001")) as http:
        async with http.get(f"{console.base}/api/knowledge/answers") as reply:
            assert reply.status == 403
        async with http.get(f"{console.base}/knowledge/answers") as reply:
            assert reply.status == 403
    async with aiohttp.ClientSession(headers=await _as(console, "supervisor")) as http:
        async with http.get(f"{console.base}/knowledge/answers") as reply:
            assert reply.status == 200
            assert 'id="kb-outcomes"' in (page := await reply.text())
            assert 'id="kb-threshold-form"' not in page
        async with http.get(f"{console.base}/api/knowledge/answers?days=7") as reply:
            report = await reply.json()
            assert (report["answer_threshold"], report["days"]) == (0.8, 7)
        async with http.get(f"{console.base}/api/knowledge/answers?days=soon") as reply:
            assert reply.status == 400
        async with http.post(
            f"{console.base}/api/knowledge/threshold", json={"answer_threshold": 0.5}
        ) as reply:
            assert reply.status == 403
