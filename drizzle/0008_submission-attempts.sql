ALTER TABLE "submissions" ADD COLUMN "attempt_id" text;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "question_id" text;