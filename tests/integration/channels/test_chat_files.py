"""Files in a chat over the real widget socket, the chat server's HTTP and the real AgentChat stream: the
consumer's picture reaches the agent's desk and downloads as sent, the agent's PDF reaches the consumer,
both are on the case's messages; a lying or oversized file is refused and the chat goes on; one chat's
token opens none of another's files."""

from __future__ import annotations

import aiohttp
from crs.channels.v1 import channels_pb2 as pb

from tests.integration.channels.test_chat import ADA, ORIGIN, Desk, channels, frames_until  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n% a reply\n" + b"0" * 500 + b"\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00" + b"\x00" * 200


def _http(url: str) -> str:
    return url.replace("ws://", "http://").replace("/chat/ws", "")


async def _chat(session, url, body):
    ws = await session.ws_connect(url, origin=ORIGIN)
    await ws.send_json({"type": "hello", "language": "en"})
    await frames_until(ws, "welcome")
    await ws.send_json({"type": "start", "name": "Sam", "body": body})
    return ws, (await frames_until(ws, "started"))["token"]


async def _upload(session, base, token, name, data):
    headers = {"X-Chat-Token": token, "X-Filename": name, "Origin": ORIGIN}
    async with session.post(base + "/chat/files", data=data, headers=headers) as answer:
        return answer.status, await answer.json()


async def test_files_go_both_ways_and_stay_on_the_case(channels):  # noqa: F811
    stub, url, _ = channels
    base = _http(url)
    desk = Desk(stub)
    await desk.open()
    async with aiohttp.ClientSession() as session:
        ws, token = await _chat(session, url, "The box arrived crushed")
        offered = await desk.next("chat")
        async with session.options(
            base + "/chat/files", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        ) as preflight:
            assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
        status, sent = await _upload(session, base, token, "box%20photo.png", PNG)
        assert status == 201 and sent["line"]["file"]["content_type"] == "image/png"
        seen = await desk.next("line")
        picture = seen.lines[0].file
        assert (picture.filename, picture.content_type, picture.size) == (
            "box photo.png",
            "image/png",
            len(PNG),
        )
        got = await stub.GetAttachment(
            pb.GetAttachmentRequest(case_id=offered.case_id, attachment_id=picture.id), metadata=ADA
        )
        assert got.data == PNG

        line = await stub.SendChatFile(
            pb.SendChatFileRequest(chat_id=offered.chat_id, filename="refund form.pdf", data=PDF),
            metadata=ADA,
        )
        shown = (await frames_until(ws, "line"))["line"]
        assert (shown["author"], shown["file"]["filename"]) == ("Ada Moreno", "refund form.pdf")
        async with session.get(f"{base}/chat/files/{shown['file']['id']}", params={"token": token}) as answer:
            assert answer.status == 200 and answer.content_type == "application/pdf"
            assert await answer.read() == PDF

        other, other_token = await _chat(session, url, "A different chat")
        async with session.get(f"{base}/chat/files/{line.file.id}", params={"token": other_token}) as answer:
            assert answer.status == 404

        status, refused = await _upload(session, base, token, "cat.png", EXECUTABLE)
        assert status == 400 and "only pictures" in refused["error"]
        status, refused = await _upload(session, base, token, "huge.png", PNG + b"0" * (3 * 2**20))
        assert status == 413 and "at most 3 MiB" in refused["error"]
        await ws.send_json({"type": "say", "body": "Still here"})
        assert (await frames_until(ws, "sent"))["line"]["body"] == "Still here"
        await ws.close()
        await other.close()
    desk.call.cancel()

    messages = (
        await stub.ListMessages(pb.ListMessagesRequest(case_id=offered.case_id), metadata=ADA)
    ).messages
    files = [
        (m.direction, m.attachments[0].filename, m.attachments[0].kept) for m in messages if m.attachments
    ]
    assert files == [("inbound", "box photo.png", True), ("outbound", "refund form.pdf", True)]
    assert [m.attachments[0].id for m in messages if m.attachments] == [picture.id, line.file.id]
