CREATE TABLE "quizzes" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"duration_minutes" numeric(8, 2),
	"opens_at" timestamp with time zone,
	"closes_at" timestamp with time zone,
	"max_attempts" integer DEFAULT 1 NOT NULL,
	"shuffle_questions" boolean DEFAULT false NOT NULL,
	"shuffle_options" boolean DEFAULT false NOT NULL,
	"pass_mark" numeric(5, 2),
	"negative_marking" numeric(4, 3),
	"review_policy" text DEFAULT 'after_submit' NOT NULL,
	"questions" jsonb,
	"pool" jsonb,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"published_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "quizzes_status_check" CHECK ("quizzes"."status" in ('draft', 'published', 'archived')),
	CONSTRAINT "quizzes_window_check" CHECK ("quizzes"."opens_at" is null or "quizzes"."closes_at" is null or "quizzes"."opens_at" < "quizzes"."closes_at"),
	CONSTRAINT "quizzes_source_check" CHECK (("quizzes"."questions" is null) <> ("quizzes"."pool" is null))
);
--> statement-breakpoint
CREATE INDEX "quizzes_live_idx" ON "quizzes" USING btree ("created_at","id") WHERE "quizzes"."deleted_at" is null;