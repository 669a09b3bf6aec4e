"""Roles and what each may do: the one permission table, read by the console's routes, every service's gRPC
methods and the command line.

- agent: their own extension's pops; capture and update cases; read and search consumers (each read of a
  consumer's personal data is written to the access log).
- supervisor: all an agent may, and the escalation queue, resolving or closing escalated and
  health-and-safety cases, assigning to others, recordings, the access log.
- analyst (QA, marketing): aggregates, trends and alerts; case search with personal data removed; no
  consumer profiles, no recordings.
- admin: agents and roles, code tables, lifting lockouts, the access log; no case work.

A console route names its permission with @requires; a gRPC method is named in GRPC_METHODS. A call that
carries a person's principal is allowed only when that person's role holds the method's permission. A call
without one comes from another service, authenticated by its certificate (services/runtime/grpcio.py).
"""

from __future__ import annotations

ROLES = ("agent", "supervisor", "analyst", "admin")

_AGENTS = frozenset({"agent", "supervisor"})
_SUPERVISORS = frozenset({"supervisor"})
_EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "console.use": _EVERYONE,
    "pops.watch": _AGENTS,
    # Being available for chat, and answering the chats routed to you (services/channels/chat.py).
    "chat.answer": _AGENTS,
    "consumers.read": _AGENTS,
    "consumers.create": _AGENTS,
    "consumers.update": _AGENTS,
    "catalogue.read": frozenset({"agent", "supervisor", "analyst"}),
    "cases.read": _AGENTS,
    # Searching: agents and supervisors within the limits of casework's domain/access.py; analysts get
    # cases without personal data.
    "cases.search": frozenset({"agent", "supervisor", "analyst"}),
    "cases.create": _AGENTS,
    "cases.update": _AGENTS,
    "cases.escalate": _AGENTS,
    "cases.assign": _AGENTS,
    "cases.assign_others": _SUPERVISORS,
    "cases.close_escalated": _SUPERVISORS,
    # Resolving or closing a case while a fulfillment for it is open (an agent waits for it to end).
    "cases.resolve_awaiting_fulfillment": _SUPERVISORS,
    "cases.queue": _SUPERVISORS,
    "billing.read": _AGENTS,
    "billing.post": _SUPERVISORS,
    "codes.read": _EVERYONE,
    "codes.write": frozenset({"admin"}),
    "insights.early_warning": frozenset({"supervisor", "analyst"}),
    # Insights' figures and alerts; quality assurance (the analyst role) and admins import units sold and
    # move alerts through their lifecycle.
    "insights.read": frozenset({"supervisor", "analyst"}),
    "insights.manage": frozenset({"analyst", "admin"}),
    # The stakeholder lists the weekly digest and the alert emails go to (docs/insights.md, "Staff mail"):
    # an admin keeps them; quality assurance (analyst) reads who gets its alerts.
    "stakeholders.read": frozenset({"analyst", "admin"}),
    "stakeholders.manage": frozenset({"admin"}),
    # Recall mode (docs/insights.md): opening and closing a recall is for the quality-assurance lead
    # (analyst) and the contact centre's supervisor, who runs the floor the recall's calls land on; reading
    # the open recalls' scripts is for everyone who answers consumers.
    "recalls.manage": frozenset({"supervisor", "analyst", "admin"}),
    "recalls.read": frozenset({"agent", "supervisor", "analyst", "admin"}),
    # Campaigns to segments are marketing's (the analyst role) and supervisors'; recall tallies are read
    # by the same people.
    "campaigns.read": frozenset({"supervisor", "analyst"}),
    "campaigns.run": frozenset({"supervisor", "analyst"}),
    # Survey sending rules: data an admin (or the floor's supervisor) edits; QA analysts read them beside
    # the ratings they report on.
    "surveys.read": frozenset({"supervisor", "analyst", "admin"}),
    "surveys.manage": frozenset({"supervisor", "admin"}),
    # A consumer's consent per purpose and channel, on their page: read and changed by whoever answers
    # them (the change is recorded with the person's name). Analysts see no individual's consent.
    "consent.read": _AGENTS,
    "consent.manage": _AGENTS,
    # The one-click unsubscribe is the consumer's own act through a signed link: no person holds it; the
    # console's public page calls it as itself.
    "consent.unsubscribe": frozenset(),
    # A survey answer is the consumer's own, through a signed link: no person holds it; the console's public
    # survey page calls it as itself.
    "surveys.answer": frozenset(),
    "recordings.play": _SUPERVISORS,
    "audit.read": frozenset({"supervisor", "admin"}),
    "agents.manage": frozenset({"admin"}),
    "recordings.control": _AGENTS,
    "fulfillment.request": _AGENTS,
    "fulfillment.approve": _SUPERVISORS,
    "coupons.redeem": _SUPERVISORS,
    "inventory.read": frozenset({"agent", "supervisor", "analyst"}),
    "inventory.manage": frozenset({"supervisor", "admin"}),
    # Supply planning: restock prompts are read by supervisors (the supply planners), analysts and admins;
    # their thresholds are set by supervisors and admins.
    "restock.read": frozenset({"supervisor", "analyst", "admin"}),
    "restock.manage": frozenset({"supervisor", "admin"}),
    # Sales from the shops' tills and marketplaces, fed into sell-through: an admin or an integration.
    "orders.import": frozenset({"admin"}),
    # Approval limits per role and agent: admins edit them; supervisors, who approve above them, read them.
    "limits.read": frozenset({"supervisor", "admin"}),
    "limits.manage": frozenset({"admin"}),
    # Letter templates: admins edit them; supervisors, who proof letters, read and preview them.
    "letters.read": frozenset({"supervisor", "admin"}),
    "letters.manage": frozenset({"admin"}),
    "knowledge.read": _EVERYONE,
    "knowledge.answer": _AGENTS,
    # Authors (agents among them) write drafts; a supervisor or admin reviews and publishes them.
    "knowledge.draft": frozenset({"agent", "supervisor", "admin"}),
    "knowledge.write": frozenset({"supervisor", "admin"}),
    "knowledge.configure": frozenset({"admin"}),
    # Inbound mail that became no case message (auto-replies, bounces, duplicates, malformed), with its reason.
    "mail.rejections": frozenset({"supervisor", "admin"}),
    # The public web form's suggested articles: shown, deflected (answered, nothing sent), sent anyway.
    "web_form.tally": frozenset({"supervisor", "analyst", "admin"}),
    # The reply templates agents answer with, in each language, are kept by admins.
    "templates.manage": frozenset({"admin"}),
    "templates.read": frozenset({"agent", "supervisor", "admin"}),
    # Development: what the mail sink received (the replies that would have gone to consumers).
    "mail.sink": frozenset({"admin"}),
    # Emailing a printed fulfillment letter: no person, only fulfillment on its own account
    # (SERVICE_METHODS); a person asks for a letter by email with fulfillment.request.
    "letters.email": frozenset(),
    # Email tied to no case (campaigns, surveys, reminders): no person, only outreach on its own account
    # (SERVICE_METHODS); people start a campaign with campaigns.run.
    "notices.send": frozenset(),
    # The consumer's rights (docs/privacy.md): an export or an erasure is asked for, with a reason, by a
    # supervisor or an admin; retention policies are an admin's.
    "consumers.export": frozenset({"supervisor", "admin"}),
    "consumers.erase": frozenset({"supervisor", "admin"}),
    "retention.manage": frozenset({"admin"}),
    # The one inbox (docs/casework.md, "The inbox"): an agent's own, claiming a case to answer it, and
    # follow-ups; a supervisor's team inbox and workload, releasing another's claim; the assignment rules
    # are data a supervisor or an admin edits.
    "inbox.read": _AGENTS,
    "inbox.claim": _AGENTS,
    "inbox.release_others": _SUPERVISORS,
    "inbox.team": _SUPERVISORS,
    "inbox.rules": frozenset({"supervisor", "admin"}),
    # Reading the rules: the agents they route work to, and the people who edit them.
    "inbox.rules_read": frozenset({"agent", "supervisor", "admin"}),
    "follow_ups.write": _AGENTS,
    # Regulatory clocks (docs/casework.md): regimes and holidays are data an admin edits; supervisors, who
    # stand for legal on the floor, read them, mark a case's report filed and export its form's fields.
    "regulatory.read": frozenset({"supervisor", "admin"}),
    "regulatory.manage": frozenset({"admin"}),
    "regulatory.file": _SUPERVISORS,
    "regulatory.export": _SUPERVISORS,
}

