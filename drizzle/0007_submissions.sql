CREATE TABLE "submissions" (
	"id" text PRIMARY KEY NOT NULL,
	"challenge_id" text NOT NULL,
	"user_id" text NOT NULL,
	"language" text NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"verdict" text,
	"score" numeric(10, 2),
	"max_score" numeric(10, 2) NOT NULL,
	"tests" jsonb,
	"compile_output" text,
	"tries" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "submissions_status_check" CHECK ("submissions"."status" in ('queued', 'running', 'completed', 'failed')),
	CONSTRAINT "submissions_finished_check" CHECK (("submissions"."status" in ('completed', 'failed')) = ("submissions"."verdict" is not null))
);
--> statement-breakpoint
CREATE INDEX "submissions_user_idx" ON "submissions" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "submissions_challenge_idx" ON "submissions" USING btree ("challenge_id","created_at","id");