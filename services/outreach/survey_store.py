"""SQL for surveys and reorder reminders in the outreach schema; nothing else.

The fire-once rule lives in the tables: `survey.fire_key` and `reorder_reminder.key` are unique, and the
inserts that claim them do nothing on a conflict, so a redelivered event, a replay or a restart that
re-plans the same trigger finds the row already there and schedules nothing more.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.outreach.reorder import Reminder
from services.outreach.survey_rules import Planned, Question, Rule, SurveySent, Trigger
from services.runtime import outbox
from services.runtime.events import Event

RULE_COLUMNS = ("id", "name", "trigger", "kind", "issue_prefix", "delay_minutes", "suppress_days", "questions",
                "enabled")  # fmt: skip
_RULE_COLUMNS = ", ".join(RULE_COLUMNS)


def _questions_json(questions: tuple[Question, ...]) -> str:
    return json.dumps([{"key": q.key, "text": q.text, "low": q.low, "high": q.high} for q in questions])


def rule_row(rule: Rule) -> tuple:
    """The rule's values in the order of RULE_COLUMNS."""
    return (
        rule.id, rule.name, rule.trigger, rule.kind, rule.issue_prefix, int(rule.delay.total_seconds() // 60),
        rule.suppress_for.days, _questions_json(rule.questions), rule.enabled,
    )  # fmt: skip


def _rule(row: dict) -> Rule:
    return Rule(
        id=row["id"],
        name=row["name"],
        trigger=row["trigger"],
        kind=row["kind"],
        delay=timedelta(minutes=row["delay_minutes"]),
        suppress_for=timedelta(days=row["suppress_days"]),
        issue_prefix=row["issue_prefix"],
        questions=tuple(Question(**q) for q in row["questions"]),
        enabled=row["enabled"],
    )


class SurveyStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def _rows(self, query: str, params=()) -> list[dict]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()

    async def put_rule(self, rule: Rule, *, actor: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO survey_rule ({_RULE_COLUMNS}, updated_by, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
                " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, trigger = EXCLUDED.trigger,"
                " kind = EXCLUDED.kind, issue_prefix = EXCLUDED.issue_prefix,"
                " delay_minutes = EXCLUDED.delay_minutes, suppress_days = EXCLUDED.suppress_days,"
                " questions = EXCLUDED.questions, enabled = EXCLUDED.enabled,"
                " updated_by = EXCLUDED.updated_by, updated_at = now()",
                (*rule_row(rule), actor),
            )

    async def retire(self, rule_id: str, *, actor: str) -> Rule | None:
        """The rule, disabled: it plans no survey more. None when there is no such rule."""
        rows = await self._rows(
            f"UPDATE survey_rule SET enabled = false, updated_by = %s, updated_at = now() WHERE id = %s"
            f" RETURNING {_RULE_COLUMNS}",
            (actor, rule_id),
        )
        return _rule(rows[0]) if rows else None

    async def rules(self) -> list[Rule]:
        return [_rule(r) for r in await self._rows(f"SELECT {_RULE_COLUMNS} FROM survey_rule ORDER BY id")]

    async def last_surveyed_at(self, consumer_id: str) -> datetime | None:
        rows = await self._rows(
            "SELECT max(sent_at) AS at FROM survey WHERE consumer_id = %s AND sent_at IS NOT NULL",
            (consumer_id,),
        )
        return rows[0]["at"]

    async def claim(self, survey_id: str, planned: Planned) -> bool:
        """Record the planned survey under its fire key; False when the key was already claimed."""
        t, rule = planned.trigger, planned.rule
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO survey (id, fire_key, rule_id, kind, questions, case_id, consumer_id, language,"
                " team, agent, channel, triggered_at, send_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (fire_key) DO NOTHING",
                (
                    survey_id, planned.key, rule.id, rule.kind, _questions_json(rule.questions), t.case_id,
                    t.consumer_id, t.language, t.team, t.agent, t.channel, t.occurred_at, planned.send_at,
                ),
            )  # fmt: skip
            return cur.rowcount == 1

    async def due_surveys(self, now: datetime, limit: int = 100) -> list[str]:
        rows = await self._rows(
            "SELECT id FROM survey WHERE sent_at IS NULL AND held_back = '' AND send_at <= %s"
            " ORDER BY send_at LIMIT %s",
            (now, limit),
        )
        return [r["id"] for r in rows]

    async def survey_id_for(self, fire_key: str) -> str | None:
        rows = await self._rows("SELECT id FROM survey WHERE fire_key = %s", (fire_key,))
        return rows[0]["id"] if rows else None

    async def mark_sent(self, survey_id: str, at: datetime) -> bool:
        """True the first time only: a timer that fires twice sends once."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE survey SET sent_at = %s WHERE id = %s AND sent_at IS NULL AND held_back = ''",
                (at, survey_id),
            )
            return cur.rowcount == 1

    async def hold_back(self, survey_id: str, reason: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE survey SET held_back = %s WHERE id = %s AND sent_at IS NULL", (reason, survey_id)
            )

    async def survey(self, survey_id: str) -> SurveySent | None:
        rows = await self._rows("SELECT * FROM survey WHERE id = %s", (survey_id,))
        if not rows:
            return None
        row = rows[0]
        rule = Rule(
            id=row["rule_id"],
            name=row["rule_id"],
            trigger="contact_resolved",
            kind=row["kind"],
            delay=timedelta(0),
            suppress_for=timedelta(0),
            questions=tuple(Question(**q) for q in row["questions"]),
        )
        trigger = Trigger(
            "contact_resolved", row["case_id"], row["consumer_id"], "", row["language"], row["team"],
            row["agent"], row["channel"], row["triggered_at"],
        )  # fmt: skip
        return SurveySent(row["id"], rule, trigger, row["sent_at"] or row["send_at"])

    async def record_answer(self, answer, event: Event) -> bool:
        """The first answer to a survey counts, and its `event` goes to the outbox in the same transaction;
        False (and no event) for a second click or resubmission."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO survey_answer (id, survey_id, score, scores, comment, answered_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (survey_id) DO NOTHING",
                (
                    answer.answer_id, answer.survey.survey_id, answer.score, json.dumps(answer.scores),
                    answer.comment, answer.answered_at,
                ),
            )  # fmt: skip
            if cur.rowcount != 1:
                return False
            await outbox.add_event(conn, event)
            return True

    async def add_purchase(self, order_id: str, sku: str, consumer_id: str, at: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO purchase (order_id, sku, consumer_id, ordered_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (order_id, sku, consumer_id, at),
            )

    async def order_times(self, consumer_id: str, sku: str) -> list[datetime]:
        rows = await self._rows(
            "SELECT ordered_at FROM purchase WHERE consumer_id = %s AND sku = %s ORDER BY ordered_at",
            (consumer_id, sku),
        )
        return [r["ordered_at"] for r in rows]

    async def claim_reminder(self, reminder: Reminder) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO reorder_reminder (key, consumer_id, sku, last_order_at, expected_at, remind_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                (
                    reminder.key,
                    reminder.consumer_id,
                    reminder.sku,
                    reminder.last_order_at,
                    reminder.expected_at,
                    reminder.remind_at,
                ),
            )
            return cur.rowcount == 1

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Reminder]:
        rows = await self._rows(
            "SELECT key, consumer_id, sku, last_order_at, expected_at, remind_at FROM reorder_reminder"
            " WHERE sent_at IS NULL AND held_back = '' AND remind_at <= %s ORDER BY remind_at LIMIT %s",
            (now, limit),
        )
        return [
            Reminder(
                r["consumer_id"], r["sku"], r["expected_at"] - r["last_order_at"], r["last_order_at"],
                r["expected_at"], r["remind_at"], r["key"],
            )
            for r in rows
        ]  # fmt: skip

    async def hold_back_reminder(self, key: str, reason: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE reorder_reminder SET held_back = %s WHERE key = %s AND sent_at IS NULL", (reason, key)
            )

    async def defer_reminder(self, key: str, until: datetime) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE reorder_reminder SET remind_at = %s WHERE key = %s AND sent_at IS NULL", (until, key)
            )

    async def mark_reminder_sent(self, key: str, at: datetime) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE reorder_reminder SET sent_at = %s WHERE key = %s AND sent_at IS NULL", (at, key)
            )
            return cur.rowcount == 1
