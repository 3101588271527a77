CREATE TABLE "questions" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"name" text,
	"prompt" text NOT NULL,
	"explanation" text,
	"points" numeric(8, 2) DEFAULT '1' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"language" text,
	"level" text,
	"body" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "questions_points_check" CHECK ("questions"."points" > 0)
);
--> statement-breakpoint
CREATE INDEX "questions_live_idx" ON "questions" USING btree ("created_at","id") WHERE "questions"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "questions_tags_idx" ON "questions" USING gin ("tags");