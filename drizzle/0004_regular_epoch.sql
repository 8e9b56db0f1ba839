CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant" text NOT NULL,
	"kind" text NOT NULL,
	"amount_micros" bigint NOT NULL,
	"request_id" text,
	"actor" text,
	"reason" text,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"plan" text,
	"status" text DEFAULT 'active' NOT NULL,
	"billing_mode" text DEFAULT 'postpaid' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "cache_hit" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "cache_saved_usd" numeric(20, 12);--> statement-breakpoint
CREATE INDEX "ledger_entries_tenant_time" ON "ledger_entries" USING btree ("tenant","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_idempotency" ON "ledger_entries" USING btree ("tenant","idempotency_key");--> statement-breakpoint
-- Keys minted before tenants were records keep working: every tenant they name becomes a row.
INSERT INTO "tenants" ("id") SELECT DISTINCT "tenant" FROM "api_keys" ON CONFLICT ("id") DO NOTHING;