ALTER TABLE "submissions" ADD COLUMN "leased_by" text;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "submissions_unjudged_idx" ON "submissions" USING btree ("created_at") WHERE "submissions"."status" in ('queued', 'running');