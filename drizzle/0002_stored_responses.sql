CREATE TABLE "stored_responses" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant" text NOT NULL,
	"key_id" text NOT NULL,
	"input_items" jsonb NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "stored_responses_tenant_time" ON "stored_responses" USING btree ("tenant","created_at");--> statement-breakpoint
CREATE INDEX "stored_responses_expiry" ON "stored_responses" USING btree ("expires_at");