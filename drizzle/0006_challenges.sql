CREATE TABLE "challenge_tests" (
	"id" text PRIMARY KEY NOT NULL,
	"challenge_id" text NOT NULL,
	"position" integer NOT NULL,
	"hidden" boolean NOT NULL,
	"weight" double precision NOT NULL,
	"input_key" text NOT NULL,
	"output_key" text NOT NULL,
	"input_bytes" integer NOT NULL,
	"output_bytes" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "challenge_tests_position_key" UNIQUE("challenge_id","position"),
	CONSTRAINT "challenge_tests_weight_check" CHECK ("challenge_tests"."weight" >= 0),
	CONSTRAINT "challenge_tests_position_check" CHECK ("challenge_tests"."position" > 0)
);
--> statement-breakpoint
CREATE TABLE "challenges" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"statement" text NOT NULL,
	"difficulty" text NOT NULL,
	"languages" text[] NOT NULL,
	"time_limit_ms" integer NOT NULL,
	"memory_limit_mb" integer NOT NULL,
	"starter_code" jsonb NOT NULL,
	"checker" text NOT NULL,
	"float_tolerance" double precision,
	"points" numeric(8, 2) NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "challenges_difficulty_check" CHECK ("challenges"."difficulty" in ('easy', 'medium', 'hard')),
	CONSTRAINT "challenges_checker_check" CHECK ("challenges"."checker" in ('exact', 'trim', 'tokens', 'float')),
	CONSTRAINT "challenges_tolerance_check" CHECK (("challenges"."checker" = 'float') = ("challenges"."float_tolerance" is not null) and ("challenges"."float_tolerance" is null or "challenges"."float_tolerance" >= 0)),
	CONSTRAINT "challenges_limits_check" CHECK ("challenges"."time_limit_ms" > 0 and "challenges"."memory_limit_mb" > 0 and "challenges"."points" > 0)
);
--> statement-breakpoint
ALTER TABLE "challenge_tests" ADD CONSTRAINT "challenge_tests_challenge_id_challenges_id_fk" FOREIGN KEY ("challenge_id") REFERENCES "public"."challenges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "challenges_live_idx" ON "challenges" USING btree ("created_at","id") WHERE "challenges"."deleted_at" is null;