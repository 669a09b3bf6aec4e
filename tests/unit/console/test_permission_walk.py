"""The permission table, walked: every console route and every gRPC method, for every role, allowed or
denied as written here by hand. A route or method missing from these tables fails the walk."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from services.console.app import build_app
from services.console.permissions import PUBLIC, route_permissions
from services.console.web import Context
from services.runtime import permissions

AGENT, SUPERVISOR, ANALYST, ADMIN = "agent", "supervisor", "analyst", "admin"
EVERYONE = {AGENT, SUPERVISOR, ANALYST, ADMIN}
CASEWORKERS = {AGENT, SUPERVISOR}

# (method, path) -> the roles that may use it; "public" for routes open before log-in.
ROUTES: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/api/login"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/api/openapi.json"): "public",
    ("GET", "/static/{path}"): "public",
    ("POST", "/logout"): EVERYONE,
    ("GET", "/api/me"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/api/pop"): CASEWORKERS,
    ("GET", "/ws"): CASEWORKERS,
    ("GET", "/chats"): CASEWORKERS,
    ("GET", "/ws/chat"): CASEWORKERS,
    ("GET", "/consumers/new"): CASEWORKERS,
    ("GET", "/consumers/{consumer_id}"): CASEWORKERS,
    ("POST", "/consumers"): CASEWORKERS,
    ("GET", "/api/consumers/{consumer_id}"): CASEWORKERS,
    ("POST", "/consumers/{consumer_id}/consent"): CASEWORKERS,
    # The one-click unsubscribe link in a survey or marketing email: the signed token is the key.
    ("GET", "/u/{token}"): "public",
    ("POST", "/u/{token}"): "public",
    # The survey page and its one-click ratings: the signed, expiring token is the key.
    ("GET", "/s/{token}"): "public",
    ("POST", "/s/{token}"): "public",
    ("GET", "/api/catalogue"): {AGENT, SUPERVISOR, ANALYST},
    ("POST", "/api/contacts"): CASEWORKERS,
    # Within casework's limits by role; an analyst's answers carry no personal data.
    ("GET", "/api/contacts"): {AGENT, SUPERVISOR, ANALYST},
    ("GET", "/api/contacts/{id}"): CASEWORKERS,
    ("PATCH", "/api/contacts/{id}"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/status"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/escalate"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/assign"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/actions"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/calls"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/timeline"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/messages"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/replies"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/reply-templates"): CASEWORKERS,
    ("GET", "/reply-templates"): {ADMIN},
    ("GET", "/api/reply-templates"): {ADMIN},
    ("POST", "/api/reply-templates"): {ADMIN},
    ("DELETE", "/api/reply-templates/{template_id}"): {ADMIN},
    ("GET", "/mail-sink"): {ADMIN},
    ("GET", "/api/mail-sink"): {ADMIN},
    ("GET", "/letters/new"): CASEWORKERS,
    ("POST", "/api/letters/drafts"): CASEWORKERS,
    ("POST", "/api/letters/drafts/{id}/confirm"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/letters"): CASEWORKERS,
    ("GET", "/letters/scans/{case_id}/{scan_id}"): CASEWORKERS,
    ("POST", "/api/chat/{chat_id}/files"): CASEWORKERS,
    ("GET", "/attachments/{case_id}/{attachment_id}"): CASEWORKERS,
    ("GET", "/api/queue"): {SUPERVISOR},
    ("GET", "/api/early-warning"): {SUPERVISOR, ANALYST},
    ("GET", "/api/codes/{kind}"): EVERYONE,
    ("PUT", "/api/codes/{kind}/{code}"): {ADMIN},
    ("POST", "/api/assist"): EVERYONE,
    ("GET", "/api/knowledge/search"): EVERYONE,
    ("GET", "/api/knowledge/articles"): {SUPERVISOR, ADMIN},
    ("POST", "/api/knowledge/articles/{id}/{language}/review"): {SUPERVISOR, ADMIN},
    ("POST", "/api/knowledge/articles/{id}/{language}/publish"): {SUPERVISOR, ADMIN},
    ("GET", "/knowledge/"): EVERYONE,
    ("GET", "/knowledge/review"): {SUPERVISOR, ADMIN},
    ("GET", "/web-form"): {SUPERVISOR, ANALYST, ADMIN},
    ("GET", "/knowledge/answers"): {SUPERVISOR, ADMIN},
    ("GET", "/api/knowledge/answers"): {SUPERVISOR, ADMIN},
    ("POST", "/api/knowledge/threshold"): {ADMIN},
    ("GET", "/cases/"): CASEWORKERS,
    ("GET", "/cases/new"): CASEWORKERS,
    ("GET", "/cases/view"): CASEWORKERS,
    ("GET", "/cases/queue"): {SUPERVISOR},
    ("GET", "/inbox"): CASEWORKERS,
    ("GET", "/inbox/rules"): {SUPERVISOR, ADMIN},
    ("GET", "/api/inbox"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/claim"): CASEWORKERS,
    ("DELETE", "/api/contacts/{id}/claim"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/follow-ups"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/follow-ups"): CASEWORKERS,
    ("POST", "/api/follow-ups/{id}/close"): CASEWORKERS,
    ("GET", "/api/inbox/workload"): {SUPERVISOR},
    ("GET", "/api/inbox/rules"): {AGENT, SUPERVISOR, ADMIN},
    ("POST", "/api/inbox/rules"): {SUPERVISOR, ADMIN},
    ("GET", "/regulatory"): {SUPERVISOR, ADMIN},
    ("GET", "/api/regulatory/regimes"): {SUPERVISOR, ADMIN},
    ("POST", "/api/regulatory/regimes"): {ADMIN},
    ("GET", "/api/regulatory/holidays"): {SUPERVISOR, ADMIN},
    ("POST", "/api/regulatory/holidays"): {ADMIN},
    ("POST", "/api/contacts/{id}/regulatory-report"): {SUPERVISOR},
    ("GET", "/api/contacts/{id}/regulatory-export"): {SUPERVISOR},
    ("GET", "/cases/search"): {AGENT, SUPERVISOR, ANALYST},
    ("GET", "/cases/early-warning"): {SUPERVISOR, ANALYST},
    ("GET", "/insights/"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/themes"): {SUPERVISOR, ANALYST},
    ("GET", "/admin/stakeholders"): {ANALYST, ADMIN},
    ("GET", "/api/stakeholders"): {ANALYST, ADMIN},
    ("POST", "/api/stakeholders"): {ADMIN},
    ("DELETE", "/api/stakeholders/{role}/{email}"): {ADMIN},
    ("GET", "/api/insights/digest"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/themes/{run_id}/{theme_id}/contacts"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/volumes"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/praise"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/rising"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/cpmu"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/contacts"): {SUPERVISOR, ANALYST},
    ("GET", "/insights/reports"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/reports"): {SUPERVISOR, ANALYST},
    ("GET", "/api/insights/reports/{name}"): {SUPERVISOR, ANALYST},
    ("GET", "/insights/alerts"): {SUPERVISOR, ANALYST},
    ("GET", "/recalls/"): EVERYONE,
    ("GET", "/recalls/new"): {SUPERVISOR, ANALYST, ADMIN},
    ("POST", "/recalls"): {SUPERVISOR, ANALYST, ADMIN},
    ("GET", "/recalls/{id}"): EVERYONE,
    ("POST", "/recalls/{id}/close"): {SUPERVISOR, ANALYST, ADMIN},
    ("GET", "/recalls/{id}/queue"): {SUPERVISOR},
    ("GET", "/api/recalls/find"): EVERYONE,
    # Segments and campaigns: marketing (the analyst role) and supervisors.
    ("GET", "/segments/"): {SUPERVISOR, ANALYST},
    ("GET", "/segments/new"): {SUPERVISOR, ANALYST},
    ("GET", "/segments/{id}"): {SUPERVISOR, ANALYST},
    ("POST", "/segments"): {SUPERVISOR, ANALYST},
    ("POST", "/segments/{id}"): {SUPERVISOR, ANALYST},
    ("GET", "/campaigns/"): {SUPERVISOR, ANALYST},
    ("GET", "/campaigns/new"): {SUPERVISOR, ANALYST},
    ("POST", "/campaigns"): {SUPERVISOR, ANALYST},
    ("GET", "/campaigns/{id}"): {SUPERVISOR, ANALYST},
    ("POST", "/campaigns/{id}/move"): {SUPERVISOR, ANALYST},
    ("GET", "/api/campaigns/{id}/progress"): {SUPERVISOR, ANALYST},
    ("GET", "/survey-rules"): {SUPERVISOR, ANALYST, ADMIN},
    ("POST", "/survey-rules"): {SUPERVISOR, ADMIN},
    ("POST", "/survey-rules/{id}/retire"): {SUPERVISOR, ADMIN},
    ("GET", "/api/contacts/{id}/fulfillments"): CASEWORKERS,
    ("POST", "/api/contacts/{id}/fulfillments"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/letter-preview"): CASEWORKERS,
    ("GET", "/api/contacts/{id}/letter-deliveries"): CASEWORKERS,
    ("GET", "/api/fulfillments/{fid}"): CASEWORKERS,
    ("GET", "/api/fulfillments/{fid}/letter"): CASEWORKERS,
    ("GET", "/api/approvals"): {SUPERVISOR},
    ("POST", "/api/fulfillments/{fid}/approve"): {SUPERVISOR},
    ("POST", "/api/fulfillments/{fid}/refuse"): {SUPERVISOR},
    ("GET", "/api/products/{sku}/stock"): {AGENT, SUPERVISOR, ANALYST},
    ("GET", "/api/products/{sku}/where-to-buy"): {AGENT, SUPERVISOR, ANALYST},
    ("GET", "/fulfillment/approvals"): {SUPERVISOR},
    ("GET", "/products/stock"): {AGENT, SUPERVISOR, ANALYST},
    ("GET", "/products/restock"): {SUPERVISOR, ANALYST, ADMIN},
    ("GET", "/api/restock-prompts"): {SUPERVISOR, ANALYST, ADMIN},
    ("GET", "/api/restock-policy"): {SUPERVISOR, ANALYST, ADMIN},
    ("PUT", "/api/restock-policy"): {SUPERVISOR, ADMIN},
    ("PUT", "/api/restock-thresholds"): {SUPERVISOR, ADMIN},
    ("DELETE", "/api/restock-thresholds"): {SUPERVISOR, ADMIN},
    ("GET", "/admin/limits"): {SUPERVISOR, ADMIN},
    ("GET", "/api/approval-limits"): {SUPERVISOR, ADMIN},
    ("PUT", "/api/approval-limits"): {ADMIN},
    ("DELETE", "/api/approval-limits"): {ADMIN},
    ("GET", "/api/coupon-policy"): {SUPERVISOR, ADMIN},
    ("PUT", "/api/coupon-policy"): {ADMIN},
    ("GET", "/admin/letters"): {SUPERVISOR, ADMIN},
    ("GET", "/api/letters/offered"): {AGENT, SUPERVISOR},
    ("GET", "/api/letter-templates"): {SUPERVISOR, ADMIN},
    ("PUT", "/api/letter-templates/{name}/{language}"): {ADMIN},
    ("DELETE", "/api/letter-templates/{name}"): {ADMIN},
    ("GET", "/api/letter-templates/{name}/{language}/preview"): {SUPERVISOR, ADMIN},
    ("GET", "/api/standard-paragraphs"): {SUPERVISOR, ADMIN},
    ("PUT", "/api/standard-paragraphs/{name}/{language}"): {ADMIN},
    ("DELETE", "/api/standard-paragraphs/{name}"): {ADMIN},
    ("PUT", "/api/products/{sku}/reorder-points/{location}"): {SUPERVISOR, ADMIN},
    ("GET", "/recordings/{call_id}"): {SUPERVISOR},
    ("POST", "/api/calls/{call_id}/recording/pause"): CASEWORKERS,
    ("POST", "/api/calls/{call_id}/recording/resume"): CASEWORKERS,
    ("GET", "/api/calls/{call_id}/recording"): CASEWORKERS,
    ("GET", "/api/calls/{call_id}"): CASEWORKERS,
    ("GET", "/api/audit"): {SUPERVISOR, ADMIN},
    ("POST", "/api/agents/{username}/unlock"): {ADMIN},
    ("GET", "/api/consumers/{consumer_id}/export"): {SUPERVISOR, ADMIN},
    ("POST", "/api/consumers/{consumer_id}/erasure"): {SUPERVISOR, ADMIN},
    ("GET", "/api/erasures/{erasure_id}"): {SUPERVISOR, ADMIN},
}

# Every method a service serves -> the roles whose calls (through the console, with their principal) it takes.
METHODS: dict[str, set[str]] = {
    "/crs.contacts.v1.Contacts/CreateConsumer": CASEWORKERS,
    "/crs.contacts.v1.Contacts/GetConsumer": CASEWORKERS,
    "/crs.contacts.v1.Contacts/UpdateConsumer": CASEWORKERS,
    "/crs.contacts.v1.Contacts/ListConsumers": CASEWORKERS,
    "/crs.contacts.v1.Contacts/MatchCaller": CASEWORKERS,
    "/crs.contacts.v1.Contacts/ListRecentContacts": CASEWORKERS,
    "/crs.contacts.v1.Casework/CreateCase": CASEWORKERS,
    "/crs.contacts.v1.Casework/GetCase": CASEWORKERS,
    "/crs.contacts.v1.Casework/UpdateCase": CASEWORKERS,
    "/crs.contacts.v1.Casework/ChangeStatus": CASEWORKERS,
    "/crs.contacts.v1.Casework/Escalate": CASEWORKERS,
    "/crs.contacts.v1.Casework/Assign": CASEWORKERS,
    "/crs.contacts.v1.Casework/AddAction": CASEWORKERS,
    "/crs.contacts.v1.Casework/LinkCall": CASEWORKERS,
    "/crs.contacts.v1.Casework/GetTimeline": CASEWORKERS,
    "/crs.contacts.v1.Casework/SearchCases": {AGENT, SUPERVISOR, ANALYST},
    "/crs.contacts.v1.Casework/GetQueue": {SUPERVISOR},
    "/crs.contacts.v1.Casework/GetEarlyWarning": {SUPERVISOR, ANALYST},
    "/crs.contacts.v1.Casework/ListCodes": EVERYONE,
    "/crs.contacts.v1.Casework/PutCode": {ADMIN},
    "/crs.contacts.v1.Casework/GetCall": CASEWORKERS,
    "/crs.billing.v1.Billing/GetAccountSummary": CASEWORKERS,
    "/crs.billing.v1.Billing/ListLedgerEntries": CASEWORKERS,
    "/crs.billing.v1.Billing/PostLedgerEntry": {SUPERVISOR},
    "/crs.fulfillment.v1.Fulfillment/GetPurchaseHistory": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/GetProduct": {AGENT, SUPERVISOR, ANALYST},
    "/crs.fulfillment.v1.Fulfillment/ListProducts": {AGENT, SUPERVISOR, ANALYST},
    "/crs.screenpop.v1.Screenpop/GetCurrentPop": CASEWORKERS,
    "/crs.telephony.v1.RecordingControl/PauseRecording": CASEWORKERS,
    "/crs.telephony.v1.RecordingControl/ResumeRecording": CASEWORKERS,
    "/crs.telephony.v1.RecordingControl/GetRecordingState": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/RequestFulfillment": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/GetFulfillment": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/ListFulfillments": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/GetLetter": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/PreviewLetter": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/WhereToBuy": {AGENT, SUPERVISOR, ANALYST},
    "/crs.fulfillment.v1.Fulfillment/ImportPostcodes": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/CheckCoupon": CASEWORKERS,
    "/crs.fulfillment.v1.Fulfillment/ApproveFulfillment": {SUPERVISOR},
    "/crs.fulfillment.v1.Fulfillment/RefuseFulfillment": {SUPERVISOR},
    "/crs.fulfillment.v1.Fulfillment/RedeemCoupon": {SUPERVISOR},
    "/crs.fulfillment.v1.Fulfillment/GetStock": {AGENT, SUPERVISOR, ANALYST},
    "/crs.fulfillment.v1.Fulfillment/ImportStock": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/UpdateShipment": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/RecordReturn": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/ListRestockPrompts": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/GetRestockPolicy": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SetRestockPolicy": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SetCoverThreshold": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/RemoveCoverThreshold": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/ImportOrders": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/ListApprovalLimits": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SetApprovalLimit": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/RemoveApprovalLimit": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SetReorderPoint": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/GetCouponPolicy": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SetCouponPolicy": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/ListLetterTemplates": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SaveLetterTemplate": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/RetireLetterTemplate": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/PreviewLetterTemplate": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/ListOfferedLetters": {AGENT, SUPERVISOR},
    "/crs.fulfillment.v1.Fulfillment/ListStandardParagraphs": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Fulfillment/SaveStandardParagraph": {ADMIN},
    "/crs.fulfillment.v1.Fulfillment/RetireStandardParagraph": {ADMIN},
    "/crs.insights.v1.Insights/ImportSales": {ANALYST, ADMIN},
    "/crs.insights.v1.Insights/GetCpmu": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/ListAlerts": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/GetAlert": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/MoveAlert": {ANALYST, ADMIN},
    "/crs.insights.v1.Insights/Recompute": {ANALYST, ADMIN},
    "/crs.outreach.v1.Campaigns/MoveCampaign": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Campaigns/GetCampaignProgress": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Campaigns/RecallTally": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Campaigns/CreateCampaign": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Campaigns/ListCampaigns": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Campaigns/GetCampaign": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Segments/SaveSegment": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Segments/ListSegments": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Segments/GetSegment": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.Segments/SegmentSize": {SUPERVISOR, ANALYST},
    "/crs.outreach.v1.SurveyRules/ListSurveyRules": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.outreach.v1.SurveyRules/SaveSurveyRule": {SUPERVISOR, ADMIN},
    "/crs.outreach.v1.SurveyRules/RetireSurveyRule": {SUPERVISOR, ADMIN},
    "/crs.outreach.v1.Consent/GetConsent": CASEWORKERS,
    "/crs.outreach.v1.Consent/SetConsent": CASEWORKERS,
    # No person: the console's public unsubscribe page, as itself, with the consumer's signed link.
    "/crs.outreach.v1.Consent/CheckUnsubscribe": set(),
    "/crs.outreach.v1.Consent/Unsubscribe": set(),
    "/crs.outreach.v1.SurveyAnswers/OpenSurvey": set(),
    "/crs.outreach.v1.SurveyAnswers/Answer": set(),
    "/crs.insights.v1.Insights/GetVolumes": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/GetRisingIssues": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/GetCpmuTrend": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/ListSliceContacts": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/OpenRecall": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.insights.v1.Insights/CloseRecall": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.insights.v1.Insights/ListRecalls": {AGENT, SUPERVISOR, ANALYST, ADMIN},
    "/crs.insights.v1.Insights/GetRecall": {AGENT, SUPERVISOR, ANALYST, ADMIN},
    "/crs.contacts.v1.Casework/GetRecallQueue": {SUPERVISOR},
    "/crs.insights.v1.Insights/FindRecalls": {AGENT, SUPERVISOR, ANALYST, ADMIN},
    "/crs.insights.v1.Insights/ListReports": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/GetReport": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Insights/GetRecallTally": {AGENT, SUPERVISOR, ANALYST, ADMIN},
    "/crs.insights.v1.Themes/GetThemes": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Themes/ListThemeContacts": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Staff/ListStakeholders": {ANALYST, ADMIN},
    "/crs.insights.v1.Staff/PutStakeholder": {ADMIN},
    "/crs.insights.v1.Staff/RemoveStakeholder": {ADMIN},
    "/crs.insights.v1.Staff/GetDigest": {SUPERVISOR, ANALYST},
    "/crs.insights.v1.Staff/SendDigest": {ANALYST, ADMIN},
    "/crs.knowledge.v1.Knowledge/Search": EVERYONE,
    "/crs.knowledge.v1.Knowledge/Ask": EVERYONE,
    "/crs.knowledge.v1.Knowledge/SuggestCodes": EVERYONE,
    "/crs.knowledge.v1.Knowledge/ListArticles": EVERYONE,
    "/crs.knowledge.v1.Knowledge/RecordOutcome": CASEWORKERS,
    "/crs.knowledge.v1.Knowledge/Embed": EVERYONE,
    "/crs.knowledge.v1.Knowledge/PutArticle": {AGENT, SUPERVISOR, ADMIN},
    "/crs.knowledge.v1.Knowledge/Review": {SUPERVISOR, ADMIN},
    "/crs.knowledge.v1.Knowledge/Publish": {SUPERVISOR, ADMIN},
    "/crs.knowledge.v1.Knowledge/SetThreshold": {ADMIN},
    "/crs.knowledge.v1.Knowledge/AnswerReport": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Contacts/MatchEmail": CASEWORKERS,
    "/crs.channels.v1.Channels/ListMessages": CASEWORKERS,
    "/crs.channels.v1.Channels/SendReply": CASEWORKERS,
    "/crs.channels.v1.Channels/ListRejections": {SUPERVISOR, ADMIN},
    "/crs.channels.v1.Channels/AgentChat": CASEWORKERS,
    "/crs.channels.v1.Channels/WebFormTally": {SUPERVISOR, ANALYST, ADMIN},
    "/crs.contacts.v1.Inbox/GetInbox": CASEWORKERS,
    "/crs.contacts.v1.Inbox/ClaimCase": CASEWORKERS,
    "/crs.contacts.v1.Inbox/ReleaseCase": CASEWORKERS,
    "/crs.contacts.v1.Inbox/AddFollowUp": CASEWORKERS,
    "/crs.contacts.v1.Inbox/ListFollowUps": CASEWORKERS,
    "/crs.contacts.v1.Inbox/CloseFollowUp": CASEWORKERS,
    "/crs.contacts.v1.Inbox/GetWorkload": {SUPERVISOR},
    "/crs.contacts.v1.Inbox/ListInboxRules": {AGENT, SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Inbox/PutInboxRule": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Regulatory/ListRegimes": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Regulatory/PutRegime": {ADMIN},
    "/crs.contacts.v1.Regulatory/ListHolidays": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Regulatory/PutHoliday": {ADMIN},
    "/crs.contacts.v1.Regulatory/FileReport": {SUPERVISOR},
    "/crs.contacts.v1.Regulatory/ExportReport": {SUPERVISOR},
    "/crs.channels.v1.Channels/ListReplyTemplates": {AGENT, SUPERVISOR, ADMIN},
    "/crs.channels.v1.Channels/SaveReplyTemplate": {ADMIN},
    "/crs.channels.v1.Channels/DeleteReplyTemplate": {ADMIN},
    "/crs.channels.v1.Channels/ListSinkMail": {ADMIN},
    "/crs.channels.v1.Channels/DraftLetter": CASEWORKERS,
    "/crs.channels.v1.Channels/ConfirmLetter": CASEWORKERS,
    "/crs.channels.v1.Channels/ListLetterScans": CASEWORKERS,
    "/crs.channels.v1.Channels/GetLetterScan": CASEWORKERS,
    "/crs.channels.v1.Channels/SendChatFile": CASEWORKERS,
    "/crs.channels.v1.Channels/GetAttachment": CASEWORKERS,
    # No person: fulfillment alone, on its own account (SERVICE_METHODS), with its own certificate.
    "/crs.channels.v1.Channels/SendLetter": set(),
    # No person: outreach alone, on its own account (SERVICE_METHODS), with its own certificate.
    "/crs.channels.v1.Channels/SendNotice": set(),
    "/crs.channels.v1.Channels/SendNotices": set(),
    "/crs.contacts.v1.ConsumerRights/ExportArchive": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.ConsumerRights/RequestErasure": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.ConsumerRights/GetErasure": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.ConsumerRights/ListRetentionPolicies": {ADMIN},
    "/crs.contacts.v1.ConsumerRights/PutRetentionPolicy": {ADMIN},
    "/crs.contacts.v1.ConsumerRights/RunRetentionSweep": {ADMIN},
    "/crs.contacts.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.contacts.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
    "/crs.billing.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.billing.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.fulfillment.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
    "/crs.screenpop.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.screenpop.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
    "/crs.telephony.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.telephony.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
    "/crs.outreach.v1.Privacy/ExportConsumer": {SUPERVISOR, ADMIN},
    "/crs.outreach.v1.Privacy/EraseConsumer": {SUPERVISOR, ADMIN},
}


# Every `crs` command -> the roles that may run it; "local" for commands that change no data and show no
# personal data, "operator" for those only the database owner's credentials run.
COMMANDS: dict[str, set[str] | str] = {
    "agent add": {ADMIN},
    "agent passwd": {ADMIN},
    "agent disable": {ADMIN},
    "agent token": {ADMIN},
    "call": "local",
    "codes export": "local",
    "codes import": {ADMIN},
    "config": "local",
    "consumer add": "operator",
    "consumer get": "operator",
    "consumer export": "operator",
    "consumer erase": "operator",
    "consumer erasure": "operator",
    "retention list": "operator",
    "retention set": "operator",
    "retention sweep": "operator",
    "consumer match": "operator",
    "coupon check": CASEWORKERS,
    "coupon redeem": {SUPERVISOR},
    "fulfilment request": CASEWORKERS,
    "fulfilment show": CASEWORKERS,
    "fulfilment approve": {SUPERVISOR},
    "fulfilment refuse": {SUPERVISOR},
    "fulfilment carrier-update": {SUPERVISOR, ADMIN},
    "fulfilment letter": CASEWORKERS,
    "fulfilment return": {SUPERVISOR, ADMIN},
    "fulfilment carrier-import": {SUPERVISOR, ADMIN},
    "insights alerts": {SUPERVISOR, ANALYST},
    "insights cpmu": {SUPERVISOR, ANALYST},
    "insights move": {ANALYST, ADMIN},
    "insights report": {SUPERVISOR, ANALYST},
    "insights digest": {SUPERVISOR, ANALYST},
    "recall open": {SUPERVISOR, ANALYST, ADMIN},
    "recall close": {SUPERVISOR, ANALYST, ADMIN},
    "recall list": EVERYONE,
    "recall show": EVERYONE,
    "inventory import": {SUPERVISOR, ADMIN},
    "orders import": {ADMIN},
    "inventory show": {AGENT, SUPERVISOR, ANALYST},
    "inventory export": {AGENT, SUPERVISOR, ANALYST},
    "where-to-buy": {AGENT, SUPERVISOR, ANALYST},
    "postcodes import": {SUPERVISOR, ADMIN},
    "kb import": {SUPERVISOR, ADMIN},
    "cases regulatory-export": {SUPERVISOR},
    "kb export": "local",
    "kb ask": "local",
    "migrate": "operator",
    "pki": "local",
    "recording": CASEWORKERS,
    "run": "local",
    "sales import": {ANALYST, ADMIN},
    "seed": "operator",
    "suggest-codes": "local",
    "watch": CASEWORKERS,
}


def console_routes():
    ctx = Context(accounts=None, clients=None, hub=None, feed=None, recordings=None, region="US")
    return [r for r in route_permissions(build_app(ctx)) if r.method != "HEAD"]


def served_methods() -> list[str]:
    """Every method of every service in the generated contracts (crs.<svc>.v1)."""
    import crs

    found = []
    for module in pkgutil.walk_packages(crs.__path__, "crs."):
        if not module.name.endswith("_pb2"):
            continue
        descriptor = importlib.import_module(module.name).DESCRIPTOR
        for service in descriptor.services_by_name.values():
            found += [f"/{service.full_name}/{method.name}" for method in service.methods]
    return found


def test_the_roles_are_the_four_of_the_table():
    assert set(permissions.ROLES) == EVERYONE


def test_every_console_route_is_in_the_walk():
    walked = {(r.method, r.path) for r in console_routes()}
    assert walked - set(ROUTES) == set(), "routes the walk does not know: add them, with who may use them"
    assert set(ROUTES) - walked == set(), "the walk names routes the console no longer has"


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_console_route_allows_exactly_its_roles(role):
    for route in console_routes():
        expected = ROUTES[(route.method, route.path)]
        if expected == "public":
            assert route.permission == PUBLIC, f"{route.method} {route.path} should be open"
            continue
        assert route.permission not in (None, PUBLIC), f"{route.method} {route.path} names no permission"
        assert permissions.allowed(role, route.permission) == (role in expected), (
            f"{role} on {route.method} {route.path} ({route.permission})"
        )


def test_every_grpc_method_is_in_the_table_and_the_walk():
    served = set(served_methods())
    assert served, "no contracts found"
    assert served - set(permissions.GRPC_METHODS) == set(), "methods with no permission"
    assert served - set(METHODS) == set(), "methods the walk does not know"


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_grpc_method_allows_exactly_its_roles(role):
    for method in served_methods():
        needed = permissions.method_permission(method)
        assert permissions.allowed(role, needed) == (role in METHODS[method]), f"{role} calling {method}"


def test_only_a_supervisor_may_close_an_escalated_case():
    assert {role for role in EVERYONE if permissions.allowed(role, "cases.close_escalated")} == {SUPERVISOR}


def cli_commands() -> list[str]:
    from services.cli.main import build_parser, leaves

    return [name for name, _ in leaves(build_parser())]


def test_every_cli_command_is_in_the_table_and_the_walk():
    typed = set(cli_commands())
    assert typed - set(permissions.CLI_COMMANDS) == set(), "commands with no permission"
    assert typed - set(COMMANDS) == set(), "commands the walk does not know: add them, with who may run them"
    assert set(COMMANDS) - typed == set(), "the walk names commands the CLI no longer has"


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_cli_command_allows_exactly_its_roles(role):
    for command in cli_commands():
        expected, needed = COMMANDS[command], permissions.command_permission(command)
        if expected in ("local", "operator"):
            assert needed == expected, f"crs {command} should be {expected}"
            continue
        assert permissions.allowed(role, needed) == (role in expected), (
            f"{role} running crs {command} ({needed})"
        )


def test_a_cli_command_missing_from_the_table_is_refused(monkeypatch, capsys):
    from services.cli import main

    monkeypatch.delitem(permissions.CLI_COMMANDS, "config")
    assert main.main(["config"]) == 1
    assert "crs: refused: crs config is not in the permission table" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["fulfilment", "approve", "f-1", "--as", "ada", "--role", "agent", "--target", "127.0.0.1:9"],
            "crs fulfilment approve needs the permission fulfillment.approve, which ada as agent does not hold",
        ),
        (
            ["coupon", "redeem", "C-1", "--as", "ana", "--role", "analyst", "--target", "127.0.0.1:9"],
            "crs coupon redeem needs the permission coupons.redeem, which ana as analyst does not hold",
        ),
        (
            ["inventory", "show", "BV-TEA-80", "--as", "sam", "--role", "admin", "--target", "127.0.0.1:9"],
            "crs inventory show needs the permission inventory.read, which sam as admin does not hold",
        ),
        (
            [
                "recording",
                "pause",
                "call-1",
                "--user",
                "ana",
                "--role",
                "admin",
                "--telephony",
                "127.0.0.1:9",
            ],
            "crs recording needs the permission recordings.control, which ana as admin does not hold",
        ),
    ],
)
def test_a_cli_command_acting_for_a_person_is_refused_before_it_calls_anything(argv, message, capsys, caplog):
    from services.cli import main

    assert main.main(argv) == 1
    err = capsys.readouterr().err
    # Refused by the table, not by an unreachable service (nothing listens on port 9).
    assert message in err and "does not answer" not in err
    refusal = [r for r in caplog.records if r.name == "services.cli" and r.levelname == "WARNING"]
    assert refusal and refusal[-1].fields["permission"] in message