# Every method a CRS service serves, with the permission a person's call needs. Health and reflection are
# not here: they carry no principal and change nothing.
GRPC_METHODS: dict[str, str] = {
    "/crs.contacts.v1.Contacts/CreateConsumer": "consumers.create",
    "/crs.contacts.v1.Contacts/GetConsumer": "consumers.read",
    "/crs.contacts.v1.Contacts/UpdateConsumer": "consumers.update",
    "/crs.contacts.v1.Contacts/ListConsumers": "consumers.read",
    "/crs.contacts.v1.Contacts/MatchCaller": "consumers.read",
    "/crs.contacts.v1.Contacts/ListRecentContacts": "consumers.read",
    "/crs.contacts.v1.Contacts/MatchEmail": "consumers.read",
    "/crs.contacts.v1.Casework/CreateCase": "cases.create",
    "/crs.contacts.v1.Casework/GetCase": "cases.read",
    "/crs.contacts.v1.Casework/UpdateCase": "cases.update",
    "/crs.contacts.v1.Casework/ChangeStatus": "cases.update",
    "/crs.contacts.v1.Casework/Escalate": "cases.escalate",
    "/crs.contacts.v1.Casework/Assign": "cases.assign",
    "/crs.contacts.v1.Casework/AddAction": "cases.update",
    "/crs.contacts.v1.Casework/LinkCall": "cases.update",
    "/crs.contacts.v1.Casework/GetTimeline": "cases.read",
    "/crs.contacts.v1.Casework/SearchCases": "cases.search",
    "/crs.contacts.v1.Casework/GetQueue": "cases.queue",
    "/crs.contacts.v1.Casework/GetRecallQueue": "cases.queue",
    "/crs.contacts.v1.Casework/GetEarlyWarning": "insights.early_warning",
    "/crs.contacts.v1.Casework/ListCodes": "codes.read",
    "/crs.contacts.v1.Casework/PutCode": "codes.write",
    "/crs.contacts.v1.Casework/GetCall": "cases.read",
    "/crs.billing.v1.Billing/GetAccountSummary": "billing.read",
    "/crs.billing.v1.Billing/ListLedgerEntries": "billing.read",
    "/crs.billing.v1.Billing/PostLedgerEntry": "billing.post",
    "/crs.fulfillment.v1.Fulfillment/GetPurchaseHistory": "consumers.read",
    "/crs.fulfillment.v1.Fulfillment/GetProduct": "catalogue.read",
    "/crs.fulfillment.v1.Fulfillment/ListProducts": "catalogue.read",
    "/crs.screenpop.v1.Screenpop/GetCurrentPop": "pops.watch",
    "/crs.telephony.v1.RecordingControl/PauseRecording": "recordings.control",
    "/crs.telephony.v1.RecordingControl/ResumeRecording": "recordings.control",
    "/crs.telephony.v1.RecordingControl/GetRecordingState": "recordings.control",
    "/crs.fulfillment.v1.Fulfillment/RequestFulfillment": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/GetFulfillment": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/ListFulfillments": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/GetLetter": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/PreviewLetter": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/WhereToBuy": "inventory.read",
    "/crs.fulfillment.v1.Fulfillment/ImportPostcodes": "inventory.manage",
    "/crs.fulfillment.v1.Fulfillment/CheckCoupon": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/ApproveFulfillment": "fulfillment.approve",
    "/crs.fulfillment.v1.Fulfillment/RefuseFulfillment": "fulfillment.approve",
    "/crs.fulfillment.v1.Fulfillment/RedeemCoupon": "coupons.redeem",
    "/crs.fulfillment.v1.Fulfillment/GetStock": "inventory.read",
    "/crs.fulfillment.v1.Fulfillment/ImportStock": "inventory.manage",
    "/crs.fulfillment.v1.Fulfillment/UpdateShipment": "inventory.manage",
    "/crs.fulfillment.v1.Fulfillment/RecordReturn": "inventory.manage",
    "/crs.fulfillment.v1.Fulfillment/ListRestockPrompts": "restock.read",
    "/crs.fulfillment.v1.Fulfillment/GetRestockPolicy": "restock.read",
    "/crs.fulfillment.v1.Fulfillment/SetRestockPolicy": "restock.manage",
    "/crs.fulfillment.v1.Fulfillment/SetCoverThreshold": "restock.manage",
    "/crs.fulfillment.v1.Fulfillment/RemoveCoverThreshold": "restock.manage",
    "/crs.fulfillment.v1.Fulfillment/ImportOrders": "orders.import",
    "/crs.fulfillment.v1.Fulfillment/ListApprovalLimits": "limits.read",
    "/crs.fulfillment.v1.Fulfillment/SetApprovalLimit": "limits.manage",
    "/crs.fulfillment.v1.Fulfillment/RemoveApprovalLimit": "limits.manage",
    "/crs.fulfillment.v1.Fulfillment/SetReorderPoint": "restock.manage",
    "/crs.fulfillment.v1.Fulfillment/GetCouponPolicy": "limits.read",
    "/crs.fulfillment.v1.Fulfillment/SetCouponPolicy": "limits.manage",
    "/crs.fulfillment.v1.Fulfillment/ListLetterTemplates": "letters.read",
    "/crs.fulfillment.v1.Fulfillment/SaveLetterTemplate": "letters.manage",
    "/crs.fulfillment.v1.Fulfillment/RetireLetterTemplate": "letters.manage",
    "/crs.fulfillment.v1.Fulfillment/PreviewLetterTemplate": "letters.read",
    "/crs.fulfillment.v1.Fulfillment/ListOfferedLetters": "fulfillment.request",
    "/crs.fulfillment.v1.Fulfillment/ListStandardParagraphs": "letters.read",
    "/crs.fulfillment.v1.Fulfillment/SaveStandardParagraph": "letters.manage",
    "/crs.fulfillment.v1.Fulfillment/RetireStandardParagraph": "letters.manage",
    "/crs.insights.v1.Insights/ImportSales": "insights.manage",
    "/crs.insights.v1.Insights/GetCpmu": "insights.read",
    "/crs.insights.v1.Insights/ListAlerts": "insights.read",
    "/crs.insights.v1.Insights/GetAlert": "insights.read",
    "/crs.insights.v1.Insights/MoveAlert": "insights.manage",
    "/crs.insights.v1.Insights/Recompute": "insights.manage",
    "/crs.outreach.v1.Campaigns/MoveCampaign": "campaigns.run",
    "/crs.outreach.v1.Campaigns/GetCampaignProgress": "campaigns.read",
    "/crs.outreach.v1.Campaigns/RecallTally": "campaigns.read",
    "/crs.outreach.v1.Campaigns/CreateCampaign": "campaigns.run",
    "/crs.outreach.v1.Campaigns/ListCampaigns": "campaigns.read",
    "/crs.outreach.v1.Campaigns/GetCampaign": "campaigns.read",
    "/crs.outreach.v1.Segments/SaveSegment": "campaigns.run",
    "/crs.outreach.v1.Segments/ListSegments": "campaigns.read",
    "/crs.outreach.v1.Segments/GetSegment": "campaigns.read",
    "/crs.outreach.v1.Segments/SegmentSize": "campaigns.read",
    "/crs.outreach.v1.SurveyRules/ListSurveyRules": "surveys.read",
    "/crs.outreach.v1.SurveyRules/SaveSurveyRule": "surveys.manage",
    "/crs.outreach.v1.SurveyRules/RetireSurveyRule": "surveys.manage",
    "/crs.outreach.v1.Consent/GetConsent": "consent.read",
    "/crs.outreach.v1.Consent/SetConsent": "consent.manage",
    "/crs.outreach.v1.Consent/CheckUnsubscribe": "consent.unsubscribe",
    "/crs.outreach.v1.Consent/Unsubscribe": "consent.unsubscribe",
    "/crs.outreach.v1.SurveyAnswers/OpenSurvey": "surveys.answer",
    "/crs.outreach.v1.SurveyAnswers/Answer": "surveys.answer",
    "/crs.insights.v1.Insights/GetVolumes": "insights.read",
    "/crs.insights.v1.Insights/GetRisingIssues": "insights.read",
    "/crs.insights.v1.Insights/GetCpmuTrend": "insights.read",
    "/crs.insights.v1.Insights/ListSliceContacts": "insights.read",
    "/crs.insights.v1.Insights/OpenRecall": "recalls.manage",
    "/crs.insights.v1.Insights/ListRecalls": "recalls.read",
    "/crs.insights.v1.Insights/GetRecall": "recalls.read",
    "/crs.insights.v1.Insights/CloseRecall": "recalls.manage",
    "/crs.insights.v1.Insights/FindRecalls": "recalls.read",
    "/crs.insights.v1.Insights/ListReports": "insights.read",
    "/crs.insights.v1.Insights/GetReport": "insights.read",
    "/crs.insights.v1.Insights/GetRecallTally": "recalls.read",
    "/crs.insights.v1.Themes/GetThemes": "insights.read",
    "/crs.insights.v1.Themes/ListThemeContacts": "insights.read",
    "/crs.insights.v1.Staff/ListStakeholders": "stakeholders.read",
    "/crs.insights.v1.Staff/PutStakeholder": "stakeholders.manage",
    "/crs.insights.v1.Staff/RemoveStakeholder": "stakeholders.manage",
    "/crs.insights.v1.Staff/GetDigest": "insights.read",
    "/crs.insights.v1.Staff/SendDigest": "insights.manage",
    "/crs.knowledge.v1.Knowledge/Search": "knowledge.read",
    "/crs.knowledge.v1.Knowledge/Ask": "knowledge.read",
    "/crs.knowledge.v1.Knowledge/SuggestCodes": "knowledge.read",
    "/crs.knowledge.v1.Knowledge/ListArticles": "knowledge.read",
    "/crs.knowledge.v1.Knowledge/RecordOutcome": "knowledge.answer",
    "/crs.knowledge.v1.Knowledge/Embed": "knowledge.read",
    "/crs.knowledge.v1.Knowledge/PutArticle": "knowledge.draft",
    "/crs.knowledge.v1.Knowledge/Review": "knowledge.write",
    "/crs.knowledge.v1.Knowledge/Publish": "knowledge.write",
    "/crs.knowledge.v1.Knowledge/SetThreshold": "knowledge.configure",
    "/crs.knowledge.v1.Knowledge/AnswerReport": "knowledge.write",
    "/crs.contacts.v1.ConsumerRights/ExportArchive": "consumers.export",
    "/crs.contacts.v1.ConsumerRights/RequestErasure": "consumers.erase",
    "/crs.contacts.v1.ConsumerRights/GetErasure": "consumers.erase",
    "/crs.contacts.v1.ConsumerRights/ListRetentionPolicies": "retention.manage",
    "/crs.contacts.v1.ConsumerRights/PutRetentionPolicy": "retention.manage",
    "/crs.contacts.v1.ConsumerRights/RunRetentionSweep": "retention.manage",
    "/crs.contacts.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.contacts.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.billing.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.billing.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.fulfillment.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.fulfillment.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.screenpop.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.screenpop.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.telephony.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.telephony.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.outreach.v1.Privacy/ExportConsumer": "consumers.export",
    "/crs.outreach.v1.Privacy/EraseConsumer": "consumers.erase",
    "/crs.channels.v1.Channels/ListMessages": "cases.read",
    "/crs.channels.v1.Channels/SendReply": "cases.update",
    "/crs.channels.v1.Channels/ListRejections": "mail.rejections",
    "/crs.channels.v1.Channels/AgentChat": "chat.answer",
    "/crs.channels.v1.Channels/WebFormTally": "web_form.tally",
    "/crs.contacts.v1.Inbox/GetInbox": "inbox.read",
    "/crs.contacts.v1.Inbox/ClaimCase": "inbox.claim",
    "/crs.contacts.v1.Inbox/ReleaseCase": "inbox.claim",
    "/crs.contacts.v1.Inbox/AddFollowUp": "follow_ups.write",
    "/crs.contacts.v1.Inbox/ListFollowUps": "inbox.read",
    "/crs.contacts.v1.Inbox/CloseFollowUp": "follow_ups.write",
    "/crs.contacts.v1.Inbox/GetWorkload": "inbox.team",
    "/crs.contacts.v1.Inbox/ListInboxRules": "inbox.rules_read",
    "/crs.contacts.v1.Inbox/PutInboxRule": "inbox.rules",
    "/crs.contacts.v1.Regulatory/ListRegimes": "regulatory.read",
    "/crs.contacts.v1.Regulatory/PutRegime": "regulatory.manage",
    "/crs.contacts.v1.Regulatory/ListHolidays": "regulatory.read",
    "/crs.contacts.v1.Regulatory/PutHoliday": "regulatory.manage",
    "/crs.contacts.v1.Regulatory/FileReport": "regulatory.file",
    "/crs.contacts.v1.Regulatory/ExportReport": "regulatory.export",
    "/crs.channels.v1.Channels/ListReplyTemplates": "templates.read",
    "/crs.channels.v1.Channels/SaveReplyTemplate": "templates.manage",
    "/crs.channels.v1.Channels/DeleteReplyTemplate": "templates.manage",
    "/crs.channels.v1.Channels/ListSinkMail": "mail.sink",
    "/crs.channels.v1.Channels/DraftLetter": "cases.create",
    "/crs.channels.v1.Channels/ConfirmLetter": "cases.create",
    "/crs.channels.v1.Channels/ListLetterScans": "cases.read",
    "/crs.channels.v1.Channels/GetLetterScan": "cases.read",
    "/crs.channels.v1.Channels/SendChatFile": "chat.answer",
    "/crs.channels.v1.Channels/GetAttachment": "cases.read",
    "/crs.channels.v1.Channels/SendLetter": "letters.email",
    "/crs.channels.v1.Channels/SendNotice": "notices.send",
    "/crs.channels.v1.Channels/SendNotices": "notices.send",
}

