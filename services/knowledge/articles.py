"""Articles: their workflow (draft → reviewed → published), versions, and Markdown with front matter."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

KINDS = ("where_to_buy", "how_to_use", "ingredients", "promotions", "recall", "general")
LANGUAGES = ("en", "fr", "de", "es", "ja", "it", "nl", "pt")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# Who may do what: authors write drafts, a supervisor or admin reviews and publishes.
WRITERS = ("agent", "supervisor", "admin", "service")
REVIEWERS = ("supervisor", "admin")


class InvalidArticle(ValueError):
    pass


class NotAllowed(PermissionError):
    pass


class ArticleNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Article:
    id: str
    product_sku: str
    kind: str
    language: str
    version: int
    title: str
    body: str
    state: str
    owner: str
    author: str
    reviewer: str = ""

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}"


def validate(article: Article) -> Article:
    if not _ID.match(article.id):
        raise InvalidArticle(f"article id {article.id!r}: lower-case letters, digits and dashes")
    if article.kind not in KINDS:
        raise InvalidArticle(f"article {article.id}: kind must be one of {', '.join(KINDS)}")
    if article.language not in LANGUAGES:
        raise InvalidArticle(f"article {article.id}: language must be one of {', '.join(LANGUAGES)}")
    if not article.title.strip() or not article.body.strip():
        raise InvalidArticle(f"article {article.id}: title and body are required")
    if len(article.body) > 20_000:
        raise InvalidArticle(f"article {article.id}: body longer than 20,000 characters")
    return article


def new_version(previous: Article | None, draft: Article, *, actor: str, role: str, publish: bool) -> Article:
    """The next version of an article in one language: a draft, or published at once by a reviewer."""
    if role not in WRITERS:
        raise NotAllowed(f"a {role} may not write articles")
    if publish and role not in REVIEWERS:
        raise NotAllowed("only a supervisor or an admin may publish")
    validate(draft)
    return replace(
        draft,
        version=(previous.version + 1) if previous else 1,
        state="published" if publish else "draft",
        owner=previous.owner if previous else actor,
        author=actor,
        reviewer=actor if publish else "",
    )


def review(article: Article, *, actor: str, role: str) -> Article:
    if role not in REVIEWERS:
        raise NotAllowed("only a supervisor or an admin may review")
    if article.state != "draft":
        raise InvalidArticle(f"article {article.id} ({article.language}) is {article.state}, not a draft")
    if actor == article.author:
        raise NotAllowed("an article is reviewed by someone other than its author")
    return replace(article, state="reviewed", reviewer=actor)


def publish(article: Article, *, role: str) -> Article:
    if role not in REVIEWERS:
        raise NotAllowed("only a supervisor or an admin may publish")
    if article.state != "reviewed":
        raise InvalidArticle(f"article {article.id} ({article.language}) is {article.state}: review it first")
    return replace(article, state="published")


FRONT_FIELDS = ("id", "language", "kind", "product", "title")


def parse_markdown(text: str, *, source: str = "") -> Article:
    """An article from Markdown with a `---` front matter of `key: value` lines."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise InvalidArticle(f"{source}: front matter must start with ---")
    try:
        end = lines.index("---", 1)
    except ValueError as exc:
        raise InvalidArticle(f"{source}: front matter has no closing ---") from exc
    fields: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if not sep:
            raise InvalidArticle(f"{source}: front-matter line {line!r} is not key: value")
        fields[key.strip()] = value.strip().strip('"')
    missing = [f for f in ("id", "language", "kind", "title") if not fields.get(f)]
    if missing:
        raise InvalidArticle(f"{source}: front matter lacks {', '.join(missing)}")
    return validate(
        Article(
            id=fields["id"],
            product_sku=fields.get("product", ""),
            kind=fields["kind"],
            language=fields["language"],
            version=0,
            title=fields["title"],
            body="\n".join(lines[end + 1 :]).strip() + "\n",
            state="draft",
            owner="",
            author="",
        )
    )


def to_markdown(article: Article) -> str:
    front = {
        "id": article.id,
        "language": article.language,
        "kind": article.kind,
        "product": article.product_sku,
        "title": article.title,
        "state": article.state,
        "version": str(article.version),
        "owner": article.owner,
    }
    head = "".join(f"{key}: {value}\n" for key, value in front.items() if value)
    return f"---\n{head}---\n\n{article.body.strip()}\n"


def file_name(article: Article) -> str:
    return f"{article.id}.{article.language}.md"
