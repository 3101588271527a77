CREATE TABLE "judge0_submissions" (
	"token" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"language_id" integer NOT NULL,
	"language" text NOT NULL,
	"source_code" "bytea" NOT NULL,
	"stdin" "bytea",
	"expected_output" "bytea",
	"cpu_time_limit_ms" integer NOT NULL,
	"wall_time_limit_ms" integer NOT NULL,
	"memory_limit_kb" integer NOT NULL,
	"settings" jsonb NOT NULL,
	"status_id" integer NOT NULL,
	"stdout" "bytea",
	"stderr" "bytea",
	"compile_output" "bytea",
	"message" text,
	"exit_code" integer,
	"exit_signal" integer,
	"time_ms" integer,
	"wall_time_ms" integer,
	"memory_kb" integer,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "judge0_submissions_status_check" CHECK ("judge0_submissions"."status_id" between 1 and 14)
);
--> statement-breakpoint
CREATE INDEX "judge0_submissions_pending_idx" ON "judge0_submissions" USING btree ("created_at") WHERE "judge0_submissions"."status_id" < 3;