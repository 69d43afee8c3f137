CREATE TYPE "public"."tenant_status" AS ENUM('active', 'trial', 'suspended', 'archived');--> statement-breakpoint
CREATE TYPE "public"."transport_type" AS ENUM('stdio', 'sse', 'streamable_http', 'websocket');--> statement-breakpoint
CREATE TYPE "public"."server_health" AS ENUM('healthy', 'degraded', 'unhealthy', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."audit_outcome" AS ENUM('success', 'failure', 'denied');--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"status" "tenant_status" DEFAULT 'active' NOT NULL,
	"plan" text DEFAULT 'free' NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"max_servers" integer DEFAULT 10 NOT NULL,
	"max_api_keys" integer DEFAULT 25 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "user" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"image" text,
	"created_at" timestamp NOT NULL,
	"updated_at" timestamp NOT NULL,
	"username" text,
	"display_username" text,
	"role" text DEFAULT 'user',
	"banned" boolean DEFAULT false,
	"ban_reason" text,
	"ban_expires" timestamp,
	"tenant_id" uuid,
	"user_metadata" jsonb DEFAULT '{}'::jsonb,
	"is_active" boolean DEFAULT true NOT NULL,
	"auth_provider" text,
	"last_login_at" timestamp,
	CONSTRAINT "user_email_unique" UNIQUE("email"),
	CONSTRAINT "user_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp NOT NULL,
	"updated_at" timestamp NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"user_id" text NOT NULL,
	"impersonated_by" text,
	"session_data" jsonb,
	"is_active" boolean DEFAULT true NOT NULL,
	"last_activity_at" timestamp,
	CONSTRAINT "session_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "account" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"user_id" text NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"id_token" text,
	"access_token_expires_at" timestamp,
	"refresh_token_expires_at" timestamp,
	"scope" text,
	"password" text,
	"created_at" timestamp NOT NULL,
	"updated_at" timestamp NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verification" (
	"id" text PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp NOT NULL,
	"created_at" timestamp NOT NULL,
	"updated_at" timestamp NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mcp_servers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"endpoint_url" text NOT NULL,
	"transport_type" "transport_type" DEFAULT 'streamable_http' NOT NULL,
	"health_status" "server_health" DEFAULT 'unknown' NOT NULL,
	"last_health_check_at" timestamp with time zone,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"avg_response_time_ms" double precision,
	"success_rate" double precision DEFAULT 1 NOT NULL,
	"request_count" bigint DEFAULT 0 NOT NULL,
	"error_count" bigint DEFAULT 0 NOT NULL,
	"version" text,
	"capabilities" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_servers_tenant_name_unique" UNIQUE("tenant_id","name"),
	CONSTRAINT "mcp_servers_success_rate_check" CHECK ("mcp_servers"."success_rate" >= 0 AND "mcp_servers"."success_rate" <= 1)
);
--> statement-breakpoint
CREATE TABLE "server_health_checks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" "server_health" NOT NULL,
	"response_time_ms" integer,
	"error_message" text
);
--> statement-breakpoint
CREATE TABLE "mcp_tools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"input_schema" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"is_enabled" boolean DEFAULT true NOT NULL,
	"call_count" bigint DEFAULT 0 NOT NULL,
	"error_count" bigint DEFAULT 0 NOT NULL,
	"avg_execution_time_ms" double precision,
	"last_called_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_tools_server_name_unique" UNIQUE("server_id","name")
);
--> statement-breakpoint
CREATE TABLE "mcp_resources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"uri" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"mime_type" text,
	"access_count" bigint DEFAULT 0 NOT NULL,
	"last_accessed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mcp_resources_server_uri_unique" UNIQUE("server_id","uri")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" text,
	"name" text NOT NULL,
	"key_prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"usage_count" bigint DEFAULT 0 NOT NULL,
	"rate_limit_per_minute" integer DEFAULT 60 NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_keys_key_prefix_unique" UNIQUE("key_prefix"),
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" uuid,
	"actor_id" text,
	"actor_type" text NOT NULL,
	"action" text NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"outcome" "audit_outcome" DEFAULT 'success' NOT NULL,
	"ip_address" "inet",
	"user_agent" text,
	"request_id" uuid,
	"session_id" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_logs_actor_type_check" CHECK ("audit_logs"."actor_type" IN ('user', 'api_key', 'system', 'staff'))
);
--> statement-breakpoint
CREATE TABLE "request_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "request_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" uuid,
	"server_id" uuid,
	"api_key_id" uuid,
	"user_id" text,
	"method" text NOT NULL,
	"tool_name" text,
	"status_code" integer NOT NULL,
	"duration_ms" integer NOT NULL,
	"request_bytes" integer,
	"response_bytes" integer,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "user" ADD CONSTRAINT "user_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account" ADD CONSTRAINT "account_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD CONSTRAINT "mcp_servers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD CONSTRAINT "mcp_servers_created_by_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "server_health_checks" ADD CONSTRAINT "server_health_checks_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_tools" ADD CONSTRAINT "mcp_tools_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_resources" ADD CONSTRAINT "mcp_resources_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "request_logs" ADD CONSTRAINT "request_logs_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_tenant_status" ON "mcp_servers" USING btree ("tenant_id","health_status");--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_endpoint_transport" ON "mcp_servers" USING btree ("endpoint_url","transport_type");--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_health_check_time" ON "mcp_servers" USING btree ("last_health_check_at") WHERE "mcp_servers"."is_active" = true;--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_performance" ON "mcp_servers" USING btree ("avg_response_time_ms","success_rate") WHERE "mcp_servers"."health_status" = 'healthy';--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_tags" ON "mcp_servers" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "idx_mcp_servers_created_by" ON "mcp_servers" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "idx_users_tenant_role" ON "user" USING btree ("tenant_id","role","is_active");--> statement-breakpoint
