-- The access log stays append-only for the console's login role. This one function, run as the schema's
-- owner, removes failed and locked log-ins older than the retention policy's cut, and never any from the
-- last day, so a stolen login role cannot hide a password-guessing storm in progress.
CREATE FUNCTION forget_failed_logins(cut timestamptz) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = console AS $$
    WITH gone AS (
        DELETE FROM access_log
        WHERE action IN ('login.failed', 'login.locked') AND at < least(cut, now() - interval '1 day')
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
