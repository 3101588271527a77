CREATE TABLE "plagiarism_reports" (
	"challenge_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"request_id" text NOT NULL,
	"pairs" jsonb NOT NULL,
	"submissions_compared" integer DEFAULT 0 NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"computed_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "plagiarism_reports_status_check" CHECK ("plagiarism_reports"."status" in ('queued', 'running', 'completed', 'failed'))
);
