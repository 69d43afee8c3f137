CREATE OR REPLACE VIEW "public"."database_size_summary" AS
	SELECT c."relname"::text AS "table_name",
		greatest(c."reltuples", 0)::bigint AS "estimated_rows",
		pg_total_relation_size(c."oid") AS "total_bytes",
		pg_relation_size(c."oid") AS "table_bytes",
		pg_indexes_size(c."oid") AS "index_bytes",
		coalesce(pg_total_relation_size(nullif(c."reltoastrelid", 0)), 0) AS "toast_bytes",
		pg_size_pretty(pg_total_relation_size(c."oid")) AS "total_size"
	FROM pg_class c
	JOIN pg_namespace n ON n."oid" = c."relnamespace"
	WHERE n."nspname" = 'public' AND c."relkind" IN ('r', 'p')
	ORDER BY pg_total_relation_size(c."oid") DESC;
--> statement-breakpoint
CREATE OR REPLACE VIEW "public"."index_usage_summary" AS
	SELECT s."relname"::text AS "table_name",
		s."indexrelname"::text AS "index_name",
		s."idx_scan" AS "index_scans",
		s."idx_tup_read" AS "tuples_read",
		s."idx_tup_fetch" AS "tuples_fetched",
		pg_relation_size(s."indexrelid") AS "index_bytes",
		pg_size_pretty(pg_relation_size(s."indexrelid")) AS "index_size",
		(s."idx_scan" = 0) AS "never_used"
	FROM pg_stat_user_indexes s
	WHERE s."schemaname" = 'public'
	ORDER BY s."relname", s."indexrelname";
--> statement-breakpoint
CREATE OR REPLACE VIEW "public"."performance_monitoring" AS
	WITH "last_hour" AS (
		SELECT count(*) AS "requests",
			count(*) FILTER (WHERE "status_code" >= 400) AS "errors",
			percentile_cont(0.95) WITHIN GROUP (ORDER BY "duration_ms") AS "p95"
		FROM "public"."request_logs"
		WHERE "created_at" >= now() - interval '1 hour'
	), "db" AS (
		SELECT sum("blks_hit") AS "hit", sum("blks_read") AS "read"
		FROM pg_stat_database WHERE "datname" = current_database()
	)
	SELECT 'connections'::text AS "metric_name",
		(SELECT count(*) FROM pg_stat_activity WHERE "datname" = current_database())::double precision AS "metric_value",
		'connections'::text AS "unit", now() AS "captured_at"
	UNION ALL
	SELECT 'cache_hit_ratio', (SELECT coalesce("hit"::double precision / nullif("hit" + "read", 0), 1) FROM "db"), 'ratio', now()
	UNION ALL
	SELECT 'requests_last_hour', (SELECT "requests" FROM "last_hour")::double precision, 'requests', now()
	UNION ALL
	SELECT 'error_rate_last_hour', (SELECT coalesce("errors"::double precision / nullif("requests", 0), 0) FROM "last_hour"), 'ratio', now()
	UNION ALL
	SELECT 'p95_duration_last_hour', (SELECT "p95" FROM "last_hour")::double precision, 'ms', now()
	UNION ALL
	SELECT 'unhealthy_servers', (SELECT count(*) FROM "public"."mcp_servers" WHERE "is_active" = true AND "health_status" = 'unhealthy')::double precision, 'servers', now()
	UNION ALL
	-- Better-Auth session timestamps are "timestamp without time zone" holding UTC.
	SELECT 'active_sessions', (SELECT count(*) FROM "public"."session" WHERE "expires_at" > (now() AT TIME ZONE 'UTC'))::double precision, 'sessions', now()
	UNION ALL
	SELECT 'active_impersonations', (SELECT count(*) FROM "public"."session" WHERE "impersonated_by" IS NOT NULL AND "expires_at" > (now() AT TIME ZONE 'UTC'))::double precision, 'sessions', now()
	UNION ALL
	SELECT 'api_keys_expiring_7d', (SELECT count(*) FROM "public"."api_keys" WHERE "is_active" = true AND "revoked_at" IS NULL AND "expires_at" > now() AND "expires_at" <= now() + interval '7 days')::double precision, 'keys', now();
