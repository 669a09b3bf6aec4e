"""The export archive: one zip of every service's answer, their files, and a summary a person can read.

- everything.json: {"consumer_id", "exported_at", "services": {service: what it holds}};
- recordings/..., letters/...: the files the services attached;
- summary.txt: what is held, counted, in the consumer's language (English when CRS has no words for it).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import Any

_WORDS = {
    "en": {
        "title": "What we hold about you",
        "exported": "Exported on",
        "service": "Held by the {service} service",
        "files": "Files: {count} (recordings of your calls, letters we sent you)",
        "rights": "You may ask us to correct or erase any of this.",
    },
    "fr": {
        "title": "Les données que nous détenons à votre sujet",
        "exported": "Exporté le",
        "service": "Détenu par le service {service}",
        "files": "Fichiers : {count} (enregistrements de vos appels, lettres envoyées)",
        "rights": "Vous pouvez nous demander de corriger ou d'effacer ces données.",
    },
    "ja": {
        "title": "お客様について当社が保有する情報",
        "exported": "出力日",
        "service": "{service} サービスが保有",
        "files": "ファイル: {count} 件 - 通話録音、送付した書面",
        "rights": "これらの情報の訂正または消去をご依頼いただけます。",
    },
}


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return 0 if value in (None, {}, "") else 1


def summary(*, language: str, exported_at: datetime, services: dict[str, dict[str, Any]], files: int) -> str:
    words = _WORDS.get(language.split("-")[0].lower(), _WORDS["en"])
    lines = [words["title"], "", f"{words['exported']} {exported_at:%Y-%m-%d %H:%M} UTC", ""]
    for service, held in services.items():
        lines.append(words["service"].format(service=service))
        for kind, value in held.items():
            lines.append(f"  {kind.replace('_', ' ')}: {_count(value)}")
        lines.append("")
    lines += [words["files"].format(count=files), "", words["rights"], ""]
    return "\n".join(lines)


def build(*, consumer_id: str, exported_at: datetime, answers: Iterable) -> tuple[bytes, dict[str, Any]]:
    """The zip's bytes and its everything.json, from each service's answer (.service, .data_json, .attachments)."""
    services: dict[str, dict[str, Any]] = {}
    files: dict[str, bytes] = {}
    for answer in answers:
        services[answer.service] = json.loads(answer.data_json or "{}")
        for attachment in answer.attachments:
            files[f"{answer.service}/{attachment.name}"] = attachment.content
    everything = {"consumer_id": consumer_id, "exported_at": exported_at.isoformat(), "services": services}
    profile = services.get("contacts", {}).get("profile") or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "everything.json", json.dumps(everything, ensure_ascii=False, indent=2, sort_keys=True)
        )
        text = summary(
            language=profile.get("language", "en"),
            exported_at=exported_at,
            services=services,
            files=len(files),
        )
        archive.writestr("summary.txt", text)
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue(), everything