# What a service may call on its own account, as the principal (its name, role "service") that its
# certificate vouches for: channels opens a case for an email and puts a consumer's answer on its case;
# fulfillment has channels email a letter.
SERVICE_METHODS: dict[str, frozenset[str]] = {
    "channels": frozenset(
        {
            "/crs.contacts.v1.Casework/CreateCase",
            "/crs.contacts.v1.Casework/GetCase",
            "/crs.contacts.v1.Casework/ChangeStatus",
            "/crs.contacts.v1.Casework/AddAction",
            "/crs.contacts.v1.Contacts/MatchEmail",
            # Knowledge for the web form's suggestions (and whether they answered the consumer), the
            # acknowledgement with suggested articles, and the chat assistant, which also lists stores and
            # escalates a safety matter.
            "/crs.knowledge.v1.Knowledge/SuggestCodes",
            "/crs.knowledge.v1.Knowledge/Ask",
            "/crs.knowledge.v1.Knowledge/RecordOutcome",
            "/crs.contacts.v1.Casework/Escalate",
            "/crs.fulfillment.v1.Fulfillment/WhereToBuy",
        }
    ),
    # Fulfillment hands channels a printed letter to email to the consumer (services/fulfillment/letter_mail.py).
    "fulfillment": frozenset({"/crs.channels.v1.Channels/SendLetter"}),
    # Insights has knowledge's model embed the verbatims it groups into themes (services/insights/themes.py).
    # ... and sends its staff mail (alerts to QA, the weekly digest, warnings to legal) as channels' notices.
    "insights": frozenset(
        {
            "/crs.knowledge.v1.Knowledge/Embed",
            "/crs.channels.v1.Channels/SendNotice",
            "/crs.channels.v1.Channels/SendNotices",
        }
    ),
    # Outreach's campaigns, surveys and reminders go out as channels' notices (services/outreach/notices_client.py).
    # ... and a survey's answer is noted on its case (services/outreach/case_notes.py).
    "outreach": frozenset(
        {
            "/crs.channels.v1.Channels/SendNotice",
            "/crs.channels.v1.Channels/SendNotices",
            "/crs.contacts.v1.Casework/AddAction",
        }
    ),
}
OPEN_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