CREATE INDEX "idx_users_auth_provider" ON "user" USING btree ("auth_provider") WHERE "user"."auth_provider" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_users_banned" ON "user" USING btree ("ban_expires") WHERE "user"."banned" = true;--> statement-breakpoint
CREATE INDEX "idx_users_created_at" ON "user" USING btree ("created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_sessions_user_active" ON "session" USING btree ("user_id","is_active","expires_at");--> statement-breakpoint
CREATE INDEX "idx_sessions_activity_time" ON "session" USING btree ("last_activity_at" DESC NULLS FIRST) WHERE "session"."is_active" = true;--> statement-breakpoint
CREATE INDEX "idx_sessions_impersonated_by" ON "session" USING btree ("impersonated_by","created_at" DESC NULLS FIRST) WHERE "session"."impersonated_by" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_sessions_expires_at" ON "session" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "idx_accounts_user" ON "account" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_accounts_provider" ON "account" USING btree ("provider_id","account_id");--> statement-breakpoint
CREATE INDEX "idx_verification_identifier" ON "verification" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "idx_api_keys_tenant_active" ON "api_keys" USING btree ("tenant_id","is_active");--> statement-breakpoint
CREATE INDEX "idx_api_keys_expiration" ON "api_keys" USING btree ("expires_at") WHERE "api_keys"."is_active" = true;--> statement-breakpoint
CREATE INDEX "idx_api_keys_usage" ON "api_keys" USING btree ("last_used_at" DESC NULLS FIRST,"usage_count") WHERE "api_keys"."is_active" = true;--> statement-breakpoint
CREATE INDEX "idx_api_keys_user" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_audit_logs_tenant_time" ON "audit_logs" USING btree ("tenant_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_audit_logs_action_resource" ON "audit_logs" USING btree ("action","resource_type","resource_id");--> statement-breakpoint
CREATE INDEX "idx_audit_logs_actor_time" ON "audit_logs" USING btree ("actor_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_audit_logs_created_brin" ON "audit_logs" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "idx_request_logs_tenant_time" ON "request_logs" USING btree ("tenant_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_request_logs_server_time" ON "request_logs" USING btree ("server_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_request_logs_errors" ON "request_logs" USING btree ("created_at" DESC NULLS FIRST) WHERE "request_logs"."status_code" >= 400;--> statement-breakpoint
CREATE INDEX "idx_request_logs_api_key" ON "request_logs" USING btree ("api_key_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_tools_server" ON "mcp_tools" USING btree ("server_id");--> statement-breakpoint
CREATE INDEX "idx_tools_name" ON "mcp_tools" USING btree ("name");--> statement-breakpoint
CREATE INDEX "idx_resources_server" ON "mcp_resources" USING btree ("server_id");--> statement-breakpoint
CREATE INDEX "idx_health_checks_server_time" ON "server_health_checks" USING btree ("server_id","checked_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_servers_discovery_composite" ON "mcp_servers" USING btree ("tenant_id","is_active","health_status","transport_type");--> statement-breakpoint
CREATE INDEX "idx_tools_discovery_performance" ON "mcp_tools" USING btree ("server_id","is_enabled","avg_execution_time_ms");--> statement-breakpoint
CREATE INDEX "idx_request_routing_composite" ON "request_logs" USING btree ("server_id","tool_name","status_code","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_security_access_composite" ON "audit_logs" USING btree ("tenant_id","actor_id","action","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "idx_tenant_utilization_composite" ON "request_logs" USING btree ("tenant_id","server_id","created_at" DESC NULLS FIRST);
