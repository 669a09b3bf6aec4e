-- Failed log-ins (the console's access log) are kept as long as this policy says; the console applies it.
ALTER TABLE retention_policy DROP CONSTRAINT retention_policy_kind_check;
ALTER TABLE retention_policy ADD CONSTRAINT retention_policy_kind_check
    CHECK (kind IN ('recordings', 'unidentified_callers', 'closed_case_personal_data', 'failed_logins'));
INSERT INTO retention_policy (kind, days) VALUES ('failed_logins', 0);
