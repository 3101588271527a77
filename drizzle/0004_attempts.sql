CREATE TABLE "attempt_answers" (
	"attempt_id" text NOT NULL,
	"question_id" text NOT NULL,
	"answer" jsonb NOT NULL,
	"saved_at" timestamp with time zone NOT NULL,
	CONSTRAINT "attempt_answers_attempt_id_question_id_pk" PRIMARY KEY("attempt_id","question_id")
);
--> statement-breakpoint
CREATE TABLE "attempt_events" (
	"id" text PRIMARY KEY NOT NULL,
	"attempt_id" text NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"quiz_id" text NOT NULL,
	"user_id" text NOT NULL,
	"number" integer NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"slots" jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	"submitted_at" timestamp with time zone,
	"ended_by" text,
	"score" numeric(12, 6),
	"max_score" numeric(12, 6) NOT NULL,
	"outcomes" jsonb,
	"focus_losses" integer DEFAULT 0 NOT NULL,
	"event_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"flagged" boolean DEFAULT false NOT NULL,
	"flagged_reason" text,
	CONSTRAINT "attempts_status_check" CHECK ("attempts"."status" in ('active', 'submitted', 'grading', 'graded', 'expired'))
);
--> statement-breakpoint
CREATE TABLE "attendance" (
	"id" text PRIMARY KEY NOT NULL,
	"quiz_id" text NOT NULL,
	"user_id" text NOT NULL,
	"status" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"note" text,
	"recorded_by" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "attendance_status_check" CHECK ("attendance"."status" in ('present', 'absent', 'late', 'excused')),
	CONSTRAINT "attendance_source_check" CHECK ("attendance"."source" in ('attempt', 'manual', 'face'))
);
--> statement-breakpoint
ALTER TABLE "quizzes" ADD COLUMN "max_focus_losses" integer;--> statement-breakpoint
ALTER TABLE "quizzes" ADD COLUMN "focus_loss_action" text DEFAULT 'flag' NOT NULL;--> statement-breakpoint
ALTER TABLE "quizzes" ADD COLUMN "first_attempt_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "attempt_events_attempt_idx" ON "attempt_events" USING btree ("attempt_id","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_one_active_idx" ON "attempts" USING btree ("quiz_id","user_id") WHERE "attempts"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_number_idx" ON "attempts" USING btree ("quiz_id","user_id","number");--> statement-breakpoint
CREATE INDEX "attempts_user_idx" ON "attempts" USING btree ("user_id","started_at");--> statement-breakpoint
CREATE INDEX "attempts_due_idx" ON "attempts" USING btree ("expires_at") WHERE "attempts"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "attendance_attempt_once_idx" ON "attendance" USING btree ("quiz_id","user_id") WHERE "attendance"."source" = 'attempt';--> statement-breakpoint
CREATE INDEX "attendance_quiz_idx" ON "attendance" USING btree ("quiz_id","timestamp");--> statement-breakpoint
CREATE INDEX "attendance_user_idx" ON "attendance" USING btree ("user_id","timestamp");