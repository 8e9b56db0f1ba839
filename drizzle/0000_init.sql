CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant" text NOT NULL,
	"name" text,
	"scopes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"models" jsonb DEFAULT '["*"]'::jsonb NOT NULL,
	"plan" text,
	"limits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"signing_kid" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"rotated_from" text,
	"grace_ends_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"request_id" text PRIMARY KEY NOT NULL,
	"tenant" text NOT NULL,
	"key_id" text NOT NULL,
	"endpoint" text NOT NULL,
	"requested_model" text,
	"provider" text,
	"upstream_model" text,
	"stream" boolean DEFAULT false NOT NULL,
	"status" integer NOT NULL,
	"error_code" text,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cached_read_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_tokens" integer DEFAULT 0 NOT NULL,
	"reasoning_tokens" integer DEFAULT 0 NOT NULL,
	"usage_source" text DEFAULT 'provider' NOT NULL,
	"cost_usd" numeric(20, 12),
	"unpriced" boolean DEFAULT false NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"ttfb_ms" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"tags" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "api_keys_tenant" ON "api_keys" USING btree ("tenant","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_tenant_time" ON "usage_events" USING btree ("tenant","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_key_time" ON "usage_events" USING btree ("key_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_model_time" ON "usage_events" USING btree ("requested_model","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_time" ON "usage_events" USING btree ("created_at");