def allowed(role: str, permission: str) -> bool:
    """Whether `role` holds `permission`; an unknown permission is held by nobody."""
    return role in PERMISSIONS.get(permission, ())


def method_permission(method: str) -> str | None:
    """The permission a person's call of `method` needs; None for a method not in the table."""
    return GRPC_METHODS.get(method)


# Every `crs` command, with the permission it needs (docs/security.md, "The command line"). Two markers
# instead of a permission: LOCAL for a command that changes no data and shows no one's personal data (it
# prints settings or code tables or articles, writes development certificates, starts processes here, or
# places a test call); OPERATOR for the install itself and for calls that act for no person (schemas,
# demo data, the consumer directory as a service sees it), which only the holder of the database owner's
# credentials may run. A command missing here is
# refused (services/cli/operator.py), and tests/unit/console/test_permission_walk.py fails.
LOCAL = "local"
OPERATOR = "operator"
CLI_COMMANDS: dict[str, str] = {
    "agent add": "agents.manage",
    "agent passwd": "agents.manage",
    "agent disable": "agents.manage",
    "agent token": "agents.manage",
    "call": LOCAL,
    "codes export": LOCAL,
    "codes import": "codes.write",
    "config": LOCAL,
    "consumer add": OPERATOR,
    "consumer get": OPERATOR,
    # The consumer's rights from the command line: the local operator acts as an admin (docs/privacy.md).
    "consumer export": OPERATOR,
    "consumer erase": OPERATOR,
    "consumer erasure": OPERATOR,
    "consumer match": OPERATOR,
    "coupon check": "fulfillment.request",
    "coupon redeem": "coupons.redeem",
    "fulfilment request": "fulfillment.request",
    "fulfilment show": "fulfillment.request",
    "fulfilment approve": "fulfillment.approve",
    "fulfilment refuse": "fulfillment.approve",
    "fulfilment carrier-update": "inventory.manage",
    "fulfilment letter": "fulfillment.request",
    "fulfilment return": "inventory.manage",
    "fulfilment carrier-import": "inventory.manage",
    "insights alerts": "insights.read",
    "insights cpmu": "insights.read",
    "insights move": "insights.manage",
    "insights report": "insights.read",
    "insights digest": "insights.read",
    "recall open": "recalls.manage",
    "recall list": "recalls.read",
    "recall show": "recalls.read",
    "recall close": "recalls.manage",
    "inventory import": "inventory.manage",
    "orders import": "orders.import",
    "inventory show": "inventory.read",
    "inventory export": "inventory.read",
    "where-to-buy": "inventory.read",
    "postcodes import": "inventory.manage",
    "kb import": "knowledge.write",
    "cases regulatory-export": "regulatory.export",
    "kb export": LOCAL,
    "kb ask": LOCAL,
    "migrate": OPERATOR,
    "pki": LOCAL,
    "recording": "recordings.control",
    "retention list": OPERATOR,
    "retention set": OPERATOR,
    "retention sweep": OPERATOR,
    "run": LOCAL,
    "sales import": "insights.manage",
    "seed": OPERATOR,
    "suggest-codes": LOCAL,
    # The console checks the token or password `crs watch` brings, as for any client.
    "watch": "pops.watch",
}


def command_permission(command: str) -> str | None:
    """The permission `crs <command>` needs (or LOCAL, OPERATOR); None for a command not in the table."""
    return CLI_COMMANDS.get(command)
