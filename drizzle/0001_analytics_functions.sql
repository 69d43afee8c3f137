CREATE OR REPLACE FUNCTION "public"."get_server_health_summary"()
RETURNS TABLE (
	"health_status" "server_health",
	"server_count" bigint,
	"avg_response_time_ms" double precision,
	"avg_success_rate" double precision,
	"stale_check_count" bigint
)
LANGUAGE sql STABLE
AS $$
	SELECT s."health_status",
		count(*)::bigint,
		avg(s."avg_response_time_ms")::double precision,
		avg(s."success_rate")::double precision,
		count(*) FILTER (
			WHERE s."last_health_check_at" IS NULL
			   OR s."last_health_check_at" < now() - interval '5 minutes'
		)::bigint
	FROM "public"."mcp_servers" s
	WHERE s."is_active" = true
	GROUP BY s."health_status"
	ORDER BY s."health_status";
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "public"."get_request_performance_summary"("p_hours" integer DEFAULT 24)
RETURNS TABLE (
	"server_id" uuid,
	"server_name" text,
	"tenant_id" uuid,
	"total_requests" bigint,
	"error_count" bigint,
	"error_rate" double precision,
	"avg_duration_ms" double precision,
	"p50_duration_ms" double precision,
	"p95_duration_ms" double precision
)
LANGUAGE sql STABLE
AS $$
	SELECT s."id",
		s."name",
		s."tenant_id",
		count(*)::bigint,
		count(*) FILTER (WHERE r."status_code" >= 400)::bigint,
		(count(*) FILTER (WHERE r."status_code" >= 400))::double precision / count(*),
		avg(r."duration_ms")::double precision,
		percentile_cont(0.5) WITHIN GROUP (ORDER BY r."duration_ms")::double precision,
		percentile_cont(0.95) WITHIN GROUP (ORDER BY r."duration_ms")::double precision
	FROM "public"."request_logs" r
	JOIN "public"."mcp_servers" s ON s."id" = r."server_id"
	WHERE r."created_at" >= now() - make_interval(hours => "p_hours")
	GROUP BY s."id", s."name", s."tenant_id"
	ORDER BY count(*) DESC, s."name";
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "public"."get_tenant_usage_summary"("p_tenant_id" uuid, "p_hours" integer DEFAULT 24)
RETURNS TABLE (
	"tenant_id" uuid,
	"total_requests" bigint,
	"error_count" bigint,
	"distinct_users" bigint,
	"servers_used" bigint,
	"tools_used" bigint,
	"avg_duration_ms" double precision,
	"p95_duration_ms" double precision,
	"active_api_keys" bigint,
	"active_servers" bigint
)
LANGUAGE sql STABLE
AS $$
	SELECT "p_tenant_id",
		count(r."id")::bigint,
		count(r."id") FILTER (WHERE r."status_code" >= 400)::bigint,
		count(DISTINCT r."user_id")::bigint,
		count(DISTINCT r."server_id")::bigint,
		count(DISTINCT r."tool_name")::bigint,
		avg(r."duration_ms")::double precision,
		percentile_cont(0.95) WITHIN GROUP (ORDER BY r."duration_ms")::double precision,
		(SELECT count(*) FROM "public"."api_keys" k
		  WHERE k."tenant_id" = "p_tenant_id" AND k."is_active" = true AND k."revoked_at" IS NULL
		    AND (k."expires_at" IS NULL OR k."expires_at" > now()))::bigint,
		(SELECT count(*) FROM "public"."mcp_servers" s
		  WHERE s."tenant_id" = "p_tenant_id" AND s."is_active" = true)::bigint
	FROM "public"."request_logs" r
	WHERE r."tenant_id" = "p_tenant_id"
	  AND r."created_at" >= now() - make_interval(hours => "p_hours");
$$;
